"""A1111 / NovelAI "stealth pnginfo": parameters hidden in the alpha channel's low bits.

The payload is read column by column (x outer, y inner): the magic string,
a 32-bit big-endian payload length in bits, then the payload (gzip for the
``comp`` variants).  Pixels are decoded only for PNGs with an alpha channel
below a size bound, and only the first rows until the magic has matched.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
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


def _bits(alpha: bytes, width: int, height: int) -> Iterable[int]:
    for x in range(width):
        for y in range(height):
            yield alpha[y * width + x] & 1


def _take(bits: Iterable[int], n: int) -> bytes | None:
    out = bytearray()
    byte = count = 0
    for bit in bits:
        byte = (byte << 1) | bit
        count += 1
        if count % 8 == 0:
            out.append(byte)
            byte = 0
            if count == n:
                return bytes(out)
    return None


def decode_alpha(alpha: bytes, width: int, height: int) -> str | None:
    if width * height < HEADER_BITS:
        return None
    bits = _bits(alpha, width, height)
    magic = _take(bits, MAGIC_BITS)
    if magic not in MAGICS:
        return None
    length_bytes = _take(bits, 32)
    if length_bytes is None:
        return None
    n_bits = int.from_bytes(length_bytes, "big")
    if n_bits <= 0 or n_bits % 8 or n_bits > width * height - HEADER_BITS:
        return None
    payload = _take(bits, n_bits)
    if payload is None:
        return None
    if MAGICS[magic]:
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)  # gzip wrapper, bounded
        payload = d.decompress(payload, MAX_INFLATE)
    return payload.decode("utf-8", "replace")
