"""FLAC, Ogg Vorbis and Opus: the label as the Vorbis comment ``AIGC=<JSON>`` (TC260 audio guide),
written with mutagen.

Vorbis comment names are case-insensitive: every comment named AIGC in any case is a copy of the
label; the first is rewritten where it stands (its name and place in the list kept), the others
removed.  FLAC: mutagen rewrites the metadata blocks (using the padding block when it can) and
copies the frames as they are.  Ogg: mutagen rewrites the comment header pages; when their number
changes, the later pages are renumbered (their sequence numbers and CRCs change, their packets do
not), which is how every Ogg tag editor works.
"""

from __future__ import annotations

import io
from typing import Any

from mutagen import MutagenError
from mutagen.flac import FLAC
from mutagen.oggopus import OggOpus
from mutagen.oggvorbis import OggVorbis

from ..label import LabelFields
from . import WriteError, WriteOutcome
from ._common import guarded, is_label_name, is_label_text, keep_padding, label_value, removed_note, walk_input

KINDS: dict[str, tuple[Any, str]] = {
    "flac": (FLAC, "FLAC VORBIS_COMMENT"),
    "ogg": (OggVorbis, "Ogg Vorbis comment"),
    "opus": (OggOpus, "Opus comment"),
}


def write(data: bytes, label: LabelFields) -> WriteOutcome:
    return guarded(_write, data, label)


def _write(data: bytes, label: LabelFields) -> WriteOutcome:
    handler = "flac" if data[:4] == b"fLaC" else ("ogg" if data[:4] == b"OggS" else "mpeg-audio")
    container = walk_input(data, handler)
    if container.format not in KINDS:
        raise WriteError(f"a {container.format} file has no Vorbis comment to write")
    kind, where = KINDS[container.format]
    value = label_value(label)
    buffer = io.BytesIO(data)
    notes: list[str] = []
    try:
        audio = kind(buffer)
        if audio.tags is None:
            audio.add_tags()
            notes.append("added a Vorbis comment block")
        comments: Any = audio.tags  # a list of (name, value) pairs, in file order
        pairs = list(comments)
        copies = [n for n, (name, _) in enumerate(pairs) if is_label_name(name)]
        # Comments of other names (COMMENT, DESCRIPTION) that are the label as a whole are copies too.
        loose = [n for n, (name, text) in enumerate(pairs) if n not in copies and is_label_text(text)]
        doomed = copies[1:] + loose
        if copies:
            pairs[copies[0]] = (pairs[copies[0]][0], value)  # its name and place kept
        pairs = [p for n, p in enumerate(pairs) if n not in doomed]
        if not copies:
            pairs.append(("AIGC", value))
        # By position, with list's own methods: VCommentDict's item methods take names, not places.
        list.__setitem__(comments, slice(None), pairs)
        notes += removed_note(len(doomed), where)
        buffer.seek(0)
        audio.save(buffer, padding=keep_padding)
    except (MutagenError, ValueError, EOFError, OSError, IndexError) as exc:
        raise WriteError(f"mutagen cannot rewrite the {where}: {exc}") from exc
    return WriteOutcome(buffer.getvalue(), f"{where} AIGC", notes, updated_existing=bool(copies))
