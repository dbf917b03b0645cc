"""ID3v2 frames (MP3, and the ``id3 `` chunk of WAV/AIFF).

The container walk unpacks each tag with mutagen (``formats.id3``): text, URL,
comment and private frames arrive here as ``id3`` blocks and become
``id3/<FrameID>`` fields (``id3/TXXX:AIGC``, ``id3/COMM:<description>``); the
XMP and C2PA frames arrive as XMP blocks and a C2PA marker, read by those
readers.  The ID3v1 tag's text arrives as blocks of family ``id3v1`` and
becomes ``id3v1/comment``, ``id3v1/title`` ...
"""

from __future__ import annotations

from collections.abc import Iterable

from ..model import Block, Field
from . import MetadataReader


class Id3Reader(MetadataReader):
    family = "id3"
    kinds = ("id3",)

    def read_block(self, block: Block) -> Iterable[Field]:
        return [Field(block.family or self.family, block.key, block.text or "", block.location)]
