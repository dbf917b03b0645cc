"""TIFF and DNG: read IFD0 and the EXIF IFD entries; the XMP tag; the C2PA tag.

The entries are handed on in the shape ``piexif.load`` returns, so the EXIF
reader treats a TIFF file and a JPEG's EXIF blob alike.  Image strips are
never read.
"""

from __future__ import annotations

import struct

from ..errors import LimitExceededError, MediaError
from ..limits import MAX_IFD_ENTRIES, MAX_METADATA_BLOCK
from ..model import Block, C2paMarker, Container, ReadError
from ..source import ByteSource
from . import FormatHandler, register

TAG_XMP, TAG_C2PA, TAG_EXIF_IFD, TAG_IPTC, TAG_DNG_VERSION = 700, 0xCD41, 0x8769, 33723, 50706
# type id -> (struct code, size of one value)
TYPES = {1: ("B", 1), 2: ("s", 1), 3: ("H", 2), 4: ("I", 4), 5: ("II", 8), 6: ("b", 1), 7: ("s", 1),
         8: ("h", 2), 9: ("i", 4), 10: ("ii", 8), 11: ("f", 4), 12: ("d", 8)}
RAW_TYPES = {1, 2, 7}


def _accept(head: bytes) -> bool:
    return head[:4] in (b"II*\x00", b"MM\x00*")


def walk(src: ByteSource, c: Container) -> None:
    endian = "<" if src.head[:2] == b"II" else ">"
    (ifd0_at,) = struct.unpack(endian + "I", src.read_exact(4, 4, "the TIFF header"))
    ifd0 = _read_ifd(src, endian, ifd0_at, "IFD0")
    entries = {"0th": ifd0, "Exif": {}}
    xmp = ifd0.pop(TAG_XMP, None)
    if xmp:
        c.blocks.append(Block("xmp", f"TIFF IFD0 tag 700 (XMP) in IFD at offset {ifd0_at:#x}", bytes(xmp)))
    if TAG_C2PA in ifd0:
        ifd0.pop(TAG_C2PA)
        c.c2pa = C2paMarker(f"TIFF IFD0 tag 0xCD41 (C2PA) in IFD at offset {ifd0_at:#x}")
    ifd0.pop(TAG_IPTC, None)
    exif_at = ifd0.get(TAG_EXIF_IFD)
    if isinstance(exif_at, int) and 0 < exif_at < src.size:
        entries["Exif"] = _read_ifd(src, endian, exif_at, "EXIF IFD")
    if TAG_DNG_VERSION in ifd0:
        c.format, c.media_type = "dng", "image/x-adobe-dng"
    c.width = _int(ifd0.get(256))
    c.height = _int(ifd0.get(257))
    _check_image_data(src, c, ifd0)
    c.blocks.append(Block("exif", f"TIFF IFD0 at offset {ifd0_at:#x}", entries=entries))


def _check_image_data(src: ByteSource, c: Container, ifd0: dict) -> None:
    """A file cut short loses image data the IFD points to; the IFD itself may still be whole."""
    for offsets_tag, counts_tag in ((273, 279), (324, 325)):  # strips, tiles
        offsets, counts = ifd0.get(offsets_tag), ifd0.get(counts_tag)
        if offsets is None or counts is None:
            continue
        offsets = offsets if isinstance(offsets, tuple) else (offsets,)
        counts = counts if isinstance(counts, tuple) else (counts,)
        end = max((o + n for o, n in zip(offsets, counts) if isinstance(o, int) and isinstance(n, int)), default=0)
        if end > src.size:
            c.errors.append(ReadError("truncated", f"image data runs to offset {end:#x} but the file has "
                                      f"{src.size} bytes: the file was cut short", "IFD0 strip/tile offsets",
                                      fatal=True))


def _int(v) -> int:
    return v if isinstance(v, int) else 0


def _read_ifd(src: ByteSource, endian: str, at: int, name: str) -> dict:
    (count,) = struct.unpack(endian + "H", src.read_exact(at, 2, name))
    if count > MAX_IFD_ENTRIES:
        raise LimitExceededError(f"{name} claims {count} entries", f"offset {at:#x}")
    table = src.read_exact(at + 2, 12 * count, name)
    out: dict = {}
    for i in range(count):
        tag, typ, n, raw = struct.unpack(endian + "HHI4s", table[12 * i: 12 * i + 12])
        if typ not in TYPES:
            continue
        code, size = TYPES[typ]
        total = size * n
        if total > MAX_METADATA_BLOCK:
            raise LimitExceededError(f"{name} tag {tag} holds {total} bytes", f"offset {at:#x}")
        if total <= 4:
            data = raw[:total]
        else:
            (offset,) = struct.unpack(endian + "I", raw)
            if offset + total > src.size:
                raise MediaError(f"{name} tag {tag} points past the end of the file", f"offset {at:#x}")
            data = src.read(offset, total)
        out[tag] = _value(data, typ, n, endian, code)
    return out


def _value(data: bytes, typ: int, n: int, endian: str, code: str):
    if typ in RAW_TYPES:
        return data  # piexif also returns ASCII as bytes
    values = struct.unpack(endian + code * n, data)
    if typ in (5, 10):
        values = tuple(zip(values[0::2], values[1::2]))
    return values[0] if n == 1 else values


register(FormatHandler("tiff", "image/tiff", _accept, walk))
