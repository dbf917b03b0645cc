"""SVG: text, so only a look for an embedded C2PA manifest and XMP metadata in the head."""

from __future__ import annotations

import re

from ..model import Block, C2paMarker, Container, ReadError
from ..source import ByteSource
from . import FormatHandler, register

_SVG_START = re.compile(rb"^\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*|<!DOCTYPE[^>]*>\s*)*<svg[\s>]", re.S)
_XMP = re.compile(rb"<x:xmpmeta.*?</x:xmpmeta>", re.S)


def _accept(head: bytes) -> bool:
    return bool(_SVG_START.match(head[:4096]))


def walk(src: ByteSource, c: Container) -> None:
    head = src.head
    if b"c2pa:manifest" in head or b"<c2pa" in head:
        c.c2pa = C2paMarker("SVG c2pa:manifest element")
    tail = src.read(max(0, src.size - 4096), 4096)
    if b"</svg>" not in tail and not tail.rstrip().endswith(b"/>"):
        c.errors.append(
            ReadError(
                "truncated",
                "the SVG document has no closing </svg> tag: the file was cut short",
                "end of file",
                fatal=True,
            )
        )
    m = _XMP.search(head)
    if m:
        c.blocks.append(Block("xmp", f"SVG metadata element at offset {m.start():#x}", m.group(0)))


register(FormatHandler("svg", "image/svg+xml", _accept, walk))
