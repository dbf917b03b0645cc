"""PNG: the label in the XMP packet of the ``iTXt`` chunk ``XML:com.adobe.xmp`` (TC260-PG-20259A).

Chunks are walked to IEND (and, after it, while bytes still look like chunks, as the reader does);
the XMP chunk is rewritten where it stands (uncompressed), or a new one is put right after IHDR.
The Annex B text chunks named ``AIGC`` are removed (their label is now in the XMP), and a label in
another text chunk (``Comment``, ``Description``) is blanked in the text, the chunk's CRC made
anew.  Every other chunk (IDAT included) is copied byte for byte.  Written by hand: Pillow re-encodes
the image to write text chunks, and python-exiv2 rewrites every text chunk it knows.
"""

from __future__ import annotations

import struct
import zlib

from ...formats._inflate import inflate
from ...formats.png import SIGNATURE, XMP_KEYWORD
from ...limits import MAX_CHUNKS, MAX_METADATA_BLOCK
from ..label import LabelFields
from ..xmp_edit import has_label, remove_label, set_label
from . import WriteError, WriteOutcome
from ._common import blank_label_text, label_value

TEXT = {b"tEXt", b"zTXt", b"iTXt"}


def chunk(ctype: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", zlib.crc32(ctype + body))


def chunks(data: bytes) -> list[tuple[bytes, int, int]]:
    """[(type, start, end)] of every chunk, IEND included, then of chunks after IEND."""
    if not data.startswith(SIGNATURE):
        raise WriteError("not a PNG (no signature)")
    out: list[tuple[bytes, int, int]] = []
    pos, after_iend = 8, False
    for _ in range(MAX_CHUNKS):
        if pos >= len(data) and after_iend:
            return out
        if pos + 12 > len(data):
            if after_iend:
                return out
            raise WriteError("the PNG ends before IEND", f"offset {pos:#x}")
        length, ctype = struct.unpack(">I4s", data[pos : pos + 8])
        looks = length <= MAX_METADATA_BLOCK and all(65 <= b <= 90 or 97 <= b <= 122 for b in ctype)
        if after_iend and (not looks or pos + 12 + length > len(data)):
            return out  # other bytes after IEND: kept as they are (and searched for a label)
        if pos + 12 + length > len(data):
            raise WriteError(f"chunk {ctype!r} runs past the end of the file", f"offset {pos:#x}")
        out.append((ctype, pos, pos + 12 + length))
        pos += 12 + length
        if ctype == b"IEND":
            after_iend = True
    raise WriteError(f"more than {MAX_CHUNKS} PNG chunks")


def _text(ctype: bytes, body: bytes) -> tuple[str, bytes, bytes]:
    """(keyword, the chunk's header fields before the text, the text's bytes, inflated)."""
    keyword, sep, rest = body.partition(b"\x00")
    if not sep:
        raise WriteError(f"a {ctype.decode()} chunk without a keyword separator")
    key = keyword.decode("latin-1")
    try:
        if ctype == b"tEXt":
            return key, keyword + b"\x00", rest
        if ctype == b"zTXt":
            return key, keyword + b"\x00\x00", inflate(rest[1:])
        compressed = rest[:1] == b"\x01"
        lang, _, tail = rest[2:].partition(b"\x00")
        translated, _, text = tail.partition(b"\x00")
        head = keyword + b"\x00\x00\x00" + lang + b"\x00" + translated + b"\x00"
        return key, head, inflate(text) if compressed else text
    except zlib.error as exc:
        raise WriteError(f"a compressed text chunk does not inflate: {exc}") from exc


def _rebuilt(ctype: bytes, head: bytes, text: bytes) -> bytes:
    """A text chunk with new text: zTXt compressed again, iTXt written uncompressed."""
    if ctype == b"zTXt":
        return chunk(ctype, head + zlib.compress(text, 9))
    return chunk(ctype, head + text)


def write(data: bytes, label: LabelFields) -> WriteOutcome:
    found = chunks(data)
    if not found or found[0][0] != b"IHDR":
        raise WriteError("the PNG does not start with IHDR")
    value = label_value(label)
    notes: list[str] = []
    replacement: dict[int, bytes] = {}
    xmp: list[tuple[int, bytes, bytes]] = []  # (start, header, packet) of each XMP iTXt chunk
    for ctype, s, e in found:
        if ctype == b"eXIf":
            blanked, n = blank_label_text(data[s + 8 : e - 4])
            if n:
                replacement[s] = chunk(ctype, blanked)
                notes.append(f"blanked a duplicate label in the eXIf chunk at offset {s:#x} (same length)")
        if ctype not in TEXT:
            continue
        key, head, text = _text(ctype, data[s + 8 : e - 4])
        if ctype == b"iTXt" and key == XMP_KEYWORD:
            xmp.append((s, head, text))
        elif key.upper() == "AIGC":
            replacement[s] = b""
            notes.append(f"removed the duplicate {ctype.decode()} chunk {key!r} at offset {s:#x} (Annex B form)")
        else:
            blanked, n = blank_label_text(text)
            if n:
                replacement[s] = _rebuilt(ctype, head, blanked)
                notes.append(f"blanked a duplicate label in the {ctype.decode()} chunk {key!r} at offset {s:#x}")
    holder = next((x for x in xmp if has_label(x[2])), xmp[0] if xmp else None)
    updated = False
    for s, head, packet in xmp:
        if holder is not None and s == holder[0]:
            edit = set_label(packet, value)
            updated = edit.updated
            if edit.removed:
                notes.append(f"removed {edit.removed} further TC260:AIGC copies from the XMP packet")
            replacement[s] = chunk(b"iTXt", head + edit.packet)
        else:
            stripped, n = remove_label(packet)
            if n:
                replacement[s] = chunk(b"iTXt", head + stripped)
                notes.append(f"removed the label from a second XMP chunk at offset {s:#x}")
    out = bytearray(SIGNATURE)
    cursor = 8
    location = ""
    for ctype, s, e in found:
        out += data[cursor:s]
        cursor = e
        if s in replacement:
            if holder is not None and s == holder[0]:
                location = f"PNG iTXt chunk at offset {len(out):#x} (XMP)"
            out += replacement[s]
        else:
            out += data[s:e]
        if ctype == b"IHDR" and holder is None:
            location = f"PNG iTXt chunk at offset {len(out):#x} (XMP)"
            header = XMP_KEYWORD.encode("latin-1") + b"\x00\x00\x00\x00\x00"
            out += chunk(b"iTXt", header + set_label(None, value).packet)
    tail = data[cursor:]
    if tail:
        blanked, n = blank_label_text(tail)
        if n:
            notes.append("blanked a duplicate label in the bytes after IEND")
        out += blanked
    return WriteOutcome(bytes(out), location, notes, updated)
