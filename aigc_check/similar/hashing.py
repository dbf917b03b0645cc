"""The perceptual hash of a file's picture: PDQ (pdqhash) of an image, PDQ of video frames (PyAV).

PDQ itself is pdqhash's (the ThreatExchange C++ code); what is written here is only what feeds it:
decoding no more than the hash needs.  PDQ reduces every picture to 64x64 before its DCT, so a
picture is handed over at most ``HASH_INPUT`` pixels on its long side: a JPEG is decoded at 1/2, 1/4
or 1/8 scale by libjpeg itself (Pillow's draft mode), other images are decoded and then reduced; a
smaller picture is enlarged to that size, so that PDQ always works at one scale.  A
video is decoded with PyAV and one frame about every ``FRAME_INTERVAL_S`` seconds is scaled by
libswscale and hashed (vPDQ's sampling), at most ``MAX_FRAMES`` of them.

Nothing here raises for a bad file: a picture that cannot be decoded gets a ``Similarity`` with no
hash and an ``error``.  The time and memory limits (``ENDS_CHECK``) pass through to the caller.
"""

from __future__ import annotations

import time
import warnings
from typing import Any, BinaryIO

import numpy as np
import pdqhash
from PIL import Image

from ..deadline import ENDS_CHECK
from ..model import Similarity
from . import MIN_QUALITY

HASH_INPUT = 512  # long side handed to PDQ, every picture scaled to it (see _scaled)
MAX_HASH_PIXELS = 64_000_000  # a larger picture is not decoded for a hash (its metadata is still checked)
CROP_MARGINS = (0.02, 0.04, 0.06, 0.08)  # centre crops hashed besides the whole picture (see Similarity)
FRAME_INTERVAL_S = 1.0
MAX_FRAMES = 900  # 15 minutes at one frame a second; a longer video is hashed over its first 15 minutes
BUDGET_SHARE = 0.8  # of the time limit a video's frames may take; the rest is left for the check's own bound
MAX_DECODED_FRAMES = 100_000  # frames decoded in all, whatever their timestamps say (a hostile stream)
# Formats PDQ is computed for; SVG is a drawing program, not pixels, and documents and audio have no picture.
IMAGE_FORMATS = frozenset({"jpeg", "png", "webp", "gif", "tiff", "bmp"})
VIDEO_MEDIA_PREFIX = "video/"


def pdq_hex(pixels: np.ndarray) -> tuple[str, int]:
    """PDQ of an RGB array: the hash as 64 hex digits and its quality.  The bits are packed in the
    order pdqhash returns them, most significant first: ThreatExchange's own Python hasher
    (threatexchange ``pdq_hasher``) writes them the same way, so the hex matches what is exchanged."""
    bits, quality = pdqhash.compute(np.ascontiguousarray(pixels))
    return np.packbits(bits.astype(np.uint8)).tobytes().hex(), int(quality)


def hash_file(
    stream: BinaryIO, fmt: str | None, media_type: str | None, budget_s: float | None = None
) -> Similarity | None:
    """The file's ``Similarity``, or None for a file with no picture (audio, documents, SVG).
    ``budget_s``: a video's frames are hashed until this much time is spent (then ``cut_at_s``)."""
    if fmt in IMAGE_FORMATS:
        return _guarded("pdq", lambda: _hash_image(stream))
    if media_type and media_type.startswith(VIDEO_MEDIA_PREFIX):
        return _guarded("pdq-frames", lambda: _hash_video(stream, budget_s))
    return None


def _guarded(algorithm: str, make: Any) -> Similarity:
    try:
        result: Similarity = make()
        return result
    except ENDS_CHECK:
        raise
    except Exception as exc:  # a decoder's failure on a hostile or damaged file: no hash, and why
        return Similarity(algorithm, error=f"undecodable: {type(exc).__name__}: {exc}")


def _hash_image(stream: BinaryIO) -> Similarity:
    with warnings.catch_warnings():
        # The pixel bound below is ours (Pillow's bomb warning would only repeat it), and a decoder's
        # complaints about damaged metadata are the metadata readers' business, reported there.
        warnings.simplefilter("ignore")
        with Image.open(stream) as im:
            width, height = im.size
            if width * height > MAX_HASH_PIXELS:
                return Similarity(
                    "pdq", error=f"too-large: {width}x{height} pixels, more than {MAX_HASH_PIXELS:,} to decode"
                )
            if im.format == "JPEG":
                # libjpeg's DCT scaling: decode at 1/2..1/8, the smallest at least the size PDQ gets
                # (asked as a square, a wide picture's short side would keep it at a larger scale).
                im.draft("RGB", _scaled(width, height))
            im.thumbnail((HASH_INPUT, HASH_INPUT), reducing_gap=2.0)
            rgb = im.convert("RGB")
    if max(rgb.size) < HASH_INPUT:
        rgb = rgb.resize(_scaled(*rgb.size), Image.Resampling.BILINEAR)
    pixels = np.asarray(rgb)
    hex_hash, quality = pdq_hex(pixels)
    return Similarity("pdq", hex_hash, quality, quality >= MIN_QUALITY, crop_hashes=_crop_hashes(pixels))


def _crop_hashes(pixels: np.ndarray) -> tuple[str, ...]:
    """PDQ of the picture's centre at each of ``CROP_MARGINS`` (reliable ones only), from the pixels
    already reduced for the whole hash (PDQ reduces to 64x64 anyway, so nothing is lost)."""
    height, width = pixels.shape[:2]
    out = []
    for margin in CROP_MARGINS:
        dy, dx = round(height * margin), round(width * margin)
        if height - 2 * dy < 16 or width - 2 * dx < 16:
            continue
        hex_hash, quality = pdq_hex(pixels[dy : height - dy, dx : width - dx])
        if quality >= MIN_QUALITY:
            out.append(hex_hash)
    return tuple(out)


def _hash_video(stream: BinaryIO, budget_s: float | None) -> Similarity:
    import av  # the similar extra's video decoder; imported only when a video is hashed

    started = time.perf_counter()
    cut_at: float | None = None
    hashes: list[str] = []
    seconds: list[float] = []
    qualities: list[int] = []
    with av.open(stream, mode="r") as container:
        if not container.streams.video:
            return Similarity("pdq-frames", error="no-video: the file has no video stream")
        video = container.streams.video[0]
        video.thread_type = "AUTO"
        # Frames no other frame refers to (most B-frames) are not decoded: about half the work, and
        # the frame kept for each second is then at most a few hundredths of a second off.
        video.codec_context.skip_frame = "NONREF"
        time_base = float(video.time_base) if video.time_base else None
        next_at = 0.0
        decoded = 0
        for frame in container.decode(video):
            decoded += 1
            at = float(frame.pts * time_base) if frame.pts is not None and time_base else decoded - 1.0
            # The first frame is always hashed: a video cut short still has a hash.
            over_time = bool(hashes) and budget_s is not None and time.perf_counter() - started > budget_s
            if decoded > MAX_DECODED_FRAMES or len(hashes) >= MAX_FRAMES or over_time:
                cut_at = round(at, 3)
                break
            if at + 1e-6 < next_at:
                continue
            next_at = at + FRAME_INTERVAL_S
            width, height = _scaled(frame.width, frame.height)
            pixels = frame.reformat(width=width, height=height, format="rgb24").to_ndarray()
            hex_hash, quality = pdq_hex(pixels)
            hashes.append(hex_hash)
            seconds.append(round(at, 3))
            qualities.append(quality)
    if not hashes:
        return Similarity("pdq-frames", error="undecodable: no video frame could be decoded")
    reliable = [h for h, q in zip(hashes, qualities) if q >= MIN_QUALITY]
    best = max(qualities)
    return Similarity(
        "pdq-frames",
        reliable[0] if reliable else hashes[0],
        best,
        bool(reliable),
        tuple(hashes),
        tuple(seconds),
        tuple(qualities),
        cut_at_s=cut_at,
    )


def _scaled(width: int, height: int) -> tuple[int, int]:
    """The size with the long side ``HASH_INPUT``, up or down: PDQ's result depends on the size it is
    given (its box filters scale with it), so every picture reaches it at one size (a 128-pixel
    thumbnail hashed as it is and its 1024-pixel original reduced to 512 differ by 20-40 bits)."""
    longest = max(width, height, 1)
    scale = HASH_INPUT / longest
    return max(1, round(width * scale)), max(1, round(height * scale))
