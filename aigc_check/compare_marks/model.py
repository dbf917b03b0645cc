"""The values ``compare`` produces: what happened to each provenance mark between two files.

One ``PairComparison`` per pair (an original and what a pipeline delivered from it).  Its JSON form
(``to_dict``) is the documented record ``aigc-check-compare/1``: like the check contract, it only
ever gains keys.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from ..model import TextEnum

SCHEMA = "aigc-check-compare/1"


class PairVerdict(TextEnum):
    """What the delivered file did to the original's provenance marks, the worst thing first."""

    PRESERVED = "preserved"  # every label kept as it was
    LABEL_LOST = "label-lost"  # a GB 45438 label or an AI IPTC source type is gone
    LABEL_CHANGED = "label-changed"  # a label element other than an added propagation one differs
    C2PA_BROKEN = "c2pa-broken"  # the manifest is gone, no longer validates, or was replaced without a chain
    LABEL_ADDED = "label-added"  # a label, or the propagation elements of one, were added; nothing lost
    MISSING_DELIVERED = "missing-delivered"  # trees: the original has no delivered counterpart
    EXTRA_DELIVERED = "extra-delivered"  # trees: a delivered file with no original
    NOT_MEDIA = "not-media"  # neither side is a file aigc-check reads: nothing to compare
    ERROR = "error"  # a side could not be read, so nothing can be said


# The verdicts that make ``compare`` exit 1 (unless ``accepted``), and those that make it exit 3.
PROBLEMS = frozenset({PairVerdict.LABEL_LOST, PairVerdict.LABEL_CHANGED, PairVerdict.C2PA_BROKEN})
INCOMPLETE = frozenset({PairVerdict.ERROR, PairVerdict.MISSING_DELIVERED})


class Change(TextEnum):
    """What happened to one mark, or one element of the GB 45438 label."""

    ABSENT = "absent"  # on neither side
    KEPT = "kept"  # the same on both sides
    LOST = "lost"  # on the original only
    ADDED = "added"  # on the delivered file only
    CHANGED = "changed"  # on both, different
    # The label's producer elements are kept and only propagation elements (ContentPropagator,
    # PropagateID, ReservedCode2) were filled in: what a platform's ``mark`` does.
    PROPAGATION_ADDED = "propagation-added"


class C2paChange(TextEnum):
    ABSENT = "absent"  # no manifest on either side
    KEPT = "kept"  # the same active manifest, still as valid as it was
    LOST = "lost"  # the delivered file has no manifest
    BROKEN = "broken"  # the manifest is there but no longer validates (the file was changed after signing)
    # A new, valid active manifest whose parent ingredient is the original's active manifest: the
    # chain of custody is intact and the edit is recorded.
    RESIGNED = "re-signed"
    REPLACED = "replaced"  # a different active manifest that does not take the original's as its parent
    ADDED = "added"  # the delivered file has a manifest, the original had none


@dataclass
class ElementChange:
    """One Annex E element (``Label``, ``ContentProducer``, ...) on each side; None: not there."""

    name: str
    original: str | None
    delivered: str | None
    change: Change


@dataclass
class LabelSide:
    """One side's GB 45438 label, as the check decoded it."""

    location: str  # where the label was read, in the check's words
    field: str  # the field that held it (``xmp/TC260:AIGC``)
    label: str | None  # the Label value when usable (1, 2, 3), else None
    meaning: dict[str, str]  # the platform label the policy maps that value to, in each language
    usable: bool  # False: a label is there but no Label value could be read from it
    count: int = 1  # how many labels the file carries (the standard allows one)


@dataclass
class LabelDiff:
    change: Change
    original: LabelSide | None
    delivered: LabelSide | None
    elements: list[ElementChange] = field(default_factory=list)


@dataclass
class C2paSide:
    present: bool
    validation_state: str | None
    active_manifest: str | None
    parent_manifest: str | None
    signer: str | None
    actions: list[str]


@dataclass
class C2paDiff:
    change: C2paChange
    original: C2paSide
    delivered: C2paSide


@dataclass
class SourceTypeDiff:
    """The XMP IPTC DigitalSourceType term (``trainedAlgorithmicMedia``, ...) on each side."""

    change: Change
    original: str | None
    delivered: str | None
    ai: bool  # either side's term says AI-generated or AI-edited: a change is a label change


@dataclass
class TraceDiff:
    """Generator fingerprints (ids from ``generators.json``) found on each side."""

    kept: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)


@dataclass
class PairError:
    side: str  # "original" | "delivered" | "tree"
    code: str
    message: str


@dataclass
class PairComparison:
    """One pair's comparison.  ``accepted`` is True when the verdict is not a problem, or when a
    label change is recorded by a valid C2PA chain (the delivered file's new manifest has the
    original's as its parent ingredient)."""

    original: str | None
    delivered: str | None
    verdict: PairVerdict
    accepted: bool
    relative: str | None = None  # trees: the path both sides share
    label: LabelDiff | None = None
    c2pa: C2paDiff | None = None
    source_type: SourceTypeDiff | None = None
    traces: TraceDiff | None = None
    status: dict[str, str] | None = None  # {"original": ..., "delivered": ...}: the check's AI status
    details: list[str] = field(default_factory=list)  # plain-language notes, most important first
    errors: list[PairError] = field(default_factory=list)

    schema = SCHEMA

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"schema": SCHEMA}
        out.update(dataclasses.asdict(self, dict_factory=_json_values))
        return out


def _json_values(items: list[tuple[str, Any]]) -> dict[str, Any]:
    return {k: v.value if isinstance(v, Enum) else v for k, v in items}
