"""ID3v2 tags (MP3, and the ``id3 `` chunk of WAV/AIFF), parsed with mutagen.

Frames become ``id3/<FrameID>`` fields; frames that carry a description are
keyed by it, so the GB 45438 label is ``id3/TXXX:AIGC`` and a named comment
is ``id3/COMM:<description>``.  Two frames are carriers for other families:
XMP (``PRIV`` owner ``XMP``, or ``GEOB`` of type ``application/rdf+xml``)
becomes an XMP block for the XMP reader, and a ``GEOB`` of type
``application/c2pa`` (C2PA spec; ``application/x-c2pa-manifest-store`` before
2.0) marks the file as carrying a manifest for the C2PA reader.  ID3v1 is not
read: the label rules place nothing there.
"""

from __future__ import annotations

import io
from collections.abc import Iterable

from mutagen.id3 import ID3

from ..limits import MAX_METADATA_BLOCK
from ..model import Block, C2paMarker, Field
from . import MetadataReader, ReadContext
from .comment import decode_text

C2PA_MIME_TYPES = {"application/c2pa", "application/x-c2pa-manifest-store"}
XMP_MIME_TYPES = {"application/rdf+xml", "application/xmp+xml", "text/xml", "application/xml"}
# Frames that hold pictures, audio or binary state, never provenance text.
SKIPPED_FRAMES = {
    "APIC",
    "PIC",
    "MCDI",
    "SYLT",
    "ETCO",
    "MLLT",
    "SYTC",
    "RVA2",
    "EQU2",
    "RVAD",
    "RVRB",
    "PCNT",
    "POPM",
    "RBUF",
    "AENC",
    "ASPI",
    "SEEK",
    "SIGN",
    "ENCR",
    "GRID",
    "POSS",
    "OWNE",
}
MAX_PRIVATE_TEXT = 64 * 1024


class Id3Reader(MetadataReader):
    family = "id3"
    kinds = ("id3",)

    def read_block_in(self, ctx: ReadContext, block: Block) -> Iterable[Field]:
        tags = ID3()
        tags.load(io.BytesIO(block.data), load_v1=False, translate=True)
        version = ".".join(str(v) for v in tags.version[:2])
        fields: list[Field] = []
        for frame in tags.values():
            frame_id = frame.FrameID
            where = f"{block.location}, ID3v{version} {frame_id} frame"
            if frame_id in SKIPPED_FRAMES:
                continue
            if frame_id == "GEOB":
                self._object(ctx, frame, where, fields)
            elif frame_id == "PRIV":
                self._private(ctx, frame, where, fields)
            elif frame_id in ("TXXX", "WXXX"):
                value = frame.url if frame_id == "WXXX" else _joined(frame.text)
                fields.append(Field(self.family, f"{frame_id}:{frame.desc}", value, f"{where} '{frame.desc}'"))
            elif frame_id in ("COMM", "USLT"):
                key = f"{frame_id}:{frame.desc}" if frame.desc else frame_id
                fields.append(Field(self.family, key, _joined(frame.text), where))
            elif hasattr(frame, "url"):
                fields.append(Field(self.family, frame_id, frame.url, where))
            elif hasattr(frame, "text"):
                fields.append(Field(self.family, frame_id, _joined(frame.text), where))
        return fields

    def _object(self, ctx: ReadContext, frame, where: str, fields: list[Field]) -> None:
        mime = (frame.mime or "").strip().lower()
        if mime in C2PA_MIME_TYPES:
            ctx.container.c2pa = ctx.container.c2pa or C2paMarker(f"{where} ({mime})")
        elif mime in XMP_MIME_TYPES or "xmp" in (frame.desc or "").lower():
            ctx.container.blocks.append(Block("xmp", f"{where} (XMP)", bytes(frame.data[:MAX_METADATA_BLOCK])))
        else:
            fields.append(Field(self.family, f"GEOB:{frame.desc}", f"{mime} object, {len(frame.data)} bytes", where))

    def _private(self, ctx: ReadContext, frame, where: str, fields: list[Field]) -> None:
        owner = frame.owner or ""
        if owner.upper() == "XMP":
            ctx.container.blocks.append(Block("xmp", f"{where} (XMP)", bytes(frame.data[:MAX_METADATA_BLOCK])))
        elif len(frame.data) <= MAX_PRIVATE_TEXT and _looks_textual(frame.data):
            fields.append(Field(self.family, f"PRIV:{owner}", decode_text(frame.data), f"{where} '{owner}'"))


def _joined(values) -> str:
    return "\n".join(str(v) for v in values)


def _looks_textual(data: bytes) -> bool:
    return bool(data) and sum(b < 9 or 13 < b < 32 for b in data[:512]) == 0
