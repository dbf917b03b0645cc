"""AIFF / AIFF-C (big-endian IFF ``FORM``): text chunks, ID3 and XMP.

``NAME``, ``AUTH``, ``ANNO`` and ``(c) `` are plain text tags (``aiff/ANNO``);
``ID3 `` holds an ID3v2 tag, unpacked into its frames by ``formats.id3``;
``APPL`` with signature ``XMP `` holds XMP (the form exiftool and Adobe
write).  The sound data (``SSND``) is skipped.
"""

from __future__ import annotations

import struct

from ..model import Block, Container, ReadError
from ..source import ByteSource
from . import FormatHandler, register
from ._chunks import chunk_payload, chunk_text, chunks
from .id3 import unpack_id3

TEXT_CHUNKS = {b"NAME", b"AUTH", b"ANNO", b"(c) "}


def _accept(head: bytes) -> bool:
    return head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC")


def walk(src: ByteSource, c: Container) -> None:
    c.format = "aiff"
    (form_size,) = struct.unpack(">I", src.read_exact(4, 4, "the FORM header"))
    end = min(src.size, 8 + form_size)
    if 8 + form_size > src.size:
        c.errors.append(
            ReadError(
                "truncated",
                f"FORM header promises {8 + form_size} bytes, file has {src.size}",
                "FORM header",
                fatal=True,
            )
        )
    for chunk in chunks(src, 12, end, big_endian=True):
        where = f"AIFF {chunk.name.strip()} chunk at offset {chunk.at:#x}"
        if chunk.fourcc in TEXT_CHUNKS:
            c.blocks.append(
                Block(
                    "tag",
                    where,
                    key=chunk.name.strip(),
                    text=chunk_text(chunk_payload(src, chunk, where)),
                    family="aiff",
                )
            )
        elif chunk.fourcc == b"COMT":
            _comments(chunk_payload(src, chunk, where), c, where)
        elif chunk.fourcc in (b"ID3 ", b"id3 "):
            unpack_id3(c, chunk_payload(src, chunk, where), where)
        elif chunk.fourcc == b"APPL" and src.read_exact(chunk.body, 4, "an APPL signature") == b"XMP ":
            c.blocks.append(Block("xmp", where + " (XMP)", chunk_payload(src, chunk, where)[4:]))


def _comments(data: bytes, c: Container, where: str) -> None:
    """``COMT``: a count, then (timestamp, marker, length, text) records."""
    count = int.from_bytes(data[:2], "big")
    pos = 2
    for _ in range(count):
        if pos + 8 > len(data):
            break
        n = int.from_bytes(data[pos + 6 : pos + 8], "big")
        c.blocks.append(Block("tag", where, key="COMT", text=chunk_text(data[pos + 8 : pos + 8 + n]), family="aiff"))
        pos += 8 + n + (n & 1)


register(FormatHandler("aiff", "audio/aiff", _accept, walk))
