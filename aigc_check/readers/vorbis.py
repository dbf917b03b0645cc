"""Vorbis comments (FLAC, Ogg Vorbis, Opus, Theora, Speex): ``KEY=value`` pairs.

Keys are case-insensitive by the Vorbis spec, so fields are named by the
lower-cased key (``vorbis/aigc``); the vendor string becomes ``vorbis/vendor``.
Pictures (``METADATA_BLOCK_PICTURE``) are skipped: they are cover art, not
provenance.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable

from ..errors import MediaError
from ..model import Block, Field
from . import MetadataReader, PartialRead

SKIPPED_KEYS = {"metadata_block_picture", "coverart", "coverartmime"}


class CommentsCut(MediaError):
    """A comment header damaged after its vendor string: what was read before the damage is kept."""

    def __init__(self, cause: MediaError, vendor: str, pairs: list[tuple[str, str]]) -> None:
        super().__init__(str(cause), cause.location)
        self.vendor, self.pairs = vendor, pairs


def parse_comments(data: bytes) -> tuple[str, list[tuple[str, str]]]:
    """(vendor, [(key, value)]) from a comment header body.

    Raises ``MediaError`` on damage; damage after the vendor string raises
    ``CommentsCut``, which holds the vendor and the pairs read before it."""

    def take(pos: int, n: int) -> bytes:
        if pos + n > len(data):
            raise MediaError(f"comment header ends early (needs {n} bytes at {pos}, has {len(data) - pos})")
        return data[pos : pos + n]

    (vendor_len,) = struct.unpack("<I", take(0, 4))
    vendor = take(4, vendor_len).decode("utf-8", "replace")
    pos = 4 + vendor_len
    (count,) = struct.unpack("<I", take(pos, 4))
    pos += 4
    pairs: list[tuple[str, str]] = []
    try:
        for _ in range(count):  # each entry needs 4 bytes, so a lying count ends at the data's end
            (n,) = struct.unpack("<I", take(pos, 4))
            entry = take(pos + 4, n).decode("utf-8", "replace")
            pos += 4 + n
            key, sep, value = entry.partition("=")
            if sep:
                pairs.append((key.lower(), value))
    except MediaError as exc:
        raise CommentsCut(exc, vendor, pairs) from exc
    return vendor, pairs


class VorbisCommentReader(MetadataReader):
    family = "vorbis"
    kinds = ("vorbis",)

    def read_block(self, block: Block) -> Iterable[Field]:
        try:
            vendor, pairs = parse_comments(block.data)
        except CommentsCut as exc:
            raise PartialRead(self._fields(exc.vendor, exc.pairs, block.location), str(exc)) from exc
        return self._fields(vendor, pairs, block.location)

    def _fields(self, vendor: str, pairs: list[tuple[str, str]], location: str) -> list[Field]:
        fields = [Field(self.family, "vendor", vendor, location)] if vendor else []
        fields += [
            Field(self.family, key, value, f"{location}, comment {key.upper()}")
            for key, value in pairs
            if key not in SKIPPED_KEYS
        ]
        return fields
