"""Chunk iteration shared by the RIFF (little-endian) and IFF/AIFF (big-endian)
walkers: a four-character code, a 32-bit size, the body, a pad byte to an
even offset.  Bounded in count; a chunk that claims more than its container
holds is an error naming where it starts."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

from ..errors import LimitExceededError, MediaError
from ..limits import MAX_CHUNKS, MAX_METADATA_BLOCK
from ..source import ByteSource


@dataclass
class Chunk:
    fourcc: bytes
    at: int  # header offset
    body: int
    size: int

    @property
    def name(self) -> str:
        return self.fourcc.decode("latin-1")

    @property
    def end(self) -> int:
        return self.body + self.size


def chunks(
    src: ByteSource, start: int, end: int, *, big_endian: bool = False, open_ended: frozenset = frozenset()
) -> Iterator[Chunk]:
    """Chunks between ``start`` and ``end``.  A chunk in ``open_ended`` whose
    size field is 0 or 0xFFFFFFFF (streamed WAV/RF64 ``data``) runs to ``end``."""
    layout = ">4sI" if big_endian else "<4sI"
    pos = start
    for _ in range(MAX_CHUNKS):
        if pos + 8 > end:
            return
        fourcc, size = struct.unpack(layout, src.read_exact(pos, 8, "a chunk header"))
        if fourcc in open_ended and size in (0, 0xFFFFFFFF):
            size = end - pos - 8
        if pos + 8 + size > end:
            raise MediaError(
                f"chunk {fourcc.decode('latin-1')!r} claims {size} bytes, more than its container "
                f"holds ({end - pos - 8})",
                f"chunk at offset {pos:#x}",
            )
        yield Chunk(fourcc, pos, pos + 8, size)
        pos += 8 + size + (size & 1)
    raise LimitExceededError(f"more than {MAX_CHUNKS} chunks")


def chunk_payload(src: ByteSource, chunk: Chunk, where: str) -> bytes:
    if chunk.size > MAX_METADATA_BLOCK:
        raise LimitExceededError(f"metadata chunk of {chunk.size} bytes is over the limit", where)
    return src.read_exact(chunk.body, chunk.size, "a metadata chunk")


def chunk_text(data: bytes) -> str:
    """RIFF/IFF text: NUL-terminated, UTF-8 where valid, Latin-1 otherwise."""
    data = data.split(b"\x00", 1)[0]
    try:
        return data.decode("utf-8").strip()
    except UnicodeDecodeError:
        return data.decode("latin-1").strip()
