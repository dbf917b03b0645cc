"""FLV: the file header, the tag headers, and the first ``onMetaData`` script tag (AMF0).

The TC260 video guide puts the GB 45438 label under the ``onMetaData`` key ``AIGC`` (an AMF0
string holding the JSON); ffmpeg's FLV muxer writes every ``-metadata`` key there too, beside its
own ``encoder``.  Every string value in ``onMetaData`` becomes a tag of family ``flv`` named by its
key path (``AIGC``, ``comment``, ``keyframes/0``), so fields read ``flv/AIGC`` or ``flv/encoder``.

The tags are walked by their sizes, never their audio or video payloads, so a file cut inside a
tag is reported truncated.  No maintained Python AMF0 library is in the dependency set (PyAMF was
last released in 2015), so the small AMF0 decoder below is written by hand, with its nesting depth
and its value count bounded.
"""

from __future__ import annotations

import struct

from ..errors import LimitExceededError, MediaError, TruncatedError
from ..limits import MAX_AMF_DEPTH, MAX_AMF_VALUES, MAX_BLOCKS, MAX_FLV_TAGS, MAX_METADATA_BLOCK
from ..model import Block, Container
from ..source import WINDOW_SIZE, ByteSource
from . import FormatHandler, register

AUDIO, VIDEO, SCRIPT = 8, 9, 18
TAG_HEADER = 11

# AMF0 markers (Adobe, "Action Message Format -- AMF 0", 2006)
NUMBER, BOOLEAN, STRING, OBJECT, MOVIECLIP, NULL, UNDEFINED, REFERENCE = 0, 1, 2, 3, 4, 5, 6, 7
ECMA_ARRAY, OBJECT_END, STRICT_ARRAY, DATE, LONG_STRING, UNSUPPORTED, XML, TYPED_OBJECT = 8, 9, 10, 11, 12, 13, 15, 16


def _accept(head: bytes) -> bool:
    return head[:4] == b"FLV\x01"


class _Amf0:
    """One script tag's body, decoded value by value; strings are collected with their key paths."""

    def __init__(self, data: bytes, where: str) -> None:
        self.data, self.pos, self.where = data, 0, where
        self.values = 0
        self.strings: list[tuple[str, str]] = []

    def take(self, n: int, what: str) -> bytes:
        if n > len(self.data) - self.pos:
            raise MediaError(
                f"AMF0 {what} claims {n} bytes, more than the script tag holds", f"{self.where}, byte {self.pos}"
            )
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def u16(self) -> int:
        return int(struct.unpack(">H", self.take(2, "length"))[0])

    def u32(self) -> int:
        return int(struct.unpack(">I", self.take(4, "length"))[0])

    def text(self, n: int) -> str:
        return self.take(n, "string").decode("utf-8", "replace")

    def value(self, path: str, depth: int) -> None:
        self.values += 1
        if self.values > MAX_AMF_VALUES:
            raise LimitExceededError(f"more than {MAX_AMF_VALUES} AMF0 values in a script tag", self.where)
        marker = self.take(1, "marker")[0]
        if marker == NUMBER:
            self.take(8, "number")
        elif marker == BOOLEAN:
            self.take(1, "boolean")
        elif marker in (STRING, LONG_STRING, XML):
            n = self.u16() if marker == STRING else self.u32()
            self.string(path, self.text(n))
        elif marker in (OBJECT, ECMA_ARRAY, TYPED_OBJECT):
            if marker == ECMA_ARRAY:
                self.u32()  # an approximate count: the end marker ends the properties
            elif marker == TYPED_OBJECT:
                self.text(self.u16())  # the class name
            self.properties(path, depth + 1)
        elif marker == STRICT_ARRAY:
            count = self.u32()
            if count > MAX_AMF_VALUES:
                raise LimitExceededError(f"AMF0 strict array of {count} values is over the limit", self.where)
            self.nest(depth + 1)
            for i in range(count):
                self.value(f"{path}/{i}" if path else str(i), depth + 1)
        elif marker == DATE:
            self.take(10, "date")
        elif marker == REFERENCE:
            self.take(2, "reference")
        elif marker in (NULL, UNDEFINED, UNSUPPORTED, MOVIECLIP):
            pass
        else:
            raise MediaError(f"unknown AMF0 marker {marker}", f"{self.where}, byte {self.pos - 1}")

    def nest(self, depth: int) -> None:
        if depth > MAX_AMF_DEPTH:
            raise LimitExceededError(f"AMF0 values nested more than {MAX_AMF_DEPTH} deep", self.where)

    def properties(self, path: str, depth: int) -> None:
        self.nest(depth)
        while self.pos < len(self.data):
            if self.data[self.pos : self.pos + 3] == b"\x00\x00\x09":
                self.pos += 3
                return
            name = self.text(self.u16())
            self.value(f"{path}/{name}" if path else name, depth)
        # no end marker before the tag ends: some writers leave it out of the last ECMA array

    def string(self, path: str, value: str) -> None:
        if value and path:
            if len(self.strings) >= MAX_BLOCKS:
                raise LimitExceededError(f"more than {MAX_BLOCKS} strings in an FLV script tag", self.where)
            self.strings.append((path, value))


def _metadata(c: Container, data: bytes, where: str) -> bool:
    """Tags for the strings of an ``onMetaData`` script tag; False when the tag is another script."""
    amf = _Amf0(data, where)
    if amf.take(1, "marker")[0] != STRING or amf.text(amf.u16()) != "onMetaData":
        return False
    try:
        amf.value("", 0)
    finally:  # a broken value late in the tag does not hide the strings before it
        for key, text in amf.strings:
            c.blocks.append(Block("tag", f"{where}, onMetaData {key}", key=key, text=text, family="flv"))
    return True


def walk(src: ByteSource, c: Container) -> None:
    c.format, c.media_type = "flv", "video/x-flv"
    header = src.read_exact(0, 9, "the FLV header")
    (offset,) = struct.unpack(">I", header[5:9])
    if offset < 9:
        raise MediaError(f"FLV header claims {offset} bytes, less than its own 9", "FLV header")
    pos, count, metadata = offset + 4, 0, False  # each tag follows the previous one's 4-byte size
    file_size = src.size
    # Tag headers are parsed out of a window read through the source (the same 64 KiB windows its own
    # small reads use), not one read per header: a file may hold 1,000,000 tags.
    window_at, window = pos, src.read(pos, min(WINDOW_SIZE, file_size - pos))
    while pos + TAG_HEADER <= file_size:
        count += 1
        if count > MAX_FLV_TAGS:
            raise LimitExceededError(f"more than {MAX_FLV_TAGS} FLV tags")
        at = pos - window_at
        if at + TAG_HEADER > len(window):
            window_at, window, at = pos, src.read(pos, min(WINDOW_SIZE, file_size - pos)), 0
            if len(window) < TAG_HEADER:
                raise TruncatedError("file ends inside an FLV tag header", f"offset {pos:#x}")
        kind, size = window[at], int.from_bytes(window[at + 1 : at + 4], "big")
        if pos + TAG_HEADER + size > file_size:
            raise TruncatedError(
                f"FLV tag claims {size} bytes, more than the file holds", f"FLV tag at offset {pos:#x}"
            )
        # Only the first unencrypted script tag is decoded (0x20 flags an encrypted, filtered tag); the
        # rest are hopped over by their sizes.
        if not metadata and kind & 0x3F == SCRIPT:
            where = f"FLV tag at offset {pos:#x}"
            if size > MAX_METADATA_BLOCK:
                raise LimitExceededError(f"FLV script tag of {size} bytes is over the limit", where)
            metadata = _metadata(c, src.read_exact(pos + TAG_HEADER, size, "an FLV script tag"), where)
        pos += TAG_HEADER + size + 4
    end = pos - 4  # the end of the last whole tag; its 4-byte size may follow, or be left out
    if src.size not in (end, pos):
        raise TruncatedError("the file ends inside an FLV tag header", f"offset {end:#x}")


register(FormatHandler("flv", "video/x-flv", _accept, walk))
