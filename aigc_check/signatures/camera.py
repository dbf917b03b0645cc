"""Camera EXIF: recorded as capture evidence, always weak.

A camera's tags are copied in one command and AI tools reuse the same tag
names, so this never proves human origin; it only lets the report say what
the file claims and flag a conflict with AI evidence.
"""

from __future__ import annotations

from ..model import Evidence, EvidenceKind, Indicates, Strength
from . import SignalView

EXPOSURE_TAGS = ("ExposureTime", "FNumber", "ISOSpeedRatings", "FocalLength", "DateTimeOriginal", "LensModel")
MIN_EXPOSURE_TAGS = 2


def collect(view: SignalView) -> None:
    make = view.first_text("exif", "Make")
    model = view.first_text("exif", "Model")
    if not (make or model):
        return
    # Generators that abuse Make/Model (ComfyUI "workflow:{...}") are caught by fingerprints;
    # a real camera also writes exposure settings.
    present = [t for t in EXPOSURE_TAGS if view.find("exif", t)]
    if len(present) < MIN_EXPOSURE_TAGS:
        return
    where = view.find("exif", "Make" if make else "Model")[0].location
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
