"""WebP (RIFF): read the EXIF, XMP and C2PA chunks; skip the bitstream."""

from __future__ import annotations

import struct

from ..model import Block, C2paMarker, Container, ReadError
from ..source import ByteSource
from . import FormatHandler, register
from ._chunks import chunk_payload, chunks


def _accept(head: bytes) -> bool:
    return head[:4] == b"RIFF" and head[8:12] == b"WEBP"


def walk(src: ByteSource, c: Container) -> None:
    (riff_size,) = struct.unpack("<I", src.read_exact(4, 4, "the RIFF header"))
    end = min(src.size, 8 + riff_size)
    if 8 + riff_size > src.size:
        c.errors.append(
            ReadError(
                "truncated",
                f"RIFF header promises {8 + riff_size} bytes, file has {src.size}",
                "RIFF header",
                fatal=True,
            )
        )
    for chunk in chunks(src, 12, end):
        where = f"WebP {chunk.name.strip()} chunk at offset {chunk.at:#x}"
        if chunk.fourcc == b"VP8X":
            flags = src.read_exact(chunk.body, 10, "VP8X")
            c.has_alpha = bool(flags[0] & 0x10)
            c.width = 1 + int.from_bytes(flags[4:7], "little")
            c.height = 1 + int.from_bytes(flags[7:10], "little")
        elif chunk.fourcc in (b"EXIF", b"XMP "):
            data = chunk_payload(src, chunk, where)
            if chunk.fourcc == b"EXIF":
                # Some writers keep the JPEG-style "Exif\0\0" prefix inside the chunk.
                c.blocks.append(Block("exif", where, data[6:] if data.startswith(b"Exif\x00\x00") else data))
            else:
                c.blocks.append(Block("xmp", where, data))
        elif chunk.fourcc == b"C2PA":
            c.c2pa = c.c2pa or C2paMarker(where)


register(FormatHandler("webp", "image/webp", _accept, walk))
