"""What the writers share: the label text they write (the same bare object in XMP and in a field
named AIGC), the test for a field that holds a label, the removal of label copies from free-text
carriers without moving a byte (the image writers), and the checker's own walk of the input, run
before any rewrite (the audio, video and document writers).

Walking the input with the checker's walker first means a writer refuses exactly what ``check``
cannot read (a cut file, a bound exceeded, a broken structure) with the walker's own message, and
the structural bounds are the readers' (``aigc_check/limits.py``), not a second set.
"""

from __future__ import annotations

import json
import struct
import zipfile
import zlib
from collections.abc import Callable
from typing import Any

from ... import formats
from ...errors import MediaError
from ...limits import MAX_JSON_TEXT
from ...model import Container
from ...signatures.label_decoding import KEYS, decode, find_in_text
from ...source import ByteSource
from ..label import LabelFields
from . import WriteError, WriteOutcome

LABEL_NAME = "AIGC"
MAX_COPIES = 64  # label copies blanked in one carrier (a real file has one)


def label_value(label: LabelFields) -> str:
    """The bare seven-element object, compact and in Annex E order: what the TC260 guides put in a
    field named AIGC in audio, video and document carriers (no ``{"AIGC": ...}`` wrapper)."""
    return json.dumps(label.values(), separators=(",", ":"), ensure_ascii=True)


def is_label_name(name: str) -> bool:
    """A field name the checker reads as the label's carrier: ``AIGC`` in any case, whatever its
    namespace or path prefix (``TXXX:AIGC``, ``com.apple.iTunes:AIGC``) -- as ``signatures.aigc_label``."""
    return name.rsplit(":", 1)[-1].rsplit("/", 1)[-1].strip().upper() == LABEL_NAME


def is_label_text(value: str) -> bool:
    """A value that is, as a whole, a label's JSON (bare or wrapped): a copy of the label in a field
    of another name (a comment or description holding only the label), which the checker reads as a
    second label.  Text around a label, or a mere mention, is not."""
    text = value.strip().lstrip("\ufeff")
    if not text.startswith("{") or len(text) > MAX_JSON_TEXT:
        return False
    try:
        parsed = json.loads(text)
    except ValueError:
        return False
    if isinstance(parsed, dict) and isinstance(parsed.get("AIGC"), dict):
        parsed = parsed["AIGC"]
    return isinstance(parsed, dict) and "Label" in parsed and any(k in parsed for k in KEYS if k != "Label")


def holds_label(name: str, value: str) -> bool:
    return is_label_name(name) or is_label_text(value)


# What a hand-written walk of a hostile file may still raise despite its bounds checks: a bug's
# symptom, but the file's fault, so it is a WriteError (nothing written), never a crash of a batch.
PARSE_ERRORS = (
    IndexError,
    KeyError,
    ValueError,
    struct.error,
    zlib.error,
    OverflowError,
    UnicodeError,
    EOFError,
    NotImplementedError,  # zipfile: a member needing a ZIP version or method it lacks
    zipfile.BadZipFile,
)


def guarded(write: Callable[[bytes, LabelFields], WriteOutcome], data: bytes, label: LabelFields) -> WriteOutcome:
    """``write`` run on ``data``, its result ``verified``; a parse error is a ``WriteError``."""
    try:
        outcome = write(data, label)
    except WriteError:
        raise
    except PARSE_ERRORS as exc:
        raise WriteError(f"the file cannot be rewritten safely ({type(exc).__name__}: {exc})") from exc
    return verified(outcome, label)


def verified(outcome: WriteOutcome, label: LabelFields) -> WriteOutcome:
    """``outcome`` once ``check`` reads exactly the label written from the new file, and no other; a
    ``WriteError`` naming what is left otherwise (a label in an XMP packet, or inside a longer comment,
    which these writers do not edit), so that no file with two labels is ever handed back."""
    from ...checker import check

    result = check(outcome.data)
    fatal = [e for e in result.errors if getattr(e, "fatal", False)]
    if fatal:
        raise WriteError(f"internal: the rewritten file does not read back ({fatal[0].message})")
    expected = json.loads(label_value(label))
    found = [e for e in result.evidence if e.source == "gb45438"]
    others = [e for e in found if _value(e.value) != expected]
    if others or len(found) != 1:
        if not others and not found:
            raise WriteError("the checker does not read the label back from the rewritten file")
        where = "; ".join(f"{e.location} ({e.key})" for e in others) or f"{len(found)} copies of it"
        raise WriteError(f"another label would remain that this writer does not rewrite: {where}")
    if any(f.code == "c2pa-hash-mismatch" for f in result.findings):
        outcome.notes.append(
            "the file's C2PA manifest no longer matches it (its hash binding covers the rewritten bytes): re-sign it"
        )
    return outcome


def _value(text: str) -> object:
    try:
        return json.loads(text)
    except ValueError:
        return None


def walk_input(data: bytes, handler_name: str) -> Container:
    """The checker's walk of ``data``; a ``WriteError`` when it is not the format the writer
    rewrites or the walk cannot read all of it (a file the checker calls unreadable is not rewritten)."""
    if not data:
        raise WriteError("the file is empty")
    src = ByteSource.open(data)
    handler = formats.identify(src.head)
    if handler is None or handler.name != handler_name:
        raise WriteError(f"not a {handler_name} file (starts with {data[:8].hex(' ')})")
    container = Container(handler.name, handler.media_type)
    try:
        handler.walk(src, container)
    except MediaError as exc:
        raise WriteError(f"the file cannot be read safely: {exc}", exc.location) from exc
    fatal = [e for e in container.errors if e.fatal]
    if fatal:
        raise WriteError(f"the file cannot be read safely: {fatal[0].message}", fatal[0].location)
    return container


def keep_padding(info: Any) -> int:
    """mutagen's padding choice: what the file had where the new tag fits in it, else none (mutagen's
    default adds a kilobyte to every file it grows)."""
    return max(0, int(info.padding))


def removed_note(count: int, where: str) -> list[str]:
    if count <= 0:
        return []
    return [f"removed {count} other AIGC label{'s' if count > 1 else ''} ({where}): GB 45438 allows one per file"]


def blank_label_text(data: bytes) -> tuple[bytes, int]:
    """``data`` with each GB 45438 label written as single-byte text (ASCII, Latin-1, UTF-8) replaced
    by spaces of the same length, and how many were: the carrier (an EXIF value, a comment) keeps its
    size and every offset around it stays right.  Text around the label is kept.  A label written in
    UTF-16 (EXIF XPComment, a Unicode UserComment) is not found here; ``mark``'s read-back check
    then sees the copy left and writes nothing."""
    text = data.decode("latin-1")
    out = bytearray(data)
    blanked = 0
    cursor = 0
    for _ in range(MAX_COPIES):
        segment = find_in_text(text[cursor:])
        if segment is None:
            break
        at = text.find(segment, cursor)
        decoded = decode(segment)
        if at < 0:
            break
        if not decoded.has_elements:  # a word such as "AIGC" in other text: look further on
            cursor = at + max(1, len(segment))
            continue
        out[at : at + len(segment)] = b" " * len(segment)
        blanked += 1
        cursor = at + len(segment)
    return bytes(out), blanked
