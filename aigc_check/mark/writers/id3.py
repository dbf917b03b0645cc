"""MP3: the label as an ID3v2 ``TXXX`` frame with the description ``AIGC`` (TC260 audio guide), written
with mutagen, which keeps every other frame (unknown ones included) and the padding.

The tag keeps its version where mutagen can write it (2.3 stays 2.3, 2.4 stays 2.4); mutagen cannot
write ID3v2.2, so a 2.2 tag is written as 2.3 (said in the notes).  A file without an ID3v2 tag gets
a 2.4 one in front of the audio.  An ID3v1 tag at the end is kept as it is.  Every ``TXXX`` whose
description is AIGC in any case is a copy of the label: the first is rewritten, the others removed.
Only the first ID3v2 tag at the head is rewritten (mutagen reads one); the audio frames after it are
copied byte for byte.
"""

from __future__ import annotations

import io

from mutagen import MutagenError
from mutagen.id3 import ID3, TXXX, Encoding, ID3NoHeaderError

from ..label import LabelFields
from . import WriteError, WriteOutcome
from ._common import guarded, is_label_name, is_label_text, keep_padding, label_value, removed_note, walk_input


def write(data: bytes, label: LabelFields) -> WriteOutcome:
    return guarded(_write, data, label)


def _write(data: bytes, label: LabelFields) -> WriteOutcome:
    container = walk_input(data, "mpeg-audio")
    if container.format != "mp3":
        raise WriteError(f"an {container.format.upper()} stream, not MP3: no ID3 label is written")
    value = label_value(label)
    buffer = io.BytesIO(data)
    notes: list[str] = []
    try:
        try:
            tags = ID3(buffer, translate=False)
            version = tags.version[1]
        except ID3NoHeaderError:
            tags, version = ID3(), 4
            notes.append("added an ID3v2.4 tag in front of the audio")
        copies = [k for k, frame in tags.items() if isinstance(frame, TXXX) and is_label_name(str(frame.desc))]  # type: ignore[attr-defined]
        desc = str(getattr(tags[copies[0]], "desc", "AIGC")) if copies else "AIGC"
        # Comments and other TXXX frames that hold the label as a whole are copies too.
        loose = [
            k
            for k, frame in tags.items()
            if k not in copies
            and getattr(frame, "FrameID", "") in ("COMM", "TXXX")
            and any(is_label_text(str(t)) for t in getattr(frame, "text", []))
        ]
        for key in copies + loose:
            del tags[key]
        notes += removed_note(max(len(copies) - 1, 0) + len(loose), "ID3v2 TXXX or COMM")
        tags.add(TXXX(encoding=Encoding.UTF8 if version == 4 else Encoding.UTF16, desc=desc, text=[value]))
        if version == 2:
            notes.append("the ID3v2.2 tag was written as ID3v2.3 (mutagen writes 2.3 and 2.4 only)")
        if version < 4:
            tags.update_to_v23()
        else:
            tags.update_to_v24()
        buffer.seek(0)
        # v1=0: mutagen would otherwise rewrite an ID3v1 tag from the v2 frames; the original is put back.
        tags.save(buffer, v1=0, v2_version=3 if version < 4 else 4, padding=keep_padding)
    except (MutagenError, ValueError, EOFError, OSError) as exc:
        raise WriteError(f"mutagen cannot rewrite the ID3 tag: {exc}") from exc
    location = f"ID3v2.{3 if version < 4 else 4} TXXX:{desc}"
    out = buffer.getvalue()
    if data[-128:-125] == b"TAG" and out[-128:] != data[-128:]:
        out += data[-128:]
    return WriteOutcome(out, location, notes, updated_existing=bool(copies))
