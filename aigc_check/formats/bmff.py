"""ISO BMFF (HEIF, AVIF, MP4, MOV, M4A): walk boxes without reading media data.

Reads the C2PA and XMP ``uuid`` boxes; the Exif and XMP items named in a
``meta`` box's ``iinf`` and located by its ``iloc`` (HEIF/AVIF images, and
``meta`` under ``moov`` or ``trak``), with every construction method (0: file
offsets, 1: offsets in the meta's ``idat``, 2: offsets in another item named by
an ``iref`` 'iloc' reference) and any number of extents, joined in order
(ISO/IEC 14496-12 §8.11.3, 23008-12); for video and audio,
the ``meta`` item list (``ilst``) with its ``keys`` (the GB 45438 ``AIGC``
label is an ``mdta`` key, which mutagen does not resolve), classic iTunes
atoms (``©too``, ``©cmt``, ``desc``) and QuickTime ``udta`` strings and
``XMP_``.  ``mdat`` is skipped by its size.  The walk is bounded in depth and
box count.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

from ..errors import LimitExceededError, MediaError, TruncatedError
from ..limits import MAX_BOX_DEPTH, MAX_BOXES, MAX_METADATA_BLOCK
from ..model import Block, C2paMarker, Container, ReadError
from ..source import ByteSource
from . import FormatHandler, register

C2PA_UUID = bytes.fromhex("d8fec3d61b0e483c92975828877ec481")
XMP_UUID = bytes.fromhex("be7acfcb97a942e89c71999491e3afac")
# Boxes whose payload is only child boxes, walked in search of metadata.
CONTAINER_BOXES = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts", b"dinf", b"moof", b"traf"}
IMAGE_BRANDS = {
    b"avif": "image/avif",
    b"avis": "image/avif",
    b"heic": "image/heic",
    b"heix": "image/heic",
    b"heim": "image/heic",
    b"heis": "image/heic",
    b"mif1": "image/heif",
    b"msf1": "image/heif",
}
VIDEO_BRANDS = {b"qt  ": "video/quicktime", b"M4A ": "audio/mp4", b"M4B ": "audio/mp4"}
# ilst items that hold pictures or binary state, not provenance text.
SKIPPED_ITEMS = {b"covr", b"trkn", b"disk", b"tmpo", b"cpil", b"pgap", b"stik", b"rtng", b"hdvd"}
TEXT_DATA_TYPES = {0, 1}  # implicit (treated as UTF-8 text when it decodes) and UTF-8
XMP_CONTENT_TYPES = {b"application/rdf+xml", b"application/xmp+xml"}
MAX_EXTENTS = 4096  # pieces one item's data may be made of, references followed
MAX_REFERENCE_DEPTH = 8  # items located inside items (construction method 2)


# 3GPP asset-information boxes holding one string (TS 26.244 8.2): description, title, author,
# performer, genre, copyright, album. ffmpeg's 3GP muxer and some phone cameras write them.
GPP_STRINGS = frozenset({b"dscp", b"titl", b"auth", b"perf", b"gnre", b"cprt", b"albm"})


@dataclass
class Box:
    type: bytes
    at: int  # header offset
    body: int  # payload offset
    end: int  # offset after the box


@dataclass
class ItemLocation:
    """One ``iloc`` entry."""

    method: int  # construction method: 0 file offset, 1 idat offset, 2 item offset
    data_reference: int  # 0: this file
    base: int
    extents: list[tuple[int, int, int]]  # (extent index, offset, length); length 0: to the end


class _Items:
    """Where the bytes of one ``meta`` box's items are: each item resolves to spans of the file.

    The ``idat`` box and the items an item points into are parts of the same file, so every
    construction method ends as (file offset, length) spans, read only for the items wanted."""

    def __init__(
        self, size: int, locations: dict[int, ItemLocation], idat: Box | None, refs: dict[int, list[int]]
    ) -> None:
        self.size, self.locations, self.idat, self.refs = size, locations, idat, refs
        self._spans: dict[int, list[tuple[int, int]]] = {}

    def spans(self, item_id: int, depth: int = 0) -> list[tuple[int, int]]:
        known = self._spans.get(item_id)
        if known is not None:
            return known
        if depth > MAX_REFERENCE_DEPTH:
            raise LimitExceededError(f"items located inside items more than {MAX_REFERENCE_DEPTH} deep")
        loc = self.locations.get(item_id)
        if loc is None:
            raise MediaError(f"item {item_id} has no iloc entry")
        if loc.data_reference:
            raise MediaError(f"item {item_id} is stored in another file (data reference {loc.data_reference})")
        out: list[tuple[int, int]] = []
        for index, offset, length in loc.extents:
            start = loc.base + offset
            if loc.method == 0:
                out += _cut([(0, self.size)], start, length, "the file", TruncatedError)
            elif loc.method == 1:
                if self.idat is None:
                    raise MediaError(f"item {item_id} is in idat, but its meta box has no idat")
                out += _cut([(self.idat.body, self.idat.end - self.idat.body)], start, length, "idat", MediaError)
            elif loc.method == 2:
                targets = self.refs.get(item_id, [])
                if not 1 <= index <= len(targets):
                    raise MediaError(f"item {item_id} extent index {index} names none of its iref 'iloc' references")
                target = targets[index - 1]
                out += _cut(self.spans(target, depth + 1), start, length, f"item {target}", MediaError)
            else:
                raise MediaError(f"item {item_id} has construction method {loc.method}, which ISO BMFF does not define")
            if len(out) > MAX_EXTENTS:
                raise LimitExceededError(f"item {item_id} is made of more than {MAX_EXTENTS} pieces")
        self._spans[item_id] = out
        return out


def _cut(
    spans: list[tuple[int, int]], start: int, length: int, what: str, error: type[MediaError]
) -> list[tuple[int, int]]:
    """The part of the data made of ``spans`` from ``start``, ``length`` bytes (0: to its end)."""
    total = sum(n for _, n in spans)
    if length == 0:
        length = total - start
    if start < 0 or length < 0 or start + length > total:
        raise error(f"item extent ({start} + {length} bytes) runs past the end of {what} ({total} bytes)")
    out = []
    for at, n in spans:
        if start >= n:
            start -= n
            continue
        take = min(n - start, length)
        out.append((at + start, take))
        length -= take
        start = 0
        if not length:
            break
    return out


def _accept(head: bytes) -> bool:
    return head[4:8] == b"ftyp"


def media_type_for(head: bytes) -> tuple[str, str]:
    """(format, media type) from the ftyp major and compatible brands."""
    size = int.from_bytes(head[0:4], "big")
    brands = [head[8:12]] + [head[i : i + 4] for i in range(16, min(size, len(head), 256), 4)]
    for brand in brands:
        if brand in IMAGE_BRANDS:
            mt = IMAGE_BRANDS[brand]
            return mt.split("/")[1], mt
    for brand in brands:
        if brand in VIDEO_BRANDS:
            mt = VIDEO_BRANDS[brand]
            return ("mov" if brand == b"qt  " else "m4a"), mt
    return "mp4", "video/mp4"


class _Walk:
    def __init__(self, src: ByteSource, c: Container) -> None:
        self.src, self.c, self.count = src, c, 0
        self.top_level: set[bytes] = set()

    def boxes(self, start: int, end: int) -> Iterator[Box]:
        pos = start
        while pos + 8 <= end:
            self.count += 1
            if self.count > MAX_BOXES:
                raise LimitExceededError(f"more than {MAX_BOXES} boxes")
            size, btype = struct.unpack(">I4s", self.src.read_exact(pos, 8, "a box header"))
            body = pos + 8
            if size == 1:
                size = struct.unpack(">Q", self.src.read_exact(pos + 8, 8, "a box size"))[0]
                body += 8
            elif size == 0:  # box runs to the end of the enclosing space
                size = end - pos
            if size < body - pos or pos + size > end:
                raise MediaError(
                    f"box {btype!r} claims {size} bytes, more than its container holds", f"offset {pos:#x}"
                )
            yield Box(btype, pos, body, pos + size)
            pos += size
        if end - pos and start == 0:  # only at the top level: QuickTime allows short padding inside udta
            raise TruncatedError(f"the file ends inside a box header ({end - pos} bytes left)", f"offset {pos:#x}")

    def run(self, start: int, end: int, depth: int = 0) -> None:
        if depth > MAX_BOX_DEPTH:
            raise LimitExceededError(f"boxes nested more than {MAX_BOX_DEPTH} deep")
        for box in self.boxes(start, end):
            if depth == 0:
                self.top_level.add(box.type)
            if box.type == b"uuid":
                self.uuid(box)
            elif box.type == b"meta":
                self.meta(box, depth)
            elif box.type == b"udta":
                self.user_data(box, depth)
            elif box.type in CONTAINER_BOXES:
                self.run(box.body, box.end, depth + 1)

    def uuid(self, box: Box) -> None:
        usertype = self.src.read_exact(box.body, 16, "a uuid box")
        where = f"BMFF uuid box at offset {box.at:#x}"
        if usertype == C2PA_UUID:
            self.c.c2pa = self.c.c2pa or C2paMarker(where + " (C2PA)")
        elif usertype == XMP_UUID:
            self.c.blocks.append(Block("xmp", where + " (XMP)", self._payload(box.body + 16, box.end)))

    def _payload(self, start: int, end: int) -> bytes:
        if end - start > MAX_METADATA_BLOCK:
            raise LimitExceededError(f"metadata box of {end - start} bytes is over the limit", f"offset {start:#x}")
        return self.src.read_exact(start, end - start, "a metadata box")

    def user_data(self, box: Box, depth: int) -> None:
        """``udta``: QuickTime ``©xxx`` strings, 3GPP asset strings, ``XMP_``, and ``meta`` below."""
        for child in self.boxes(box.body, box.end):
            where = f"BMFF udta/{_name(child.type)} at offset {child.at:#x}"
            if child.type == b"meta":
                self.meta(child, depth + 1)
            elif child.type == b"XMP_":
                self.c.blocks.append(Block("xmp", where + " (XMP)", self._payload(child.body, child.end)))
            elif child.type[0] == 0xA9:
                self._quicktime_strings(child, where)
            elif child.type in GPP_STRINGS:
                self._gpp_string(child, where)
            elif child.type == b"uuid":
                self.uuid(child)

    def _gpp_string(self, box: Box, where: str) -> None:
        """A 3GPP asset-information box (TS 26.244: ``dscp``, ``titl``, ``auth`` ...): a full box's
        version and flags, a packed language code, then a UTF-8 or UTF-16 (with BOM) string."""
        raw = self._payload(box.body, box.end)
        if len(raw) < 6:
            return
        text = raw[6:]
        if text.startswith((b"\xfe\xff", b"\xff\xfe")):
            decoded = text.decode("utf-16", "replace").split("\x00", 1)[0]
        else:
            decoded = _text(text.split(b"\x00", 1)[0])
        if decoded:
            self._tag(_name(box.type), decoded, where)

    def _quicktime_strings(self, box: Box, where: str) -> None:
        """A QuickTime user-data text atom: (16-bit length, 16-bit language, text) records."""
        raw = self._payload(box.body, box.end)
        pos = 0
        while pos + 4 <= len(raw):
            n = int.from_bytes(raw[pos : pos + 2], "big")
            text = raw[pos + 4 : pos + 4 + n]
            if text:
                self._tag(_name(box.type), _text(text), where)
            pos += 4 + n

    def _tag(self, key: str, text: str, where: str) -> None:
        self.c.blocks.append(Block("tag", where, key=key, text=text, family="mp4"))

    def meta(self, box: Box, depth: int) -> None:
        items: dict[int, tuple[str, str]] = {}  # item id -> (kind, description)
        locations: dict[int, ItemLocation] = {}
        refs: dict[int, list[int]] = {}
        idat: Box | None = None
        keys: list[str] = []
        item_lists: list[Box] = []
        # ISO meta is a full box (version/flags first); QuickTime's is not, and starts with hdlr.
        first = box.body if self.src.read(box.body + 4, 4) == b"hdlr" else box.body + 4
        for child in self.boxes(first, box.end):
            if child.type == b"iinf":
                items = self._item_info(child)
            elif child.type == b"iloc":
                locations = self._item_locations(child)
            elif child.type == b"iref":
                refs = self._item_references(child)
            elif child.type == b"idat":
                idat = idat or child
            elif child.type == b"keys":
                keys = self._keys(child)
            elif child.type == b"ilst":
                item_lists.append(child)
            elif child.type in CONTAINER_BOXES:
                self.run(child.body, child.end, depth + 1)
        for ilst in item_lists:  # after the loop: keys may follow ilst
            self._item_list(ilst, keys)
        located = _Items(self.src.size, locations, idat, refs)
        for item_id, (kind, where) in items.items():
            if item_id not in locations:
                continue
            try:
                data = self._item_data(located, item_id)
            except MediaError as exc:
                # One item that cannot be read hides neither the others nor the rest of the file; one
                # outside the file (a cut file) or over a bound may hide a label, so it is fatal.
                fatal = isinstance(exc, (TruncatedError, LimitExceededError))
                self.c.errors.append(ReadError(exc.code, f"{where}: {exc}", where, fatal=fatal))
                continue
            if kind == "exif" and len(data) >= 4:
                skip = 4 + int.from_bytes(data[:4], "big")
                tiff = data[skip:]
                self.c.blocks.append(Block("exif", where, tiff[6:] if tiff.startswith(b"Exif\x00\x00") else tiff))
            elif kind == "xmp":
                self.c.blocks.append(Block("xmp", where, data))

    def _item_data(self, located: _Items, item_id: int) -> bytes:
        spans = located.spans(item_id)
        total = sum(n for _, n in spans)
        if total > MAX_METADATA_BLOCK:
            raise LimitExceededError(f"item of {total} bytes is over the limit")
        return b"".join(self.src.read_exact(at, n, "an item") for at, n in spans)

    def _item_references(self, box: Box) -> dict[int, list[int]]:
        """``iref``: the 'iloc' references (the items a construction-method-2 item lies in)."""
        id_size = 2 if self.src.read_exact(box.body, 1, "iref")[0] == 0 else 4
        refs: dict[int, list[int]] = {}
        for ref in self.boxes(box.body + 4, box.end):
            if ref.type != b"iloc":
                continue
            raw = self._payload(ref.body, ref.end)
            from_id, pos = _uint(raw, 0, id_size)
            count, pos = _uint(raw, pos, 2)
            targets = []
            for _ in range(count):
                target, pos = _uint(raw, pos, id_size)
                targets.append(target)
            refs[from_id] = targets
        return refs

    def _keys(self, box: Box) -> list[str]:
        """``keys``: version/flags, count, then (size, namespace, name) entries."""
        names = []
        for entry in self.boxes(box.body + 8, box.end):  # entries are shaped like boxes
            names.append(_text(self._payload(entry.body, entry.end)))
        return names

    def _item_list(self, box: Box, keys: list[str]) -> None:
        for item in self.boxes(box.body, box.end):
            if item.type in SKIPPED_ITEMS:
                continue
            index = int.from_bytes(item.type, "big")
            key = keys[index - 1] if keys and 0 < index <= len(keys) else _name(item.type)
            where = f"BMFF meta/ilst item '{key}' at offset {item.at:#x}"
            values = []
            for part in self.boxes(item.body, item.end):
                if part.type == b"name" and item.type == b"----":  # freeform item: named by its name box
                    key = _text(self._payload(part.body + 4, part.end))
                    where = f"BMFF meta/ilst freeform item '{key}' at offset {item.at:#x}"
                elif part.type == b"data" and part.end - part.body >= 8:
                    head = self.src.read_exact(part.body, 8, "an ilst data box")
                    data_type = int.from_bytes(head[1:4], "big")
                    if data_type in TEXT_DATA_TYPES:
                        values.append(_text(self._payload(part.body + 8, part.end)))
                    elif data_type == 2:
                        values.append(self._payload(part.body + 8, part.end).decode("utf-16-be", "replace"))
            for value in values:
                self._tag(key, value, where)

    def _item_info(self, box: Box) -> dict[int, tuple[str, str]]:
        version = self.src.read_exact(box.body, 1, "iinf")[0]
        first = box.body + 4 + (2 if version == 0 else 4)
        found = {}
        for infe in self.boxes(first, box.end):
            if infe.type != b"infe":
                continue
            raw = self.src.read_exact(infe.body, min(infe.end - infe.body, 512), "infe")
            if len(raw) >= 8 and raw[0] < 2:  # versions 0 and 1: id, protection index, name, content type
                item_id = int.from_bytes(raw[4:6], "big")
                parts = raw[8:].split(b"\x00")
                if len(parts) > 1 and parts[1] in XMP_CONTENT_TYPES:
                    found[item_id] = ("xmp", f"HEIF item {item_id} (XMP) in meta at offset {infe.at:#x}")
                continue
            if len(raw) < 12:
                continue
            id_len = 4 if raw[0] == 3 else 2
            item_id = int.from_bytes(raw[4 : 4 + id_len], "big")
            item_type = raw[6 + id_len : 10 + id_len]
            rest = raw[10 + id_len :].split(b"\x00")
            where = f"HEIF item {item_id} ({item_type.decode('latin-1')}) in meta at offset {infe.at:#x}"
            if item_type == b"Exif":
                found[item_id] = ("exif", where)
            elif item_type == b"mime" and len(rest) > 1 and rest[1] in XMP_CONTENT_TYPES:
                found[item_id] = ("xmp", where)
        return found

    def _item_locations(self, box: Box) -> dict[int, ItemLocation]:
        raw = self.src.read_exact(box.body, min(box.end - box.body, 1 << 20), "iloc")
        if len(raw) < 8:
            raise MediaError(f"iloc box of {len(raw)} bytes is too short", f"offset {box.at:#x}")
        version = raw[0]
        off_size, len_size = raw[4] >> 4, raw[4] & 15
        base_size, index_size = raw[5] >> 4, (raw[5] & 15 if version in (1, 2) else 0)
        pos = 6
        count, pos = _uint(raw, pos, 2 if version < 2 else 4)
        out: dict[int, ItemLocation] = {}
        extents_seen = 0
        for _ in range(count):
            item_id, pos = _uint(raw, pos, 2 if version < 2 else 4)
            method = 0
            if version in (1, 2):
                method, pos = _uint(raw, pos, 2)
                method &= 15
            data_reference, pos = _uint(raw, pos, 2)
            base, pos = _uint(raw, pos, base_size)
            extent_count, pos = _uint(raw, pos, 2)
            extents_seen += extent_count
            if extents_seen > MAX_BOXES:  # sizes of 0 bytes make extents free to declare: bound them
                raise LimitExceededError(f"iloc declares more than {MAX_BOXES} extents", f"offset {box.at:#x}")
            extents = []
            for _ in range(extent_count):
                index, pos = _uint(raw, pos, index_size)
                off, pos = _uint(raw, pos, off_size)
                n, pos = _uint(raw, pos, len_size)
                extents.append((index if index_size else 1, off, n))
            out[item_id] = ItemLocation(method, data_reference, base, extents)
        return out


def _name(box_type: bytes) -> str:
    return box_type.decode("latin-1")  # b"\xa9too" -> "©too", as iTunes and exiftool name it


def _text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8").rstrip("\x00")
    except UnicodeDecodeError:
        return raw.decode("latin-1").rstrip("\x00")


def _uint(raw: bytes, pos: int, size: int) -> tuple[int, int]:
    if size == 0:
        return 0, pos
    if pos + size > len(raw):
        raise MediaError("iloc box is truncated")
    return int.from_bytes(raw[pos : pos + size], "big"), pos + size


def walk(src: ByteSource, c: Container) -> None:
    c.format, c.media_type = media_type_for(src.head)
    w = _Walk(src, c)
    w.run(0, src.size)
    required = b"meta" if c.media_type.startswith("image/") else b"moov"
    if required not in w.top_level:
        raise TruncatedError(
            f"no {required.decode()} box: the file is cut or is not a complete {c.format.upper()} file", "top level"
        )


register(FormatHandler("bmff", "video/mp4", _accept, walk))
