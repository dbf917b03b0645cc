"""WebP (RIFF): read the EXIF, XMP and C2PA chunks; skip the bitstream."""

from __future__ import annotations

import struct

from ..errors import LimitExceededError, MediaError
from ..limits import MAX_CHUNKS, MAX_METADATA_BLOCK
from ..model import Block, C2paMarker, Container, ReadError
from ..source import ByteSource
from . import FormatHandler, register


def _accept(head: bytes) -> bool:
    return head[:4] == b"RIFF" and head[8:12] == b"WEBP"


def walk(src: ByteSource, c: Container) -> None:
    (riff_size,) = struct.unpack("<I", src.read_exact(4, 4, "the RIFF header"))
    end = min(src.size, 8 + riff_size)
    if 8 + riff_size > src.size:
        c.errors.append(ReadError("truncated", f"RIFF header promises {8 + riff_size} bytes, file has {src.size}",
                                  "RIFF header", fatal=True))
    pos = 12
    for _ in range(MAX_CHUNKS):
        if pos + 8 > end:
            return
        fourcc, size = struct.unpack("<4sI", src.read_exact(pos, 8, "a RIFF chunk header"))
        at = pos + 8
        where = f"WebP {fourcc.decode('latin-1').strip()} chunk at offset {pos:#x}"
        if at + size > end:
            raise MediaError(f"chunk runs past the end of the file (claims {size} bytes)", where)
        if fourcc == b"VP8X":
            flags = src.read_exact(at, 10, "VP8X")
            c.has_alpha = bool(flags[0] & 0x10)
            c.width = 1 + int.from_bytes(flags[4:7], "little")
            c.height = 1 + int.from_bytes(flags[7:10], "little")
        elif fourcc in (b"EXIF", b"XMP "):
            if size > MAX_METADATA_BLOCK:
                raise LimitExceededError(f"metadata chunk of {size} bytes is over the limit", where)
            data = src.read_exact(at, size, "a metadata chunk")
            if fourcc == b"EXIF":
                # Some writers keep the JPEG-style "Exif\0\0" prefix inside the chunk.
                c.blocks.append(Block("exif", where, data[6:] if data.startswith(b"Exif\x00\x00") else data))
            else:
                c.blocks.append(Block("xmp", where, data))
        elif fourcc == b"C2PA":
            c.c2pa = c.c2pa or C2paMarker(where)
        pos = at + size + (size & 1)
    raise LimitExceededError(f"more than {MAX_CHUNKS} RIFF chunks")


register(FormatHandler("webp", "image/webp", _accept, walk))
