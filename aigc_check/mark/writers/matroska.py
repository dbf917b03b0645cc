"""Matroska and WebM: the label as ``Segment/Tags/Tag/SimpleTag`` ``TagName`` AIGC, ``TagString`` the
JSON (TC260 video guide), in a Tag with empty ``Targets`` (the whole segment, TargetTypeValue 50).

Written by hand: no maintained Python library rewrites Matroska tags (mutagen has no Matroska
support; the EBML libraries on PyPI read only), and mkvpropedit is no Python dependency.

No cluster, cue or seek position ever moves: a rewritten ``Tags`` element stays where it was when
it fits there (with the ``Void`` element after it, and a new ``Void`` filling what is left), or
becomes one ``Void`` of its own length while the new ``Tags`` is appended at the end of the
segment, with the ``SeekHead`` entry pointing at it updated (the SeekHead itself changed only within
its own bytes and a ``Void`` after it).  A label in a file without ``Tags`` goes into a ``Void``
big enough, else at the end of the segment with a ``SeekHead`` entry added.  The segment's size is
rewritten in its own width (an unknown size stays unknown).  ``CRC-32`` children of a rebuilt
element are recomputed.  An existing AIGC SimpleTag is rewritten where it stands; every other
copy is removed (a Tag left without SimpleTags with it).
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

from ...limits import MAX_BOX_DEPTH, MAX_CHUNKS, MAX_METADATA_BLOCK
from ..label import LabelFields
from . import WriteError, WriteOutcome
from ._common import guarded, is_label_name, is_label_text, label_value, removed_note, walk_input

EBML, SEGMENT = 0x1A45DFA3, 0x18538067
SEEK_HEAD, SEEK, SEEK_ID, SEEK_POSITION = 0x114D9B74, 0x4DBB, 0x53AB, 0x53AC
TAGS, TAG, TARGETS, SIMPLE_TAG, TAG_NAME, TAG_STRING = 0x1254C367, 0x7373, 0x63C0, 0x67C8, 0x45A3, 0x4487
CLUSTER, VOID, CRC32 = 0x1F43B675, 0xEC, 0xBF
UNKNOWN = -1


@dataclass
class _El:
    id: int
    at: int
    body: int
    size: int  # UNKNOWN for an unknown-size element

    @property
    def end(self) -> int:
        return self.body + self.size


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.count = data, 0

    def vint(self, pos: int, end: int, keep_marker: bool) -> tuple[int, int]:
        if pos >= end:
            raise WriteError("an EBML number runs past its parent", f"offset {pos:#x}")
        first = self.data[pos]
        if first == 0:
            raise WriteError("invalid EBML number (no length marker)", f"offset {pos:#x}")
        length = 9 - first.bit_length()
        if pos + length > end:
            raise WriteError("an EBML number runs past its parent", f"offset {pos:#x}")
        value = int.from_bytes(self.data[pos : pos + length], "big")
        if not keep_marker:
            value &= (1 << (7 * length)) - 1
            if value == (1 << (7 * length)) - 1:
                value = UNKNOWN
        return value, pos + length

    def elements(self, start: int, end: int) -> list[_El]:
        """The children between ``start`` and ``end``; an unknown-size element is the last one."""
        out, pos = [], start
        while pos < end:
            self.count += 1
            if self.count > MAX_CHUNKS:
                raise WriteError(f"more than {MAX_CHUNKS} EBML elements")
            eid, p = self.vint(pos, end, True)
            size, body = self.vint(p, end, False)
            if size != UNKNOWN and body + size > end:
                raise WriteError(
                    f"element {eid:#x} claims {size} bytes, more than its parent holds", f"offset {pos:#x}"
                )
            out.append(_El(eid, pos, body, size))
            if size == UNKNOWN:
                break
            pos = body + size
        return out


def _id_bytes(eid: int) -> bytes:
    return eid.to_bytes((eid.bit_length() + 7) // 8, "big")


def _size_vint(n: int, width: int = 0) -> bytes:
    need = 1
    while n >= (1 << (7 * need)) - 1:
        need += 1
    width = max(width, need)
    if width > 8:
        raise WriteError(f"an element of {n} bytes is too large for an EBML size")
    return ((1 << (7 * width)) | n).to_bytes(width, "big")


def _element(eid: int, payload: bytes, size_width: int = 0) -> bytes:
    return _id_bytes(eid) + _size_vint(len(payload), size_width) + payload


def _void(length: int) -> bytes:
    """A Void element of exactly ``length`` bytes (at least 2)."""
    for width in range(1, 9):
        payload = length - 1 - width
        if payload >= 0 and payload < (1 << (7 * width)) - 1:
            return _element(VOID, b"\x00" * payload, width)
    raise WriteError(f"no Void element is {length} bytes long")


def _fill(new: bytes, length: int, eid: int, payload: bytes) -> bytes | None:
    """``new`` (the element ``eid`` with ``payload``) made exactly ``length`` bytes long with a Void
    after it, or its size written one byte wider where one byte is left; None if it cannot be."""
    spare = length - len(new)
    if spare == 0:
        return new
    if spare >= 2:
        return new + _void(spare)
    if spare == 1:
        width = len(_size_vint(len(payload))) + 1
        if width <= 8:
            return _element(eid, payload, width)
    return None


def _with_crc(children: list[bytes], had_crc: bool) -> bytes:
    body = b"".join(children)
    if not had_crc:
        return body
    return _element(CRC32, struct.pack("<I", zlib.crc32(body))) + body


class _Tags:
    """One Tags element: its Tag children, raw, and where the AIGC SimpleTags are in them."""

    def __init__(self, r: _Reader, el: _El) -> None:
        if el.size > MAX_METADATA_BLOCK:
            raise WriteError(f"a Tags element of {el.size} bytes is over the limit", f"offset {el.at:#x}")
        self.el, self.had_crc, self.changed = el, False, False
        self.tags: list[list[bytes]] = []  # per Tag: its children, raw
        self.labels: list[tuple[int, int]] = []  # (tag index, child index) of AIGC SimpleTags
        self.loose: list[tuple[int, int]] = []  # SimpleTags of other names whose string is a whole label
        for child in r.elements(el.body, el.end):
            if child.id == CRC32:
                self.had_crc = True
            elif child.id == TAG:
                parts = r.elements(child.body, child.end)
                self.tags.append([r.data[p.at : p.end] for p in parts])
                for n, p in enumerate(parts):
                    if p.id != SIMPLE_TAG:
                        continue
                    name, text = _simple_name(r, p, 0)
                    if is_label_name(name):
                        self.labels.append((len(self.tags) - 1, n))
                    elif is_label_text(text):
                        self.loose.append((len(self.tags) - 1, n))
            else:
                self.tags.append([b"", r.data[child.at : child.end]])  # kept as it is, marked by b""

    def encode(self) -> bytes:
        out = []
        for parts in self.tags:
            if parts and parts[0] == b"":
                out.append(parts[1])
            elif any(_is_simple(p) for p in parts):
                tag_crc = bool(parts) and parts[0][:1] == bytes([CRC32])
                out.append(_element(TAG, _with_crc(parts[1:] if tag_crc else parts, tag_crc)))
        return _element(TAGS, _with_crc(out, self.had_crc))

    @property
    def empty(self) -> bool:
        return not any((p and p[0] == b"") or any(_is_simple(x) for x in p) for p in self.tags)


def _is_simple(raw: bytes) -> bool:
    return raw[:2] == _id_bytes(SIMPLE_TAG)


def _simple_name(r: _Reader, el: _El, depth: int) -> tuple[str, str]:
    """A SimpleTag's TagName and TagString."""
    if depth > MAX_BOX_DEPTH:
        raise WriteError(f"SimpleTag nested more than {MAX_BOX_DEPTH} deep")
    name = text = ""
    for child in r.elements(el.body, el.end):
        raw = r.data[child.body : child.end].rstrip(b"\x00").decode("utf-8", "replace")
        if child.id == TAG_NAME:
            name = raw
        elif child.id == TAG_STRING:
            text = raw
    return name, text


def _simple_tag(value: str) -> bytes:
    return _element(SIMPLE_TAG, _element(TAG_NAME, b"AIGC") + _element(TAG_STRING, value.encode("utf-8")))


@dataclass
class _Seek:
    target: int
    position: int


class _Segment:
    def __init__(self, r: _Reader, seg: _El, file_size: int) -> None:
        self.r, self.seg = r, seg
        self.body = seg.body
        self.end = file_size if seg.size == UNKNOWN else seg.end
        self.children = r.elements(seg.body, self.end)
        # Behind a cluster of unknown size the children cannot be walked by their sizes.
        self.complete = not any(c.size == UNKNOWN for c in self.children)
        for c in self.children:
            if c.size == UNKNOWN and c.id != CLUSTER:
                raise WriteError(f"element {c.id:#x} of unknown size inside the segment", f"offset {c.at:#x}")
        self.seek_head = next((c for c in self.children if c.id == SEEK_HEAD), None)
        self.seeks: list[_Seek] = []
        self.seek_crc = False
        if self.seek_head is not None:
            for s in r.elements(self.seek_head.body, self.seek_head.end):
                if s.id == CRC32:
                    self.seek_crc = True
                if s.id != SEEK:
                    continue
                target, position = 0, None
                for p in r.elements(s.body, s.end):
                    raw = r.data[p.body : p.end]
                    if p.id == SEEK_ID:
                        target = int.from_bytes(raw[:4], "big")
                    elif p.id == SEEK_POSITION:
                        position = int.from_bytes(raw[:8], "big")
                if position is not None:
                    self.seeks.append(_Seek(target, position))

    def tags_elements(self) -> list[_El]:
        found = {c.at: c for c in self.children if c.id == TAGS}
        for s in self.seeks:
            at = self.body + s.position
            if s.target == TAGS and at not in found and at < self.end:
                el = self.r.elements(at, min(self.end, at + 16 + MAX_METADATA_BLOCK))[0]
                if el.id == TAGS and el.size != UNKNOWN:
                    found[at] = el
        return [found[k] for k in sorted(found)]

    def next_child(self, el: _El) -> _El | None:
        return next((c for c in self.children if c.at == el.end), None)


def write(data: bytes, label: LabelFields) -> WriteOutcome:
    return guarded(_write, data, label)


def _write(data: bytes, label: LabelFields) -> WriteOutcome:
    walk_input(data, "matroska")
    r = _Reader(data)
    top = r.elements(0, len(data))
    segments = [e for e in top if e.id == SEGMENT]
    if not top or top[0].id != EBML or len(segments) != 1:
        raise WriteError("not one EBML header followed by exactly one Segment")
    seg_el = segments[0]
    seg = _Segment(r, seg_el, len(data))
    if seg_el.size != UNKNOWN and seg_el.end != len(data):
        raise WriteError("data after the Segment: the Tags cannot be appended to its end safely")
    value = label_value(label)
    tags = [_Tags(r, el) for el in seg.tags_elements()]
    found = [(t, where) for t in tags for where in t.labels]
    doomed = found[1:] + [(t, where) for t in tags for where in t.loose]
    notes: list[str] = []
    new_tags: bytes | None = None
    for t, (tj, cj) in doomed:
        t.tags[tj][cj] = b"\x00"  # removed (never a SimpleTag, dropped below)
        t.changed = True
    notes += removed_note(len(doomed), "Matroska Tags/Tag/SimpleTag")
    if found:
        target, (ti, ci) = found[0]
        target.tags[ti][ci] = _simple_tag(value)
        target.changed = True
    elif tags:
        tags[0].tags.append([_element(TARGETS, b""), _simple_tag(value)])
        tags[0].changed = True
    else:
        new_tags = _element(TAGS, _element(TAG, _element(TARGETS, b"") + _simple_tag(value)))
    for t in tags:
        t.tags = [[p for p in parts if p != b"\x00"] for parts in t.tags]

    edits: dict[int, tuple[int, bytes]] = {}  # at -> (old length, new bytes), same length unless last
    appended: list[bytes] = []
    moved: dict[int, int | None] = {}  # old relative position -> new one (None: gone)
    append_at = seg.end

    def append(blob: bytes) -> int:
        position = append_at - seg.body + sum(len(a) for a in appended)
        appended.append(blob)
        return position

    for t in tags:
        if not t.changed:
            continue
        el = t.el
        old_len = el.end - el.at
        if t.empty:
            edits[el.at] = (old_len, _void(old_len))
            moved[el.at - seg.body] = None
            continue
        encoded = t.encode()
        placed = _place(seg, el, encoded, TAGS)
        if placed is not None:
            edits[el.at] = placed
        else:
            edits[el.at] = (old_len, _void(old_len))
            moved[el.at - seg.body] = append(encoded)
            notes.append("moved the Tags element to the end of the segment (it no longer fit where it was)")
    location = "Matroska Tags/Tag/SimpleTag AIGC"
    if new_tags is not None:
        payload = _payload_of(new_tags)
        void = next((c for c in seg.children if c.id == VOID and _fill(new_tags, c.end - c.at, TAGS, payload)), None)
        if void is not None:
            edits[void.at] = (void.end - void.at, _fill(new_tags, void.end - void.at, TAGS, payload) or b"")
            moved[-1] = void.at - seg.body
            notes.append("put the new Tags element in a Void element")
        else:
            moved[-1] = append(new_tags)
    if moved:
        _update_seek_head(seg, moved, edits)
    # Apply: in-place edits of equal length, except one at the very end of the segment.
    out = bytearray()
    pos = 0
    growth = sum(len(a) for a in appended)
    for at in sorted(edits):
        old_len, blob = edits[at]
        if len(blob) != old_len:
            if at + old_len != seg.end:
                raise WriteError("internal: an element changed size in the middle of the segment")
            growth += len(blob) - old_len
        out += data[pos:at] + blob
        pos = at + old_len
    out += data[pos : seg.end] + b"".join(appended) + data[seg.end :]
    if growth and seg_el.size != UNKNOWN:
        width = seg_el.body - seg_el.at - len(_id_bytes(SEGMENT))
        new_size = _size_vint(seg_el.size + growth, width)
        if len(new_size) != width:
            raise WriteError("the Segment's size field is too narrow for the grown segment")
        out[seg_el.at + len(_id_bytes(SEGMENT)) : seg_el.body] = new_size
    return WriteOutcome(bytes(out), location, notes, updated_existing=bool(found))


def _place(seg: _Segment, el: _El, new: bytes, eid: int) -> tuple[int, bytes] | None:
    """Where ``new`` can replace ``el`` without moving anything behind it: (old length, bytes), or None."""
    old_len = el.end - el.at
    payload = _payload_of(new)
    fitted = _fill(new, old_len, eid, payload)
    if fitted is not None:
        return old_len, fitted
    after = seg.next_child(el)
    if after is not None and after.id == VOID:
        span = after.end - el.at
        fitted = _fill(new, span, eid, payload)
        if fitted is not None:
            return span, fitted
    if el.end == seg.end:  # the last element: it may grow, nothing behind it moves
        return old_len, new
    return None


def _payload_of(element: bytes) -> bytes:
    r = _Reader(element)
    _, p = r.vint(0, len(element), True)
    _, body = r.vint(p, len(element), False)
    return element[body:]


def _update_seek_head(seg: _Segment, moved: dict[int, int | None], edits: dict[int, tuple[int, bytes]]) -> None:
    """Point the SeekHead at the moved or new Tags, within the SeekHead's bytes and a Void after it."""
    seeks = [(s.target, s.position) for s in seg.seeks]
    for old, new_position in moved.items():
        if new_position is None:
            seeks = [(t, p) for t, p in seeks if p != old]
        elif old == -1:
            seeks.append((TAGS, new_position))
        else:
            seeks = [(t, new_position if p == old else p) for t, p in seeks]
    if seg.seek_head is None:
        if seg.complete:
            return  # the Tags are reached by walking the segment's children in order
        raise WriteError("the segment has a cluster of unknown size and no SeekHead to find the new Tags by")
    entries = [
        _element(
            SEEK,
            _element(SEEK_ID, _id_bytes(t))
            + _element(SEEK_POSITION, p.to_bytes(max(1, (p.bit_length() + 7) // 8), "big")),
        )
        for t, p in seeks
    ]
    new = _element(SEEK_HEAD, _with_crc(entries, seg.seek_crc))
    el = seg.seek_head
    if el.at in edits:
        raise WriteError("internal: the SeekHead is edited twice")
    placed = _place(seg, el, new, SEEK_HEAD)
    after = seg.next_child(el)
    if placed is not None and placed[0] != el.end - el.at and after is not None and after.at in edits:
        placed = None  # the Void after it already holds the new Tags
    if placed is None or len(placed[1]) != placed[0]:
        if seg.complete and set(moved) == {-1}:
            return  # a new Tags the segment's children lead to in order: the SeekHead may leave it out
        raise WriteError("no room in the SeekHead (and a Void after it) to point at the moved Tags")
    edits[el.at] = placed
