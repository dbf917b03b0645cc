"""Decide the AI status from evidence.

Rules: weak evidence never decides; AI evidence outweighs capture evidence;
``captured`` needs a definitive (trusted, intact) C2PA capture claim;
absence of evidence is ``unknown``, never proof of human origin.
"""

from __future__ import annotations

from .model import Classification, Evidence, EvidenceKind, Finding, Indicates, Status, Strength


def _deciding(evidence: list[Evidence], indicates: Indicates, minimum: Strength) -> list[Evidence]:
    least = minimum.rank
    return [e for e in evidence if e.indicates is indicates and e.strength.rank >= least]


def _best_generator(items: list[Evidence], known: frozenset[str]) -> str | None:
    """The strongest evidence's generator; at equal strength a fingerprint id beats a raw
    name (an unmapped label producer code or C2PA agent), and an implicit label beats a trace."""
    ranked = sorted(
        (e for e in items if e.generator),
        key=lambda e: (-e.strength.rank, e.generator not in known, e.kind is not EvidenceKind.IMPLICIT_LABEL),
    )
    return ranked[0].generator if ranked else None


def classify(
    evidence: list[Evidence], known_generators: frozenset[str] = frozenset()
) -> tuple[Classification, list[Finding]]:
    if not evidence:  # most files: what the rules below make of no evidence, without walking them
        return Classification(Status.UNKNOWN, "none", None, "none", None, []), []
    generated = _deciding(evidence, Indicates.AI_GENERATED, Strength.STRONG)
    modified = _deciding(evidence, Indicates.AI_MODIFIED, Strength.STRONG)
    captured = _deciding(evidence, Indicates.CAPTURED, Strength.DEFINITIVE)
    if generated:
        status, deciding = Status.AI_GENERATED, generated
    elif modified:
        status, deciding = Status.AI_MODIFIED, modified
    elif captured:
        status, deciding = Status.CAPTURED, captured
    else:
        status, deciding = Status.UNKNOWN, []
    findings = _conflicts(status, evidence)
    if not deciding:
        return Classification(status, "none", None, "none", None, []), findings
    certainty = max(deciding, key=lambda e: e.strength.rank).strength.value
    basis = "implicit-label" if any(e.kind is EvidenceKind.IMPLICIT_LABEL for e in deciding) else "trace"
    labels = sorted(e.aigc_label for e in deciding if e.aigc_label)
    ai_items = generated + modified
    return Classification(
        status,
        certainty,
        _best_generator(ai_items or deciding, known_generators),
        basis,
        labels[0] if labels else None,
        deciding,
    ), findings


def _conflicts(status: Status, evidence: list[Evidence]) -> list[Finding]:
    capture = [e for e in evidence if e.indicates is Indicates.CAPTURED]
    if not capture or status not in (Status.AI_GENERATED, Status.AI_MODIFIED):
        return []
    signed_capture = [e for e in capture if e.source == "c2pa"]
    # A generative edit of a real photo keeps its camera EXIF: that is expected, not a conflict.
    if status is Status.AI_MODIFIED and not signed_capture:
        return []
    where = "; ".join(sorted({e.location for e in capture}))
    return [
        Finding(
            "conflicting-signals",
            "warning",
            f"the file claims both AI generation and a camera capture ({capture[0].explanation}); "
            "AI evidence outweighs capture evidence",
            where,
        )
    ]
