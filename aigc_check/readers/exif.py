"""EXIF (IFD0, Exif IFD, GPS): EXIF blobs are parsed by the bounded IFD parser
(``formats/ifd.py``, one bad entry skipped and reported, never the whole
block); TIFF containers hand over the entries already parsed.  piexif supplies
the tag names.

Text tags come out as ``str``; UserComment is decoded by its 8-byte charset
prefix; numbers keep piexif's shapes (ints, (num, den) tuples).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..formats.ifd import read_directories
from ..model import Block, Field
from ..source import ByteSource
from . import MetadataReader, PartialRead

IFDS = ("0th", "Exif", "GPS")
USER_COMMENT = 0x9286
MAKER_NOTE = 0x927C
XP_TAGS = {0x9C9B, 0x9C9C, 0x9C9D, 0x9C9E, 0x9C9F}  # Windows XPTitle..XPSubject, UTF-16LE
SKIP = {0x02BC, 0x8769, 0x8825, 0xA005, 0x927C}  # XMP (read elsewhere), IFD pointers, binary maker notes
MAKER_NOTE_TEXT_MAX = 256


class ExifReader(MetadataReader):
    family = "exif"
    kinds = ("exif",)

    def read_block(self, block: Block) -> Iterable[Field]:
        problems: list[str] = []
        limit_hit = False
        if block.entries is not None:
            entries = block.entries
        else:
            with ByteSource.open(block.data, block.location) as blob:
                dirs = read_directories(blob)
            entries, problems, limit_hit = dirs.entries, dirs.problems, dirs.limit_hit
        out = []
        for ifd in IFDS:
            for tag, value in (entries.get(ifd) or {}).items():
                name = _tag_name(ifd, tag)
                text = _maker_note(value) if tag == MAKER_NOTE else None
                if text is not None:
                    out.append(Field(self.family, name, text, block.location))
                elif tag not in SKIP:
                    out.append(Field(self.family, name, _decode(tag, value), block.location))
        if problems:
            raise PartialRead(
                out,
                "; ".join(problems[:5]),
                code="limit-exceeded" if limit_hit else "metadata-unreadable",
                fatal=limit_hit,
            )
        return out


def _tag_name(ifd: str, tag: int) -> str:
    names = _NAMES[ifd]
    name = names.get(tag)
    if name is None:
        name = _look_up_name(ifd, tag)
        if len(names) < _MAX_NAMES:  # tags come from files: keep what is remembered bounded
            names[tag] = name
    return name


def _look_up_name(ifd: str, tag: int) -> str:
    import piexif  # here, not at the top: a file without EXIF never needs its table

    info = piexif.TAGS.get(ifd if ifd != "1st" else "Image", {}).get(tag)
    if info is None and ifd == "0th":
        info = piexif.TAGS["Exif"].get(tag)  # some writers put Exif-IFD tags (UserComment) in IFD0
    return info["name"] if info else f"Tag0x{tag:04X}"


# Each IFD's tag names as looked up in piexif's table (two lookups and, for an unknown tag, a name
# made per field otherwise), remembered per process.
_NAMES: dict[str, dict[int, str]] = {ifd: {} for ifd in IFDS}
_MAX_NAMES = 65_536


def _decode(tag: int, value: Any) -> Any:
    if tag == USER_COMMENT and isinstance(value, bytes):
        return decode_user_comment(value)
    if tag in XP_TAGS:
        data = bytes(value) if isinstance(value, (tuple, list)) else value
        return data.decode("utf-16-le", "replace").rstrip("\x00")
    if isinstance(value, bytes):
        return _text(value)
    return value


def _maker_note(value: Any) -> str | None:
    """Short printable maker notes are text some generators write (Fooocus: ``fooocus``)."""
    if isinstance(value, bytes) and len(value) <= MAKER_NOTE_TEXT_MAX:
        text = _text(value)
        if text.isprintable():
            return text
    return None


def _text(data: bytes) -> str:
    data = data.rstrip(b"\x00")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def decode_user_comment(data: bytes) -> str:
    """Decode per the 8-byte character-code prefix (EXIF 2.32 table 9)."""
    code, body = data[:8], data[8:]
    if code.startswith(b"UNICODE"):
        # Byte order follows the TIFF header, which piexif does not report; A1111
        # writes big-endian. A leading NUL byte means the high byte comes first.
        enc = "utf-16-be" if body[:1] == b"\x00" or (len(body) > 1 and body[1:2] != b"\x00") else "utf-16-le"
        if body[:2] in (b"\xfe\xff", b"\xff\xfe"):
            enc = "utf-16"
        return body.decode(enc, "replace").rstrip("\x00")
    if code.startswith(b"ASCII") or code == b"\x00" * 8:
        return _text(body).strip()
    if code.startswith(b"JIS"):
        return body.decode("shift_jis", "replace").rstrip("\x00")
    return _text(data).strip()  # no prefix: some writers store plain text
