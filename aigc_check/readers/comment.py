"""Free comments: JPEG COM, GIF comment extensions, unregistered APP segments."""

from __future__ import annotations

from collections.abc import Iterable

from ..model import Block, Field
from . import MetadataReader


def decode_text(data: bytes) -> str:
    """UTF-8 where it is valid, Latin-1 otherwise (old writers); NULs trimmed."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    return text.strip("\x00")


class CommentReader(MetadataReader):
    family = "comment"
    kinds = ("comment",)

    def read_block(self, block: Block) -> Iterable[Field]:
        return [Field(self.family, block.key or "Comment", decode_text(block.data), block.location)]
