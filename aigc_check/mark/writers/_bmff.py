"""ISO base media file format boxes for the HEIF and MP4 writers: one bounded walk of the boxes in a
span.  The checker's own walker (``formats/bmff.py``) reads a stream window by window for the
check; the writers hold the whole file and need each box's offsets to splice it, so they walk here.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from ...limits import MAX_BOXES
from . import WriteError


@dataclass
class Box:
    type: bytes
    at: int  # the header's offset
    body: int  # the payload's offset (after a 64-bit size when there is one)
    end: int


class BoxCount:
    """Boxes walked so far: shared by the walks of one file bounds them all together."""

    def __init__(self) -> None:
        self.n = 0


def boxes(data: bytes, start: int, end: int, count: BoxCount | None = None, top: bool = False) -> tuple[list[Box], int]:
    """The boxes in ``data[start:end]`` and where the last whole one ends.  At most ``MAX_BOXES`` in
    ``count`` (a fresh count: in this span).  Fewer than 8 bytes after the last box are left to the
    caller (QuickTime ``udta`` may end in a 32-bit zero terminator), except at the ``top`` level,
    where they are the file ending inside a box header."""
    count = BoxCount() if count is None else count
    out, pos = [], start
    while pos + 8 <= end:
        count.n += 1
        if count.n > MAX_BOXES:
            raise WriteError(f"more than {MAX_BOXES} boxes")
        size, kind = struct.unpack_from(">I4s", data, pos)
        body = pos + 8
        if size == 1:
            if pos + 16 > end:
                raise WriteError("a box's 64-bit size runs past its container", f"offset {pos:#x}")
            size = struct.unpack_from(">Q", data, pos + 8)[0]
            body += 8
        elif size == 0:
            size = end - pos
        if size < body - pos or pos + size > end:
            raise WriteError(f"box {kind!r} claims {size} bytes, more than its container holds", f"offset {pos:#x}")
        out.append(Box(kind, pos, body, pos + size))
        pos += size
    if top and pos != end:
        raise WriteError(f"the file ends inside a box header ({end - pos} bytes left)", f"offset {pos:#x}")
    return out, pos
