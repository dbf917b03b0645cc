"""WebP: the label in the RIFF ``XMP `` chunk (TC260-PG-20259A), with the VP8X XMP flag set.

The chunk is rewritten where it stands, or added at the end (the WebP container puts metadata after
the image data).  A simple-format file (one ``VP8 ``/``VP8L`` chunk, no VP8X) gets the VP8X chunk
the extended format needs, its canvas size and alpha flag read from the bitstream header.  A label
in the EXIF chunk (Annex B UserComment) is blanked in place, same length.  The bitstream chunks are
copied byte for byte.  Written by hand: Pillow re-encodes to write metadata.
"""

from __future__ import annotations

import struct

from ...limits import MAX_CHUNKS
from ..label import LabelFields
from ..xmp_edit import remove_label, set_label
from . import WriteError, WriteOutcome
from ._common import blank_label_text, label_value

XMP_FLAG, EXIF_FLAG, ALPHA_FLAG = 0x04, 0x08, 0x10


def _chunk(fourcc: bytes, body: bytes) -> bytes:
    return fourcc + struct.pack("<I", len(body)) + body + (b"\x00" if len(body) & 1 else b"")


def chunks(data: bytes) -> list[tuple[bytes, int, int, int]]:
    """[(fourcc, start, body start, end with padding)] of the RIFF's chunks."""
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise WriteError("not a WebP file")
    (riff_size,) = struct.unpack("<I", data[4:8])
    if 8 + riff_size > len(data):
        raise WriteError(f"the RIFF header promises {8 + riff_size} bytes, the file has {len(data)}")
    end = 8 + riff_size
    out: list[tuple[bytes, int, int, int]] = []
    pos = 12
    for _ in range(MAX_CHUNKS):
        if pos + 8 > end:
            if pos != end and pos + 1 != end:
                raise WriteError("bytes after the last chunk that are not a chunk", f"offset {pos:#x}")
            return out
        fourcc, size = struct.unpack("<4sI", data[pos : pos + 8])
        if pos + 8 + size > end:
            raise WriteError(f"chunk {fourcc!r} runs past the end of the RIFF", f"offset {pos:#x}")
        out.append((fourcc, pos, pos + 8, min(end, pos + 8 + size + (size & 1))))
        pos += 8 + size + (size & 1)
    raise WriteError(f"more than {MAX_CHUNKS} RIFF chunks")


def _canvas(fourcc: bytes, body: bytes) -> tuple[int, int, bool]:
    """(width, height, alpha) of a simple-format bitstream."""
    if fourcc == b"VP8L":
        if len(body) < 5 or body[0] != 0x2F:
            raise WriteError("the VP8L chunk has no valid header")
        bits = int.from_bytes(body[1:5], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, bool(bits >> 28 & 1)
    if len(body) < 10 or body[3:6] != b"\x9d\x01\x2a":
        raise WriteError("the VP8 chunk has no valid key-frame header")
    width, height = struct.unpack("<HH", body[6:10])
    return width & 0x3FFF, height & 0x3FFF, False


def write(data: bytes, label: LabelFields) -> WriteOutcome:
    found = chunks(data)
    if not found:
        raise WriteError("the WebP file has no chunks")
    value = label_value(label)
    notes: list[str] = []
    pieces: list[bytes] = []
    updated = False
    placed = False
    location = ""
    for fourcc, s, body, e in found:
        size = struct.unpack("<I", data[s + 4 : s + 8])[0]
        payload = data[body : body + size]
        if fourcc == b"XMP ":
            if not placed:
                edit = set_label(payload, value)
                updated, placed = edit.updated, True
                if edit.removed:
                    notes.append(f"removed {edit.removed} further TC260:AIGC copies from the XMP packet")
                location = f"WebP XMP chunk at offset {12 + sum(map(len, pieces)):#x}"
                pieces.append(_chunk(fourcc, edit.packet))
            else:
                stripped, n = remove_label(payload)
                if n:
                    notes.append(f"removed the label from a second XMP chunk at offset {s:#x}")
                pieces.append(_chunk(fourcc, stripped))
            continue
        if fourcc == b"EXIF":
            blanked, n = blank_label_text(payload)
            if n:
                notes.append(f"blanked a duplicate label in the EXIF chunk at offset {s:#x} (same length)")
                pieces.append(data[s:body] + blanked + data[body + size : e])
                continue
        pieces.append(data[s:e])
    if not placed:
        location = f"WebP XMP chunk at offset {12 + sum(map(len, pieces)):#x}"
        pieces.append(_chunk(b"XMP ", set_label(None, value).packet))
    first = found[0]
    if first[0] == b"VP8X":
        flagged = bytearray(pieces[0])
        if len(flagged) < 18:
            raise WriteError("the VP8X chunk is too short")
        flagged[8] |= XMP_FLAG
        pieces[0] = bytes(flagged)
    else:
        if len(found) < 1 or first[0] not in (b"VP8 ", b"VP8L"):
            raise WriteError(f"a WebP file starting with chunk {first[0]!r} and no VP8X")
        size = struct.unpack("<I", data[first[1] + 4 : first[1] + 8])[0]
        width, height = _canvas(first[0], data[first[2] : first[2] + size])[:2]
        alpha = _canvas(first[0], data[first[2] : first[2] + size])[2]
        flags = XMP_FLAG | (ALPHA_FLAG if alpha else 0) | (EXIF_FLAG if any(c[0] == b"EXIF" for c in found) else 0)
        vp8x = _chunk(
            b"VP8X", bytes([flags, 0, 0, 0]) + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
        )
        pieces.insert(0, vp8x)
        location = f"WebP XMP chunk at offset {12 + sum(map(len, pieces)) - len(pieces[-1]):#x}"
        notes.append("added the VP8X chunk the extended WebP format needs for metadata")
    body_bytes = b"".join(pieces)
    riff_end = 8 + struct.unpack("<I", data[4:8])[0]
    out = b"RIFF" + struct.pack("<I", 4 + len(body_bytes)) + b"WEBP" + body_bytes + data[riff_end:]
    return WriteOutcome(out, location, notes, updated)
