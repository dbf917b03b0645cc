"""Container tags the walkers already decoded: MP4 ``ilst`` items (iTunes atoms
and ``mdta`` keys), QuickTime ``udta`` strings, RIFF ``INFO`` and ``AIGC``
chunks, Matroska ``SimpleTag``s, AIFF text chunks.

The walker names the tag system in ``Block.family`` ("mp4", "riff", "mkv",
"aiff"), so one reader serves them all and fingerprints address fields as
``mp4/©too`` or ``riff/ISFT``.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..model import Block, Field
from . import MetadataReader


class ContainerTagReader(MetadataReader):
    family = "tag"
    kinds = ("tag",)

    def read_block(self, block: Block) -> Iterable[Field]:
        return [Field(block.family, block.key, block.text or "", block.location)]
