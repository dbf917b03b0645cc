"""MP3 / MPEG audio and ADTS AAC, with ID3 tags in front and at the end.

The ID3v2 tags at the head, and the tags appended at the end (ID3v2.4 with a
footer, ID3v1, behind an APE tag), are unpacked into the blocks they carry
(``formats.id3``); the end is read before the audio is looked at, so a
damaged stream hides none of them.  After the head tags the walker looks at
the first audio frame only: its Xing/Info (LAME, ffmpeg) or VBRI header
states the stream's length in bytes, which is how a cut file is recognised
without reading the audio.  A file with an ID3v2 tag followed by
``fLaC`` is FLAC (c2pa-rs puts C2PA there) and is walked as such.
"""

from __future__ import annotations

import struct

from ..errors import MediaError, TruncatedError
from ..model import Container
from ..source import ByteSource
from . import FormatHandler, register
from .id3 import head_tags, tag_after_audio, tail_tags

SYNC_SEARCH = 4096  # padding tolerated between the tag and the first frame


def _is_frame_header(b: bytes) -> bool:
    return (
        len(b) >= 4
        and b[0] == 0xFF
        and b[1] & 0xE0 == 0xE0
        and (b[1] >> 3) & 3 != 1
        and (b[1] >> 1) & 3 != 0
        and b[2] >> 4 != 15
        and (b[2] >> 2) & 3 != 3
    )


def _is_adts(b: bytes) -> bool:
    return len(b) >= 4 and b[0] == 0xFF and b[1] & 0xF6 == 0xF0


def _accept(head: bytes) -> bool:
    return head[:3] == b"ID3" or _is_frame_header(head) or _is_adts(head)


# kbit/s by (MPEG-1?, layer) and bitrate index; MPEG-2 and 2.5 share tables.
BITRATES = {
    (True, 1): (0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (True, 2): (0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (True, 3): (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (False, 1): (0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (False, 2): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
    (False, 3): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
SAMPLE_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


def frame_length(header: bytes) -> int:
    """Bytes in the frame starting with ``header``; 0 for free-format frames."""
    version, layer = (header[1] >> 3) & 3, 4 - ((header[1] >> 1) & 3)
    bitrate = BITRATES[(version == 3, layer)][header[2] >> 4] * 1000
    rate = SAMPLE_RATES[version][(header[2] >> 2) & 3]
    padding = (header[2] >> 1) & 1
    if layer == 1:
        return (12 * bitrate // rate + padding) * 4
    per_frame = 144 if layer == 2 or version == 3 else 72
    return per_frame * bitrate // rate + padding


def _stream_length(frame: bytes) -> int:
    """Bytes of audio the first frame's Xing/Info/VBRI header announces, or 0."""
    mpeg1 = (frame[1] >> 3) & 3 == 3
    mono = frame[3] >> 6 == 3
    side_info = (17 if mono else 32) if mpeg1 else (9 if mono else 17)
    at = 4 + side_info
    if frame[at : at + 4] in (b"Xing", b"Info"):
        (flags,) = struct.unpack(">I", frame[at + 4 : at + 8])
        if flags & 2:
            pos = at + 8 + (4 if flags & 1 else 0)
            return int.from_bytes(frame[pos : pos + 4], "big")
    elif frame[36:40] == b"VBRI":
        return int.from_bytes(frame[46:50], "big")
    return 0


def walk(src: ByteSource, c: Container) -> None:
    audio = head_tags(src, c)
    if src.read(audio, 4) == b"fLaC":
        from .flac import walk_from

        walk_from(src, c, audio)
        return
    tail = tail_tags(src, c, audio)
    window = src.read(audio, SYNC_SEARCH)
    if not window:
        raise TruncatedError("the file ends after its ID3v2 tag: no audio follows", f"offset {audio:#x}")
    start = next(
        (i for i in range(len(window) - 3) if _is_frame_header(window[i : i + 4]) or _is_adts(window[i : i + 4])), -1
    )
    if start < 0:
        raise MediaError("no MPEG audio frame follows the ID3v2 tag", f"offset {audio:#x}")
    frame_at = audio + start
    frame = src.read(frame_at, 200)
    if _is_adts(frame):
        c.format, c.media_type = "aac", "audio/aac"
        return
    c.format, c.media_type = "mp3", "audio/mpeg"
    first = frame_length(frame)
    if frame_at + first > src.size:
        raise TruncatedError(
            f"the file ends inside its first audio frame ({first} bytes)", f"MPEG audio at offset {frame_at:#x}"
        )
    # Without a Xing/Info/VBRI header a cut later in the stream cannot be seen without reading every frame.
    length = _stream_length(frame) if len(frame) >= 60 else 0
    if length and frame_at + length > src.size:
        raise TruncatedError(
            f"the first frame announces {length} bytes of audio, the file ends "
            f"{frame_at + length - src.size} bytes short",
            f"MPEG audio at offset {frame_at:#x}",
        )
    if length and frame_at + length < tail:
        tag_after_audio(src, c, frame_at + length, tail)


register(FormatHandler("mpeg-audio", "audio/mpeg", _accept, walk))
