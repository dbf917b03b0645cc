"""WAV and AVI (RIFF): the label as a top-level ``AIGC`` chunk in WAV (TC260 audio guide) and as the
``AIGC`` entry of a ``LIST/INFO`` in AVI (video guide), the JSON NUL-terminated.

Written by hand: no maintained Python library writes arbitrary RIFF chunks or INFO entries
(mutagen's WAVE support writes only an ``id3 `` chunk).  Chunks other than the one changed are
copied byte for byte; every chunk is padded to an even length and the RIFF size rewritten.

Nothing in a WAV file points at a byte offset (``cue `` points count samples inside ``data``), so a
WAV chunk may change size anywhere.  In AVI, ``idx1`` offsets are relative to the ``movi`` list
(or, in some writers, absolute), and OpenDML ``indx`` entries are absolute file offsets: nothing
before the end of ``movi`` may move.  So an INFO list before ``movi`` changes size only within the
``JUNK`` chunk after it (ffmpeg leaves one there), shrinking into a ``JUNK`` chunk; when it cannot,
the label goes into a ``LIST/INFO`` appended at the end of the file, behind ``idx1``, which moves
nothing.  RF64/BW64 files (sizes in ``ds64``), streamed files (size 0 or 0xFFFFFFFF) and AVI files
with more than one RIFF (OpenDML ``AVIX``) are refused.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from ...limits import MAX_CHUNKS, MAX_METADATA_BLOCK
from ..label import LabelFields
from . import WriteError, WriteOutcome
from ._common import guarded, is_label_name, is_label_text, label_value, removed_note, walk_input


@dataclass
class _Chunk:
    fourcc: bytes
    at: int
    size: int

    @property
    def body(self) -> int:
        return self.at + 8

    @property
    def end(self) -> int:  # with its pad byte
        return self.at + 8 + self.size + (self.size & 1)


def _chunks(data: bytes, start: int, end: int) -> list[_Chunk]:
    out: list[_Chunk] = []
    pos = start
    while pos + 8 <= end:
        if len(out) >= MAX_CHUNKS:
            raise WriteError(f"more than {MAX_CHUNKS} chunks")
        fourcc, size = struct.unpack_from("<4sI", data, pos)
        if pos + 8 + size > end:
            raise WriteError(f"chunk {fourcc!r} claims {size} bytes, more than its container holds", f"offset {pos:#x}")
        out.append(_Chunk(fourcc, pos, size))
        pos = out[-1].end
    if pos < end and data[pos:end].strip(b"\x00"):
        raise WriteError(f"{end - pos} stray bytes after the last chunk", f"offset {pos:#x}")
    return out


def _chunk(fourcc: bytes, payload: bytes) -> bytes:
    return fourcc + struct.pack("<I", len(payload)) + payload + (b"\x00" if len(payload) & 1 else b"")


def _junk(length: int) -> bytes:
    return _chunk(b"JUNK", b"\x00" * (length - 8))


def _text(raw: bytes) -> str:
    return raw.split(b"\x00", 1)[0].decode("utf-8", "replace")


def _is_info(data: bytes, c: _Chunk) -> bool:
    return c.fourcc == b"LIST" and data[c.body : c.body + 4] == b"INFO"


def write(data: bytes, label: LabelFields) -> WriteOutcome:
    return guarded(_write, data, label)


def _write(data: bytes, label: LabelFields) -> WriteOutcome:
    container = walk_input(data, "riff")
    avi = container.format == "avi"
    if data[:4] != b"RIFF":
        raise WriteError(f"a {data[:4].decode('latin-1')} file (sizes in ds64) is not rewritten")
    (riff_size,) = struct.unpack_from("<I", data, 4)
    if riff_size in (0, 0xFFFFFFFF) or 8 + riff_size > len(data):
        raise WriteError(f"the RIFF size {riff_size} does not match the file ({len(data)} bytes)")
    end = 8 + riff_size
    if data[end:].strip(b"\x00"):
        raise WriteError("data after the RIFF chunk (an OpenDML AVIX part or trailing bytes) is not rewritten")
    top = _chunks(data, 12, end)
    kinds = {c.fourcc if c.fourcc != b"LIST" else data[c.body : c.body + 4] for c in top}
    needed = {b"hdrl", b"movi"} if avi else {b"fmt ", b"data"}
    if not needed <= kinds:
        missing = ", ".join(sorted(k.decode("latin-1") for k in needed - kinds))
        raise WriteError(f"a {container.format.upper()} file without {missing}: not a complete file")
    value = (label_value(label) + "\x00").encode("utf-8")
    # Every copy of the label: (top index, None) for an AIGC chunk, (top index, sub index) in an INFO list.
    infos: dict[int, list[_Chunk]] = {}
    found: list[tuple[int, int | None]] = []
    loose: list[tuple[int, int | None]] = []
    for i, c in enumerate(top):
        if c.fourcc == b"AIGC":
            found.append((i, None))
        elif _is_info(data, c):
            if c.size > MAX_METADATA_BLOCK:
                raise WriteError(f"a LIST/INFO of {c.size} bytes is over the limit", f"offset {c.at:#x}")
            infos[i] = _chunks(data, c.body + 4, c.body + c.size)
            for n, sub in enumerate(infos[i]):
                if is_label_name(sub.fourcc.decode("latin-1")):
                    found.append((i, n))
                elif is_label_text(_text(data[sub.body : sub.body + sub.size])):
                    loose.append((i, n))  # a comment (ICMT, ISBJ) that is the label as a whole
    movi_end = max((c.end for c in top if c.fourcc == b"LIST" and data[c.body : c.body + 4] == b"movi"), default=12)
    fixed_until = movi_end if avi else 12  # AVI: nothing before the end of movi may move

    new: dict[int, bytes] = {}  # top index -> replacement bytes (b"": removed)
    notes: list[str] = []
    appended = b""

    def info_bytes(i: int, subs: list[bytes]) -> bytes:
        return _chunk(b"LIST", b"INFO" + b"".join(subs))

    def subs_of(i: int) -> list[bytes]:
        return [data[s.at : s.end] for s in infos[i]]

    edited_subs: dict[int, list[bytes]] = {i: subs_of(i) for i in infos}
    touched: set[int] = set()
    if found:
        i, spot = found[0]
        if spot is None:
            new[i] = _chunk(b"AIGC", value)
            location = f"{container.format.upper()} AIGC chunk"
        else:
            edited_subs[i][spot] = _chunk(infos[i][spot].fourcc, value)
            touched.add(i)
            location = f"{container.format.upper()} LIST/INFO AIGC"
    elif avi and infos:
        i = next(iter(infos))
        edited_subs[i].append(_chunk(b"AIGC", value))
        touched.add(i)
        location = "AVI LIST/INFO AIGC"
    elif avi:
        appended = info_bytes(-1, [_chunk(b"AIGC", value)])
        location = "AVI LIST/INFO AIGC"
    else:
        appended = _chunk(b"AIGC", value)
        location = "WAV AIGC chunk"
    for j, m in [*found[1:], *loose]:
        if m is None:
            new[j] = b""
        else:
            edited_subs[j][m] = b""
            touched.add(j)
    notes += removed_note(len(found[1:]) + len(loose), "RIFF AIGC chunk or LIST/INFO entry")
    for i in touched:
        subs = [s for s in edited_subs[i] if s]
        new[i] = info_bytes(i, subs) if subs else b""

    # Sizes before movi may not change in AVI: take the difference up in the JUNK chunk after.
    for i in sorted(new):
        c = top[i]
        if c.end > fixed_until:
            continue
        blob, old_len = new[i], c.end - c.at
        after = top[i + 1] if i + 1 < len(top) and (i + 1) not in new else None
        room = old_len + (after.end - after.at if after is not None and after.fourcc == b"JUNK" else 0)
        if len(blob) == old_len:
            continue
        if len(blob) + 8 <= old_len:
            new[i] = blob + _junk(old_len - len(blob))
        elif room > old_len and len(blob) + 8 <= room:
            new[i] = blob + _junk(room - len(blob))
            new[i + 1] = b""
        elif len(blob) == room and room > old_len:
            new[i + 1] = b""
        elif found and found[0][0] == i and found[0][1] is not None:
            # The label no longer fits where it stood: keep this list without it (padded), and put the
            # label in a list at the end of the file.
            subs = [s for n, s in enumerate(edited_subs[i]) if s and n != found[0][1]]
            rest = info_bytes(i, subs) if subs else b""
            new[i] = rest + _junk(old_len - len(rest)) if len(rest) + 8 <= old_len else rest
            if len(new[i]) != old_len:
                raise WriteError("the AVI LIST/INFO before movi cannot be rewritten without moving the frames")
            appended = info_bytes(-1, [_chunk(b"AIGC", value)])
            notes.append("moved the label to a LIST/INFO at the end of the file (no room before movi)")
        elif not found:
            del new[i]  # leave the list alone; the label goes into a new list at the end
            appended = info_bytes(-1, [_chunk(b"AIGC", value)])
        else:
            raise WriteError("the AVI LIST/INFO before movi cannot be rewritten without moving the frames")
    body = b"".join(new.get(i, data[c.at : c.end]) for i, c in enumerate(top)) + appended
    out = b"RIFF" + struct.pack("<I", 4 + len(body)) + data[8:12] + body + data[end:]
    if len(out) - 8 > 0xFFFFFFFF:
        raise WriteError("the file would exceed RIFF's 4 GiB")
    return WriteOutcome(out, location, notes, updated_existing=bool(found))
