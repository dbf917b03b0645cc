"""Two check results into a ``PairComparison``: each mark compared, then one verdict.

Everything is read from the ``CheckResult``s the checker made (the label's decoded elements in
``Evidence.label_elements``, the manifest identities in ``C2paSummary``), never by parsing the
files again, so ``compare`` sees exactly what ``check`` sees.
"""

from __future__ import annotations

import json
from typing import Any

from ..model import CheckResult, Evidence, Indicates
from ..policy import Policy
from ..signatures.aigc_label import KEYS
from ..signatures.iptc import DST_NAME, source_type
from .model import (
    C2paChange,
    C2paDiff,
    C2paSide,
    Change,
    ElementChange,
    LabelDiff,
    LabelSide,
    PairComparison,
    PairError,
    PairVerdict,
    SourceTypeDiff,
    TraceDiff,
)

# The elements the content's producer writes, and those a propagating platform fills in (Annex E):
# a propagator may add its own, and must change none of the producer's.
PRODUCER_ELEMENTS = ("Label", "ContentProducer", "ProduceID", "ReservedCode1")
PROPAGATION_ELEMENTS = ("ContentPropagator", "PropagateID", "ReservedCode2")
VALID_STATES = ("Valid", "Trusted")
NOT_VERIFIED = "NotVerified"
TRACE_SOURCES = ("generator", "stealth-pnginfo")
NOT_MEDIA = "unsupported-format"


def side_errors(side: str, result: CheckResult) -> list[PairError]:
    """The fatal errors of one side: a side with any could not be read, so the pair cannot be judged."""
    return [PairError(side, e.code, e.message) for e in result.errors if e.fatal]


def compare_results(original: CheckResult, delivered: CheckResult, policy: Policy) -> PairComparison:
    errors = side_errors("original", original) + side_errors("delivered", delivered)
    if errors:
        if {e.code for e in errors} == {NOT_MEDIA} and {e.side for e in errors} == {"original", "delivered"}:
            verdict = PairVerdict.NOT_MEDIA
            return PairComparison(original.path, delivered.path, verdict, True, details=[_NOT_MEDIA_TEXT])
        return PairComparison(
            original.path,
            delivered.path,
            PairVerdict.ERROR,
            False,
            errors=errors,
            details=["a side could not be read, so what happened to its labels is unknown"],
        )
    label = _label_diff(original, delivered, policy)
    c2pa = _c2pa_diff(original, delivered)
    iptc = _source_type_diff(original, delivered)
    traces = _trace_diff(original, delivered)
    verdict, accepted, details = _verdict(label, c2pa, iptc)
    details += _notes(label, c2pa, iptc, traces, original, delivered)
    return PairComparison(
        original.path,
        delivered.path,
        verdict,
        accepted,
        label=label,
        c2pa=c2pa,
        source_type=iptc,
        traces=traces,
        status={"original": original.status.value, "delivered": delivered.status.value},
        details=details,
    )


_NOT_MEDIA_TEXT = "neither file is one aigc-check reads (unsupported format on both sides)"


# -- GB 45438 label --------------------------------------------------------------------------------


def _labels(result: CheckResult) -> list[Evidence]:
    return [e for e in result.evidence if e.source == "gb45438" and e.label_elements is not None]


def _main_label(labels: list[Evidence]) -> Evidence | None:
    """The label the file is judged by: the first usable one, else the first one."""
    usable = [e for e in labels if e.aigc_label is not None]
    chosen = usable or labels
    return chosen[0] if chosen else None


def _text(value: Any) -> str | None:
    """An element value as it reads: strings as they are, anything else as its JSON (``1``, ``null``)."""
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _side(e: Evidence, count: int, policy: Policy) -> LabelSide:
    label = e.aigc_label
    platform_label = (policy.data.get("aigc_label_values") or {}).get(label) if label else None
    return LabelSide(
        location=e.location,
        field=e.key,
        label=label,
        meaning=policy.label_text(platform_label) if platform_label else {},
        usable=label is not None,
        count=count,
    )


def _element(name: str, before: str | None, after: str | None) -> ElementChange:
    if not before and not after:
        change = Change.ABSENT if before is None and after is None else Change.KEPT
    elif before == after:
        change = Change.KEPT
    elif not after:
        change = Change.LOST
    elif not before:
        change = Change.ADDED
    else:
        change = Change.CHANGED
    return ElementChange(name, before, after, change)


def _label_diff(original: CheckResult, delivered: CheckResult, policy: Policy) -> LabelDiff:
    before_all, after_all = _labels(original), _labels(delivered)
    before, after = _main_label(before_all), _main_label(after_all)
    if before is None:
        if after is None:
            return LabelDiff(Change.ABSENT, None, None)
        return LabelDiff(
            Change.ADDED, None, _side(after, len(after_all), policy), _elements({}, after.label_elements or {})
        )
    o = _side(before, len(before_all), policy)
    if after is None:
        return LabelDiff(Change.LOST, o, None, _elements(before.label_elements or {}, {}))
    d = _side(after, len(after_all), policy)
    elements = _elements(before.label_elements or {}, after.label_elements or {})
    producer_changed = any(
        e.change is not Change.KEPT and e.change is not Change.ABSENT
        for e in elements
        if e.name not in PROPAGATION_ELEMENTS
    )
    propagation_changed = any(
        e.change in (Change.LOST, Change.CHANGED) for e in elements if e.name in PROPAGATION_ELEMENTS
    )
    # Two unusable labels have no elements to compare: what is written there is compared instead.
    unusable_changed = not o.usable and not d.usable and before.value != after.value
    if producer_changed or propagation_changed or o.usable != d.usable or unusable_changed:
        change = Change.CHANGED
    elif any(e.change is Change.ADDED for e in elements):
        change = Change.PROPAGATION_ADDED
    else:
        change = Change.KEPT
    return LabelDiff(change, o, d, elements)


def _elements(before: dict[str, Any], after: dict[str, Any]) -> list[ElementChange]:
    """Every Annex E element in the standard's order, then any other key either side holds."""
    names = list(KEYS) + sorted((set(before) | set(after)) - set(KEYS))
    return [_element(n, _text(before.get(n)), _text(after.get(n))) for n in names]


# -- C2PA -----------------------------------------------------------------------------------------


def _c2pa_side(result: CheckResult) -> C2paSide:
    c = result.c2pa
    return C2paSide(c.present, c.validation_state, c.active_manifest, c.parent_manifest, c.signer, list(c.actions))


def _c2pa_diff(original: CheckResult, delivered: CheckResult) -> C2paDiff:
    o, d = _c2pa_side(original), _c2pa_side(delivered)
    if not o.present and not d.present:
        change = C2paChange.ABSENT
    elif not d.present:
        change = C2paChange.LOST
    elif not o.present:
        change = C2paChange.ADDED
    elif o.active_manifest is not None and o.active_manifest == d.active_manifest:
        was_valid = o.validation_state in VALID_STATES
        change = C2paChange.BROKEN if was_valid and d.validation_state not in VALID_STATES else C2paChange.KEPT
    elif o.active_manifest is not None and d.parent_manifest == o.active_manifest:
        # Not verified (--no-verify-hash): the chain is there; whether it validates is not known, and
        # a label change is then not accepted on its strength (``_verdict``).
        unverified = d.validation_state == NOT_VERIFIED
        change = C2paChange.RESIGNED if d.validation_state in VALID_STATES or unverified else C2paChange.BROKEN
    else:
        change = C2paChange.REPLACED
    return C2paDiff(change, o, d)


# -- IPTC source type and generator traces ---------------------------------------------------------


def _source_type_evidence(result: CheckResult) -> Evidence | None:
    for e in result.evidence:
        if e.source == "iptc" and e.key.rsplit(":", 1)[-1].rsplit("}", 1)[-1] == DST_NAME:
            return e
    return None


def _term(e: Evidence | None) -> str | None:
    if e is None:
        return None
    term, _entry = source_type(e.value)
    return term or e.value


def _source_type_diff(original: CheckResult, delivered: CheckResult) -> SourceTypeDiff:
    before, after = _source_type_evidence(original), _source_type_evidence(delivered)
    ai = any(e is not None and e.indicates in (Indicates.AI_GENERATED, Indicates.AI_MODIFIED) for e in (before, after))
    b, a = _term(before), _term(after)
    return SourceTypeDiff(_element("source_type", b, a).change, b, a, ai)


def _trace_diff(original: CheckResult, delivered: CheckResult) -> TraceDiff:
    def ids(result: CheckResult) -> set[str]:
        return {e.generator for e in result.evidence if e.source in TRACE_SOURCES and e.generator}

    before, after = ids(original), ids(delivered)
    return TraceDiff(sorted(before & after), sorted(before - after), sorted(after - before))


# -- the verdict -----------------------------------------------------------------------------------


def _verdict(label: LabelDiff, c2pa: C2paDiff, iptc: SourceTypeDiff) -> tuple[PairVerdict, bool, list[str]]:
    """The worst thing that happened, whether it is acceptable, and why, in plain words."""
    chain = c2pa.change is C2paChange.RESIGNED and c2pa.delivered.validation_state in VALID_STATES
    iptc_lost = iptc.ai and iptc.change is Change.LOST
    iptc_changed = iptc.ai and iptc.change is Change.CHANGED
    c2pa_problem = {
        C2paChange.LOST: "the C2PA manifest was removed",
        C2paChange.BROKEN: "the C2PA manifest no longer validates (the file was changed after signing)",
        C2paChange.REPLACED: "the C2PA manifest was replaced by one that does not take the original's as its "
        "parent ingredient",
    }.get(c2pa.change)
    also = [c2pa_problem] if c2pa_problem else []
    if label.change is Change.LOST or iptc_lost:
        gone = [("GB 45438 label", label.change is Change.LOST), ("IPTC source type", iptc_lost)]
        lost = " and the ".join(what for what, is_lost in gone if is_lost)
        return PairVerdict.LABEL_LOST, False, [f"the delivered file lost the {lost}", *also]
    if label.change is Change.CHANGED or iptc_changed:
        what = "the GB 45438 label" if label.change is Change.CHANGED else "the IPTC source type"
        if chain:
            return (
                PairVerdict.LABEL_CHANGED,
                True,
                [
                    f"{what} changed, and the change is recorded by a valid C2PA manifest that takes the "
                    "original's as its parent ingredient"
                ],
            )
        return (
            PairVerdict.LABEL_CHANGED,
            False,
            [f"{what} was changed, and no valid C2PA chain records the change", *also],
        )
    if c2pa_problem:
        return PairVerdict.C2PA_BROKEN, False, [c2pa_problem]
    added = []
    if label.change is Change.ADDED:
        added.append("a GB 45438 label was added")
    if label.change is Change.PROPAGATION_ADDED:
        added.append("the propagation elements of the GB 45438 label were filled in, the producer's kept")
    if iptc.change is Change.ADDED:
        added.append("an IPTC source type was added")
    if c2pa.change is C2paChange.ADDED:
        added.append("a C2PA manifest was added")
    if added:
        return PairVerdict.LABEL_ADDED, True, ["; ".join(added)]
    return PairVerdict.PRESERVED, True, ["every label the original carries is kept as it was"]


def _notes(
    label: LabelDiff,
    c2pa: C2paDiff,
    iptc: SourceTypeDiff,
    traces: TraceDiff,
    original: CheckResult,
    delivered: CheckResult,
) -> list[str]:
    notes = []
    if c2pa.change is C2paChange.RESIGNED:
        actions = ", ".join(c2pa.delivered.actions) or "no actions"
        notes.append(f"C2PA re-signed: the new manifest takes the original's as parent ingredient ({actions})")
    if NOT_VERIFIED in (c2pa.original.validation_state, c2pa.delivered.validation_state):
        notes.append(
            "C2PA hashes and signatures were not verified (--no-verify-hash): a chain cannot vouch for a change"
        )
    if label.original and label.delivered and label.original.location != label.delivered.location:
        notes.append(f"the GB 45438 label moved from {label.original.location} to {label.delivered.location}")
    if (
        label.delivered
        and label.delivered.count > 1
        and label.delivered.count > (label.original.count if label.original else 0)
    ):
        notes.append(f"the delivered file carries {label.delivered.count} GB 45438 labels; the standard allows one")
    if iptc.change is Change.CHANGED or (iptc.change is Change.LOST and not iptc.ai):
        notes.append(f"IPTC source type {iptc.original or 'none'} -> {iptc.delivered or 'none'}")
    if traces.lost:
        notes.append(f"generator traces lost: {', '.join(traces.lost)}")
    if traces.added:
        notes.append(f"generator traces added: {', '.join(traces.added)}")
    damaged = [e for e in delivered.errors if not e.fatal]
    if damaged:
        notes.append(f"the delivered file has {len(damaged)} damaged metadata block(s): {damaged[0].message}")
    return notes
