"""ID3v2 tags (MP3, and the ``id3 `` chunk of WAV/AIFF), unpacked with mutagen during the walk.

The MP3, RIFF and AIFF walkers hand each ID3v2 tag to :func:`unpack_id3`, which
turns it into the blocks it carries, so the readers only ever read blocks:

- text, URL, comment, lyrics and textual private frames become ``id3`` blocks
  (``key``, ``text``); frames that carry a description are keyed by it, so the
  GB 45438 label is ``id3/TXXX:AIGC`` and a named comment ``id3/COMM:<description>``;
- XMP (``PRIV`` owner ``XMP``, or a ``GEOB`` of type ``application/rdf+xml``)
  becomes an ``xmp`` block;
- a ``GEOB`` of type ``application/c2pa`` (C2PA spec;
  ``application/x-c2pa-manifest-store`` before 2.0) marks the container as
  carrying a manifest store;
- other ``GEOB`` objects become an ``id3`` block describing them.

ID3v1 is not read: the label rules place nothing there.  A tag mutagen cannot
parse is one non-fatal error: it never stops the walk or hides the other
chunks.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

from mutagen.id3 import ID3

from ..deadline import ENDS_CHECK
from ..limits import MAX_METADATA_BLOCK
from ..model import Block, C2paMarker, Container, ReadError

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


def unpack_id3(c: Container, data: bytes, location: str) -> None:
    """Add the blocks (and the C2PA marker) the ID3v2 tag ``data`` found at ``location`` carries."""
    frames: list[Block] = []
    try:
        tags = ID3()
        tags.load(io.BytesIO(data), load_v1=False, translate=True)
        version = ".".join(str(v) for v in tags.version[:2])
        for frame in tags.values():
            frame_id = frame.FrameID
            if frame_id in SKIPPED_FRAMES:
                continue
            where = f"{location}, ID3v{version} {frame_id} frame"
            if frame_id == "GEOB":
                _object(c, frame, where, frames)
            elif frame_id == "PRIV":
                _private(c, frame, where, frames)
            elif frame_id in ("TXXX", "WXXX"):
                value = frame.url if frame_id == "WXXX" else _joined(frame.text)
                frames.append(_frame(f"{frame_id}:{frame.desc}", value, f"{where} '{frame.desc}'"))
            elif frame_id in ("COMM", "USLT"):
                key = f"{frame_id}:{frame.desc}" if frame.desc else frame_id
                frames.append(_frame(key, _joined(frame.text), where))
            elif hasattr(frame, "url"):
                frames.append(_frame(frame_id, frame.url, where))
            elif hasattr(frame, "text"):
                frames.append(_frame(frame_id, _joined(frame.text), where))
    except ENDS_CHECK:
        raise
    except Exception as exc:  # mutagen raises its own errors, and others, on corrupt tags
        # The frames are dropped with the tag; carriers already unpacked (XMP, C2PA) are kept.
        c.errors.append(
            ReadError("metadata-unreadable", f"id3 block could not be parsed: {type(exc).__name__}: {exc}", location)
        )
        return
    c.blocks.extend(frames)


def _frame(key: str, text: str, where: str) -> Block:
    return Block("id3", where, key=key, text=text, family="id3")


def _object(c: Container, frame: Any, where: str, frames: list[Block]) -> None:
    mime = (frame.mime or "").strip().lower()
    if mime in C2PA_MIME_TYPES:
        c.c2pa = c.c2pa or C2paMarker(f"{where} ({mime})")
    elif mime in XMP_MIME_TYPES or "xmp" in (frame.desc or "").lower():
        c.blocks.append(Block("xmp", f"{where} (XMP)", bytes(frame.data[:MAX_METADATA_BLOCK])))
    else:
        frames.append(_frame(f"GEOB:{frame.desc}", f"{mime} object, {len(frame.data)} bytes", where))


def _private(c: Container, frame: Any, where: str, frames: list[Block]) -> None:
    owner = frame.owner or ""
    if owner.upper() == "XMP":
        c.blocks.append(Block("xmp", f"{where} (XMP)", bytes(frame.data[:MAX_METADATA_BLOCK])))
    elif len(frame.data) <= MAX_PRIVATE_TEXT and _looks_textual(frame.data):
        frames.append(_frame(f"PRIV:{owner}", _decode_text(frame.data), f"{where} '{owner}'"))


def _joined(values: Iterable[object]) -> str:
    return "\n".join(str(v) for v in values)


def _looks_textual(data: bytes) -> bool:
    return bool(data) and sum(b < 9 or 13 < b < 32 for b in data[:512]) == 0


def _decode_text(data: bytes) -> str:
    """UTF-8 where it is valid, Latin-1 otherwise; NULs trimmed (as the comment reader does)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    return text.strip("\x00")
