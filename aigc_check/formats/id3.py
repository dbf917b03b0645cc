"""ID3 tags (MP3, and the ``id3 `` chunk of WAV/AIFF), located here and unpacked with mutagen.

Where the tags are: ID3v2 tags at the head of an MP3, one after another
(:func:`head_tags`); ID3v2.4 tags appended at the end, found by their footer
(``3DI``), before an ID3v1 tag (``TAG``, the last 128 bytes) or an APE tag
(``APETAGEX`` footer) or both (:func:`tail_tags`).  mutagen locates neither an
appended tag nor a second head tag (``ID3`` reads the first tag at the start
of a file), so the locating is written here; mutagen parses every tag found
(versions 2.2 to 2.4, tag- and frame-level unsynchronisation, every text
encoding) and the ID3v1 tag (``ParseID3v1``).  Sizes are checked against the
file before anything is read, and the number of tags is bounded.

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

The ID3v1 tag's title, artist, album, year and comment become ``id3`` blocks of
family ``id3v1`` (``id3v1/comment``): no label fits in 30 bytes, but a
generator name may sit there.  A tag mutagen cannot parse is one non-fatal
error: it never stops the walk or hides the other chunks.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Iterable
from typing import Any

from ..deadline import ENDS_CHECK
from ..errors import LimitExceededError, MediaError, TruncatedError
from ..limits import MAX_METADATA_BLOCK
from ..model import Block, C2paMarker, Container, ReadError
from ..source import ByteSource


@functools.cache
def fast_frames() -> dict[str, type] | None:
    """``_id3_text``'s frame classes; None when they cannot be made: they build on mutagen's
    private spec classes, and a mutagen release that moves them leaves the tags to mutagen's own
    frame classes (its slower UTF-16 decoding), not the tool unimportable.  Made at the first tag,
    as mutagen is imported then: every walk that might meet a tag imports this module, and a check
    of a photo must not pay for mutagen."""
    try:
        from ._id3_text import FRAMES_V23 as frames
    except (ImportError, AttributeError, TypeError):
        return None
    return frames


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
MAX_TAGS = 16  # ID3v2 tags in a row at the head, and again at the end (some writers add a second one)
ID3V1_SIZE = 128
APE_FOOTER_SIZE = 32
# ID3v1 fields (as mutagen's ParseID3v1 returns them) -> the id3v1 field names.
ID3V1_FIELDS = {"TIT2": "title", "TPE1": "artist", "TALB": "album", "TDRC": "year", "COMM": "comment"}


def tag_size(header: bytes, where: str) -> int:
    """Bytes in the ID3v2 tag whose 10-byte header (or v2.4 footer) is ``header``, footer included."""
    size_bytes = header[6:10]
    if any(b & 0x80 for b in size_bytes):
        raise MediaError("ID3v2 size is not sync-safe", where)
    syncsafe = (size_bytes[0] << 21) | (size_bytes[1] << 14) | (size_bytes[2] << 7) | size_bytes[3]
    return 10 + syncsafe + (10 if header[5] & 0x10 else 0)


def head_tags(src: ByteSource, c: Container, pos: int = 0) -> int:
    """Unpack the ID3v2 tags starting at ``pos``, back to back, into blocks; return the offset after them."""
    for _ in range(MAX_TAGS):
        header = src.read(pos, 10)
        if header[:3] != b"ID3":
            return pos
        if len(header) < 10:
            raise TruncatedError("file ends inside the ID3v2 header", f"offset {pos:#x}")
        size = tag_size(header, f"ID3v2 tag at offset {pos:#x}")
        where = f"ID3v2.{header[3]} tag at offset {pos:#x}"
        if size > MAX_METADATA_BLOCK:
            raise LimitExceededError(f"ID3v2 tag of {size} bytes is over the limit", where)
        unpack_id3(c, src.read_exact(pos, size, "the ID3v2 tag"), where)
        pos += size
    raise LimitExceededError(f"more than {MAX_TAGS} ID3v2 tags in a row")


def tail_tags(src: ByteSource, c: Container, floor: int) -> int:
    """Unpack the tags at the end of the file, none starting before ``floor`` (the end of the head
    tags): ID3v1, an APE tag (skipped: it holds no ID3 frames) and ID3v2.4 tags with a footer, in
    whatever order they are stacked; return where the first of them starts.  A footer or APE size
    that points outside the file is an error for that tag; the search stops there and keeps what it
    found."""
    end = src.size
    found: list[tuple[int, bytes, str]] = []  # (offset, tag bytes, location), last tag first
    seen_v1 = seen_ape = False
    appended = 0
    while True:
        if not seen_v1 and end - ID3V1_SIZE >= floor and src.read(end - ID3V1_SIZE, 3) == b"TAG":
            seen_v1, end = True, end - ID3V1_SIZE
            found.append((end, src.read(end, ID3V1_SIZE), f"ID3v1 tag at offset {end:#x}"))
            continue
        if not seen_ape and end - APE_FOOTER_SIZE >= floor and src.read(end - APE_FOOTER_SIZE, 8) == b"APETAGEX":
            start = _ape_start(src, c, end, floor)
            if start is None:
                break
            seen_ape, end = True, start
            continue
        footer = src.read(end - 10, 10) if end - 10 >= floor else b""
        if footer[:3] != b"3DI":
            break
        if appended == MAX_TAGS:
            c.errors.append(
                ReadError(
                    "limit-exceeded",
                    f"more than {MAX_TAGS} ID3v2 tags appended at the end; the rest were not read",
                    f"ID3v2 footer at offset {end - 10:#x}",
                    fatal=True,
                )
            )
            break
        start = _appended_start(src, c, footer, end, floor)
        if start is None:
            break
        found.append((start, src.read_exact(start, end - start, "an appended ID3v2 tag"), ""))
        appended, end = appended + 1, start
    for start, data, where in reversed(found):  # in file order
        if data[:3] == b"TAG":
            unpack_id3v1(c, data, where)
        else:
            unpack_id3(c, data, f"ID3v2.{data[3]} tag appended at offset {start:#x}")
    return end


def tag_after_audio(src: ByteSource, c: Container, pos: int, end: int) -> None:
    """What starts where the audio ends (``pos``, known from the stream's own length) when the
    search from the end found no tag there (``end``, where the tags it found start): an ID3v2 tag
    appended without a footer, which only this finds, or the start of a tag cut with the file (a
    truncated file, raised).  Other bytes there are left alone."""
    head = src.read(pos, min(APE_FOOTER_SIZE, end - pos))
    where = f"tag after the audio at offset {pos:#x}"
    left = end - pos
    cut = (
        any(m.startswith(head) for m in (b"ID3", b"TAG", b"APETAGEX"))  # not even a whole magic
        or (head[:3] == b"TAG" and left < ID3V1_SIZE)
        or (head[:8] == b"APETAGEX" and APE_FOOTER_SIZE + int.from_bytes(head[12:16], "little") > left)
    )
    if cut:
        raise TruncatedError("a tag after the audio is cut off by the end of the file", where)
    if head[:3] != b"ID3":
        return
    if len(head) < 10:
        raise TruncatedError("the file ends inside an ID3v2 header after the audio", where)
    size = tag_size(head, where)
    if pos + size > end:
        raise TruncatedError(f"the ID3v2 tag after the audio claims {size} bytes, the file ends first", where)
    if size > MAX_METADATA_BLOCK:
        raise LimitExceededError(f"ID3v2 tag of {size} bytes is over the limit", where)
    unpack_id3(c, src.read_exact(pos, size, "the ID3v2 tag"), f"ID3v2.{head[3]} tag appended at offset {pos:#x}")


def _appended_start(src: ByteSource, c: Container, footer: bytes, end: int, floor: int) -> int | None:
    """Where the tag whose footer ends at ``end`` starts, or None (an error recorded) if it cannot."""
    where = f"ID3v2 footer at offset {end - 10:#x}"
    try:
        size = tag_size(footer, where)
    except MediaError as exc:
        c.errors.append(ReadError(exc.code, str(exc), where))
        return None
    if size > end - floor:
        c.errors.append(
            ReadError("malformed", f"ID3v2 footer claims a {size}-byte tag, more than the file holds before it", where)
        )
        return None
    if size > MAX_METADATA_BLOCK:
        c.errors.append(ReadError("limit-exceeded", f"ID3v2 tag of {size} bytes is over the limit", where, fatal=True))
        return None
    start = end - size
    header = src.read(start, 10)
    if header[:3] != b"ID3" or header[3:10] != footer[3:10]:
        c.errors.append(ReadError("malformed", "ID3v2 footer does not match a tag header before it", where))
        return None
    return start


def _ape_start(src: ByteSource, c: Container, end: int, floor: int) -> int | None:
    """Where the APE tag whose footer ends at ``end`` starts (its header included), or None."""
    footer = src.read(end - APE_FOOTER_SIZE, APE_FOOTER_SIZE)
    size = int.from_bytes(footer[12:16], "little")  # items and footer, not the header
    has_header = int.from_bytes(footer[20:24], "little") & 0x80000000
    total = size + (APE_FOOTER_SIZE if has_header else 0)
    if size < APE_FOOTER_SIZE or total > end - floor:
        c.errors.append(
            ReadError(
                "malformed",
                f"APE tag footer claims {size} bytes, more than the file holds before it",
                f"APE tag footer at offset {end - APE_FOOTER_SIZE:#x}",
            )
        )
        return None
    return end - total


def unpack_id3v1(c: Container, data: bytes, location: str) -> None:
    """The text of an ID3v1 tag (128 bytes, ``TAG`` first) as ``id3v1`` blocks, parsed by mutagen."""
    from mutagen.id3 import ParseID3v1

    frames = ParseID3v1(data) or {}
    for frame_id, name in ID3V1_FIELDS.items():
        frame = frames.get(frame_id)
        text = _joined(frame.text) if frame is not None else ""
        if text:
            c.blocks.append(Block("id3", f"{location}, {name}", key=name, text=text, family="id3v1"))


def unpack_id3(c: Container, data: bytes, location: str) -> None:
    """Add the blocks (and the C2PA marker) the ID3v2 tag ``data`` found at ``location`` carries."""
    from mutagen.id3 import ID3

    frames: list[Block] = []
    try:
        tags = ID3()
        # ID3v2.3 and 2.4 frames are read by mutagen's classes with the one-call UTF-16 text spec.
        known = fast_frames() if data[3:4] in (b"\x03", b"\x04") else None
        tags.load(io.BytesIO(data), known_frames=known, load_v1=False, translate=True)
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
