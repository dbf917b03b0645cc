"""PNG text chunks (tEXt, zTXt, iTXt), already decoded by the PNG walker."""

from __future__ import annotations

from collections.abc import Iterable

from ..model import Block, Field
from . import MetadataReader


class TextChunkReader(MetadataReader):
    family = "text"
    kinds = ("text",)

    def read_block(self, block: Block) -> Iterable[Field]:
        return [Field(self.family, block.key, block.text or "", block.location)]
