"""TIFF: the label in the XMP packet of IFD0 tag 700 (TC260-PG-20259A).

Nothing that is there moves.  A packet that still fits (its padding takes up the change) is
rewritten where it is; a longer one is appended at the end of the file and the tag's entry (count,
offset) repointed in place; a file without tag 700 gets a copy of IFD0 with the new entry, in tag
order, appended at the end, and the header's IFD0 offset repointed (the old directory is left as
unused bytes).  Strips, tiles and every other value keep their offsets and bytes.  A label in a
text value of IFD0 or the EXIF IFD (ImageDescription, UserComment) is blanked in place.  Written by
hand: python-exiv2 and Pillow rewrite the whole file (Pillow re-encodes it).  BigTIFF is refused.

A new tag 700 is written with field type 7 (UNDEFINED), as TC260-PG-20259A says; XMP part 3 allows
7 or 1 (BYTE), and ``exiftool -validate`` names 7 "non-standard" (it reads the packet all the same).
An existing tag keeps its type.
"""

from __future__ import annotations

import struct

from ...limits import MAX_IFD_ENTRIES, MAX_METADATA_BLOCK
from ..label import LabelFields
from ..xmp_edit import set_label
from . import WriteError, WriteOutcome
from ._common import blank_label_text, label_value

TAG_XMP, TAG_EXIF_IFD = 700, 34665
SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8, 17: 8, 18: 8}
TEXT_TYPES = (2, 7)


class Ifd:
    def __init__(self, data: bytes, at: int, bo: str) -> None:
        if at + 2 > len(data) or at < 8:
            raise WriteError(f"an IFD offset {at:#x} outside the file")
        (count,) = struct.unpack(bo + "H", data[at : at + 2])
        if count > MAX_IFD_ENTRIES:
            raise WriteError(f"an IFD of {count} entries (over {MAX_IFD_ENTRIES})", f"offset {at:#x}")
        if at + 2 + 12 * count + 4 > len(data):
            raise WriteError("an IFD runs past the end of the file", f"offset {at:#x}")
        self.at, self.bo, self.count = at, bo, count
        self.entries = [struct.unpack(bo + "HHI4s", data[at + 2 + 12 * i : at + 14 + 12 * i]) for i in range(count)]
        (self.next,) = struct.unpack(bo + "I", data[at + 2 + 12 * count : at + 6 + 12 * count])

    def value_span(self, entry: tuple, data_len: int) -> tuple[int, int] | None:
        """(offset, length) of an entry's value outside the IFD, None when it is inline or unknown."""
        tag, ftype, count, raw = entry
        size = SIZES.get(ftype, 0) * count
        if size <= 4 or size == 0:
            return None
        (offset,) = struct.unpack(self.bo + "I", raw)
        if offset + size > data_len:
            raise WriteError(f"tag {tag} points past the end of the file", f"IFD at offset {self.at:#x}")
        return offset, size


def write(data: bytes, label: LabelFields) -> WriteOutcome:
    if len(data) < 8:
        raise WriteError("the TIFF header is cut off")
    if data[:4] == b"II*\x00":
        bo = "<"
    elif data[:4] == b"MM\x00*":
        bo = ">"
    elif data[:4] in (b"II+\x00", b"MM\x00+"):
        raise WriteError("BigTIFF is not written by mark")
    else:
        raise WriteError("not a TIFF file")
    out = bytearray(data)
    notes: list[str] = []
    (ifd0_at,) = struct.unpack(bo + "I", data[4:8])
    ifd0 = Ifd(data, ifd0_at, bo)
    for ifd in [ifd0, *_exif_ifd(data, ifd0, bo)]:
        for entry in ifd.entries:
            if entry[0] == TAG_XMP or entry[1] not in TEXT_TYPES:
                continue
            span = ifd.value_span(entry, len(data))
            if span is None or span[1] > MAX_METADATA_BLOCK:
                continue
            blanked, n = blank_label_text(data[span[0] : span[0] + span[1]])
            if n:
                out[span[0] : span[0] + span[1]] = blanked
                notes.append(f"blanked a duplicate label in tag {entry[0]} (IFD at offset {ifd.at:#x}, same length)")
    value = label_value(label)
    index = next((i for i, e in enumerate(ifd0.entries) if e[0] == TAG_XMP), None)
    location = f"TIFF IFD0 tag 700 (XMP) in IFD at offset {ifd0_at:#x}"
    if index is not None:
        entry = ifd0.entries[index]
        span = ifd0.value_span(entry, len(data))
        if span is None or entry[1] not in (1, 7):
            raise WriteError("tag 700 is not a BYTE/UNDEFINED value outside the IFD")
        edit = set_label(data[span[0] : span[0] + span[1]], value)
        entry_at = ifd0_at + 2 + 12 * index
        if len(edit.packet) <= span[1]:
            out[span[0] : span[0] + len(edit.packet)] = edit.packet
            offset = span[0]
        else:
            if len(out) & 1:
                out += b"\x00"
            offset = len(out)
            out += edit.packet
            notes.append("the grown XMP packet was appended at the end of the file and tag 700 repointed")
        out[entry_at : entry_at + 12] = struct.pack(bo + "HHII", TAG_XMP, entry[1], len(edit.packet), offset)
        return WriteOutcome(bytes(out), location, notes, edit.updated)
    packet = set_label(None, value).packet
    if len(out) & 1:
        out += b"\x00"
    packet_at = len(out)
    out += packet + (b"\x00" if len(packet) & 1 else b"")
    new_at = len(out)
    entries = sorted([*ifd0.entries, (TAG_XMP, 7, len(packet), struct.pack(bo + "I", packet_at))], key=lambda e: e[0])
    out += struct.pack(bo + "H", len(entries))
    for entry in entries:
        out += struct.pack(bo + "HHI4s", *entry)
    out += struct.pack(bo + "I", ifd0.next)
    out[4:8] = struct.pack(bo + "I", new_at)
    notes.append("IFD0 was copied with the new XMP entry to the end of the file and the header repointed")
    return WriteOutcome(bytes(out), f"TIFF IFD0 tag 700 (XMP) in IFD at offset {new_at:#x}", notes, False)


def _exif_ifd(data: bytes, ifd0: Ifd, bo: str) -> list[Ifd]:
    for tag, ftype, _count, raw in ifd0.entries:
        if tag == TAG_EXIF_IFD and ftype in (4, 13):
            (at,) = struct.unpack(bo + "I", raw)
            return [Ifd(data, at, bo)]
    return []
