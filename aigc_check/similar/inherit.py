"""Label inheritance: a file with no label or trace of its own that is a near-duplicate of content
whose AI status is confirmed is judged as carrying a trace of it (Measures Art. 6 case 3: traces of
generation detected, so the platform shows ``suspected-ai``).  The evidence names the original and
the distance, so the reason is never hidden.

"Confirmed" means the original's own metadata says AI with ``strong`` or ``definitive`` certainty (an
implicit label, a C2PA AI claim, a generator's fingerprint), never an inherited status: a copy of a
copy inherits from the first original only through the cluster it shares with it.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..model import (
    CheckResult,
    Classification,
    Decision,
    Declared,
    Evidence,
    EvidenceKind,
    Finding,
    Indicates,
    Status,
    Strength,
    Verdict,
    printable,
)
from ..policy import Policy
from . import HASH_BITS, MATCH_DISTANCE

SOURCE = "near-duplicate"
CONFIRMED_CERTAINTIES = ("definitive", "strong")


@dataclass(frozen=True)
class Original:
    """Known AI content a file was matched to."""

    path: str
    status: Status
    generator: str | None
    distance: int
    where: str = "this audit"  # or "the known-content index FILE"


def is_confirmed(status: str, certainty: str, evidence: list[dict], ai_statuses: frozenset[Status]) -> bool:
    """A result (as its JSON dict) whose AI status its own metadata confirms."""
    return (
        status in ai_statuses
        and certainty in CONFIRMED_CERTAINTIES
        and not any(e.get("source") == SOURCE for e in evidence)
    )


def may_inherit(status: str, verdict: str) -> bool:
    """A file with nothing of its own to say (status unknown) that was read completely."""
    return status == Status.UNKNOWN.value and verdict != Verdict.UNREADABLE.value


def evidence_for(original: Original) -> Evidence:
    return Evidence(
        source=SOURCE,
        location=printable(original.path),
        key="pdq-distance",
        value=str(original.distance),
        indicates=Indicates(original.status.value),
        strength=Strength.STRONG,
        kind=EvidenceKind.TRACE,
        generator=original.generator,
        explanation=(
            f"a near-duplicate of {printable(original.path)} in {original.where} (PDQ distance "
            f"{original.distance} of {HASH_BITS} bits; copies are within {MATCH_DISTANCE}), whose own "
            f"metadata confirms it {original.status.value}; this copy carries no label of its own"
        ),
    )


def inherited(
    policy: Policy, declared: Declared, findings: list[Finding], original: Original
) -> tuple[Classification, Decision, Evidence]:
    """The classification, decision and evidence of a copy of ``original``."""
    evidence = evidence_for(original)
    classification = Classification(original.status, "strong", original.generator, "trace", None, [evidence])
    return classification, policy.decide(classification, declared, False, findings), evidence


def inherit_result(result: CheckResult, policy: Policy, original: Original) -> None:
    """Apply an inheritance to a ``CheckResult`` (the gateway's path: ``check``, ``serve``, ``mark``)."""
    classification, decision, evidence = inherited(policy, result.declared, result.findings, original)
    result.classification, result.decision = classification, decision
    result.evidence = [*result.evidence, evidence]


def inherit_dict(result: dict, policy: Policy, original: Original) -> None:
    """Apply an inheritance to a result's JSON dict (the scan's pass over results.jsonl)."""
    findings = [Finding(f["code"], f["severity"], f["message"], f.get("location", "")) for f in result["findings"]]
    classification, decision, evidence = inherited(policy, Declared.parse(result["declared"]), findings, original)
    result.update(
        status=classification.status.value,
        certainty=classification.certainty,
        generator=classification.generator,
        verdict=decision.verdict.value,
        label=decision.label,
        label_text=decision.label_text,
        action=decision.action,
        measures=list(decision.measures),
        advice=decision.advice,
        evidence=[*result["evidence"], evidence.to_dict()],
    )
