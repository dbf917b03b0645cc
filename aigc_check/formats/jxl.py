"""JPEG XL: the ISO BMFF-style container holds ``jumb`` (C2PA), ``xml `` and ``Exif`` boxes.

A bare JPEG XL codestream carries no metadata boxes at all.
"""

from __future__ import annotations

from ..errors import LimitExceededError
from ..limits import MAX_METADATA_BLOCK
from ..model import Block, C2paMarker, Container
from ..source import ByteSource
from . import FormatHandler, register
from .bmff import _Walk

CONTAINER_SIGNATURE = b"\x00\x00\x00\x0cJXL \r\n\x87\n"


def _accept(head: bytes) -> bool:
    return head.startswith(CONTAINER_SIGNATURE) or head[:2] == b"\xff\x0a"


def walk(src: ByteSource, c: Container) -> None:
    if not src.head.startswith(CONTAINER_SIGNATURE):
        return
    w = _Walk(src, c)
    for box in w.boxes(0, src.size):
        where = f"JPEG XL {box.type.decode('latin-1').strip()} box at offset {box.at:#x}"
        if box.type == b"jumb":
            if b"c2pa" in src.read(box.body, 64):
                c.c2pa = c.c2pa or C2paMarker(where)
        elif box.type in (b"xml ", b"Exif"):
            if box.end - box.body > MAX_METADATA_BLOCK:
                raise LimitExceededError("metadata box over the size limit", where)
            data = src.read_exact(box.body, box.end - box.body, "a metadata box")
            if box.type == b"Exif":
                tiff = data[4 + int.from_bytes(data[:4], "big") :] if len(data) >= 4 else b""
                c.blocks.append(Block("exif", where, tiff[6:] if tiff.startswith(b"Exif\x00\x00") else tiff))
            else:
                c.blocks.append(Block("xmp", where, data))


register(FormatHandler("jxl", "image/jxl", _accept, walk))
