"""TIFF and DNG: IFD0, the EXIF and GPS IFDs (``ifd.py``); the XMP tag; the C2PA tag.

Image strips are never read; their offsets only tell whether the file was cut.
"""

from __future__ import annotations

import struct

from ..errors import LimitExceededError, MediaError
from ..limits import MAX_METADATA_BLOCK
from ..model import Block, C2paMarker, Container, ReadError
from ..source import ByteSource
from . import FormatHandler, register
from .ifd import TYPES, Directories, read_directories
from .irb import unpack_irb

TAG_XMP, TAG_C2PA, TAG_IPTC, TAG_DNG_VERSION = 700, 0xCD41, 33723, 50706
TAG_PHOTOSHOP = 34377  # Photoshop image resources (IRB), which may hold the IPTC IIM too


def _accept(head: bytes) -> bool:
    return head[:4] in (b"II*\x00", b"MM\x00*")


def walk(src: ByteSource, c: Container) -> None:
    # Strict: in a TIFF file an entry pointing past the end means the file was cut.
    dirs = read_directories(src, strict=True)
    ifd0, ifd0_at = dirs.entries["0th"], dirs.ifd0_at
    xmp = ifd0.pop(TAG_XMP, None)
    if xmp:
        c.blocks.append(Block("xmp", f"TIFF IFD0 tag 700 (XMP) in IFD at offset {ifd0_at:#x}", bytes(xmp)))
    if TAG_C2PA in ifd0:
        ifd0.pop(TAG_C2PA)
        c.c2pa = C2paMarker(f"TIFF IFD0 tag 0xCD41 (C2PA) in IFD at offset {ifd0_at:#x}")
    _read_iptc(src, c, dirs)
    if TAG_DNG_VERSION in ifd0:
        c.format, c.media_type = "dng", "image/x-adobe-dng"
    c.width = _int(ifd0.get(256))
    c.height = _int(ifd0.get(257))
    _check_image_data(src, c, ifd0)
    c.blocks.append(Block("exif", f"TIFF IFD0 at offset {ifd0_at:#x}", entries=dirs.entries))


def _read_iptc(src: ByteSource, c: Container, dirs: Directories) -> None:
    """IPTC IIM: tag 33723 (IPTC-NAA) holds the datasets, tag 34377 a Photoshop IRB whose resource
    0x0404 holds them too; Photoshop writes both, alike, and an IRB copy equal to the tag's is
    dropped.  A tag that cannot be read is one non-fatal error."""
    ifd0, where = dirs.entries["0th"], f"in IFD at offset {dirs.ifd0_at:#x}"
    iim = irb = b""
    try:
        iim = _raw_tag(src, dirs, TAG_IPTC)
        irb = _raw_tag(src, dirs, TAG_PHOTOSHOP)
    except MediaError as exc:
        fatal = isinstance(exc, LimitExceededError)
        c.errors.append(ReadError(exc.code, f"IPTC tag could not be read: {exc}", f"TIFF IFD0 {where}", fatal=fatal))
    finally:
        ifd0.pop(TAG_IPTC, None)
        ifd0.pop(TAG_PHOTOSHOP, None)
    if iim:
        c.blocks.append(Block("iim", f"TIFF IFD0 tag 33723 (IPTC-NAA) {where}", iim))
    if irb:
        first = len(c.blocks)
        unpack_irb(c, irb, f"TIFF IFD0 tag 34377 (Photoshop IRB) {where}")
        same = iim.rstrip(b"\x00")
        c.blocks[first:] = [b for b in c.blocks[first:] if not (iim and b.data.rstrip(b"\x00") == same)]


def _raw_tag(src: ByteSource, dirs: Directories, tag: int) -> bytes:
    """The bytes of an IFD0 tag as stored.  Photoshop and exiftool type the IPTC tag LONG, which the
    IFD parser turned into numbers: its entry is read again here."""
    value = dirs.entries["0th"].get(tag)
    if value is None or isinstance(value, bytes):
        return value or b""
    endian, at = dirs.endian, dirs.ifd0_at
    (count,) = struct.unpack(endian + "H", src.read_exact(at, 2, "IFD0"))
    table = src.read_exact(at + 2, 12 * count, "IFD0")  # the IFD parser has bounded ``count``
    for i in range(count):
        entry_tag, typ, n, raw = struct.unpack(endian + "HHI4s", table[12 * i : 12 * i + 12])
        if entry_tag != tag or typ not in TYPES:
            continue
        total = TYPES[typ][1] * n
        if total > MAX_METADATA_BLOCK:
            raise LimitExceededError(f"tag {tag} holds {total} bytes, over the limit", f"IFD0 at offset {at:#x}")
        if total <= 4:
            return raw[:total]
        return src.read_exact(struct.unpack(endian + "I", raw)[0], total, f"IFD0 tag {tag}")
    return b""


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
            c.errors.append(
                ReadError(
                    "truncated",
                    f"image data runs to offset {end:#x} but the file has {src.size} bytes: the file was cut short",
                    "IFD0 strip/tile offsets",
                    fatal=True,
                )
            )


def _int(v: object) -> int:
    return v if isinstance(v, int) else 0


register(FormatHandler("tiff", "image/tiff", _accept, walk))
