"""One label writer per container format, behind one small interface.

A writer gets the whole input file (``bytes``; ``mark`` reads headers only for the check, but a
lossless rewrite needs every byte) and the label to leave in it, and returns the new file. It puts
the label in the format's normative place (GB 45438 and the TC260 practice guide, see the README's
"where labels are looked for" table), updates an existing label where it stands, removes any other
copies (reporting each), and keeps every other byte: no pixel or sample is re-encoded.

A writer raises ``WriteError`` (or a subclass) when it cannot write safely (a structure it does not
understand, a bound exceeded); ``mark`` then writes nothing for that file.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field

from ...errors import MediaError
from ..label import LabelFields


class WriteError(MediaError):
    """The file cannot be rewritten safely; nothing is written."""

    code = "mark-failed"


@dataclass
class WriteOutcome:
    data: bytes  # the complete new file
    # Where the label now is, in the checker's location words (e.g. "APP1 XMP", "moov/udta/meta").
    location: str
    # What else the writer did that a user must hear of: duplicates removed, a packet extended, ...
    notes: list[str] = field(default_factory=list)
    updated_existing: bool = False  # True when an existing label was rewritten where it stood


Writer = Callable[[bytes, LabelFields], WriteOutcome]

# checker format id -> "module:function", each module under mark/writers/.
_WRITERS: dict[str, str] = {
    # images and PDF
    "jpeg": "jpeg:write",  # APP1 XMP
    "png": "png:write",  # iTXt XML:com.adobe.xmp
    "webp": "webp:write",  # RIFF "XMP " chunk (VP8X flag)
    "tiff": "tiff:write",  # tag 700
    "gif": "gif:write",  # XMP application extension
    "heif": "heif:write",  # XMP item (mime application/rdf+xml)
    "heic": "heif:write",
    "avif": "heif:write",
    "dng": "tiff:write",
    "pdf": "pdf:write",  # information dictionary /AIGC (pikepdf)
    # audio, video and documents
    "mp4": "mp4:write",  # moov/udta/meta mdta keys + ilst
    "mov": "mp4:write",
    "m4a": "mp4:write",
    "mkv": "matroska:write",  # Tags/Tag/SimpleTag AIGC
    "webm": "matroska:write",
    "avi": "riff_av:write",  # LIST/INFO
    "wav": "riff_av:write",  # AIGC chunk
    "mp3": "id3:write",  # ID3v2 TXXX:AIGC (mutagen)
    "mpeg-audio": "id3:write",
    "flac": "vorbis:write",  # Vorbis comment AIGC= (mutagen)
    "ogg": "vorbis:write",
    "opus": "vorbis:write",
    "flv": "flv:write",  # onMetaData AIGC
    "docx": "office:write",  # docProps/custom.xml property AIGC
    "xlsx": "office:write",
    "pptx": "office:write",
    "dotx": "office:write",
    "xltx": "office:write",
    "potx": "office:write",
    "ppsx": "office:write",
    "docm": "office:write",  # macro-enabled: the same package (vbaProject.bin copied as it is)
    "dotm": "office:write",
    "xlsm": "office:write",
    "xltm": "office:write",
    "pptm": "office:write",
    "potm": "office:write",
    "ppsm": "office:write",
    "odt": "office:write",  # meta.xml meta:user-defined AIGC
    "ods": "office:write",
    "odp": "office:write",
    "odg": "office:write",
    "ott": "office:write",
    "ots": "office:write",
    "otp": "office:write",
    "otg": "office:write",
    "epub": "office:write",  # OPF <meta property="AIGC">
    "markdown": "text:write",  # YAML front matter AIGC mapping
    "text": "text:write",
}


def register(formats: tuple[str, ...], target: str) -> None:
    for name in formats:
        _WRITERS[name] = target


def writer_for(format_id: str) -> Writer | None:
    """The writer for a checker format id (``CheckResult.format``), or None when there is none."""
    target = _WRITERS.get(format_id)
    if target is None:
        return None
    module, _, func = target.partition(":")
    return getattr(importlib.import_module(f"{__name__}.{module}"), func)


def supported_formats() -> list[str]:
    return sorted(_WRITERS)
