"""mutagen's ID3v2.3/2.4 frame classes, with UTF-16 text decoded in one call.

mutagen decodes a NUL-terminated UTF-16 string one byte at a time through an incremental decoder
(``mutagen._util.decode_terminated``'s slow path): about 1 µs a byte, most of the check of an MP3
whose tags are UTF-16 (the ID3v2.3 default of many taggers).  ``ID3.load`` takes the frame classes
to use (``known_frames``, mutagen's own API), so the frames passed here are mutagen's, each with its
text specs replaced by one whose ``read`` finds the terminator (the first NUL code unit after the
byte order mark) and decodes the string in one call.  Only a string that way decodes without error
is taken; anything else (no byte order mark, a broken surrogate, a cut code unit) is read by
mutagen's own ``read``, with its fix-ups and errors, so every value and every error is mutagen's
(``tests/test_walk_speedups.py`` compares the two on every tag of every fixture and corpus file and
on generated frames).
"""

from __future__ import annotations

from typing import Any

from mutagen.id3 import Frames
from mutagen.id3._specs import EncodedTextSpec, Encoding, MultiSpec, Spec

_BOMS = {b"\xff\xfe": "utf-16-le", b"\xfe\xff": "utf-16-be"}


def terminated_utf16(data: bytes) -> tuple[str, bytes] | None:
    """What ``decode_terminated(data, "utf16", strict=False)`` returns, when ``data`` starts with a
    byte order mark and its string decodes without error; otherwise None (the caller asks mutagen)."""
    codec = _BOMS.get(data[:2])
    if codec is None:
        return None
    at = data.find(b"\x00\x00", 2)
    while at >= 0 and at % 2:  # a NUL byte pair across two code units is no terminator
        at = data.find(b"\x00\x00", at + 1)
    body, rest = (data[2:], b"") if at < 0 else (data[2:at], data[at + 2 :])
    try:
        return body.decode(codec), rest
    except UnicodeDecodeError:
        return None


class Utf16TextSpec(EncodedTextSpec):
    """mutagen's ``EncodedTextSpec``, reading a UTF-16 string with a byte order mark in one call."""

    def read(self, header: Any, frame: Any, data: bytes) -> tuple[str, bytes]:
        if frame.encoding == Encoding.UTF16:
            found = terminated_utf16(data)
            if found is not None:
                value, rest = found
                # What mutagen's read does with the rest of an older tag's text (mutagen issue 276).
                if header.version < header._V24 and not rest.strip(b"\x00"):
                    rest = b""
                return value, rest
        value, rest = super().read(header, frame, data)
        return value, rest


def _faster(specs: Any) -> list[Spec]:
    out: list[Spec] = []
    for spec in specs:
        if type(spec) is EncodedTextSpec:
            out.append(Utf16TextSpec(spec.name, spec.default))
        elif type(spec) is MultiSpec:
            multi = MultiSpec(spec.name, *_faster(spec.specs), sep=spec.sep, default=spec.default)
            out.append(multi)
        else:
            out.append(spec)
    return out


def _frames() -> dict[str, type]:
    out: dict[str, type] = {}
    for name, cls in Frames.items():
        specs = _faster(cls._framespec)
        if all(a is b for a, b in zip(specs, cls._framespec, strict=True)):
            out[name] = cls  # no text spec: mutagen's own class
        else:
            # The class's name is the frame's id (``Frame.FrameID``): a subclass of the same name.
            out[name] = type(cls.__name__, (cls,), {"_framespec": specs, "__module__": __name__})
    return out


# For ``ID3.load(known_frames=...)`` on an ID3v2.3 or 2.4 tag (v2.2 frames are other classes).
FRAMES_V23 = _frames()
