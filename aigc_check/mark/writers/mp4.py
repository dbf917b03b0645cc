"""MP4, MOV and M4A: the label as the ``mdta`` key ``AIGC`` of ``moov/udta/meta`` (TC260 video guide
§6.1.1, M4A per the audio guide), its JSON in the matching ``ilst`` item, as ffmpeg writes it with
``-movflags use_metadata_tags``.

Written by hand: mutagen's MP4 writer knows iTunes atoms (``©too``, freeform ``----``) but neither
reads nor writes a ``keys`` box, so it cannot put an ``mdta`` key in a file (checked against mutagen
1.47/1.48: ``MP4Tags`` saves only four-character and freeform atoms), and no other maintained
Python library writes QuickTime metadata keys.

Only ``moov`` is rebuilt; every other top-level box (``mdat`` above all) is copied byte for byte.
An existing label (an ``AIGC`` key of any ``mdta`` meta in ``moov``, or a freeform ``----`` item
named AIGC) is rewritten where it stands and every other copy removed.  When ``moov`` changes size
and media data follow it (a "fast start" file), the change is taken up by a ``free`` box right
after ``moov`` when there is one, else every ``stco``/``co64`` chunk offset behind ``moov`` is moved
by the difference; a fragmented file (``moof``/``mfra``, whose offsets are not all in ``moov``) or
a ``meta`` with an ``iloc`` (file offsets again) behind which data would move is refused.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from ...limits import MAX_BOX_DEPTH, MAX_METADATA_BLOCK
from ..label import LabelFields
from . import WriteError, WriteOutcome
from ._bmff import Box, BoxCount
from ._bmff import boxes as _boxes
from ._common import guarded, is_label_name, is_label_text, label_value, removed_note, walk_input

CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts", b"dinf", b"udta"}
FREE = {b"free", b"skip"}
UTF8 = 1  # ilst data type: UTF-8 text


def _box(kind: bytes, payload: bytes) -> bytes:
    if len(payload) + 8 <= 0xFFFFFFFF:
        return struct.pack(">I4s", len(payload) + 8, kind) + payload
    return struct.pack(">I4sQ", 1, kind, len(payload) + 16) + payload


def _data_box(text: str) -> bytes:
    return _box(b"data", struct.pack(">II", UTF8, 0) + text.encode("utf-8"))


@dataclass
class _Meta:
    """One ``meta`` box in ``moov``: its children (raw), and its keys and items when it has them."""

    box: Box
    path: str
    head: bytes  # the full box's version and flags (ISO); empty for QuickTime's plain meta
    children: list[tuple[bytes, bytes]]  # (type, payload)
    handler: bytes
    keys_head: bytes = b"\x00\x00\x00\x00"
    keys: list[bytes] | None = None  # each entry's payload: namespace + name
    items: list[tuple[bytes, bytes]] = field(default_factory=list)  # ilst (type, payload)
    has_iloc: bool = False
    changed: bool = False

    def key_name(self, item_type: bytes, payload: bytes, data: bytes) -> str:
        index = int.from_bytes(item_type, "big")
        if self.keys is not None and 0 < index <= len(self.keys):
            return self.keys[index - 1][4:].decode("utf-8", "replace")
        if item_type == b"----":  # freeform: named by its name box
            for part in _sub(payload):
                if part[0] == b"name":
                    return part[1][4:].decode("utf-8", "replace")
        return item_type.decode("latin-1")

    def encode(self) -> bytes:
        out = []
        for kind, payload in self.children:
            if kind == b"keys" and self.keys is not None:
                payload = self.keys_head + struct.pack(">I", len(self.keys))
                payload += b"".join(_box(entry[:4], entry[4:]) for entry in self.keys)
            elif kind == b"ilst":
                payload = b"".join(_box(t, p) for t, p in self.items)
            out.append(_box(kind, payload))
        return _box(b"meta", self.head + b"".join(out))


def _sub(payload: bytes) -> list[tuple[bytes, bytes]]:
    """The boxes of a small payload (an ilst item), as (type, payload)."""
    boxes, _ = _boxes(payload, 0, len(payload))
    return [(b.type, payload[b.body : b.end]) for b in boxes]


def _parse_meta(data: bytes, box: Box, path: str, count: BoxCount) -> _Meta:
    if box.end - box.body > MAX_METADATA_BLOCK:
        raise WriteError(f"meta box of {box.end - box.body} bytes is over the limit", path)
    qt = data[box.body + 4 : box.body + 8] == b"hdlr"  # QuickTime's meta is no full box
    first = box.body if qt else box.body + 4
    children, _ = _boxes(data, first, box.end, count)
    meta = _Meta(box, path, data[box.body : first], [(c.type, data[c.body : c.end]) for c in children], b"")
    ilsts = 0
    for child in children:
        payload = data[child.body : child.end]
        if child.type == b"hdlr" and len(payload) >= 12:
            meta.handler = payload[8:12]
        elif child.type == b"keys":
            if len(payload) < 8:
                raise WriteError("keys box too short", path)
            entries, _ = _boxes(payload, 8, len(payload), count)
            meta.keys_head = payload[:4]
            meta.keys = [payload[e.at + 4 : e.end] for e in entries]
        elif child.type == b"ilst":
            ilsts += 1
            items, _ = _boxes(payload, 0, len(payload), count)
            meta.items = [(i.type, payload[i.body : i.end]) for i in items]
        elif child.type == b"iloc":
            meta.has_iloc = True
    if ilsts > 1:
        raise WriteError("a meta box with more than one ilst", path)
    return meta


class _Moov:
    def __init__(self, data: bytes, moov: Box) -> None:
        self.data, self.moov = data, moov
        self.count = BoxCount()
        self.metas: list[_Meta] = []
        self.udta: Box | None = None
        self.collect(moov, "moov", 0)

    def collect(self, box: Box, path: str, depth: int) -> None:
        if depth > MAX_BOX_DEPTH:
            raise WriteError(f"boxes nested more than {MAX_BOX_DEPTH} deep", path)
        children, _ = _boxes(self.data, box.body, box.end, self.count)
        for child in children:
            where = f"{path}/{child.type.decode('latin-1')}"
            if child.type == b"meta":
                self.metas.append(_parse_meta(self.data, child, where, self.count))
            elif child.type in CONTAINERS:
                if child.type == b"udta" and depth == 0 and self.udta is None:
                    self.udta = child
                self.collect(child, where, depth + 1)

    def rebuild(self, box: Box, replaced: dict[int, bytes], added: bytes, add_to: int | None) -> bytes:
        """``box`` with the changed metas in place and ``added`` appended to the box at ``add_to``."""
        if box.at in replaced:
            return replaced[box.at]
        touched = any(box.at <= at < box.end for at in replaced) or (add_to is not None and box.at <= add_to < box.end)
        if not touched:
            return self.data[box.at : box.end]
        children, last = _boxes(self.data, box.body, box.end)
        parts = [self.rebuild(c, replaced, added, add_to) for c in children]
        if add_to == box.at:
            parts.append(added)
        return _box(box.type, b"".join(parts) + self.data[last : box.end])


def _labels(meta: _Meta, data: bytes) -> tuple[list[int], list[int]]:
    """The items named AIGC, and the items of other names whose text is a whole label (a comment)."""
    named, loose = [], []
    for i, (t, p) in enumerate(meta.items):
        if is_label_name(meta.key_name(t, p, data)):
            named.append(i)
        elif any(
            kind == b"data"
            and len(body) >= 8
            and body[3] in (0, 1)
            and is_label_text(body[8:].decode("utf-8", "replace"))
            for kind, body in _sub(p)
        ):
            loose.append(i)
    return named, loose


def _set_value(meta: _Meta, index: int, value: str) -> None:
    kind, payload = meta.items[index]
    kept = [_box(t, p) for t, p in _sub(payload) if t != b"data"]  # a freeform item's mean and name
    meta.items[index] = (kind, b"".join(kept) + _data_box(value))
    meta.changed = True


def _remove(meta: _Meta, indexes: list[int]) -> None:
    """Remove the items, then every key only they used, renumbering the items behind."""
    was_used = {int.from_bytes(t, "big") for t, _ in meta.items}
    meta.items = [item for i, item in enumerate(meta.items) if i not in indexes]
    meta.changed = True
    if meta.keys is None:
        return
    used = {int.from_bytes(t, "big") for t, _ in meta.items}
    drop = [n for n in range(1, len(meta.keys) + 1) if n in was_used and n not in used]
    if not drop:
        return
    renumber = {}
    new_keys = []
    for n, entry in enumerate(meta.keys, 1):
        if n in drop:
            continue
        new_keys.append(entry)
        renumber[n] = len(new_keys)
    meta.keys = new_keys
    meta.items = [
        ((renumber[int.from_bytes(t, "big")]).to_bytes(4, "big") if int.from_bytes(t, "big") in renumber else t, p)
        for t, p in meta.items
    ]


def _new_meta(value: str) -> bytes:
    hdlr = _box(b"hdlr", b"\x00" * 8 + b"mdta" + b"\x00" * 12 + b"\x00")
    keys = _box(b"keys", b"\x00\x00\x00\x00" + struct.pack(">I", 1) + _box(b"mdta", b"AIGC"))
    ilst = _box(b"ilst", _box((1).to_bytes(4, "big"), _data_box(value)))
    return _box(b"meta", b"\x00\x00\x00\x00" + hdlr + keys + ilst)


def _shift_chunk_offsets(moov: bytearray, after: int, delta: int) -> None:
    """Move every stco/co64 entry pointing at or behind ``after`` by ``delta``, in place."""

    def visit(start: int, end: int, depth: int) -> None:
        children, _ = _boxes(bytes(moov[start:end]), 0, end - start)
        for child in children:
            body, stop = start + child.body, start + child.end
            if child.type in (b"trak", b"mdia", b"minf", b"stbl", b"edts") and depth < MAX_BOX_DEPTH:
                visit(body, stop, depth + 1)
            elif child.type in (b"stco", b"co64"):
                width = 4 if child.type == b"stco" else 8
                if stop - body < 8:
                    raise WriteError(f"{child.type.decode()} box too short")
                (n,) = struct.unpack_from(">I", moov, body + 4)
                if 8 + n * width > stop - body:
                    raise WriteError(f"{child.type.decode()} claims {n} entries, more than it holds")
                fmt = ">I" if width == 4 else ">Q"
                for i in range(n):
                    at = body + 8 + i * width
                    (offset,) = struct.unpack_from(fmt, moov, at)
                    if offset >= after:
                        offset += delta
                        if offset >= 1 << (8 * width):
                            raise WriteError("a chunk offset no longer fits its 32-bit stco entry")
                        struct.pack_into(fmt, moov, at, offset)

    visit(8 if struct.unpack_from(">I", moov, 0)[0] != 1 else 16, len(moov), 0)


def write(data: bytes, label: LabelFields) -> WriteOutcome:
    return guarded(_write, data, label)


def _write(data: bytes, label: LabelFields) -> WriteOutcome:
    walk_input(data, "bmff")
    top, _ = _boxes(data, 0, len(data), top=True)
    moovs = [b for b in top if b.type == b"moov"]
    if len(moovs) != 1:
        raise WriteError(f"{len(moovs)} moov boxes: an MP4 has exactly one")
    moov = moovs[0]
    tree = _Moov(data, moov)
    value = label_value(label)
    found, loose = [], []
    for m in tree.metas:
        named, other = _labels(m, data)
        found += [(m, i) for i in named]
        loose += [(m, i) for i in other]
    notes: list[str] = []
    added, add_to = b"", None
    doomed_all = found[1:] + loose
    for meta in tree.metas:
        doomed = [i for m, i in doomed_all if m is meta]
        if doomed:
            _remove(meta, doomed)
            if found and found[0][0] is meta:  # the label's item moves up by the items removed before it
                index = found[0][1]
                found[0] = (meta, index - sum(1 for d in doomed if d < index))
    notes += removed_note(len(doomed_all), ", ".join(sorted({m.path for m, _ in doomed_all})))
    if found:
        target, index = found[0]
        _set_value(target, index, value)
        location = f"{target.path} ilst item 'AIGC'"
    else:
        keyed = next((m for m in tree.metas if m.path == "moov/udta/meta" and m.keys is not None), None)
        if keyed is not None:
            keyed.keys = [*(keyed.keys or []), b"mdtaAIGC"]
            keyed.items.append((len(keyed.keys).to_bytes(4, "big"), _data_box(value)))
            keyed.changed = True
            if not any(k == b"ilst" for k, _ in keyed.children):
                keyed.children.append((b"ilst", b""))
        elif tree.udta is not None:
            added, add_to = _new_meta(value), tree.udta.at
            notes.append("added an mdta meta box to moov/udta beside its other metadata")
        else:
            added, add_to = _box(b"udta", _new_meta(value)), moov.at
        location = "moov/udta/meta ilst item 'AIGC'"
    replaced = {m.box.at: m.encode() for m in tree.metas if m.changed}
    new_moov = bytearray(tree.rebuild(moov, replaced, added, add_to))
    delta = len(new_moov) - (moov.end - moov.at)
    after = [b for b in top if b.at >= moov.end]
    tail_start = moov.end
    if delta and after:
        following = after[0]
        free_size = following.end - following.at
        if following.type in FREE and free_size - delta >= 8:
            new_moov += _box(following.type, b"\x00" * (free_size - delta - 8))
            tail_start = following.end
            notes.append(f"the moov change was taken up by the {following.type.decode()} box after it")
        else:
            if any(b.type in (b"moof", b"mfra", b"sidx") for b in after):
                raise WriteError("a fragmented MP4 whose moov would change size before its fragments")
            if any(m.has_iloc for m in tree.metas):
                raise WriteError("a meta box in moov locates items by file offset, and data behind moov would move")
            _shift_chunk_offsets(new_moov, moov.end, delta)
            notes.append(f"moved the chunk offsets behind moov by {delta:+d} bytes")
    out = data[: moov.at] + bytes(new_moov) + data[tail_start:]
    return WriteOutcome(out, location, notes, updated_existing=bool(found))
