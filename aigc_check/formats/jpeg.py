"""JPEG: walk the marker segments up to the start of scan; never read scan data."""

from __future__ import annotations

import re
import struct

from ..errors import LimitExceededError, MediaError
from ..limits import MAX_METADATA_BLOCK, MAX_SEGMENTS
from ..model import Block, C2paMarker, Container, ReadError
from ..source import ByteSource
from . import FormatHandler, register
from .irb import unpack_irb

XMP_ID = b"http://ns.adobe.com/xap/1.0/\x00"
XMP_EXT_ID = b"http://ns.adobe.com/xmp/extension/\x00"
EXIF_ID = b"Exif\x00\x00"
# Markers without a length field: TEM, RST0-7, SOI, EOI.
STANDALONE = {0x01, 0xD8, 0xD9} | set(range(0xD0, 0xD8))
SOS, EOI = 0xDA, 0xD9
TRAILER_SCAN = 64 * 1024


def _accept(head: bytes) -> bool:
    return head[:3] == b"\xff\xd8\xff"


def _where(marker: int, offset: int, what: str = "") -> str:
    name = f"APP{marker - 0xE0}" if 0xE0 <= marker <= 0xEF else ("COM" if marker == 0xFE else f"marker 0x{marker:02X}")
    return f"JPEG {name}{' (' + what + ')' if what else ''} at offset {offset:#x}"


def walk(src: ByteSource, c: Container) -> None:
    extended_xmp = ExtendedXmp()
    try:
        _walk_segments(src, c, extended_xmp)
    finally:
        extended_xmp.finish(c)


# A marker and the length after it, parsed where they lie in the head.
_MARKER_AND_LENGTH = struct.Struct(">BBH")


def _walk_segments(src: ByteSource, c: Container, extended_xmp: ExtendedXmp) -> None:
    # A segment header inside the head (nearly all of them: the tables and metadata come before
    # the image data) is unpacked where it lies; one nearer the head's end than four bytes is read
    # through the source, as before, so what is read past the head, its count and the errors for a
    # file cut inside a header are the same.
    head = src.head
    header_in_head = len(head) - 4
    pos = 2
    for _ in range(MAX_SEGMENTS):
        length = -1
        if pos <= header_in_head:
            first, marker, length = _MARKER_AND_LENGTH.unpack_from(head, pos)
        else:
            first, marker = src.read_exact(pos, 2, "a JPEG marker")
        if first != 0xFF:
            raise MediaError(f"expected a JPEG marker, found byte 0x{first:02X}", f"offset {pos:#x}")
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in STANDALONE:
            if marker == EOI:
                return
            pos += 2
            continue
        if length < 0:
            (length,) = struct.unpack(">H", src.read_exact(pos + 2, 2, "a segment length"))
        if length < 2:
            raise MediaError(f"segment length {length} is too small", f"offset {pos:#x}")
        payload_at, payload_len = pos + 4, length - 2
        if payload_at + payload_len > src.size:
            raise MediaError("a segment runs past the end of the file", _where(marker, pos))
        if marker == SOS:
            _check_end_of_image(src, c)
            return
        if marker == APP13 and _is_photoshop(src, payload_at, payload_len):
            pos = _read_photoshop(src, c, pos)  # the Photoshop IRB, with the APP13 segments continuing it
            continue
        if 0xE0 <= marker <= 0xEF or marker == 0xFE:
            _read_segment(src, c, marker, pos, payload_at, payload_len, extended_xmp)
        pos = payload_at + payload_len
    raise LimitExceededError(f"more than {MAX_SEGMENTS} JPEG segments before the image data")


def _read_segment(
    src: ByteSource, c: Container, marker: int, pos: int, at: int, n: int, extended_xmp: ExtendedXmp
) -> None:
    probe = src.read(at, min(n, 64))
    if marker == 0xE1 and probe.startswith(EXIF_ID):
        c.blocks.append(Block("exif", _where(marker, pos, "EXIF"), _payload(src, at, n)[len(EXIF_ID) :]))
    elif marker == 0xE1 and probe.startswith(XMP_ID[:20]) and _payload(src, at, min(n, len(XMP_ID))) == XMP_ID:
        packet = _payload(src, at, n)[len(XMP_ID) :]
        c.blocks.append(Block("xmp", _where(marker, pos, "XMP"), packet))
        extended_xmp.main(packet, _where(marker, pos, "XMP"))
    elif marker == 0xE1 and probe.startswith(XMP_EXT_ID[:20]):
        extended_xmp.part(_payload(src, at, n)[len(XMP_EXT_ID) :], pos, c)
    elif marker == 0xEB and probe[:2] == b"JP":
        # JUMBF; C2PA stores may span several APP11 segments, the first one names the store.
        if b"c2pa" in probe and c.c2pa is None:
            c.c2pa = C2paMarker(_where(marker, pos, "JUMBF c2pa manifest store"))
    elif marker == 0xFE:
        c.blocks.append(Block("comment", _where(marker, pos), _payload(src, at, n), key="COM"))
    elif b"AIGC" in probe:
        # Some generators glue a bare ``AIGC{...}`` label into an otherwise unused APP segment.
        c.blocks.append(
            Block("comment", _where(marker, pos, "unregistered"), _payload(src, at, n), key=f"APP{marker - 0xE0}")
        )


def _payload(src: ByteSource, at: int, n: int) -> bytes:
    if n > MAX_METADATA_BLOCK:
        raise LimitExceededError(f"metadata segment of {n} bytes is over the limit", f"offset {at:#x}")
    return src.read_exact(at, n, "a metadata segment")


# xmpNote:HasExtendedXMP in the main packet, as attribute or element: the GUID of the extended part.
_HAS_EXTENDED = re.compile(rb"HasExtendedXMP\s{0,64}(?:=\s{0,64}[\"']|>)\s{0,64}([0-9A-Fa-f]{32})")


class ExtendedXmp:
    """JPEG Extended XMP (XMP part 3, 1.1.3.1): a packet too large for one APP1 segment is split into
    the main XMP, which names the rest by ``xmpNote:HasExtendedXMP`` (a GUID: the MD5 digest of the
    extended serialisation, 32 hex digits), and APP1 segments holding the GUID, the full length, the
    offset of their portion and the portion, in any order.  Each GUID's portions are put together by
    offset and checked (complete, MD5 equal to the GUID, named by the main XMP); a part that fails is
    still read, since a label in it is still a label, and the failure is reported.  Written by hand:
    no library in the ecosystem reads Extended XMP (Pillow keeps only the main packet)."""

    def __init__(self) -> None:
        self.named: str | None = None  # the GUID the main XMP names
        self.named_where = ""
        self.parts: dict[str, tuple[int, int, dict[int, bytes]]] = {}  # GUID -> (full length, at, portions)
        self.total = 0

    def main(self, packet: bytes, where: str) -> None:
        m = _HAS_EXTENDED.search(packet)
        if m:  # the last main XMP counts, as for exiftool
            self.named, self.named_where = m.group(1).decode("ascii").upper(), where

    def part(self, data: bytes, pos: int, c: Container) -> None:
        where = _where(0xE1, pos, "extended XMP")
        if len(data) < 40:
            c.errors.append(ReadError("metadata-unreadable", "extended XMP segment too short for its header", where))
            return
        guid = data[:32].decode("latin-1").upper()
        size, offset = struct.unpack(">II", data[32:40])
        self.total += len(data) - 40
        if size > MAX_METADATA_BLOCK or self.total > MAX_METADATA_BLOCK:
            raise LimitExceededError(f"extended XMP of more than {MAX_METADATA_BLOCK} bytes is over the limit", where)
        known_size, _at, portions = self.parts.setdefault(guid, (size, pos, {}))
        if size != known_size:
            c.errors.append(
                ReadError(
                    "metadata-unreadable",
                    f"extended XMP {guid}: this segment gives the full length as {size}, "
                    f"an earlier one as {known_size}",
                    where,
                )
            )
        portions.setdefault(offset, data[40:])

    def finish(self, c: Container) -> None:
        for guid, (size, at, portions) in self.parts.items():
            where = f"JPEG APP1 (extended XMP {guid}) at offset {at:#x}"
            data, complete = _assemble(portions, size)
            if not complete:
                c.errors.append(
                    ReadError(
                        "metadata-unreadable",
                        f"extended XMP {guid} is incomplete or its portions overlap: {len(data)} bytes "
                        f"of the {size} its segments announce; read as far as it goes",
                        where,
                    )
                )
            else:
                import hashlib  # here: only extended XMP needs it, and OpenSSL's import is a few ms

                digest = hashlib.md5(data, usedforsecurity=False).hexdigest().upper()
                if digest != guid:
                    c.errors.append(
                        ReadError(
                            "crc-mismatch",
                            f"extended XMP {guid}: its MD5 digest is {digest}, not its GUID; it was changed or "
                            "damaged after it was written (read anyway, not trusted silently)",
                            where,
                        )
                    )
            if self.named != guid:
                named = f"the main XMP names {self.named}" if self.named else "no main XMP names it (HasExtendedXMP)"
                c.errors.append(
                    ReadError(
                        "metadata-unreadable",
                        f"extended XMP {guid} is not the main XMP's extension: {named}; read anyway",
                        where,
                    )
                )
            c.blocks.append(Block("xmp", where, data))
        if self.named and self.named not in self.parts:
            c.errors.append(
                ReadError(
                    "metadata-unreadable",
                    f"the main XMP names extended XMP {self.named} (HasExtendedXMP), but the file holds none: "
                    "part of the XMP is missing",
                    self.named_where,
                )
            )


def _assemble(portions: dict[int, bytes], size: int) -> tuple[bytes, bool]:
    """The portions joined in offset order, and whether they tile exactly ``size`` bytes from 0."""
    expected, parts, complete = 0, [], True
    for offset in sorted(portions):
        piece = portions[offset]
        if offset != expected:
            complete = False
        parts.append(piece)
        expected = offset + len(piece)
    data = b"".join(parts)
    return data, complete and expected == size and len(data) == size


def _check_end_of_image(src: ByteSource, c: Container) -> None:
    """A JPEG cut short loses its end-of-image marker; trailers after it are allowed, so the marker
    is looked for in the last ``TRAILER_SCAN`` bytes.  One bounded read (none when the file fits
    in the head already read), searched from the end, where the marker nearly always is: the old
    forward search copied the tail and then scanned the whole of it."""
    tail_at = max(0, src.size - TRAILER_SCAN)
    if src.find_last(b"\xff\xd9", tail_at, src.size) < 0:
        c.errors.append(
            ReadError(
                "truncated", "the JPEG has no end-of-image marker: the file was cut short", "end of file", fatal=True
            )
        )


APP13, PHOTOSHOP_ID = 0xED, b"Photoshop 3.0\x00"


def _is_photoshop(src: ByteSource, at: int, n: int) -> bool:
    return n >= len(PHOTOSHOP_ID) and src.read(at, len(PHOTOSHOP_ID)) == PHOTOSHOP_ID


def _read_photoshop(src: ByteSource, c: Container, pos: int) -> int:
    """The Photoshop IRB (IPTC IIM in resource 0x0404, ``formats/irb.py``) of the APP13 segment at
    ``pos``; returns where the next segment starts.  An IRB over 64 KB goes on in the APP13
    ``Photoshop 3.0`` segments right after, split anywhere (even inside a resource): those are
    joined, as Photoshop and exiftool read them."""
    first, parts, total = pos, [], 0
    for _ in range(MAX_SEGMENTS):
        head = src.read(pos, 4 + len(PHOTOSHOP_ID))
        if head[:2] != b"\xff\xed" or head[4:] != PHOTOSHOP_ID:
            break
        (length,) = struct.unpack(">H", head[2:4])
        at, n = pos + 4 + len(PHOTOSHOP_ID), length - 2 - len(PHOTOSHOP_ID)
        if n < 0 or at + n > src.size:
            break  # the segment loop reports it
        total += n
        if total > MAX_METADATA_BLOCK:
            raise LimitExceededError(f"Photoshop IRB of over {MAX_METADATA_BLOCK} bytes", _where(APP13, first))
        parts.append(src.read_exact(at, n, "a Photoshop APP13 segment"))
        pos = at + n
    else:
        raise LimitExceededError(f"more than {MAX_SEGMENTS} JPEG segments before the image data")
    what = "Photoshop IRB" + (f", {len(parts)} segments" if len(parts) > 1 else "")
    unpack_irb(c, b"".join(parts), _where(APP13, first, what))
    return pos


register(FormatHandler("jpeg", "image/jpeg", _accept, walk))
