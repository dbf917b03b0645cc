"""TIFF image file directories: the structure of TIFF/DNG files and of EXIF blobs.

One bounded parser for both, returning entries in the shape ``piexif.load``
gives (``{"0th": {tag: value}, "Exif": {...}, "GPS": {...}}``) so the EXIF
reader treats a TIFF file and a JPEG's EXIF blob alike.  Bounds: entries per
directory, bytes per value, values per numeric array.  A bad entry (an offset
past the end, a value over a bound) is skipped and named in ``problems``; in
strict mode (TIFF files, where a cut file shows up exactly so) it raises.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

from ..errors import LimitExceededError, MediaError
from ..limits import MAX_IFD_ENTRIES, MAX_IFD_VALUES, MAX_METADATA_BLOCK
from ..source import ByteSource

TAG_EXIF_IFD, TAG_GPS_IFD = 0x8769, 0x8825
# type id -> (struct code, size of one value)
TYPES = {
    1: ("B", 1),
    2: ("s", 1),
    3: ("H", 2),
    4: ("I", 4),
    5: ("I", 8),
    6: ("b", 1),
    7: ("s", 1),
    8: ("h", 2),
    9: ("i", 4),
    10: ("i", 8),
    11: ("f", 4),
    12: ("d", 8),
}
RAW_TYPES = {1, 2, 7}
# One directory entry: tag, type, count, the value or its offset.
_ENTRY = {endian: struct.Struct(endian + "HHI4s") for endian in "<>"}
_COUNT = {endian: struct.Struct(endian + "H") for endian in "<>"}
_OFFSET = {endian: struct.Struct(endian + "I") for endian in "<>"}
# One value of each numeric type; a rational is its (numerator, denominator) pair.
_SINGLE = {
    endian: {typ: struct.Struct(endian + code * (2 if typ in (5, 10) else 1)) for typ, (code, _size) in TYPES.items()}
    for endian in "<>"
}
OVER_LIMIT = "over the limit"


@dataclass
class Directories:
    endian: str
    ifd0_at: int
    entries: dict = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def limit_hit(self) -> bool:
        return any(OVER_LIMIT in p for p in self.problems)


def read_directories(src: ByteSource, base: int = 0, strict: bool = False) -> Directories:
    """IFD0, the Exif IFD and the GPS IFD of the TIFF structure starting at ``base``."""
    order = src.read_exact(base, 8, "the TIFF header")
    if order[:4] not in (b"II*\x00", b"MM\x00*"):
        raise MediaError("not a TIFF header (II*\\0 or MM\\0*)", f"offset {base:#x}")
    endian = "<" if order[:2] == b"II" else ">"
    (ifd0_at,) = struct.unpack(endian + "I", order[4:8])
    d = Directories(endian, ifd0_at)
    d.entries["0th"] = read_ifd(src, endian, base, ifd0_at, "IFD0", d.problems, strict)
    for name, key, tag in (("EXIF IFD", "Exif", TAG_EXIF_IFD), ("GPS IFD", "GPS", TAG_GPS_IFD)):
        at = d.entries["0th"].get(tag)
        d.entries[key] = {}
        if isinstance(at, int) and at > 0 and base + at < src.size:
            try:
                d.entries[key] = read_ifd(src, endian, base, at, name, d.problems, strict)
            except (MediaError, LimitExceededError) as exc:
                if strict:
                    raise
                d.problems.append(str(exc))
    return d


def read_ifd(
    src: ByteSource, endian: str, base: int, at: int, name: str, problems: list[str], strict: bool = False
) -> dict:
    # A range inside the source's head is sliced from it here: ``src.read`` would return that same
    # slice, uncounted (the head was counted when it was read), through two calls; a range past
    # the head is read through the source, so what a file reports as read is unchanged.  An EXIF
    # blob is nearly always wholly in the head.
    head = src.head
    in_head = len(head)
    start = base + at
    if start + 2 <= in_head:
        (count,) = _COUNT[endian].unpack_from(head, start)
    else:
        (count,) = _COUNT[endian].unpack(src.read_exact(start, 2, name))
    if count > MAX_IFD_ENTRIES:
        raise LimitExceededError(f"{name} claims {count} entries", f"offset {start:#x}")
    end = start + 2 + 12 * count
    table = head[start + 2 : end] if end <= in_head else src.read_exact(start + 2, 12 * count, name)
    out: dict = {}
    # One pass over the table in C, not a slice and an unpack per entry.
    for tag, typ, n, raw in _ENTRY[endian].iter_unpack(table):
        if typ not in TYPES:
            continue
        code, size = TYPES[typ]
        total = size * n
        problem = None
        if total > MAX_METADATA_BLOCK or (typ not in RAW_TYPES and n > MAX_IFD_VALUES):
            problem = f"{name} tag {tag:#06x} holds {n} values ({total} bytes), {OVER_LIMIT}"
        elif total <= 4:
            data = raw[:total]
        else:
            value_at = base + _OFFSET[endian].unpack(raw)[0]
            data = head[value_at : value_at + total] if value_at + total <= in_head else src.read(value_at, total)
            if len(data) < total:
                problem = f"{name} tag {tag:#06x} points past the end of the data"
        if problem:
            if strict:
                error = LimitExceededError if OVER_LIMIT in problem else MediaError
                raise error(problem, f"offset {start:#x}")
            problems.append(problem)
            continue
        out[tag] = _value(data, typ, n, endian, code)
    return out


def _value(data: bytes, typ: int, n: int, endian: str, code: str) -> Any:
    if typ in RAW_TYPES:
        return data  # piexif also returns ASCII as bytes
    if n == 1:  # most entries: one compiled struct, no format string made, no pairing
        values = _SINGLE[endian][typ].unpack(data)
        return values if typ in (5, 10) else values[0]
    count = 2 * n if typ in (5, 10) else n
    values = struct.unpack(f"{endian}{count}{code}", data)  # a repeat count, not code * n: no huge format string
    if typ in (5, 10):
        values = tuple(zip(values[0::2], values[1::2]))
    return values[0] if n == 1 else values
