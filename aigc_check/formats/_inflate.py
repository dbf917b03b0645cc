"""Bounded zlib inflation: a compressed text chunk cannot expand without limit."""

from __future__ import annotations

import zlib

from ..errors import LimitExceededError
from ..limits import MAX_INFLATE


def inflate(data: bytes, limit: int = MAX_INFLATE) -> bytes:
    d = zlib.decompressobj()
    out = d.decompress(data, limit)
    if d.unconsumed_tail:
        raise LimitExceededError(f"compressed data expands past {limit} bytes (decompression bomb?)")
    return out
