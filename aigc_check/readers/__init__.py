"""Metadata readers: one module per metadata family, one small interface.

A reader turns the blocks a container walker found (or, for C2PA and stealth
pnginfo, the file itself) into a ``ReaderOutput``: fields, errors and, for
C2PA, the summary of the manifest store.  Readers change neither the file nor
the container, and none reads another's output.  Like hachoir's fault-tolerant
extractors, each block is read on its own: a broken EXIF block becomes one
``ReadError`` and never hides the XMP or C2PA next to it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import ClassVar

from ..deadline import ENDS_CHECK
from ..errors import AigcCheckError, LimitExceededError, MediaError
from ..model import NOTHING, Block, C2paSummary, Container, Field, ReaderOutput, ReadError
from ..options import CheckOptions
from ..source import ByteSource

# The order the readers' fields and errors are listed in, whatever order they ran in: readers are
# independent (each reads only the container and the file), so this is presentation, not a
# dependency.  Families not named here follow, by name.
FAMILY_ORDER = ("id3", "xmp", "exif", "text", "comment", "tag", "vorbis", "c2pa", "stealth")
_RANK = {family: i for i, family in enumerate(FAMILY_ORDER)}
# The error code of a block that may hold an implicit label (it names the label's namespace or
# property) but could not be read: unlike other damage, a finding the policy acts on.
LABEL_UNREADABLE = "label-unreadable"


@dataclass
class ReadContext:
    """What every reader reads (the file, the container walk, the options) and what they found.

    A reader never changes ``source`` or ``container``; its :class:`ReaderOutput` is recorded with
    :meth:`add`, which keeps ``fields`` and ``errors`` in ``FAMILY_ORDER`` and ``c2pa`` the C2PA
    reader's summary, so the readers may run in any order."""

    source: ByteSource
    container: Container
    options: CheckOptions
    fields: list[Field] = field(default_factory=list, init=False)
    errors: list[ReadError] = field(default_factory=list, init=False)
    c2pa: C2paSummary | None = field(default=None, init=False)
    _outputs: list[tuple[tuple[int, str], ReaderOutput]] = field(default_factory=list, init=False, repr=False)
    # The block kinds the walk found, so a reader with none to read is skipped at once.
    block_kinds: frozenset[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.block_kinds = frozenset([block.kind for block in self.container.blocks])

    def add(self, family: str, output: ReaderOutput) -> None:
        if output.empty:
            return  # nothing to list, wherever it would go
        key = (_RANK.get(family, len(FAMILY_ORDER)), family)
        if not self._outputs or self._outputs[-1][0] <= key:  # the usual case: readers run in order
            self._outputs.append((key, output))
            self.fields.extend(output.fields)
            self.errors.extend(output.errors)
        else:
            self._outputs.append((key, output))
            self._outputs.sort(key=lambda item: item[0])  # stable: one family's outputs keep their order
            self.fields[:] = [f for _, o in self._outputs for f in o.fields]
            self.errors[:] = [e for _, o in self._outputs for e in o.errors]
        if output.c2pa is not None:
            self.c2pa = output.c2pa


class PartialRead(Exception):
    """Raised by a reader that recovered some fields from a damaged or refused block."""

    def __init__(
        self, fields: list[Field], message: str, code: str = "metadata-unreadable", fatal: bool = False
    ) -> None:
        super().__init__(message)
        self.fields = fields
        self.code, self.fatal = code, fatal


class MetadataReader:
    """Base class. Subclasses set ``family`` and implement ``read_block`` (one block of a kind in
    ``kinds`` -> fields) or ``extract`` (the whole context -> a :class:`ReaderOutput`)."""

    family: ClassVar[str] = ""
    kinds: ClassVar[tuple[str, ...]] = ()  # block kinds this reader decodes

    def read(self, ctx: ReadContext) -> ReaderOutput:
        """What this reader finds in ``ctx``, also recorded in it; never raises for a bad file."""
        if self.kinds and ctx.block_kinds.isdisjoint(self.kinds):
            return NOTHING  # a block reader with no block to read (the common case: one check per reader)
        try:
            output = self.extract(ctx)
        except ENDS_CHECK:
            raise  # ends the whole check, not just this reader
        except Exception as exc:
            output = ReaderOutput(
                errors=[ReadError("metadata-unreadable", f"{self.family} reader failed: {type(exc).__name__}: {exc}")]
            )
        if output is not NOTHING:
            ctx.add(self.family, output)
        return output

    def extract(self, ctx: ReadContext) -> ReaderOutput:
        fields: list[Field] = []
        errors: list[ReadError] = []
        kinds = self.kinds
        for block in ctx.container.blocks:
            if block.kind in kinds:
                self._read_one(block, fields, errors)
        return ReaderOutput(fields, errors) if fields or errors else NOTHING

    def _read_one(self, block: Block, fields: list[Field], errors: list[ReadError]) -> None:
        try:
            fields.extend(self.read_block(block))
        except ENDS_CHECK:
            raise  # ends the whole check, not just this block
        except PartialRead as partial:
            fields.extend(partial.fields)
            errors.append(ReadError(partial.code, f"{self.family}: {partial}", block.location, fatal=partial.fatal))
        except LimitExceededError as exc:
            # A bound was hit (a bomb, a hostile count): what the block hides is unknown, so the
            # file cannot be cleared; evidence found elsewhere still counts.
            errors.append(ReadError(exc.code, f"{self.family}: {exc}", exc.location or block.location, fatal=True))
        except MediaError as exc:
            errors.append(ReadError("metadata-unreadable", f"{self.family}: {exc}", block.location))
        except AigcCheckError:
            raise  # the caller's mistake (bad option or data file), not the file's
        except Exception as exc:  # third-party parsers raise anything on corrupt input
            errors.append(
                ReadError(
                    "metadata-unreadable",
                    f"{self.family} block could not be parsed: {type(exc).__name__}: {exc}",
                    block.location,
                )
            )

    def read_block(self, block: Block) -> Iterable[Field]:
        raise NotImplementedError(f"{type(self).__name__} must implement read_block or extract")


def all_readers() -> list[MetadataReader]:
    """One reader per metadata family.  They are independent: nested carriers (the XMP and C2PA
    frames of an ID3 tag) are unpacked by the container walk, and the C2PA reader finds the XMP
    ``dcterms:provenance`` reference in the XMP blocks itself, so the list may run in any order."""
    from .c2pa import C2paReader
    from .comment import CommentReader
    from .exif import ExifReader
    from .id3 import Id3Reader
    from .iim import IimReader
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
        IimReader(),
    ]
