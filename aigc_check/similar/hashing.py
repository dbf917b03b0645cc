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
DECODER_BLOCK = 4096  # compressed bytes handed to Pillow's decoder a call (see _hash_image)
MAX_HASH_PIXELS = 64_000_000  # a larger picture is not decoded for a hash (its metadata is still checked)
VARIANT_SOURCE = 128  # long side of the reduced picture the crop variants are cut from (see _crop_hashes)
VARIANT_SIDE = 64  # each crop variant is resampled to this square, PDQ's own working size
CROP_LEVELS = (0.025, 0.05, 0.075)  # how much of the picture a variant cuts from each side it cuts
# The sides a variant cuts, (left, top, right, bottom): each one, each two adjacent (a corner kept),
# each two opposite, three, and all four.  See _crop_hashes for why these and what they cost.
CROP_SIDES = (
    (1, 0, 0, 0), (0, 1, 0, 0), (0, 0, 1, 0), (0, 0, 0, 1),
    (1, 1, 0, 0), (0, 1, 1, 0), (0, 0, 1, 1), (1, 0, 0, 1),
    (1, 0, 1, 0), (0, 1, 0, 1),
    (1, 1, 1, 0), (0, 1, 1, 1), (1, 0, 1, 1), (1, 1, 0, 1),
    (1, 1, 1, 1),
)  # fmt: skip
# The variants, as the fraction cut from (left, top, right, bottom): the reduced whole picture first.
CROP_MARGINS: tuple[tuple[float, float, float, float], ...] = ((0.0, 0.0, 0.0, 0.0),) + tuple(
    (level * left, level * top, level * right, level * bottom)
    for level in CROP_LEVELS
    for left, top, right, bottom in CROP_SIDES
)
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
            # Pillow feeds its decoders 64 KiB of compressed data a call by default; the time limit
            # (a signal) is acted on only between calls, and 64 KiB of a picture that compresses a
            # thousandfold is tens of millions of pixels.  4 KiB a call bounds the overrun to
            # milliseconds without slowing an ordinary decode measurably.
            im.decodermaxblock = DECODER_BLOCK
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
    reliable = quality >= MIN_QUALITY
    # An unreliable picture is never matched on, so its variants (as flat as it is) are not made.
    return Similarity("pdq", hex_hash, quality, reliable, crop_hashes=_crop_hashes(pixels) if reliable else ())


def _crop_hashes(pixels: np.ndarray) -> tuple[str, ...]:
    """PDQ of crop variants of the picture (``CROP_MARGINS``, reliable ones only), from the pixels
    already reduced for the whole hash.

    Why: PDQ is not crop-tolerant.  Cutting 2 % from one side of a picture moves its hash by about
    28 bits (the median on the corpus), 5 % by about 60: a copy cropped by a few percent is past the
    match distance of its original.  A PDQ hash tolerates about 1-1.5 % from a side, so each picture
    also carries the hashes of itself cut by 2.5, 5 and 7.5 % from each combination of sides.  Both
    sides of a pair carry them, and a variant of one meeting a variant of the other links them (a
    copy cut by 5 % from the top and 2.5 % from the left matches its original's "5 % from the top
    and left" variant through its own "2.5 % from the left" one), so the few variants cover crops
    of any side or sides up to about 8 %.  ``bench/bench_similar.py quality --ablate`` measures
    what each family buys.

    How: the picture is reduced once to ``VARIANT_SOURCE`` pixels, and each variant's region (in
    fractions, not rounded to pixels) is resampled straight to ``VARIANT_SIDE`` x ``VARIANT_SIDE``
    by Pillow, the size PDQ reduces everything to anyway.  Resampled so, a variant and the copy it
    stands for meet within a few bits more than a re-encode (cut in whole pixels and hashed at 128
    pixels, PDQ's decimation aliased them by 10-20 bits more), and PDQ's cost, which is its input
    size, is a thirtieth of the whole hash's (0.1 ms against 3.6 at 512 pixels; with the
    resampling, a variant costs about a fifteenth of the whole hash).  The
    whole-picture hash, the exchanged one, stays as it was."""
    image = Image.fromarray(pixels)
    width, height = image.size
    scale = VARIANT_SOURCE / max(width, height)
    if scale < 1:
        image = image.resize((max(1, round(width * scale)), max(1, round(height * scale))), Image.Resampling.BILINEAR)
        width, height = image.size
    out = []
    for left, top, right, bottom in CROP_MARGINS:
        box = (width * left, height * top, width * (1 - right), height * (1 - bottom))
        variant = image.resize((VARIANT_SIDE, VARIANT_SIDE), Image.Resampling.BILINEAR, box=box)
        hex_hash, quality = pdq_hex(np.asarray(variant))
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
