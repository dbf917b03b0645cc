"""PNG: walk every chunk header to IEND; read only text, EXIF and C2PA chunks.

Metadata may sit after the image data (signals research, pitfall "late
placement"), so the walk does not stop at IDAT; it seeks past it instead.
"""

from __future__ import annotations

import struct
import zlib

from ..errors import LimitExceededError, MediaError
from ..limits import MAX_BLOCKS, MAX_CHUNKS, MAX_METADATA_BLOCK
from ..model import Block, C2paMarker, Container, ReadError
from ..source import ByteSource
from . import FormatHandler, register
from ._inflate import inflate

SIGNATURE = b"\x89PNG\r\n\x1a\n"
XMP_KEYWORD = "XML:com.adobe.xmp"
TEXT_CHUNKS = {b"tEXt", b"zTXt", b"iTXt"}


def _accept(head: bytes) -> bool:
    return head[:8] == SIGNATURE


def walk(src: ByteSource, c: Container) -> None:
    pos = 8
    for _ in range(MAX_CHUNKS):
        header = src.read_exact(pos, 8, "a PNG chunk header")
        length, ctype = struct.unpack(">I4s", header)
        data_at = pos + 8
        where = f"PNG {ctype.decode('latin-1')} chunk at offset {pos:#x}"
        if data_at + length + 4 > src.size:
            raise MediaError(f"chunk {ctype!r} runs past the end of the file (claims {length} bytes)", where)
        if ctype == b"IHDR":
            _read_header(src.read_exact(data_at, 13, "IHDR"), c)
        elif ctype in TEXT_CHUNKS or ctype == b"eXIf":
            if len(c.blocks) >= MAX_BLOCKS:
                raise LimitExceededError(f"more than {MAX_BLOCKS} metadata chunks", where)
            data = _checked_data(src, c, data_at, length, ctype, where)
            if ctype == b"eXIf":
                c.blocks.append(Block("exif", where, data))
            else:
                _read_text(data, ctype, where, c)
        elif ctype == b"caBX":
            c.c2pa = c.c2pa or C2paMarker(where)
        elif ctype == b"IEND":
            return
        pos = data_at + length + 4
    raise LimitExceededError(f"more than {MAX_CHUNKS} PNG chunks")


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
