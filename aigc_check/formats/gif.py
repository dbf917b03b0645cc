"""GIF: walk the block stream; read comment and application extensions."""

from __future__ import annotations

from ..errors import LimitExceededError, MediaError, TruncatedError
from ..limits import MAX_GIF_BLOCKS, MAX_METADATA_BLOCK
from ..model import Block, C2paMarker, Container
from ..source import ByteSource
from . import FormatHandler, register

XMP_APP = b"XMP DataXMP"
C2PA_APP = b"C2PA_GIF"
WINDOW = 64 * 1024


def _accept(head: bytes) -> bool:
    return head[:6] in (b"GIF87a", b"GIF89a")


def walk(src: ByteSource, c: Container) -> None:
    screen = src.read_exact(6, 7, "the logical screen descriptor")
    c.width = int.from_bytes(screen[0:2], "little")
    c.height = int.from_bytes(screen[2:4], "little")
    pos = 13 + _color_table_size(screen[4])
    for _ in range(MAX_GIF_BLOCKS):
        intro = src.read_exact(pos, 1, "a GIF block")[0]
        where = f"GIF block at offset {pos:#x}"
        if intro == 0x3B:  # trailer
            return
        if intro == 0x2C:  # image descriptor, optional local colour table, LZW data
            desc = src.read_exact(pos + 1, 9, "an image descriptor")
            pos = pos + 10 + _color_table_size(desc[8]) + 1  # +1: LZW minimum code size
            pos = _skip_subblocks(src, pos)
        elif intro == 0x21:
            label = src.read_exact(pos + 1, 1, "an extension label")[0]
            pos = _extension(src, c, label, pos + 2, where)
        else:
            raise MediaError(f"unknown GIF block 0x{intro:02X}", where)
    raise LimitExceededError(f"more than {MAX_GIF_BLOCKS} GIF blocks")


def _color_table_size(flags: int) -> int:
    return 3 * (2 ** ((flags & 0x07) + 1)) if flags & 0x80 else 0


def _extension(src: ByteSource, c: Container, label: int, pos: int, where: str) -> int:
    if label == 0xFE:
        data, end = _read_subblocks(src, pos)
        c.blocks.append(Block("comment", f"GIF comment extension at offset {pos - 2:#x}", data, key="Comment"))
        return end
    if label == 0xFF:
        size = src.read_exact(pos, 1, "an application extension")[0]
        ident = src.read_exact(pos + 1, size, "an application identifier")
        body_at = pos + 1 + size
        if ident == XMP_APP:
            # XMP packets are stored raw (their bytes double as sub-block lengths),
            # followed by a 258-byte "magic trailer"; take the bytes up to the packet end.
            end = _skip_subblocks(src, body_at)
            raw = src.read(body_at, min(end - body_at, MAX_METADATA_BLOCK))
            c.blocks.append(Block("xmp", f"GIF XMP application extension at offset {pos - 2:#x}", _xmp_packet(raw)))
            return end
        if ident.startswith(C2PA_APP):
            c.c2pa = c.c2pa or C2paMarker(f"GIF C2PA application extension at offset {pos - 2:#x}")
        return _skip_subblocks(src, body_at)
    return _skip_subblocks(src, pos)


def _xmp_packet(raw: bytes) -> bytes:
    end = raw.rfind(b"<?xpacket end")
    if end >= 0:
        close = raw.find(b"?>", end)
        return raw[: close + 2] if close >= 0 else raw
    end = raw.rfind(b"</x:xmpmeta>")
    return raw[: end + len(b"</x:xmpmeta>")] if end >= 0 else raw


def _read_subblocks(src: ByteSource, pos: int) -> tuple[bytes, int]:
    parts: list[bytes] = []
    total = 0
    while True:
        n = src.read_exact(pos, 1, "a sub-block")[0]
        if n == 0:
            return b"".join(parts), pos + 1
        total += n
        if total > MAX_METADATA_BLOCK:
            raise LimitExceededError("GIF extension data over the size limit", f"offset {pos:#x}")
        parts.append(src.read_exact(pos + 1, n, "a sub-block"))
        pos += 1 + n


def _skip_subblocks(src: ByteSource, pos: int) -> int:
    """Offset after a sub-block chain, reading in windows rather than byte by byte."""
    window, window_at = b"", pos
    while True:
        rel = pos - window_at
        if rel >= len(window):
            window, window_at, rel = src.read(pos, WINDOW), pos, 0
            if not window:
                raise TruncatedError("file ends inside GIF data sub-blocks", f"offset {pos:#x}")
        n = window[rel]
        if n == 0:
            return pos + 1
        pos += 1 + n
        if pos > src.size:
            raise TruncatedError("file ends inside GIF data sub-blocks", f"offset {pos:#x}")


register(FormatHandler("gif", "image/gif", _accept, walk))
