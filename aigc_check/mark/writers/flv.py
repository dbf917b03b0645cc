"""FLV: the label as the ``onMetaData`` property ``AIGC``, an AMF0 string holding the JSON (TC260 video
guide), as ffmpeg's FLV muxer writes ``-metadata AIGC=...``.

Written by hand: no maintained Python library writes AMF0 (PyAMF was last released in 2015, and
mutagen has no FLV support).  Only the first ``onMetaData`` script tag is rebuilt: its properties
other than AIGC are copied byte for byte, the ECMA array's count is updated, the tag's size and the
PreviousTagSize after it are rewritten; every other tag is copied as it is.  When the tag changes
size, what points at file positions in it is moved by the difference: ``keyframes/filepositions``
(written by ffmpeg's ``-flvflags add_keyframe_index``, yamdi, flvtool2), ``lastkeyframelocation`` and
``filesize``.  A file
without ``onMetaData`` gets one as its first tag.  Every AIGC property (any case) is a copy: the first
is rewritten where it stands, the others removed.
"""

from __future__ import annotations

import struct

from ...limits import MAX_AMF_DEPTH, MAX_AMF_VALUES, MAX_FLV_TAGS, MAX_METADATA_BLOCK
from ..label import LabelFields
from . import WriteError, WriteOutcome
from ._common import guarded, is_label_name, is_label_text, label_value, removed_note, walk_input

SCRIPT, TAG_HEADER = 18, 11
NUMBER, BOOLEAN, STRING, OBJECT, NULL, UNDEFINED, REFERENCE = 0, 1, 2, 3, 5, 6, 7
ECMA_ARRAY, STRICT_ARRAY, DATE, LONG_STRING, XML, TYPED_OBJECT = 8, 10, 11, 12, 15, 16
END = b"\x00\x00\x09"


class _Amf:
    """Walks AMF0 values by their sizes, noting where the numbers of file-position properties are."""

    def __init__(self, data: bytes) -> None:
        self.data, self.values = data, 0
        self.positions: list[int] = []  # offsets of 8-byte doubles that are file positions

    def need(self, pos: int, n: int) -> None:
        if pos + n > len(self.data):
            raise WriteError("an AMF0 value runs past the end of the script tag")

    def u16(self, pos: int) -> int:
        self.need(pos, 2)
        return int.from_bytes(self.data[pos : pos + 2], "big")

    def u32(self, pos: int) -> int:
        self.need(pos, 4)
        return int.from_bytes(self.data[pos : pos + 4], "big")

    def value(self, pos: int, depth: int, path: str) -> int:
        """The offset after the value at ``pos``."""
        self.values += 1
        if self.values > MAX_AMF_VALUES or depth > MAX_AMF_DEPTH:
            raise WriteError("the onMetaData values are over the AMF0 bounds")
        self.need(pos, 1)
        marker, pos = self.data[pos], pos + 1
        if marker == NUMBER:
            self.need(pos, 8)
            if path.startswith("keyframes/filepositions/") or path in ("filesize", "lastkeyframelocation"):
                self.positions.append(pos)
            return pos + 8
        if marker == BOOLEAN:
            return pos + 1
        if marker in (STRING,):
            return pos + 2 + self.u16(pos)
        if marker in (LONG_STRING, XML):
            return pos + 4 + self.u32(pos)
        if marker in (OBJECT, ECMA_ARRAY, TYPED_OBJECT):
            if marker == ECMA_ARRAY:
                pos += 4
            elif marker == TYPED_OBJECT:
                pos += 2 + self.u16(pos)
            return self.properties(pos, depth + 1, path)[0]
        if marker == STRICT_ARRAY:
            count, pos = self.u32(pos), pos + 4
            if count > MAX_AMF_VALUES:
                raise WriteError(f"an AMF0 array of {count} values is over the limit")
            for i in range(count):
                pos = self.value(pos, depth + 1, f"{path}/{i}")
            return pos
        if marker == DATE:
            return pos + 10
        if marker == REFERENCE:
            return pos + 2
        if marker in (NULL, UNDEFINED, 4, 13):
            return pos
        raise WriteError(f"unknown AMF0 marker {marker} in onMetaData")

    def properties(self, pos: int, depth: int, path: str) -> tuple[int, list[tuple[str, int, int]]]:
        """(offset after the end marker, [(name, start, end) of each property])."""
        found: list[tuple[str, int, int]] = []
        while pos < len(self.data):
            if self.data[pos : pos + 3] == END:
                return pos + 3, found
            start = pos
            n = self.u16(pos)
            self.need(pos + 2, n)
            name = self.data[pos + 2 : pos + 2 + n].decode("utf-8", "replace")
            pos = self.value(pos + 2 + n, depth, f"{path}/{name}" if path else name)
            found.append((name, start, pos))
        return pos, found  # no end marker: some writers leave it out of the last array


def _string_at(body: bytes, start: int) -> str | None:
    """The string value of the property at ``start`` (a name, then a value), or None when not a string."""
    n = int.from_bytes(body[start : start + 2], "big")
    at = start + 2 + n
    if at >= len(body) or body[at] not in (STRING, LONG_STRING):
        return None
    width = 2 if body[at] == STRING else 4
    size = int.from_bytes(body[at + 1 : at + 1 + width], "big")
    return body[at + 1 + width : at + 1 + width + size].decode("utf-8", "replace")


def _string_property(name: str, text: str) -> bytes:
    raw = text.encode("utf-8")
    key = struct.pack(">H", len(name)) + name.encode("utf-8")
    if len(raw) <= 0xFFFF:
        return key + bytes([STRING]) + struct.pack(">H", len(raw)) + raw
    return key + bytes([LONG_STRING]) + struct.pack(">I", len(raw)) + raw


def _tag(kind: int, body: bytes, timestamp: bytes = b"\x00\x00\x00\x00") -> bytes:
    if len(body) > 0xFFFFFF:
        raise WriteError("the script tag would exceed FLV's 16 MiB tag size")
    return (
        bytes([kind])
        + len(body).to_bytes(3, "big")
        + timestamp
        + b"\x00\x00\x00"
        + body
        + struct.pack(">I", TAG_HEADER + len(body))
    )


def _on_metadata_name() -> bytes:
    return bytes([STRING]) + struct.pack(">H", 10) + b"onMetaData"


def write(data: bytes, label: LabelFields) -> WriteOutcome:
    return guarded(_write, data, label)


def _write(data: bytes, label: LabelFields) -> WriteOutcome:
    walk_input(data, "flv")
    (offset,) = struct.unpack_from(">I", data, 5)
    first = offset + 4
    pos, count, meta = first, 0, None
    while pos + TAG_HEADER <= len(data):
        count += 1
        if count > MAX_FLV_TAGS:
            raise WriteError(f"more than {MAX_FLV_TAGS} FLV tags")
        kind, size = data[pos] & 0x1F, int.from_bytes(data[pos + 1 : pos + 4], "big")
        if kind == SCRIPT and not data[pos] & 0x20:
            body = data[pos + TAG_HEADER : pos + TAG_HEADER + size]
            if body.startswith(_on_metadata_name()):
                meta = (pos, size)
                break
        pos += TAG_HEADER + size + 4
    value = label_value(label)
    notes: list[str] = []
    if meta is None:
        body = _on_metadata_name() + bytes([ECMA_ARRAY]) + struct.pack(">I", 1) + _string_property("AIGC", value) + END
        out = data[:first] + _tag(SCRIPT, body) + data[first:]
        notes.append("added an onMetaData script tag as the first tag")
        return WriteOutcome(out, "FLV onMetaData AIGC", notes)
    at, size = meta
    if size > MAX_METADATA_BLOCK:
        raise WriteError(f"an FLV script tag of {size} bytes is over the limit")
    body = data[at + TAG_HEADER : at + TAG_HEADER + size]
    amf = _Amf(body)
    start = len(_on_metadata_name())
    if len(body) <= start or body[start] not in (ECMA_ARRAY, OBJECT):
        raise WriteError("onMetaData holds no ECMA array or object")
    props_at = start + (5 if body[start] == ECMA_ARRAY else 1)
    end, props = amf.properties(props_at, 1, "")
    copies = [n for n, (name, _, _) in enumerate(props) if is_label_name(name)]
    # String properties of other names (comment, description) that are the label as a whole: copies too.
    loose = [
        n
        for n, (_, s, e) in enumerate(props)
        if n not in copies and _string_at(body, s) is not None and is_label_text(_string_at(body, s) or "")
    ]
    parts: list[bytes] = []
    for n, (name, s, e) in enumerate(props):
        if copies and n == copies[0]:
            parts.append(_string_property(name, value))
        elif n not in copies and n not in loose:
            parts.append(body[s:e])
    if not copies:
        parts.append(_string_property("AIGC", value))
    notes += removed_note(max(len(copies) - 1, 0) + len(loose), "FLV onMetaData")
    head = body[:start] + (
        bytes([ECMA_ARRAY]) + struct.pack(">I", len(parts)) if body[start] == ECMA_ARRAY else body[start : start + 1]
    )
    new_body = bytearray(head + b"".join(parts) + END + body[end:])
    delta = len(new_body) - len(body)
    if delta:
        # File positions in onMetaData point behind this tag: move them (re-read in the new body).
        moved = _Amf(bytes(new_body))
        moved.properties(props_at, 1, "")
        old_end = at + TAG_HEADER + size + 4
        for p in moved.positions:
            (number,) = struct.unpack_from(">d", new_body, p)
            if number >= old_end or (number == len(data)):
                struct.pack_into(">d", new_body, p, number + delta)
        if moved.positions:
            notes.append(f"moved the file positions in onMetaData by {delta:+d} bytes")
    tag = _tag(SCRIPT, bytes(new_body), data[at + 4 : at + 8])
    out = data[:at] + tag + data[at + TAG_HEADER + size + 4 :]
    return WriteOutcome(out, "FLV onMetaData AIGC", notes, updated_existing=bool(copies))
