"""A1111 / NovelAI "stealth pnginfo": parameters hidden in the alpha channel's low bits.

The payload is read column by column (x outer, y inner): the magic string,
a 32-bit big-endian payload length in bits, then the payload (gzip for the
``comp`` variants).  Pixels are decoded only for PNGs with an alpha channel
below a size bound, and only the first rows until the magic has matched.
"""

from __future__ import annotations

import zlib
from typing import BinaryIO, cast

from ..limits import MAX_INFLATE, STEALTH_MAX_PIXELS
from ..model import NOTHING, Field, ReaderOutput
from . import MetadataReader, ReadContext

MAGICS = {b"stealth_pnginfo": False, b"stealth_pngcomp": True}
MAGIC_BITS = 15 * 8
HEADER_BITS = MAGIC_BITS + 32


class StealthReader(MetadataReader):
    family = "stealth"

    def extract(self, ctx: ReadContext) -> ReaderOutput:
        c = ctx.container
        if c.format != "png" or not c.has_alpha or not 0 < c.width * c.height <= STEALTH_MAX_PIXELS:
            return NOTHING
        from PIL import Image

        image = Image.open(cast(BinaryIO, ctx.source.stream()))  # a read-only raw stream: all Pillow needs
        image.load()
        ctx.source.bytes_read += ctx.source.size
        alpha = image.getchannel("A")
        text = decode_alpha(alpha.tobytes(), image.width, image.height)
        if text is None:
            return NOTHING
        return ReaderOutput([Field(self.family, "parameters", text, "PNG alpha channel, least significant bits")])


# Each alpha byte -> its low bit as the digit "0" or "1".
_LOW_BIT_DIGIT = bytes(b"01"[b & 1] for b in range(256))


def _bits_at(alpha: bytes, width: int, height: int, start: int, n: int) -> bytes | None:
    """Bits ``start`` to ``start + n`` of the column-by-column sequence (``n`` a multiple of 8), as
    bytes; None when the image holds fewer.  Only the columns that hold them are sliced, each in
    one C slice, and turned into bytes by ``int(digits, 2)``: what reading the bits one at a time
    makes of them (``tests/test_walk_speedups.py`` compares the two), without a Python step a bit."""
    if n <= 0 or start + n > width * height:
        return None
    first, last = start // height, min(width, -(-(start + n) // height))
    column_major = b"".join([alpha[x::width] for x in range(first, last)])
    digits = column_major[start - first * height : start - first * height + n].translate(_LOW_BIT_DIGIT)
    return int(digits, 2).to_bytes(n // 8, "big")


def decode_alpha(alpha: bytes, width: int, height: int) -> str | None:
    if width * height < HEADER_BITS:
        return None
    magic = _bits_at(alpha, width, height, 0, MAGIC_BITS)
    if magic not in MAGICS:
        return None
    length_bytes = _bits_at(alpha, width, height, MAGIC_BITS, 32)
    if length_bytes is None:
        return None
    n_bits = int.from_bytes(length_bytes, "big")
    if n_bits <= 0 or n_bits % 8 or n_bits > width * height - HEADER_BITS:
        return None
    payload = _bits_at(alpha, width, height, HEADER_BITS, n_bits)
    if payload is None:
        return None
    if MAGICS[magic]:
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)  # gzip wrapper, bounded
        payload = d.decompress(payload, MAX_INFLATE)
    return payload.decode("utf-8", "replace")
