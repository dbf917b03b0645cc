"""SVG: text, so a look for an embedded C2PA manifest in the head, and XMP metadata anywhere.

XMP in SVG is RDF inside ``<metadata>`` (SVG 1.1, 21.2), with or without the ``x:xmpmeta``
wrapper, and may sit anywhere in the document: after megabytes of path data as well as first.  The
whole document is scanned in windows for the start tag of an ``x:xmpmeta`` or ``rdf:RDF`` element
(any prefix), never parsed as a whole: each element found is handed on as an XMP block, with the
namespace declarations it inherits from the ``<svg>`` root and its ``<metadata>`` element written
into its start tag so that it parses on its own.  The XMP reader then parses it under the usual XML
bounds (``safe_xml``: no DTD, no entities; ``MAX_METADATA_BLOCK``); the document's own DTD is never
read, so an entity it declares stays unexpanded.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..errors import LimitExceededError
from ..limits import MAX_BLOCKS, MAX_METADATA_BLOCK
from ..model import Block, C2paMarker, Container, ReadError
from ..source import ByteSource
from . import FormatHandler, register

# The prolog may hold comments and a DOCTYPE with an internal subset (Illustrator declares entities there).
_SVG_START = re.compile(rb"^\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*|<!DOCTYPE[^>\[]*(\[.*?\]\s*)?>\s*)*<svg[\s>]", re.S)
_XMP_START = re.compile(rb"<((?:[A-Za-z_][\w.-]{0,63}:)?(?:xmpmeta|xapmeta|RDF))[\s>/]")
_SVG_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]{0,63}:)?svg(\s[^<>]{0,65536})?>")
_SVG_END = re.compile(rb"</(?:[A-Za-z_][\w.-]{0,63}:)?svg\s{0,64}>")
_METADATA_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]{0,63}:)?metadata\b([^<>]{0,4096})>")
# A declaration whose URI is an entity reference (&ns_svg;, as Illustrator writes) is left out: the
# document's DTD is never read, so it could not be resolved.
_DECLARATION = re.compile(
    rb"\sxmlns(?::([A-Za-z_][\w.-]{0,63}))?\s{0,64}=\s{0,64}(\"[^\"<>&]{0,1024}\"|'[^'<>&]{0,1024}')"
)
SCAN_WINDOW = 1024 * 1024
OVERLAP = 128  # longer than any start tag name _XMP_START matches


def _accept(head: bytes) -> bool:
    return bool(_SVG_START.match(head[:4096]))


def walk(src: ByteSource, c: Container) -> None:
    head = src.head
    if b"c2pa:manifest" in head or b"<c2pa" in head:
        c.c2pa = C2paMarker("SVG c2pa:manifest element")
    root = _SVG_TAG.search(head)
    attrs = (root.group(1) or b"") if root else b""
    tail = src.read(max(0, src.size - 4096), 4096)
    # Whole: the root element closes, or is empty (<svg .../>); a document cut after some other
    # empty element (<path .../>) is not.
    if not _SVG_END.search(tail) and not attrs.rstrip().endswith(b"/"):
        c.errors.append(
            ReadError(
                "truncated",
                "the SVG document has no closing </svg> tag: the file was cut short",
                "end of file",
                fatal=True,
            )
        )
    inherited = _declarations(attrs)
    for at, element, before in _xmp_elements(src):
        if len(c.blocks) >= MAX_BLOCKS:
            raise LimitExceededError(f"more than {MAX_BLOCKS} XMP elements", f"SVG offset {at:#x}")
        scope = dict(inherited)
        enclosing = list(_METADATA_TAG.finditer(before))  # the nearest <metadata> start tag before it
        if enclosing:
            scope.update(_declarations(enclosing[-1].group(1)))
        c.blocks.append(Block("xmp", f"SVG metadata element at offset {at:#x}", _with_namespaces(element, scope)))


def _xmp_elements(src: ByteSource) -> Iterator[tuple[int, bytes, bytes]]:
    """(offset, the element's bytes, up to 4 KiB before it) of each x:xmpmeta or rdf:RDF element
    not inside another, reading the document once, in windows."""
    pos, carry = 0, b""  # carry: the unread end of the last window, so a tag across the boundary is seen
    while pos < src.size:
        chunk = src.head if pos == 0 else src.read(pos, SCAN_WINDOW)  # the head is already read
        if not chunk:
            return
        window, base = carry + chunk, pos - len(carry)
        pos += len(chunk)
        at = 0
        carry = b""
        while (m := _XMP_START.search(window, at)) is not None:
            start = base + m.start()
            element, end = _element(src, start, window[m.start() :], b"</" + m.group(1))
            yield start, element, window[max(0, m.start() - 4096) : m.start()]
            at = end - base
            if at >= len(window):  # the element ran to or past the window's end: go on after it
                pos = end
                break
        else:
            carry = window[max(at, len(window) - OVERLAP) :]


def _element(src: ByteSource, start: int, have: bytes, closing: bytes) -> tuple[bytes, int]:
    """The element starting at ``start`` up to its end tag (or the end of the file), and where it ends."""
    buf, searched = have, 0
    while True:
        end = buf.find(closing, searched)
        if end >= 0:
            close = buf.find(b">", end)
            if close >= 0:
                return buf[: close + 1], start + close + 1
        if len(buf) > MAX_METADATA_BLOCK:
            raise LimitExceededError(
                f"an XMP element of more than {MAX_METADATA_BLOCK} bytes is over the limit", f"SVG offset {start:#x}"
            )
        more = src.read(start + len(buf), SCAN_WINDOW)
        if not more:
            return buf, start + len(buf)  # cut short: the XMP reader reports it
        searched = max(0, len(buf) - len(closing) - 1)
        buf += more


def _declarations(attrs: bytes) -> dict[bytes, bytes]:
    """prefix (b"" for the default namespace) -> the quoted URI, from a start tag's attributes."""
    return {(m.group(1) or b""): m.group(2) for m in _DECLARATION.finditer(b" " + attrs)}


def _with_namespaces(element: bytes, scope: dict[bytes, bytes]) -> bytes:
    """``element`` with the declarations in ``scope`` it does not make itself written into its start tag."""
    name_end = re.match(rb"<[^\s>/]+", element)
    tag_end = element.find(b">")
    if not scope or name_end is None or tag_end < 0:
        return element
    own = _declarations(element[name_end.end() : tag_end])
    extra = b"".join(
        b" xmlns" + (b":" + prefix if prefix else b"") + b"=" + uri
        for prefix, uri in scope.items()
        if prefix not in own
    )
    return element[: name_end.end()] + extra + element[name_end.end() :]


register(FormatHandler("svg", "image/svg+xml", _accept, walk))
