"""WAV and AVI (RIFF, RF64, BW64): metadata chunks, never the samples or frames.

Where labels live: a top-level ``AIGC`` chunk (GB 45438 audio guide, WAV),
``LIST/INFO`` sub-chunks (``ISFT`` software, ``ICMT`` comment, ``IART`` ...,
and ``AIGC`` for AVI per the video guide), ``_PMX`` XMP, a ``C2PA`` chunk and
an ``id3 `` chunk (ID3v2 inside WAV, unpacked into its frames by
``formats.id3``).  Only ``LIST/INFO`` is descended into: other lists (AVI
``hdrl``/``movi``) hold media structure, and not recursing keeps nested-list
bombs harmless.
"""

from __future__ import annotations

import struct

from ..model import Block, C2paMarker, Container, ReadError
from ..source import ByteSource
from . import FormatHandler, register
from ._chunks import Chunk, chunk_payload, chunk_text, chunks
from .id3 import unpack_id3

FORMS = {b"WAVE": ("wav", "audio/wav"), b"AVI ": ("avi", "video/x-msvideo"), b"AVIX": ("avi", "video/x-msvideo")}
STREAMED = 0xFFFFFFFF  # RF64/BW64 and pipes: the real size is in ds64, or unknown


def _accept(head: bytes) -> bool:
    return head[:4] in (b"RIFF", b"RF64", b"BW64") and head[8:12] in FORMS


def walk(src: ByteSource, c: Container) -> None:
    c.format, c.media_type = FORMS[src.head[8:12]]
    (riff_size,) = struct.unpack("<I", src.read_exact(4, 4, "the RIFF header"))
    kind = "RF64" if src.head[:4] != b"RIFF" else "RIFF"
    if riff_size in (0, STREAMED):
        end = src.size  # size unknown when written (RF64 or a pipe): read to the end of the file
    else:
        end = min(src.size, 8 + riff_size)
        if 8 + riff_size > src.size:
            c.errors.append(
                ReadError(
                    "truncated",
                    f"{kind} header promises {8 + riff_size} bytes, file has {src.size}",
                    f"{kind} header",
                    fatal=True,
                )
            )
    label = c.format.upper()
    for chunk in chunks(src, 12, end, open_ended=frozenset({b"data", b"movi", b"LIST"})):
        where = f"{label} {chunk.name.strip()} chunk at offset {chunk.at:#x}"
        if chunk.fourcc == b"LIST":
            if src.read_exact(chunk.body, 4, "a LIST type") == b"INFO":
                _info(src, c, chunk.body + 4, chunk.end, label)
        elif chunk.fourcc == b"AIGC":
            c.blocks.append(
                Block("tag", where, key="AIGC", text=chunk_text(chunk_payload(src, chunk, where)), family="riff")
            )
        elif chunk.fourcc in (b"_PMX", b"XMP "):
            c.blocks.append(Block("xmp", where + " (XMP)", chunk_payload(src, chunk, where)))
        elif chunk.fourcc in (b"id3 ", b"ID3 "):
            unpack_id3(c, chunk_payload(src, chunk, where), where)
        elif chunk.fourcc == b"C2PA":
            c.c2pa = c.c2pa or C2paMarker(where)
        elif chunk.fourcc == b"bext":
            _broadcast_extension(src, c, chunk, where)


def _info(src: ByteSource, c: Container, start: int, end: int, label: str) -> None:
    for sub in chunks(src, start, end):
        where = f"{label} LIST/INFO {sub.name.strip()} at offset {sub.at:#x}"
        c.blocks.append(
            Block("tag", where, key=sub.name.strip(), text=chunk_text(chunk_payload(src, sub, where)), family="riff")
        )


def _broadcast_extension(src: ByteSource, c: Container, chunk: Chunk, where: str) -> None:
    """Broadcast WAV ``bext``: Description and Originator name the producing tool."""
    data = chunk_payload(src, chunk, where)
    for key, start, stop in (
        ("bext:Description", 0, 256),
        ("bext:Originator", 256, 288),
        ("bext:CodingHistory", 602, len(data)),
    ):
        text = chunk_text(data[start:stop]) if len(data) > start else ""
        if text:
            c.blocks.append(Block("tag", f"{where}, {key.split(':')[1]}", key=key, text=text, family="riff"))


register(FormatHandler("riff", "audio/wav", _accept, walk))
