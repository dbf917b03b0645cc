"""Camera EXIF: recorded as capture evidence, always weak.

A camera's tags are copied in one command and AI tools reuse the same tag
names, so this never proves human origin; it only lets the report say what
the file claims and flag a conflict with AI evidence.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..model import Evidence, EvidenceKind, Field, Indicates, Strength
from . import SignalView

EXPOSURE_TAGS = ("ExposureTime", "FNumber", "ISOSpeedRatings", "FocalLength", "DateTimeOriginal", "LensModel")
MIN_EXPOSURE_TAGS = 2


def collect(view: SignalView) -> None:
    index = view.by_key()  # one lookup per tag below, not a call of ``find`` each
    make = _first_text(index.get(("exif", "Make"), ()))
    model = _first_text(index.get(("exif", "Model"), ()))
    if not (make or model):
        return
    # Generators that abuse Make/Model (ComfyUI "workflow:{...}") are caught by fingerprints;
    # a real camera also writes exposure settings.
    present = [t for t in EXPOSURE_TAGS if ("exif", t) in index]
    if len(present) < MIN_EXPOSURE_TAGS:
        return
    where = index[("exif", "Make" if make else "Model")][0].location
    view.evidence.append(
        Evidence(
            source="camera-exif",
            location=where,
            key="exif/Make+Model",
            value=" ".join(x.strip() for x in (make, model) if x),
            indicates=Indicates.CAPTURED,
            strength=Strength.WEAK,
            kind=EvidenceKind.CAPTURE,
            explanation=f"camera EXIF ({', '.join(present)}); unsigned, so it is not proof of a real capture",
        )
    )


def _first_text(fields: Sequence[Field]) -> str | None:
    """What ``SignalView.first_text`` gives for these fields: the first text value."""
    for f in fields:
        if isinstance(f.value, str):
            return f.value
    return None
