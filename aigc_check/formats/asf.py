"""ASF (WMA, WMV): header objects with tags, and the XMP object; never the data.

Tags: the Content Description object (Title, Author, Copyright, Description,
Rating), the Extended Content Description object and, inside the Header
Extension, the Metadata and Metadata Library objects (name/value pairs such
as ``WM/EncodingSettings`` or an ``AIGC`` entry).  XMP sits in a top-level
object whose GUID is the XMP UUID (Adobe's XMP specification, part 3).
"""

from __future__ import annotations

import struct
import uuid
from collections.abc import Iterator

from ..errors import LimitExceededError, MediaError, TruncatedError
from ..limits import MAX_BOXES, MAX_METADATA_BLOCK
from ..model import Block, Container
from ..source import ByteSource
from . import FormatHandler, register


def _guid(text: str) -> bytes:
    return uuid.UUID(text).bytes_le  # ASF stores GUIDs in Windows (mixed-endian) order


HEADER = _guid("75B22630-668E-11CF-A6D9-00AA0062CE6C")
DATA = _guid("75B22636-668E-11CF-A6D9-00AA0062CE6C")
CONTENT_DESCRIPTION = _guid("75B22633-668E-11CF-A6D9-00AA0062CE6C")
EXTENDED_CONTENT_DESCRIPTION = _guid("D2D0A440-E307-11D2-97F0-00A0C95EA850")
HEADER_EXTENSION = _guid("5FBF03B5-A92E-11CF-8EE3-00C00C205365")
METADATA = _guid("C5F8CBEA-5BAF-4877-8467-AA8C44FA4CCA")
METADATA_LIBRARY = _guid("44231C94-9498-49D1-A141-1D134E457054")
XMP = _guid("BE7ACFCB-97A9-42E8-9C71-999491E3AFAC")
CONTENT_FIELDS = ("Title", "Author", "Copyright", "Description", "Rating")
VIDEO_STREAM = _guid("BC19EFC0-5B4D-11CF-A8FD-00805F5C442B")


def _accept(head: bytes) -> bool:
    return head[:16] == HEADER


def _utf16(raw: bytes) -> str:
    return raw.decode("utf-16-le", "replace").rstrip("\x00")


class _Walk:
    def __init__(self, src: ByteSource, c: Container) -> None:
        self.src, self.c, self.count = src, c, 0

    def objects(self, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
        pos = start
        while pos + 24 <= end:
            self.count += 1
            if self.count > MAX_BOXES:  # a real header holds tens of objects; the data object is one
                raise LimitExceededError(f"more than {MAX_BOXES} ASF objects")
            head = self.src.read_exact(pos, 24, "an ASF object header")
            size = struct.unpack("<Q", head[16:24])[0]
            if size < 24:
                raise MediaError(f"ASF object claims {size} bytes, less than its header", f"offset {pos:#x}")
            if pos + size > end:
                raise TruncatedError(
                    f"ASF object claims {size} bytes, more than its container holds", f"offset {pos:#x}"
                )
            yield head[:16], pos, size
            pos += size

    def payload(self, at: int, size: int, where: str) -> bytes:
        if size > MAX_METADATA_BLOCK:
            raise LimitExceededError(f"ASF metadata object of {size} bytes is over the limit", where)
        return self.src.read_exact(at, size, "an ASF metadata object")

    def tag(self, key: str, value: str, where: str) -> None:
        if value:
            self.c.blocks.append(Block("tag", where, key=key, text=value, family="asf"))

    def header(self, at: int, size: int) -> None:
        for guid, pos, osize in self.objects(at + 30, at + size):
            where = f"ASF header object at offset {pos:#x}"
            if guid == CONTENT_DESCRIPTION:
                self.content_description(self.payload(pos + 24, osize - 24, where), where)
            elif guid == EXTENDED_CONTENT_DESCRIPTION:
                self.extended_description(self.payload(pos + 24, osize - 24, where), where)
            elif guid == HEADER_EXTENSION:
                for inner, ipos, isize in self.objects(pos + 46, pos + osize):
                    if inner in (METADATA, METADATA_LIBRARY):
                        iwhere = f"ASF metadata object at offset {ipos:#x}"
                        self.metadata(self.payload(ipos + 24, isize - 24, iwhere), iwhere)
            elif (
                guid == _guid("B7DC0791-A9B7-11CF-8EE6-00C00C205365")  # stream properties
                and self.src.read_exact(pos + 24, 16, "a stream type") == VIDEO_STREAM
            ):
                self.c.format, self.c.media_type = "wmv", "video/x-ms-wmv"

    def content_description(self, data: bytes, where: str) -> None:
        lengths = struct.unpack("<5H", _take(data, 0, 10, where))
        pos = 10
        for name, n in zip(CONTENT_FIELDS, lengths):
            self.tag(name, _utf16(data[pos : pos + n]), f"{where} (Content Description {name})")
            pos += n

    def extended_description(self, data: bytes, where: str) -> None:
        (count,) = struct.unpack("<H", _take(data, 0, 2, where))
        pos = 2
        for _ in range(count):
            (name_len,) = struct.unpack("<H", _take(data, pos, 2, where))
            name = _utf16(data[pos + 2 : pos + 2 + name_len])
            pos += 2 + name_len
            vtype, vlen = struct.unpack("<HH", _take(data, pos, 4, where))
            self.tag(name, _value(vtype, data[pos + 4 : pos + 4 + vlen]), f"{where} (Extended Content {name})")
            pos += 4 + vlen

    def metadata(self, data: bytes, where: str) -> None:
        (count,) = struct.unpack("<H", _take(data, 0, 2, where))
        pos = 2
        for _ in range(count):
            _lang, _stream, name_len, vtype, vlen = struct.unpack("<HHHHI", _take(data, pos, 12, where))
            name = _utf16(data[pos + 12 : pos + 12 + name_len])
            start = pos + 12 + name_len
            self.tag(name, _value(vtype, data[start : start + vlen]), f"{where} ({name})")
            pos = start + vlen


def _take(data: bytes, pos: int, n: int, where: str) -> bytes:
    if pos + n > len(data):
        raise MediaError("metadata object ends inside a record", where)
    return data[pos : pos + n]


def _value(vtype: int, raw: bytes) -> str:
    if vtype == 0:
        return _utf16(raw)
    if vtype in (2, 3, 4, 5) and raw:
        return str(int.from_bytes(raw, "little"))
    return ""  # binary values (pictures, GUIDs) hold no provenance text


def walk(src: ByteSource, c: Container) -> None:
    c.format, c.media_type = "wma", "audio/x-ms-wma"
    w = _Walk(src, c)
    for guid, pos, size in w.objects(0, src.size):
        if guid == HEADER:
            w.header(pos, size)
        elif guid == XMP:
            where = f"ASF XMP object at offset {pos:#x}"
            c.blocks.append(Block("xmp", where, w.payload(pos + 24, size - 24, where)))
        elif guid == DATA:
            continue


register(FormatHandler("asf", "audio/x-ms-wma", _accept, walk))
