"""Matroska and WebM (EBML): ``Info`` and ``Tags``, never the clusters.

Labels and generator names live in ``Segment/Tags/Tag/SimpleTag``
(``TagName`` = ``AIGC``, ``ENCODER``, ``COMMENT``, ComfyUI's ``prompt`` ...)
and ``Segment/Info`` (``MuxingApp``, ``WritingApp``, ``Title``).  Clusters
of known size are skipped by their size; the walk follows ``SeekHead``
entries to reach a ``Tags`` element written after the clusters, and stops at
a cluster of unknown size (live recordings), whose end cannot be found
without reading the media.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..errors import LimitExceededError, MediaError, TruncatedError
from ..limits import MAX_BOX_DEPTH, MAX_CHUNKS, MAX_METADATA_BLOCK
from ..model import Block, Container
from ..source import ByteSource
from . import FormatHandler, register

EBML, SEGMENT, DOC_TYPE = 0x1A45DFA3, 0x18538067, 0x4282
SEEK_HEAD, SEEK, SEEK_ID, SEEK_POSITION = 0x114D9B74, 0x4DBB, 0x53AB, 0x53AC
INFO, TAGS, TAG, TARGETS = 0x1549A966, 0x1254C367, 0x7373, 0x63C0
SIMPLE_TAG, TAG_NAME, TAG_STRING = 0x67C8, 0x45A3, 0x4487
CLUSTER = 0x1F43B675
INFO_STRINGS = {0x4D80: "MuxingApp", 0x5741: "WritingApp", 0x7BA9: "Title"}
UNKNOWN = -1


def _accept(head: bytes) -> bool:
    return head[:4] == b"\x1a\x45\xdf\xa3"


def _vint(src: ByteSource, pos: int, what: str, keep_marker: bool) -> tuple[int, int]:
    head = src.head
    if pos < len(head):
        # Inside the head (most files: every header of a small file, the Info and Tags of a large
        # one): read where it lies, not by two ``read_exact`` calls; a vint the head cuts is read
        # below, as before, so the errors and the bytes counted are the same.
        first = head[pos]
        if first == 0:
            raise MediaError(f"invalid EBML {what} (no length marker)", f"offset {pos:#x}")
        length = 9 - first.bit_length()
        if pos + length <= len(head):
            value = int.from_bytes(head[pos : pos + length], "big")
            if not keep_marker:
                value &= (1 << (7 * length)) - 1
                if value == (1 << (7 * length)) - 1:
                    value = UNKNOWN
            return value, pos + length
    first = src.read_exact(pos, 1, what)[0]
    if first == 0:
        raise MediaError(f"invalid EBML {what} (no length marker)", f"offset {pos:#x}")
    length = 9 - first.bit_length()
    raw = src.read_exact(pos, length, what)
    value = int.from_bytes(raw, "big")
    if not keep_marker:
        value &= (1 << (7 * length)) - 1
        if value == (1 << (7 * length)) - 1:
            value = UNKNOWN
    return value, pos + length


class _Walk:
    def __init__(self, src: ByteSource, c: Container) -> None:
        self.src, self.c, self.count = src, c, 0
        self.visited: set[int] = set()
        self.cut: TruncatedError | None = None  # a top-level element the file ends inside

    def elements(self, start: int, end: int, cut_ok: bool = False) -> Iterator[tuple[int, int, int, int]]:
        """The elements between ``start`` and ``end``.  ``cut_ok``: an element that claims more than is
        left is walked as far as the bytes go (and remembered in ``cut``), so what precedes the cut of a
        truncated file is still read; otherwise it is a ``TruncatedError``."""
        pos = start
        while pos < end:
            self.count += 1
            if self.count > MAX_CHUNKS:
                raise LimitExceededError(f"more than {MAX_CHUNKS} EBML elements")
            eid, p = _vint(self.src, pos, "element id", True)
            size, body = _vint(self.src, p, "element size", False)
            if size != UNKNOWN and body + size > end:
                cut = TruncatedError(
                    f"element {eid:#x} claims {size} bytes, more than its parent holds", f"offset {pos:#x}"
                )
                if not cut_ok:
                    raise cut
                self.cut, size = cut, end - body
            yield eid, pos, body, size
            if size == UNKNOWN:
                return  # the caller decides whether it can descend; nothing after it is reachable by size
            pos = body + size

    def text(self, body: int, size: int) -> str:
        if size > MAX_METADATA_BLOCK:
            raise LimitExceededError(f"EBML string of {size} bytes is over the limit", f"offset {body:#x}")
        return self.src.read_exact(body, size, "an EBML string").rstrip(b"\x00").decode("utf-8", "replace")

    def uint(self, body: int, size: int) -> int:
        return int.from_bytes(self.src.read_exact(body, min(size, 8), "an EBML integer"), "big")

    def segment(self, body: int, end: int) -> None:
        seek_targets: list[int] = []
        for eid, at, child, size in self.elements(body, end):
            if size == UNKNOWN and eid != CLUSTER:
                raise MediaError(f"element {eid:#x} of unknown size inside the segment", f"offset {at:#x}")
            self.visit(eid, at, child, size, body, seek_targets)
        for target in seek_targets:
            if target not in self.visited and target < end:
                for eid, at, child, size in self.elements(target, min(end, target + 12 + MAX_METADATA_BLOCK)):
                    if eid in (TAGS, INFO) and size != UNKNOWN:
                        self.visit(eid, at, child, size, body, [])
                    break

    def visit(self, eid: int, at: int, body: int, size: int, segment_body: int, seek_targets: list[int]) -> None:
        self.visited.add(at)
        if eid == SEEK_HEAD:
            seek_targets.extend(segment_body + p for p in self.seek_positions(body, body + size))
        elif eid == INFO:
            for cid, cat, cbody, csize in self.elements(body, body + size):
                if cid in INFO_STRINGS:
                    self.tag(
                        INFO_STRINGS[cid],
                        self.text(cbody, csize),
                        f"Matroska Info/{INFO_STRINGS[cid]} at offset {cat:#x}",
                    )
        elif eid == TAGS:
            for cid, cat, cbody, csize in self.elements(body, body + size):
                if cid == TAG:
                    self.tag_element(cbody, cbody + csize, cat)

    def seek_positions(self, start: int, end: int) -> list[int]:
        found = []
        for eid, _at, body, size in self.elements(start, end):
            if eid != SEEK:
                continue
            target, position = 0, None
            for cid, _cat, cbody, csize in self.elements(body, body + size):
                if cid == SEEK_ID:
                    target = int.from_bytes(self.src.read_exact(cbody, min(csize, 4), "a SeekID"), "big")
                elif cid == SEEK_POSITION:
                    position = self.uint(cbody, csize)
            if target in (TAGS, INFO) and position is not None:
                found.append(position)
        return found

    def tag_element(self, start: int, end: int, at: int) -> None:
        target = ""
        for cid, _cat, cbody, csize in self.elements(start, end):
            if cid == TARGETS and csize:
                target = " (with targets)"
            elif cid == SIMPLE_TAG:
                self.simple_tag(cbody, cbody + csize, f"Matroska Tags/Tag{target} at offset {at:#x}", 0)

    def simple_tag(self, start: int, end: int, where: str, depth: int) -> None:
        if depth > MAX_BOX_DEPTH:
            raise LimitExceededError(f"SimpleTag nested more than {MAX_BOX_DEPTH} deep", where)
        name, value = "", None
        for cid, _cat, cbody, csize in self.elements(start, end):
            if cid == TAG_NAME:
                name = self.text(cbody, csize)
            elif cid == TAG_STRING:
                value = self.text(cbody, csize)
            elif cid == SIMPLE_TAG:
                self.simple_tag(cbody, cbody + csize, where, depth + 1)
        if name and value is not None:
            self.tag(name, value, f"{where}, SimpleTag {name}")

    def tag(self, key: str, value: str, where: str) -> None:
        self.c.blocks.append(Block("tag", where, key=key, text=value, family="mkv"))


def walk(src: ByteSource, c: Container) -> None:
    w = _Walk(src, c)
    doc_type, segments = "", 0
    try:
        for eid, _at, body, size in w.elements(0, src.size, cut_ok=True):
            if eid == EBML and size != UNKNOWN:
                for cid, _cat, cbody, csize in w.elements(body, body + size):
                    if cid == DOC_TYPE:
                        doc_type = w.text(cbody, csize)
            elif eid == SEGMENT:
                segments += 1
                end = src.size if size == UNKNOWN else body + size
                w.segment(body, end)
    finally:  # a cut file still says what it is
        if doc_type == "webm":
            c.format, c.media_type = "webm", "video/webm"
        else:
            c.format, c.media_type = "mkv", "video/x-matroska"
    if not segments:
        raise TruncatedError("no Segment element: the file is cut or holds only an EBML header", "top level")
    if w.cut is not None:
        raise w.cut  # the file is cut: unreadable, whatever was read before the cut


register(FormatHandler("matroska", "video/x-matroska", _accept, walk))
