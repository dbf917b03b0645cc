"""Ogg (Vorbis, Opus, FLAC, Theora, Speex): the comment header of each stream.

The first pages of an Ogg file carry each logical stream's headers; the
second packet of a stream is its comment header, in Vorbis comment form
behind a codec-specific prefix.  Pages are read until every stream's comment
packet is complete, bounded in pages and bytes.  A cut file is recognised from
the last page: it must be whole and end exactly at the end of the file.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from ..errors import LimitExceededError, MediaError, TruncatedError
from ..limits import MAX_METADATA_BLOCK
from ..model import Block, Container
from ..source import ByteSource
from . import FormatHandler, register

MAX_HEADER_PAGES = 512
PAGE_HEADER = struct.Struct("<4sBBqIIIB")
# identification packet prefix -> (codec, comment packet prefix)
CODECS = {
    b"\x01vorbis": ("vorbis", b"\x03vorbis"),
    b"OpusHead": ("opus", b"OpusTags"),
    b"\x7fFLAC": ("flac", b"\x84"),  # FLAC-in-Ogg: block type 4 (last flag set) + 3-byte length
    b"\x80theora": ("theora", b"\x81theora"),
    b"Speex   ": ("speex", b""),
}
TAIL = 65_536 + 27 + 255


@dataclass
class _Stream:
    codec: str = ""
    comment_prefix: bytes = b""
    packets: int = 0
    pending: bytearray = field(default_factory=bytearray)
    comment_page: int = 0
    done: bool = False


def _accept(head: bytes) -> bool:
    return head[:4] == b"OggS"


def _page(src: ByteSource, pos: int) -> tuple[int, int, int, list[int], int]:
    """(flags, serial, body offset, segment lengths, next page offset) of the page at ``pos``."""
    header = src.read_exact(pos, PAGE_HEADER.size, "an Ogg page header")
    magic, version, flags, _granule, serial, _seq, _crc, nsegs = PAGE_HEADER.unpack(header)
    if magic != b"OggS" or version != 0:
        raise MediaError("lost Ogg page sync (no OggS capture pattern)", f"offset {pos:#x}")
    lacing = list(src.read_exact(pos + PAGE_HEADER.size, nsegs, "an Ogg segment table"))
    body = pos + PAGE_HEADER.size + nsegs
    return flags, serial, body, lacing, body + sum(lacing)


def walk(src: ByteSource, c: Container) -> None:
    streams: dict[int, _Stream] = {}
    pos = 0
    for page_no in range(MAX_HEADER_PAGES):
        if pos >= src.size:
            break
        flags, serial, body, lacing, next_pos = _page(src, pos)
        if next_pos > src.size:
            raise TruncatedError("the file ends inside an Ogg page", f"Ogg page at offset {pos:#x}")
        if flags & 2:  # beginning of a stream
            streams.setdefault(serial, _Stream())
        stream = streams.get(serial)
        if stream is None or stream.done:
            if all(s.done for s in streams.values()) and not flags & 2:
                break
            pos = next_pos
            continue
        data = src.read_exact(body, next_pos - body, "an Ogg page body")
        _collect(stream, data, lacing, page_no, pos, c)
        pos = next_pos
    else:
        raise LimitExceededError(f"stream headers not complete after {MAX_HEADER_PAGES} Ogg pages")
    first = next(iter(streams.values()), None)
    c.format = "opus" if first and first.codec == "opus" else "ogg"
    c.media_type = "video/ogg" if any(s.codec == "theora" for s in streams.values()) else "audio/ogg"
    _check_last_page(src)


def _collect(stream: _Stream, data: bytes, lacing: list[int], page_no: int, page_at: int, c: Container) -> None:
    offset = 0
    for n in lacing:
        stream.pending += data[offset : offset + n]
        offset += n
        if len(stream.pending) > MAX_METADATA_BLOCK:
            raise LimitExceededError("Ogg header packet over the metadata size limit", f"page at {page_at:#x}")
        if n == 255:
            continue  # packet continues in the next segment
        packet, stream.pending = bytes(stream.pending), bytearray()
        stream.packets += 1
        if stream.packets == 1:
            for prefix, (codec, comment_prefix) in CODECS.items():
                if packet.startswith(prefix):
                    stream.codec, stream.comment_prefix = codec, comment_prefix
            if not stream.codec:
                stream.done = True  # a stream we do not read (skeleton, unknown codec)
                return
        elif stream.packets == 2:
            if stream.codec == "flac" and not packet.startswith(b"\x84") and not packet.startswith(b"\x04"):
                stream.done = True
                return
            body = packet[4:] if stream.codec == "flac" else packet[len(stream.comment_prefix) :]
            c.blocks.append(Block("vorbis", f"Ogg {stream.codec} comment header (page at offset {page_at:#x})", body))
            stream.done = True
            return


def _check_last_page(src: ByteSource) -> None:
    tail_start = max(0, src.size - TAIL)
    tail = src.read(tail_start, src.size - tail_start)
    at = tail.rfind(b"OggS")
    while at >= 0:
        try:
            _flags, _serial, _body, _lacing, next_pos = _page(src, tail_start + at)
        except MediaError:
            at = tail.rfind(b"OggS", 0, at)
            continue
        if next_pos == src.size:
            return
        if next_pos < src.size:  # bytes after a whole page: trailing junk, not a cut file
            return
        raise TruncatedError("the file ends inside its last Ogg page", f"Ogg page at offset {tail_start + at:#x}")
    raise TruncatedError("no complete Ogg page at the end of the file", f"offset {tail_start:#x}")


register(FormatHandler("ogg", "audio/ogg", _accept, walk))
