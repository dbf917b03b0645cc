"""PNG: walk every chunk header to IEND; read only text, EXIF and C2PA chunks.

Metadata may sit after the image data (signals research, pitfall "late
placement"), so the walk does not stop at IDAT; it seeks past it instead.
``eXIf`` holds TIFF data; the ``Exif\0\0`` prefix some writers copy from JPEG
is dropped.  Bytes after IEND are never silently dropped: they are reported as
a ``trailing-data`` finding with their size, and read as well, as chunks when
they are chunks (tools that append a text chunk to a finished file) or as one
free-text ``comment`` block (``comment/trailing-data``) when they are text or
name ``AIGC``, so a label or generator text hidden there is judged.
"""

from __future__ import annotations

import struct
import zlib

from ..errors import LimitExceededError, MediaError, TruncatedError
from ..limits import MAX_BLOCKS, MAX_CHUNKS, MAX_METADATA_BLOCK
from ..model import Block, C2paMarker, Container, Finding, ReadError
from ..source import ByteSource
from . import FormatHandler, register
from ._inflate import inflate

SIGNATURE = b"\x89PNG\r\n\x1a\n"
XMP_KEYWORD = "XML:com.adobe.xmp"
TEXT_CHUNKS = {b"tEXt", b"zTXt", b"iTXt"}
EXIF_PREFIX = b"Exif\x00\x00"
MAX_TRAILING_READ = 1024 * 1024  # text after IEND read as one field; the finding gives the full size
TRAILING_PROBE = 4096  # bytes of other data after IEND searched for a label
_CHUNK_HEADER = struct.Struct(">I4s")


def _accept(head: bytes) -> bool:
    return head[:8] == SIGNATURE


def walk(src: ByteSource, c: Container) -> None:
    end = _chunks(src, c, 8, after_iend=False)
    if end < src.size:
        _trailing(src, c, end)


def _chunks(src: ByteSource, c: Container, pos: int, after_iend: bool) -> int:
    """Read the chunks from ``pos`` to IEND (or, after IEND, to the end of the file); return the
    offset after the last one."""
    # A chunk header inside the head is unpacked where it lies; one past it is read through the
    # source, as before, so what is read past the head and its count are the same.
    head = src.head
    header_in_head = len(head) - 8
    for _ in range(MAX_CHUNKS):
        if after_iend and not _looks_like_chunk(src.read(pos, 8)):
            return pos  # the end of the file, or bytes that are not a chunk: read as text by the caller
        if pos <= header_in_head:
            length, ctype = _CHUNK_HEADER.unpack_from(head, pos)
        else:
            length, ctype = _CHUNK_HEADER.unpack(src.read_exact(pos, 8, "a PNG chunk header"))
        data_at = pos + 8
        if data_at + length + 4 > src.size:
            # After IEND a chunk that runs past the end was cut with the file: a truncated file.
            error = TruncatedError if after_iend else MediaError
            raise error(
                f"chunk {ctype!r} runs past the end of the file (claims {length} bytes)",
                _chunk_where(ctype, pos, after_iend),
            )
        if ctype == b"IHDR" and not after_iend:
            _read_header(src.read_exact(data_at, 13, "IHDR"), c)
        elif ctype in TEXT_CHUNKS or ctype == b"eXIf":
            where = _chunk_where(ctype, pos, after_iend)
            if len(c.blocks) >= MAX_BLOCKS:
                raise LimitExceededError(f"more than {MAX_BLOCKS} metadata chunks", where)
            data = _checked_data(src, c, data_at, length, ctype, where)
            if ctype == b"eXIf":
                tiff = data[len(EXIF_PREFIX) :] if data.startswith(EXIF_PREFIX) else data
                c.blocks.append(Block("exif", where, tiff))
            else:
                _read_text(data, ctype, where, c)
        elif ctype == b"caBX":
            c.c2pa = c.c2pa or C2paMarker(_chunk_where(ctype, pos, after_iend))
        elif ctype == b"IEND" and not after_iend:
            return data_at + length + 4
        pos = data_at + length + 4
    raise LimitExceededError(f"more than {MAX_CHUNKS} PNG chunks")


def _chunk_where(ctype: bytes, pos: int, after_iend: bool) -> str:
    # Made only for a chunk that is read or reported: most chunks (IDAT) are only stepped over.
    return f"PNG {ctype.decode('latin-1')} chunk{' after IEND' if after_iend else ''} at offset {pos:#x}"


def _trailing(src: ByteSource, c: Container, at: int) -> None:
    """The bytes after IEND: a finding, then what they carry (chunks, then text).  Text is read up
    to ``MAX_TRAILING_READ``; other data is only searched for a label in its first
    ``TRAILING_PROBE`` bytes, so a large appended blob is not read (the finding says so)."""
    size = src.size - at
    head = src.read(at, 512)
    shape = "PNG chunks" if _looks_like_chunk(head) else "text" if _looks_textual(head) else "binary data"
    if shape == "binary data" and size > TRAILING_PROBE:
        examined = f"; its first {TRAILING_PROBE} were searched for a label"
    elif shape == "text" and size > MAX_TRAILING_READ:
        examined = f"; the first {MAX_TRAILING_READ} were read"
    else:
        examined = ""
    c.findings.append(
        Finding(
            "trailing-data",
            "warning",
            f"{size} bytes of {shape} after the IEND chunk, outside the image; anything there may be "
            f"hidden from PNG readers{examined}",
            f"after IEND at offset {at:#x}",
        )
    )
    pos = _chunks(src, c, at, after_iend=True) if shape == "PNG chunks" else at
    if pos < src.size:
        rest = src.read(pos, min(src.size - pos, TRAILING_PROBE))
        textual = _looks_textual(rest)
        if textual and src.size - pos > TRAILING_PROBE:
            rest = src.read(pos, min(src.size - pos, MAX_TRAILING_READ))
        where = f"PNG data after IEND at offset {pos:#x}"
        packet = _xmp_packet(rest)
        if packet:
            c.blocks.append(Block("xmp", where + " (XMP)", packet))
        elif textual or b"AIGC" in rest:
            c.blocks.append(Block("comment", where, rest, key="trailing-data"))


def _xmp_packet(data: bytes) -> bytes:
    start = data.find(b"<x:xmpmeta")
    end = data.find(b"</x:xmpmeta>", start)
    return data[start : end + len(b"</x:xmpmeta>")] if 0 <= start < end else b""


def _looks_like_chunk(header: bytes) -> bool:
    """A chunk header: a length a metadata chunk may have and a type of four ASCII letters (text
    never starts so: its first byte makes the length at least 0x20000000)."""
    return (
        len(header) >= 8
        and int.from_bytes(header[:4], "big") <= MAX_METADATA_BLOCK
        and all(65 <= b <= 90 or 97 <= b <= 122 for b in header[4:8])
    )


def _looks_textual(data: bytes) -> bool:
    head = data[:512].rstrip(b"\x00")
    return bool(head) and not any(b < 9 or 13 < b < 32 or b == 127 for b in head)


def _read_header(ihdr: bytes, c: Container) -> None:
    c.width, c.height, _depth, color_type = struct.unpack(">IIBB", ihdr[:10])
    c.has_alpha = color_type in (4, 6)


def _checked_data(src: ByteSource, c: Container, at: int, length: int, ctype: bytes, where: str) -> bytes:
    if length > MAX_METADATA_BLOCK:
        raise LimitExceededError(f"{ctype.decode('latin-1')} chunk of {length} bytes is over the limit", where)
    data = src.read_exact(at, length + 4, "a PNG chunk")
    body, crc = data[:-4], struct.unpack(">I", data[-4:])[0]
    if zlib.crc32(ctype + body) != crc:
        # Still read it: a damaged checksum must not hide a label, but say so.
        c.errors.append(ReadError("crc-mismatch", "chunk checksum does not match its content", where))
    return body


def _read_text(data: bytes, ctype: bytes, where: str, c: Container) -> None:
    try:
        keyword, text = _decode_text(data, ctype)
    except MediaError as exc:  # e.g. a decompression bomb: refuse this chunk, keep walking for other labels
        c.errors.append(
            ReadError(exc.code, f"text chunk refused: {exc}", where, fatal=isinstance(exc, LimitExceededError))
        )
        return
    except (ValueError, UnicodeDecodeError, zlib.error) as exc:
        c.errors.append(ReadError("malformed", f"text chunk could not be decoded: {exc}", where))
        return
    if keyword == XMP_KEYWORD:
        c.blocks.append(Block("xmp", where, text.encode("utf-8")))
    else:
        c.blocks.append(Block("text", where, key=keyword, text=text))


def _decode_text(data: bytes, ctype: bytes) -> tuple[str, str]:
    keyword, sep, rest = data.partition(b"\x00")
    if not sep:
        raise ValueError("no keyword separator")
    key = keyword.decode("latin-1")
    if ctype == b"tEXt":
        return key, rest.decode("latin-1")
    if ctype == b"zTXt":
        return key, inflate(rest[1:]).decode("latin-1")
    # iTXt: compression flag, method, language tag \0, translated keyword \0, text (UTF-8)
    if len(rest) < 2:
        raise ValueError("iTXt chunk too short")
    compressed, body = rest[0], rest[2:]
    _lang, _, body = body.partition(b"\x00")
    _translated, _, body = body.partition(b"\x00")
    return key, (inflate(body) if compressed else body).decode("utf-8")


register(FormatHandler("png", "image/png", _accept, walk))
