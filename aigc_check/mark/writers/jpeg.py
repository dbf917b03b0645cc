"""JPEG: the label in the APP1 XMP packet (TC260-PG-20259A).

The marker segments before the start of scan are walked (bounded as the reader is); the XMP APP1
segment is rewritten where it stands, or a new one is put after the leading APP0/APP1 (JFIF, EXIF)
segments.  Label copies in other segments (EXIF UserComment, COM, an unregistered APPn holding
``AIGC{...}``) are blanked in place, same length; one in an Extended XMP part is removed from it and
the part written again under its new GUID.  The scan data and every other segment are copied
byte for byte.

Written by hand rather than with python-exiv2, after measuring it (``bench/bench_mark.py``):
libexiv2 0.28 keeps the image data of JPEG, PNG, WebP and TIFF, but it re-serialises the whole XMP
packet (the TC260 guide asks for the property to be updated, not the packet rewritten: the
writer's layout, padding and encoding go, so no packet keeps its length and none can be rewritten
where it stands), it writes neither GIF nor HEIF/AVIF, it cannot take the Annex B copies out of
other carriers, and it would put a C++ parser of hostile files in the process.
"""

from __future__ import annotations

import hashlib
import re
import struct

from ...formats.jpeg import EXIF_ID, STANDALONE, XMP_EXT_ID, XMP_ID
from ...limits import MAX_METADATA_BLOCK, MAX_SEGMENTS
from ..label import LabelFields
from ..xmp_edit import has_label, remove_label, set_label
from . import WriteError, WriteOutcome
from ._common import blank_label_text, label_value

SOS, EOI = 0xDA, 0xD9
MAX_SEGMENT_PAYLOAD = 0xFFFF - 2


def segments(data: bytes) -> tuple[list[tuple[int, int, int]], int]:
    """([(marker, start, end)] of each segment before the start of scan, the offset of SOS)."""
    if data[:2] != b"\xff\xd8":
        raise WriteError("not a JPEG (no SOI marker)")
    out: list[tuple[int, int, int]] = []
    pos = 2
    for _ in range(MAX_SEGMENTS):
        if pos + 2 > len(data):
            raise WriteError("the JPEG ends before its image data", f"offset {pos:#x}")
        if data[pos] != 0xFF:
            raise WriteError(f"expected a JPEG marker, found byte 0x{data[pos]:02X}", f"offset {pos:#x}")
        marker = data[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        if marker in STANDALONE:
            if marker == EOI:
                raise WriteError("the JPEG has no image data (EOI before SOS)")
            pos += 2
            continue
        if pos + 4 > len(data):
            raise WriteError("a segment length is cut off", f"offset {pos:#x}")
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if length < 2 or pos + 2 + length > len(data):
            raise WriteError(f"segment length {length} does not fit the file", f"offset {pos:#x}")
        if marker == SOS:
            return out, pos
        out.append((marker, pos, pos + 2 + length))
        pos += 2 + length
    raise WriteError(f"more than {MAX_SEGMENTS} JPEG segments before the image data")


def _segment(marker: int, payload: bytes) -> bytes:
    if len(payload) > MAX_SEGMENT_PAYLOAD:
        raise WriteError(
            f"the XMP packet would be {len(payload)} bytes, over one APP1 segment (Extended XMP is not written by mark)"
        )
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def _extended_without_label(
    data: bytes, segs: list[tuple[int, int, int]], replacement: dict[int, bytes], notes: list[str]
) -> dict[bytes, bytes]:
    """Take the label out of an Extended XMP part (XMP part 3, 1.1.3.1) that holds one: the part is
    put together from its APP1 portions, the property removed, and the part split again under its
    new GUID (the MD5 digest of the new serialisation), in the place of its first portion.  The
    label then goes into the main packet (the normative place), whose ``xmpNote:HasExtendedXMP``
    the caller renames.  Returns {old GUID: new GUID}."""
    parts: dict[bytes, list[tuple[int, int, bytes, int]]] = {}  # guid -> [(offset, total, portion, start)]
    for m, s, e in segs:
        payload = data[s + 4 : e]
        if m != 0xE1 or not payload.startswith(XMP_EXT_ID) or len(payload) < len(XMP_EXT_ID) + 40:
            continue
        head = payload[len(XMP_EXT_ID) :]
        total, offset = struct.unpack(">II", head[32:40])
        parts.setdefault(head[:32], []).append((offset, total, head[40:], s))
    renamed: dict[bytes, bytes] = {}
    for guid, portions in parts.items():
        if not any(b"tc260.org.cn/ns/AIGC" in p[2] for p in portions):
            continue
        portions.sort()
        total = portions[0][1]
        whole = bytearray()
        for offset, _total, portion, _start in portions:
            if offset != len(whole):
                raise WriteError("an Extended XMP part with a gap or an overlap is not rewritten")
            whole += portion
        if len(whole) != total or total > MAX_METADATA_BLOCK:
            raise WriteError("an Extended XMP part that is incomplete or over the size limit is not rewritten")
        stripped, n = remove_label(bytes(whole))
        if not n:
            continue
        new_guid = hashlib.md5(stripped, usedforsecurity=False).hexdigest().upper().encode("ascii")
        chunk = MAX_SEGMENT_PAYLOAD - len(XMP_EXT_ID) - 40
        pieces = [
            _segment(0xE1, XMP_EXT_ID + new_guid + struct.pack(">II", len(stripped), at) + stripped[at : at + chunk])
            for at in range(0, len(stripped), chunk)
        ]
        first = min(p[3] for p in portions)
        for *_rest, start in portions:
            replacement[start] = b"".join(pieces) if start == first else b""
        renamed[guid] = new_guid
        notes.append(f"moved the label out of the Extended XMP part {guid.decode('latin-1')} (now {new_guid.decode()})")
    return renamed


def write(data: bytes, label: LabelFields) -> WriteOutcome:
    segs, _sos = segments(data)
    notes: list[str] = []
    value = label_value(label)
    replacement: dict[int, bytes] = {}  # segment start -> its new bytes (b"" removes it)
    main_xmp = [(m, s, e) for m, s, e in segs if m == 0xE1 and data[s + 4 : s + 4 + len(XMP_ID)] == XMP_ID]
    renamed = _extended_without_label(data, segs, replacement, notes)
    updated = False
    location = ""  # where the label is in the new file, set as the pieces are laid out
    # The packet that holds the label already, else the first one.
    holder = next((seg for seg in main_xmp if has_label(data[seg[1] + 4 + len(XMP_ID) : seg[2]])), None)
    if holder is None and main_xmp:
        holder = main_xmp[0]
    if renamed and holder is None:
        raise WriteError("Extended XMP without a main XMP packet that names it")
    for m, s, e in main_xmp:
        packet = data[s + 4 + len(XMP_ID) : e]
        if (m, s, e) == holder:
            for old_guid, new_guid in renamed.items():  # xmpNote:HasExtendedXMP names the new digest
                packet = re.sub(re.escape(old_guid), new_guid, packet, flags=re.I)
            edit = set_label(packet, value)
            updated = edit.updated
            if edit.removed:
                notes.append(f"removed {edit.removed} further TC260:AIGC copies from the XMP packet")
            replacement[s] = _segment(0xE1, XMP_ID + edit.packet)
        else:
            stripped, n = remove_label(packet)
            if n:
                replacement[s] = _segment(0xE1, XMP_ID + stripped)
                notes.append(f"removed the label from a second XMP APP1 segment at offset {s:#x}")
    for m, s, e in segs:
        payload = data[s + 4 : e]
        if s in replacement or (m == 0xE1 and payload.startswith((XMP_ID, XMP_EXT_ID))):
            continue
        if m == 0xEB or not (0xE0 <= m <= 0xEF or m == 0xFE):
            continue  # JUMBF (C2PA) and the image's own tables
        blanked, n = blank_label_text(payload)
        if n:
            replacement[s] = data[s : s + 4] + blanked
            what = "EXIF" if payload.startswith(EXIF_ID) else ("COM" if m == 0xFE else f"APP{m - 0xE0}")
            notes.append(f"blanked a duplicate label in {what} at offset {s:#x} (same length)")
    # The pieces of the new file, joined once at the end: the scan data (most of the file) is
    # copied once, not once per edit.
    view = memoryview(data)
    pieces: list[bytes | memoryview] = []
    size = 0
    cursor = 0

    def add(piece: bytes | memoryview) -> None:
        nonlocal size
        pieces.append(piece)
        size += len(piece)

    def new_xmp() -> None:
        nonlocal location
        location = f"JPEG APP1 (XMP) at offset {size:#x}"
        add(_segment(0xE1, XMP_ID + set_label(None, value).packet))

    insert_after = 2
    if holder is None:
        # After the leading JFIF/EXIF segments, where readers and the guide expect XMP.
        for m, s, e in segs:
            if m == 0xE0 or (m == 0xE1 and data[s + 4 : s + 10] == EXIF_ID):
                insert_after = e
            else:
                break
    if holder is None and insert_after == 2:
        add(view[:2])
        cursor = 2
        new_xmp()
    for _m, s, e in segs:
        if s in replacement:
            add(view[cursor:s])
            if holder is not None and s == holder[1]:
                location = f"JPEG APP1 (XMP) at offset {size:#x}"
            add(replacement[s])
            cursor = e
        if holder is None and insert_after > 2 and e == insert_after:
            add(view[cursor:e])
            cursor = e
            new_xmp()
    add(view[cursor:])
    out = b"".join(pieces)
    return WriteOutcome(out, location, notes, updated)
