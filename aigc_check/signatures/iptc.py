"""IPTC Digital Source Type in XMP, and the IPTC 2025.1 AI-system properties.

Terms are matched exactly after removing a known vocabulary base (http or
https), never by substring: ``algorithmicMedia`` is procedural, not AI.
"""

from __future__ import annotations

from ..data import load
from ..model import Evidence, EvidenceKind, Indicates, Strength
from . import SignalView

DST_KEY = "Iptc4xmpExt:DigitalSourceType"
AI_SYSTEM_KEYS = ("Iptc4xmpExt:AISystemUsed", "Iptc4xmpExt:AISystemVersionUsed", "Iptc4xmpExt:AIPromptInformation")


def source_type(value: str) -> tuple[str | None, dict | None]:
    """(term, entry) for a DigitalSourceType URI or bare term; (None, None) if unknown."""
    vocab = load("source_types.json")
    value = value.strip()
    term = value
    for base in vocab["bases"]:
        if value.startswith(base):
            term = value[len(base) :]
            break
    else:
        if "/" in value:
            return None, None
    entry = vocab["terms"].get(term)
    return (term, entry) if entry else (None, None)


def collect(view: SignalView) -> None:
    for f in view.find("xmp", DST_KEY):
        term, entry = source_type(str(f.value))
        if entry is None:
            continue
        indicates = Indicates(entry["indicates"])
        ai = indicates in (Indicates.AI_GENERATED, Indicates.AI_MODIFIED)
        view.evidence.append(
            Evidence(
                source="iptc",
                location=f.location,
                key=f.name,
                value=str(f.value),
                indicates=indicates,
                # Unsigned XMP: strong for an AI claim, but a capture claim anyone can write proves nothing.
                strength=Strength.STRONG if ai else Strength.WEAK,
                kind=EvidenceKind.IMPLICIT_LABEL
                if ai
                else EvidenceKind.CAPTURE
                if indicates is Indicates.CAPTURED
                else EvidenceKind.TRACE,
                explanation=f"XMP IPTC DigitalSourceType is {term} ({entry['name']}), unsigned",
            )
        )
    for key in AI_SYSTEM_KEYS:
        for f in view.find("xmp", key):
            g = view.fingerprints.for_c2pa([str(f.value)])
            view.evidence.append(
                Evidence(
                    source="iptc",
                    location=f.location,
                    key=f.name,
                    value=str(f.value),
                    indicates=Indicates.AI_GENERATED,
                    strength=Strength.STRONG,
                    kind=EvidenceKind.IMPLICIT_LABEL,
                    generator=g.id if g else (str(f.value) if key.endswith("AISystemUsed") else None),
                    explanation=f"XMP IPTC {key.split(':')[1]} discloses use of an AI system",
                )
            )
