"""FLAC: metadata blocks (Vorbis comment, ID3v2 in front), never the audio.

A cut FLAC is recognised from its tail alone: the last frame header found in
the final bytes must start a frame whose CRC-16 closes exactly at the end of
the file (an ID3v1 tag after the audio is allowed).
"""

from __future__ import annotations

from ..errors import LimitExceededError, MediaError, TruncatedError
from ..limits import MAX_CHUNKS
from ..model import Block, C2paMarker, Container
from ..source import ByteSource
from . import FormatHandler, register

VORBIS_COMMENT, APPLICATION = 4, 2
TAIL = 64 * 1024  # the last frame must lie within this many bytes of the end


def _accept(head: bytes) -> bool:
    return head[:4] == b"fLaC"


def walk(src: ByteSource, c: Container) -> None:
    walk_from(src, c, 0)


def walk_from(src: ByteSource, c: Container, start: int) -> None:
    c.format, c.media_type = "flac", "audio/flac"
    pos = start + 4
    total_samples = 0
    for _ in range(MAX_CHUNKS):
        header = src.read_exact(pos, 4, "a FLAC metadata block header")
        last, kind, size = header[0] & 0x80, header[0] & 0x7F, int.from_bytes(header[1:4], "big")
        body = pos + 4
        where = f"FLAC metadata block {kind} at offset {pos:#x}"
        if kind == 127:
            raise MediaError("invalid metadata block type 127", where)
        if body + size > src.size:
            raise TruncatedError(f"metadata block claims {size} bytes, the file ends first", where)
        if kind == 0 and size >= 18:
            info = src.read_exact(body, 18, "STREAMINFO")
            total_samples = int.from_bytes(info[13:18], "big") & ((1 << 36) - 1)
        elif kind == VORBIS_COMMENT:
            c.blocks.append(
                Block(
                    "vorbis",
                    f"FLAC VORBIS_COMMENT block at offset {pos:#x}",
                    src.read_exact(body, size, "the Vorbis comment block"),
                )
            )
        elif kind == APPLICATION and size >= 4 and src.read_exact(body, 4, "an application id").lower() == b"c2pa":
            c.c2pa = c.c2pa or C2paMarker(where + " (APPLICATION c2pa)")
        pos = body + size
        if last:
            break
    else:
        raise LimitExceededError(f"more than {MAX_CHUNKS} FLAC metadata blocks")
    if total_samples and not _ends_with_whole_frame(src, pos):
        raise TruncatedError(
            "the last audio frame does not end at the end of the file (cut or damaged)",
            f"FLAC audio from offset {pos:#x}",
        )


def _crc_table(poly: int, width: int) -> list[int]:
    top, mask = 1 << (width - 1), (1 << width) - 1
    table = []
    for byte in range(256):
        crc = byte << (width - 8)
        for _ in range(8):
            crc = ((crc << 1) ^ poly) if crc & top else (crc << 1)
        table.append(crc & mask)
    return table


CRC8, CRC16 = _crc_table(0x07, 8), _crc_table(0x8005, 16)


def crc8(data: bytes) -> int:
    crc = 0
    for b in data:
        crc = CRC8[crc ^ b]
    return crc


def crc16(data: bytes) -> int:
    crc = 0
    for b in data:
        crc = ((crc << 8) & 0xFFFF) ^ CRC16[(crc >> 8) ^ b]
    return crc


def _header_length(buf: bytes, i: int) -> int:
    """Length of the frame header at ``i`` without its CRC-8, or 0 if not plausible."""
    if i + 5 > len(buf):
        return 0
    block_code, rate_code = buf[i + 2] >> 4, buf[i + 2] & 15
    if block_code == 0 or rate_code == 15 or buf[i + 3] & 1:
        return 0
    first = buf[i + 4]  # frame/sample number, UTF-8-like coding
    extra = 0
    while extra < 7 and first & (0x80 >> extra):
        extra += 1
    n = 1 if extra == 0 else extra
    if extra == 1 or n > 7:
        return 0
    length = 4 + n + {6: 1, 7: 2}.get(block_code, 0) + {12: 1, 13: 2, 14: 2}.get(rate_code, 0)
    return length if i + length < len(buf) else 0


def _ends_with_whole_frame(src: ByteSource, audio_start: int) -> bool:
    end = src.size
    if end - audio_start >= 128 and src.read(end - 128, 3) == b"TAG":  # ID3v1 after the audio
        end -= 128
    tail_start = max(audio_start, end - TAIL)
    tail = src.read(tail_start, end - tail_start)
    i = len(tail) - 2
    while True:
        i = tail.rfind(b"\xff", 0, i)
        if i < 0:
            return False
        if tail[i + 1] in (0xF8, 0xF9):
            n = _header_length(tail, i)
            if n and crc8(tail[i : i + n]) == tail[i + n]:
                return crc16(tail[i:-2]) == int.from_bytes(tail[-2:], "big")


register(FormatHandler("flac", "audio/flac", _accept, walk))
