"""Metadata readers: one module per metadata family, one small interface.

A reader turns the blocks a container walker found (or, for C2PA and stealth
pnginfo, the file itself) into ``Field``s.  Like hachoir's fault-tolerant
extractors, each block is read on its own: a broken EXIF block becomes one
``ReadError`` and never hides the XMP or C2PA next to it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..deadline import ENDS_CHECK
from ..errors import AigcCheckError, LimitExceededError, MediaError
from ..model import Block, Container, Field, ReadError
from ..source import ByteSource


@dataclass
class ReadContext:
    source: ByteSource
    container: Container
    options: Any  # aigc_check.checker.CheckOptions
    fields: list[Field] = field(default_factory=list)
    errors: list[ReadError] = field(default_factory=list)
    extras: dict = field(default_factory=dict)  # per-reader results the report wants (c2pa summary)


class PartialRead(Exception):
    """Raised by a reader that recovered some fields from a damaged or refused block."""

    def __init__(
        self, fields: list[Field], message: str, code: str = "metadata-unreadable", fatal: bool = False
    ) -> None:
        super().__init__(message)
        self.fields = fields
        self.code, self.fatal = code, fatal


class MetadataReader:
    """Base class. Subclasses set ``family`` and implement ``read_block`` or ``read``."""

    family: str = ""
    kinds: tuple[str, ...] = ()  # block kinds this reader decodes

    def read(self, ctx: ReadContext) -> None:
        for block in ctx.container.blocks:
            if block.kind not in self.kinds:
                continue
            try:
                ctx.fields.extend(self.read_block_in(ctx, block))
            except ENDS_CHECK:
                raise  # ends the whole check, not just this block
            except PartialRead as partial:
                ctx.fields.extend(partial.fields)
                ctx.errors.append(
                    ReadError(partial.code, f"{self.family}: {partial}", block.location, fatal=partial.fatal)
                )
            except LimitExceededError as exc:
                # A bound was hit (a bomb, a hostile count): what the block hides is unknown, so the
                # file cannot be cleared; evidence found elsewhere still counts.
                ctx.errors.append(
                    ReadError(exc.code, f"{self.family}: {exc}", exc.location or block.location, fatal=True)
                )
            except MediaError as exc:
                ctx.errors.append(ReadError("metadata-unreadable", f"{self.family}: {exc}", block.location))
            except AigcCheckError:
                raise  # the caller's mistake (bad option or data file), not the file's
            except Exception as exc:  # third-party parsers raise anything on corrupt input
                ctx.errors.append(
                    ReadError(
                        "metadata-unreadable",
                        f"{self.family} block could not be parsed: {type(exc).__name__}: {exc}",
                        block.location,
                    )
                )

    def read_block_in(self, ctx: ReadContext, block: Block) -> Iterable[Field]:
        """Readers that unpack nested carriers (ID3 frames holding XMP or C2PA)
        override this to reach the container; the others only see the block."""
        return self.read_block(block)

    def read_block(self, block: Block) -> Iterable[Field]:
        raise NotImplementedError(f"{type(self).__name__} must implement read_block or read")


def all_readers() -> list[MetadataReader]:
    """Readers in the order they run.  ID3 runs first because its frames can
    carry XMP and C2PA, which it hands on as blocks and markers to the readers
    after it; C2PA runs after XMP because it needs the XMP
    ``dcterms:provenance`` reference to spot remote or stripped manifests."""
    from .c2pa import C2paReader
    from .comment import CommentReader
    from .exif import ExifReader
    from .id3 import Id3Reader
    from .stealth import StealthReader
    from .tags import ContainerTagReader
    from .text import TextChunkReader
    from .vorbis import VorbisCommentReader
    from .xmp import XmpReader

    return [
        Id3Reader(),
        XmpReader(),
        ExifReader(),
        TextChunkReader(),
        CommentReader(),
        ContainerTagReader(),
        VorbisCommentReader(),
        C2paReader(),
        StealthReader(),
    ]
