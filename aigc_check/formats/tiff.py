"""TIFF and DNG: IFD0, the EXIF and GPS IFDs (``ifd.py``); the XMP tag; the C2PA tag.

Image strips are never read; their offsets only tell whether the file was cut.
"""

from __future__ import annotations

from ..model import Block, C2paMarker, Container, ReadError
from ..source import ByteSource
from . import FormatHandler, register
from .ifd import read_directories

TAG_XMP, TAG_C2PA, TAG_IPTC, TAG_DNG_VERSION = 700, 0xCD41, 33723, 50706


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
    ifd0.pop(TAG_IPTC, None)
    if TAG_DNG_VERSION in ifd0:
        c.format, c.media_type = "dng", "image/x-adobe-dng"
    c.width = _int(ifd0.get(256))
    c.height = _int(ifd0.get(257))
    _check_image_data(src, c, ifd0)
    c.blocks.append(Block("exif", f"TIFF IFD0 at offset {ifd0_at:#x}", entries=dirs.entries))


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
