"""GIF: the label in the ``XMP DataXMP`` application extension (TC260-PG-20259A).

The block stream is walked to the trailer (bounded as the reader is); the XMP extension is rebuilt
where it stands (the raw packet and the 258-byte "magic trailer" that lets sub-block readers skip
it), or a new one is put before the first block after the global colour table (a GIF87a header
becomes GIF89a, which extensions need).  A label in a comment extension is blanked in its text,
the sub-block lengths kept.  Image descriptors, colour tables and LZW data are copied byte for
byte.  Written by hand: Pillow re-encodes frames to write a GIF, and no other Python library writes
GIF XMP.
"""

from __future__ import annotations

from ...formats.gif import XMP_APP, _xmp_packet
from ...limits import MAX_GIF_BLOCKS, MAX_METADATA_BLOCK
from ..label import LabelFields
from ..xmp_edit import remove_label, set_label
from . import WriteError, WriteOutcome
from ._common import blank_label_text, label_value

MAGIC_TRAILER = b"\x01" + bytes(range(255, -1, -1)) + b"\x00"


def _table(flags: int) -> int:
    return 3 * (2 ** ((flags & 0x07) + 1)) if flags & 0x80 else 0


def _subblocks_end(data: bytes, pos: int) -> int:
    total = 0
    while True:
        if pos >= len(data):
            raise WriteError("the file ends inside GIF data sub-blocks", f"offset {pos:#x}")
        n = data[pos]
        if n == 0:
            return pos + 1
        total += n
        pos += 1 + n


def xmp_extension(packet: bytes) -> bytes:
    if b"\x00" in packet:
        raise WriteError("an XMP packet with NUL bytes cannot be stored raw in a GIF")
    return b"\x21\xff\x0b" + XMP_APP + packet + MAGIC_TRAILER


def blocks(data: bytes) -> tuple[int, list[tuple[str, int, int]]]:
    """(offset after the header and global colour table, [(kind, start, end)] up to the trailer);
    kind is ``xmp``, ``comment`` or ``other``."""
    if data[:6] not in (b"GIF87a", b"GIF89a") or len(data) < 13:
        raise WriteError("not a GIF file")
    pos = start = 13 + _table(data[10])
    out: list[tuple[str, int, int]] = []
    for _ in range(MAX_GIF_BLOCKS):
        if pos >= len(data):
            raise WriteError("the GIF ends before its trailer", f"offset {pos:#x}")
        intro = data[pos]
        if intro == 0x3B:
            return start, out
        if intro == 0x2C:
            if pos + 10 > len(data):
                raise WriteError("an image descriptor is cut off", f"offset {pos:#x}")
            end = _subblocks_end(data, pos + 10 + _table(data[pos + 9]) + 1)
            out.append(("other", pos, end))
        elif intro == 0x21 and pos + 2 < len(data):
            label = data[pos + 1]
            kind = "other"
            if label == 0xFF and data[pos + 2] == 11 and data[pos + 3 : pos + 14] == XMP_APP:
                kind = "xmp"
                end = _subblocks_end(data, pos + 14)
            elif label == 0xFF:
                end = _subblocks_end(data, pos + 3 + data[pos + 2])
            else:
                kind = "comment" if label == 0xFE else "other"
                end = _subblocks_end(data, pos + 2)
            out.append((kind, pos, end))
        else:
            raise WriteError(f"unknown GIF block 0x{intro:02X}", f"offset {pos:#x}")
        pos = end
    raise WriteError(f"more than {MAX_GIF_BLOCKS} GIF blocks")


def _blank_comment(data: bytes, s: int, e: int) -> tuple[bytes, int]:
    """The comment extension with a label blanked in its text; each sub-block keeps its length."""
    lengths, parts, pos = [], [], s + 2
    while data[pos]:
        n = data[pos]
        lengths.append(n)
        parts.append(data[pos + 1 : pos + 1 + n])
        pos += 1 + n
    if sum(lengths) > MAX_METADATA_BLOCK:
        raise WriteError("a GIF comment over the size limit", f"offset {s:#x}")
    text, blanked = blank_label_text(b"".join(parts))
    out, at = bytearray(data[s : s + 2]), 0
    for n in lengths:
        out += bytes([n]) + text[at : at + n]
        at += n
    return bytes(out + b"\x00"), blanked


def write(data: bytes, label: LabelFields) -> WriteOutcome:
    first, found = blocks(data)
    value = label_value(label)
    notes: list[str] = []
    out = bytearray(data[:first])
    if out[:6] == b"GIF87a":
        out[:6] = b"GIF89a"
        notes.append("the GIF87a header became GIF89a (extensions need it)")
    updated = placed = False
    location = ""
    if not any(kind == "xmp" for kind, _, _ in found):
        location = f"GIF XMP application extension at offset {len(out):#x}"
        out += xmp_extension(set_label(None, value).packet)
        placed = True
    cursor = first
    for kind, s, e in found:
        out += data[cursor:s]
        cursor = e
        if kind == "xmp":
            packet = _xmp_packet(data[s + 14 : e])
            if not placed:
                edit = set_label(packet, value)
                updated, placed = edit.updated, True
                if edit.removed:
                    notes.append(f"removed {edit.removed} further TC260:AIGC copies from the XMP packet")
                location = f"GIF XMP application extension at offset {len(out):#x}"
                out += xmp_extension(edit.packet)
            else:
                stripped, n = remove_label(packet)
                if n:
                    notes.append(f"removed the label from a second XMP extension at offset {s:#x}")
                out += xmp_extension(stripped)
        elif kind == "comment":
            blanked, n = _blank_comment(data, s, e)
            if n:
                notes.append(f"blanked a duplicate label in the comment extension at offset {s:#x}")
            out += blanked
        else:
            out += data[s:e]
    out += data[cursor:]
    return WriteOutcome(bytes(out), location, notes, updated)
