"""What the mark tests compare: the parts of each container that are not metadata, the decoded
pixels, and what exiftool reads."""

from __future__ import annotations

import io
import json
import shutil
import struct
import subprocess

from PIL import Image

from aigc_check.mark.writers import gif as gif_writer
from aigc_check.mark.writers import heif as heif_writer
from aigc_check.mark.writers import jpeg as jpeg_writer
from aigc_check.mark.writers import png as png_writer
from aigc_check.mark.writers import webp as webp_writer

METADATA_PNG = {b"tEXt", b"zTXt", b"iTXt", b"eXIf"}


def pixels(data: bytes) -> list[bytes]:
    """Every frame's decoded pixels."""
    im = Image.open(io.BytesIO(data))
    frames = []
    for n in range(getattr(im, "n_frames", 1)):
        im.seek(n)
        frames.append(im.convert("RGBA").tobytes())
    return frames


def jpeg_parts(data: bytes) -> list[bytes]:
    """The segments that are not APPn or COM, and the scan data with everything after it."""
    segs, sos = jpeg_writer.segments(data)
    return [data[s:e] for m, s, e in segs if not (0xE0 <= m <= 0xEF or m == 0xFE)] + [data[sos:]]


def png_parts(data: bytes) -> list[bytes]:
    return [data[s:e] for t, s, e in png_writer.chunks(data) if t not in METADATA_PNG]


def webp_parts(data: bytes) -> list[bytes]:
    return [data[s:e] for t, s, _b, e in webp_writer.chunks(data) if t not in (b"XMP ", b"EXIF", b"VP8X")]


def gif_parts(data: bytes) -> list[bytes]:
    first, blocks = gif_writer.blocks(data)
    return [data[6:first]] + [data[s:e] for kind, s, e in blocks if kind == "other"]


def heif_items(data: bytes) -> dict[int, bytes]:
    """Each item's bytes but the XMP items', by item id."""
    top = heif_writer.boxes(data, 0, len(data))
    meta = next(b for b in top if b.type == b"meta")
    children = {c.type: c for c in heif_writer.boxes(data, meta.body + 4, meta.end)}
    iloc = heif_writer.Iloc.parse(data[children[b"iloc"].body : children[b"iloc"].end])
    _v, items = heif_writer._items(data, children[b"iinf"])
    xmp = {i for i, _t, ct in items if ct == b"application/rdf+xml"}
    out = {}
    for e in iloc.entries:
        if e.item_id in xmp or e.method == 2:
            continue
        spans = heif_writer._spans(e, children.get(b"idat"), len(data))
        out[e.item_id] = b"".join(data[a : a + n] for a, n in spans)
    return out


def tiff_changed_ranges(old: bytes, new: bytes) -> list[tuple[int, int]]:
    """Ranges of the old file's bytes that differ in the new one (the new may be longer)."""
    ranges, start = [], None
    for i in range(len(old)):
        if old[i] != new[i]:
            start = i if start is None else start
        elif start is not None:
            ranges.append((start, i))
            start = None
    if start is not None:
        ranges.append((start, len(old)))
    return ranges


def tiff_xmp_span(data: bytes) -> tuple[int, int] | None:
    bo = "<" if data[:2] == b"II" else ">"
    (at,) = struct.unpack(bo + "I", data[4:8])
    (count,) = struct.unpack(bo + "H", data[at : at + 2])
    for i in range(count):
        tag, _t, n, off = struct.unpack(bo + "HHII", data[at + 2 + 12 * i : at + 14 + 12 * i])
        if tag == 700:
            return off, off + n
    return None


def exiftool_label(path: str) -> str | None:
    """The TC260:AIGC value exiftool reads (None when it reads none); the test is skipped by the
    caller where exiftool is not installed."""
    out = subprocess.run(
        ["exiftool", "-j", "-G1", "-XMP-TC260:all", path], capture_output=True, text=True, timeout=60, check=False
    )
    rows = json.loads(out.stdout or "[{}]")
    values = {k.lower(): v for k, v in (rows[0] if rows else {}).items()}
    return values.get("xmp-tc260:aigc")


HAVE_EXIFTOOL = shutil.which("exiftool") is not None
