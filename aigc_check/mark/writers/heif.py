"""HEIF, HEIC and AVIF: the label in the XMP item (ISO/IEC 23008-12, a ``mime`` item of content type
``application/rdf+xml``; TC260-PG-20259A points there).

An XMP item whose edited packet keeps its length (the packet's padding takes up the change, or
trailing white space after the XML fills it) is rewritten where its extents are, across every
extent, in the file or in ``idat``; nothing else changes.  Otherwise the packet goes into a new
``mdat`` box appended at the end of the file, and the top-level ``meta`` box is rebuilt: ``iloc``
written anew (the item's entry pointing at the new box; a new item gains an entry), ``iinf``
gaining the new item's ``infe`` and ``iref`` a ``cdsc`` reference from it to the primary item.
Since ``meta`` then changes size, every construction-method-0 extent that lies after it is moved
by the same amount (base offsets folded into the extents), so each image item still points at its
own, unchanged, bytes.  The bytes of a replaced packet are blanked (spaces): its old label is not
left behind.  Refused: a file with a top-level ``moov`` (an image sequence, whose sample tables
hold absolute offsets too), a ``meta`` or a last box with a 64-bit or open-ended size this does not
rewrite, and an item id or offset past what the boxes' versions can hold.  Written by hand:
python-exiv2 (libexiv2 0.28) reads HEIF/AVIF metadata but does not write it, and no other
well-kept Python library writes HEIF items without re-encoding.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from ...formats.bmff import XMP_CONTENT_TYPES
from ...limits import MAX_BOX_DEPTH, MAX_BOXES, MAX_METADATA_BLOCK
from ..label import LabelFields
from ..xmp_edit import has_label, set_label
from . import WriteError, WriteOutcome
from ._bmff import Box
from ._bmff import boxes as bmff_boxes
from ._common import label_value

XMP_MIME = b"application/rdf+xml"


def boxes(data: bytes, start: int, end: int) -> list[Box]:
    """The boxes in ``data[start:end]``, at most ``MAX_BOXES`` of them."""
    return bmff_boxes(data, start, end)[0]


@dataclass
class Location:
    item_id: int
    method: int
    data_reference: int
    base: int
    extents: list[tuple[int, int, int]]  # (index, offset, length)


@dataclass
class Iloc:
    version: int
    off_size: int
    len_size: int
    base_size: int
    index_size: int
    entries: list[Location] = field(default_factory=list)

    @classmethod
    def parse(cls, raw: bytes) -> Iloc:
        def uint(pos: int, size: int) -> tuple[int, int]:
            if size == 0:
                return 0, pos
            if pos + size > len(raw):
                raise WriteError("the iloc box is truncated")
            return int.from_bytes(raw[pos : pos + size], "big"), pos + size

        if len(raw) < 8:
            raise WriteError("the iloc box is too short")
        version = raw[0]
        if version > 2:
            raise WriteError(f"iloc version {version} is not known")
        iloc = cls(version, raw[4] >> 4, raw[4] & 15, raw[5] >> 4, raw[5] & 15 if version in (1, 2) else 0)
        for size in (iloc.off_size, iloc.len_size, iloc.base_size, iloc.index_size):
            if size > 8:  # the standard's sizes are 0, 4 and 8; smaller ones are read as the reader reads them
                raise WriteError(f"iloc field size {size} is over 8 bytes")
        count, pos = uint(6, 2 if version < 2 else 4)
        extents_seen = 0
        for _ in range(count):
            item_id, pos = uint(pos, 2 if version < 2 else 4)
            method = 0
            if version in (1, 2):
                method, pos = uint(pos, 2)
                method &= 15
            reference, pos = uint(pos, 2)
            base, pos = uint(pos, iloc.base_size)
            n, pos = uint(pos, 2)
            extents_seen += n
            if extents_seen > MAX_BOXES:
                raise WriteError(f"iloc declares more than {MAX_BOXES} extents")
            extents = []
            for _ in range(n):
                index, pos = uint(pos, iloc.index_size)
                offset, pos = uint(pos, iloc.off_size)
                length, pos = uint(pos, iloc.len_size)
                extents.append((index, offset, length))
            iloc.entries.append(Location(item_id, method, reference, base, extents))
        return iloc

    def serialise(self) -> bytes:
        id_size = 2 if self.version < 2 else 4
        out = bytearray(
            [self.version, 0, 0, 0, self.off_size << 4 | self.len_size, self.base_size << 4 | self.index_size]
        )
        out += len(self.entries).to_bytes(id_size, "big")
        for e in self.entries:
            out += e.item_id.to_bytes(id_size, "big")
            if self.version in (1, 2):
                out += e.method.to_bytes(2, "big")
            out += e.data_reference.to_bytes(2, "big") + e.base.to_bytes(self.base_size, "big")
            out += len(e.extents).to_bytes(2, "big")
            for index, offset, length in e.extents:
                out += index.to_bytes(self.index_size, "big") + offset.to_bytes(self.off_size, "big")
                out += length.to_bytes(self.len_size, "big")
        return _box(b"iloc", bytes(out))


def _box(kind: bytes, body: bytes) -> bytes:
    if len(body) + 8 > 0xFFFFFFFF:
        raise WriteError(f"a {kind.decode()} box over 4 GiB")
    return struct.pack(">I4s", len(body) + 8, kind) + body


def _items(data: bytes, iinf: Box) -> tuple[int, list[tuple[int, bytes, bytes]]]:
    """(iinf version, [(item id, item type, content type)])."""
    version = data[iinf.body]
    first = iinf.body + 4 + (2 if version == 0 else 4)
    items = []
    for infe in boxes(data, first, iinf.end):
        if infe.type != b"infe" or infe.end - infe.body < 8:
            continue
        raw = data[infe.body : infe.end]
        if raw[0] < 2:
            parts = raw[8:].split(b"\x00")
            items.append((int.from_bytes(raw[4:6], "big"), b"", parts[1] if len(parts) > 1 else b""))
            continue
        id_len = 4 if raw[0] == 3 else 2
        item_id = int.from_bytes(raw[4 : 4 + id_len], "big")
        item_type = raw[6 + id_len : 10 + id_len]
        rest = raw[10 + id_len :].split(b"\x00")
        items.append((item_id, item_type, rest[1] if item_type == b"mime" and len(rest) > 1 else b""))
    return version, items


def _spans(loc: Location, idat: Box | None, data_len: int) -> list[tuple[int, int]]:
    if loc.data_reference != 0:
        raise WriteError(f"item {loc.item_id} is in another file (data reference {loc.data_reference})")
    if loc.method == 1:
        if idat is None:
            raise WriteError(f"item {loc.item_id} is in idat, but meta has no idat")
        origin, limit = idat.body, idat.end
    elif loc.method == 0:
        origin, limit = 0, data_len
    else:
        raise WriteError(f"item {loc.item_id} lies in another item (construction method 2); not rewritten")
    out = []
    for _index, offset, length in loc.extents:
        at = origin + loc.base + offset
        if length == 0 or at + length > limit:
            raise WriteError(f"an extent of item {loc.item_id} is open-ended or outside its data")
        out.append((at, length))
    return out


def _fill(packet: bytes, length: int) -> bytes | None:
    """``packet`` made exactly ``length`` bytes with white space after the XML, or None."""
    if len(packet) > length:
        return None
    return packet + b" " * (length - len(packet))


def write(data: bytes, label: LabelFields) -> WriteOutcome:
    top = boxes(data, 0, len(data))
    if not top or top[0].type != b"ftyp":
        raise WriteError("not an ISO BMFF file (no ftyp box first)")
    if any(b.type == b"moov" for b in top):
        raise WriteError("an image sequence (moov box) is not rewritten by mark")
    metas = [b for b in top if b.type == b"meta"]
    if len(metas) != 1:
        raise WriteError(f"{len(metas)} top-level meta boxes; mark rewrites files with exactly one")
    meta = metas[0]
    if meta.body - meta.at != 8:
        raise WriteError("a meta box with a 64-bit size is not rewritten")
    children = boxes(data, meta.body + 4, meta.end)
    if len(children) > MAX_BOX_DEPTH * 64:
        raise WriteError("too many boxes in meta")
    by_type: dict[bytes, Box] = {}
    for child in children:
        by_type.setdefault(child.type, child)
    if b"iloc" not in by_type or b"iinf" not in by_type:
        raise WriteError("the meta box has no iloc or iinf")
    for kind in (b"iloc", b"iinf", b"iref", b"pitm"):
        if kind in by_type and by_type[kind].body - by_type[kind].at != 8:
            raise WriteError(f"a {kind.decode()} box with a 64-bit size is not rewritten")
    iloc = Iloc.parse(data[by_type[b"iloc"].body : by_type[b"iloc"].end])
    iinf_version, items = _items(data, by_type[b"iinf"])
    idat = by_type.get(b"idat")
    locations = {e.item_id: e for e in iloc.entries}
    value = label_value(label)
    notes: list[str] = []
    xmp_items = [i for i, _t, ct in items if ct in XMP_CONTENT_TYPES and i in locations]
    packets = {}
    for item_id in xmp_items:
        spans = _spans(locations[item_id], idat, len(data))
        if sum(n for _, n in spans) > MAX_METADATA_BLOCK:
            raise WriteError(f"XMP item {item_id} is over the size limit")
        packets[item_id] = (spans, b"".join(data[a : a + n] for a, n in spans))
    holders = [i for i in xmp_items if has_label(packets[i][1])]
    if len(holders) > 1:
        raise WriteError(f"labels in {len(holders)} XMP items; mark rewrites one")
    target = holders[0] if holders else (xmp_items[0] if xmp_items else None)
    out = bytearray(data)
    if target is not None:
        spans, packet = packets[target]
        edit = set_label(packet, value)
        filled = _fill(edit.packet, len(packet))
        if filled is not None:
            at = 0
            for start, n in spans:
                out[start : start + n] = filled[at : at + n]
                at += n
            where = f"item {target} extents" if len(spans) > 1 else f"item {target} at offset {spans[0][0]:#x}"
            return WriteOutcome(bytes(out), f"HEIF XMP {where}", notes, edit.updated)
        for start, n in spans:  # the old packet is not left behind
            out[start : start + n] = b" " * n
        notes.append(f"the grown XMP packet of item {target} was moved to a new mdat box at the end of the file")
        return _relocate(out, meta, children, iloc, by_type, target, edit.packet, None, notes, edit.updated)
    ids = [i for i, _t, _c in items] + [e.item_id for e in iloc.entries]
    new_id = max(ids, default=0) + 1
    if new_id > 0xFFFF and (iloc.version < 2 or iinf_version == 0):
        raise WriteError("no 16-bit item id is free for the XMP item")
    infe = _box(b"infe", bytes([2 if new_id <= 0xFFFF else 3, 0, 0, 0])
                + new_id.to_bytes(2 if new_id <= 0xFFFF else 4, "big")
                + b"\x00\x00mime" + b"XMP\x00" + XMP_MIME + b"\x00")  # fmt: skip
    notes.append(f"added XMP item {new_id} (mime application/rdf+xml)")
    return _relocate(out, meta, children, iloc, by_type, new_id, set_label(None, value).packet, infe, notes, False)


def _relocate(
    data: bytearray,
    meta: Box,
    children: list[Box],
    iloc: Iloc,
    by_type: dict[bytes, Box],
    item_id: int,
    packet: bytes,
    infe: bytes | None,
    notes: list[str],
    updated: bool,
) -> WriteOutcome:
    primary = None
    if b"pitm" in by_type:
        pitm = by_type[b"pitm"]
        raw = bytes(data[pitm.body : pitm.end])
        primary = int.from_bytes(raw[4:6] if raw[0] == 0 else raw[4:8], "big")
    last = boxes(bytes(data), 0, len(data))[-1]
    header = struct.unpack(">I", data[last.at : last.at + 4])[0]
    if last.type != b"meta" and header == 0:
        if last.end - last.at > 0xFFFFFFFF:
            raise WriteError("the last box runs to the end of the file and is over 4 GiB")
        data[last.at : last.at + 4] = struct.pack(">I", last.end - last.at)
    iloc.off_size = max(iloc.off_size, 4)
    iloc.len_size = max(iloc.len_size, 4)
    # Placeholder entry for the item, so the new iloc's size is known before the offsets are.
    entry = Location(item_id, 0, 0, 0, [(0, 0, len(packet))])
    entries = [e for e in iloc.entries if e.item_id != item_id] + [entry]
    iloc.entries = entries

    def rebuilt_meta() -> bytes:
        body = bytearray(data[meta.body : meta.body + 4])
        added_iref = False
        for child in children:
            raw = bytes(data[child.at : child.end])
            if child.type == b"iloc" and child is by_type[b"iloc"]:
                raw = iloc.serialise()
            elif child.type == b"iinf" and child is by_type[b"iinf"] and infe is not None:
                raw = _grow_iinf(raw, infe)
            elif child.type == b"iref" and child is by_type.get(b"iref") and infe is not None and primary:
                raw = _grow_iref(raw, item_id, primary)
                added_iref = True
            body += raw
        if infe is not None and primary and not added_iref:
            body += _iref(item_id, primary)
        return _box(b"meta", bytes(body))

    size = len(rebuilt_meta())  # the offsets below do not change the box's size (fixed-width fields)
    delta = size - (meta.end - meta.at)
    new_length = len(data) + delta
    if new_length + 8 + len(packet) > (1 << (8 * iloc.off_size)) - 1:
        raise WriteError("the new offsets do not fit the iloc's offset size")
    for e in iloc.entries:
        if e is entry or e.method != 0 or e.data_reference != 0:
            continue
        moved = []
        for index, offset, length in e.extents:
            absolute = e.base + offset
            moved.append((index, absolute + delta if absolute >= meta.end else absolute, length))
        e.base, e.extents = 0, moved
    entry.extents = [(0, new_length + 8, len(packet))]
    new_meta = rebuilt_meta()
    assert len(new_meta) == size
    out = bytes(data[: meta.at]) + new_meta + bytes(data[meta.end :]) + _box(b"mdat", packet)
    return WriteOutcome(out, f"HEIF XMP item {item_id} in mdat at offset {new_length:#x}", notes, updated)


def _grow_iinf(raw: bytes, infe: bytes) -> bytes:
    version = raw[8]
    width = 2 if version == 0 else 4
    count = int.from_bytes(raw[12 : 12 + width], "big") + 1
    if count >= 1 << (8 * width):
        raise WriteError("iinf cannot hold another item")
    return _box(b"iinf", raw[8:12] + count.to_bytes(width, "big") + raw[12 + width :] + infe)


def _iref(item_id: int, primary: int) -> bytes:
    wide = item_id > 0xFFFF or primary > 0xFFFF
    return _box(b"iref", bytes([1 if wide else 0, 0, 0, 0]) + _reference(item_id, primary, wide))


def _reference(item_id: int, primary: int, wide: bool) -> bytes:
    width = 4 if wide else 2
    return _box(b"cdsc", item_id.to_bytes(width, "big") + (1).to_bytes(2, "big") + primary.to_bytes(width, "big"))


def _grow_iref(raw: bytes, item_id: int, primary: int) -> bytes:
    wide = raw[8] == 1
    if not wide and (item_id > 0xFFFF or primary > 0xFFFF):
        raise WriteError("iref version 0 cannot name the new item")
    return _box(b"iref", raw[8:] + _reference(item_id, primary, wide))
