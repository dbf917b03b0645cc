"""``PairComparison``s for people (text) and machines (JSON lines, CSV).

The text names each mark and what happened to it in plain words; the GB 45438 Label value is shown
with the platform label the policy maps it to, in every language the policy declares (``cn``:
Chinese first).  File names and metadata values come from files: they are escaped (``printable``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

from ..model import printable
from ..policy import Policy
from ..scan.outputs import csv_cell, csv_lines
from .model import C2paChange, C2paSide, Change, LabelSide, PairComparison, PairVerdict

VERDICT_WORDS = {
    PairVerdict.PRESERVED: "labels preserved",
    PairVerdict.LABEL_LOST: "label lost",
    PairVerdict.LABEL_CHANGED: "label changed",
    PairVerdict.C2PA_BROKEN: "C2PA broken",
    PairVerdict.LABEL_ADDED: "label added",
    PairVerdict.MISSING_DELIVERED: "missing from the delivered tree",
    PairVerdict.EXTRA_DELIVERED: "only in the delivered tree",
    PairVerdict.NOT_MEDIA: "not media",
    PairVerdict.ERROR: "could not be compared",
}
CHANGE_WORDS = {
    Change.ABSENT: "none on either side",
    Change.KEPT: "kept",
    Change.LOST: "lost",
    Change.ADDED: "added",
    Change.CHANGED: "changed",
    Change.PROPAGATION_ADDED: "kept, propagation elements added",
}
C2PA_WORDS = {
    C2paChange.ABSENT: "none on either side",
    C2paChange.KEPT: "kept (same active manifest)",
    C2paChange.LOST: "lost (the delivered file has none)",
    C2paChange.BROKEN: "broken (no longer validates)",
    C2paChange.RESIGNED: "re-signed (new manifest, the original's is its parent ingredient)",
    C2paChange.REPLACED: "replaced (new manifest, not derived from the original's)",
    C2paChange.ADDED: "added",
}

CSV_COLUMNS = (
    "relative",
    "original",
    "delivered",
    "verdict",
    "accepted",
    "label",
    "c2pa",
    "source_type",
    "traces_lost",
    "traces_added",
    "original_status",
    "delivered_status",
    "errors",
)


# A label element decoded from a JSON escape can be a lone surrogate (``"\\ud800"``), which no
# UTF-8 stream can write: every renderer writes it as its escape, ``\\ud800``, which is also the
# JSON for it.  (File names that are not UTF-8 are escaped by ``printable`` before this.)
_SURROGATE = re.compile("[\ud800-\udfff]")


def _no_surrogates(text: str) -> str:
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def to_json_line(result: PairComparison) -> str:
    return _no_surrogates(json.dumps(result.to_dict(), ensure_ascii=False))


def _label_words(side: LabelSide | None, policy: Policy) -> str:
    if side is None:
        return "none"
    if not side.usable:
        return f"unreadable label in {printable(side.field)}"
    meaning = " / ".join(text for _, text in policy.ordered(side.meaning))
    return f"Label {side.label}" + (f" ({meaning})" if meaning else "")


def _c2pa_words(side: C2paSide) -> str:
    if not side.present:
        return "none"
    return f"{side.validation_state or 'unknown state'}, manifest {printable(side.active_manifest or '?')}" + (
        f", signed by {printable(side.signer)}" if side.signer else ""
    )


def to_text(result: PairComparison, policy: Policy) -> str:
    r, p = result, printable
    names = " -> ".join(p(n) for n in (r.original, r.delivered) if n) or p(r.relative or "?")
    ok = "" if r.accepted else "  [problem]"
    lines = [f"{names}: {r.verdict.value.upper()} ({VERDICT_WORDS[r.verdict]}){ok}"]
    for e in r.errors:
        lines.append(f"  ERROR    {e.side}: {e.code}: {p(e.message)}")
    if r.label is not None:
        line = f"  GB 45438 label:   {CHANGE_WORDS[r.label.change]}"
        if r.label.change is not Change.ABSENT:
            line += f"; {_label_words(r.label.original, policy)} -> {_label_words(r.label.delivered, policy)}"
        lines.append(line)
        for el in r.label.elements:
            if el.change is Change.ABSENT:
                continue
            before = p(el.original) if el.original is not None else "(none)"
            after = p(el.delivered) if el.delivered is not None else "(none)"
            if el.change is Change.KEPT:
                lines.append(f"    {el.name:18} {before or '(empty)'}")
            else:
                lines.append(f"    {el.name:18} {before or '(empty)'} -> {after or '(empty)'}  {el.change.value}")
    if r.c2pa is not None:
        lines.append(f"  C2PA manifest:    {C2PA_WORDS[r.c2pa.change]}")
        if r.c2pa.change is not C2paChange.ABSENT:
            lines.append(f"    original:  {_c2pa_words(r.c2pa.original)}")
            lines.append(f"    delivered: {_c2pa_words(r.c2pa.delivered)}")
    if r.source_type is not None:
        st = r.source_type
        lines.append(
            f"  IPTC source type: {CHANGE_WORDS[st.change]}"
            + ("" if st.change is Change.ABSENT else f"; {p(st.original or 'none')} -> {p(st.delivered or 'none')}")
        )
    if r.traces is not None and (r.traces.kept or r.traces.lost or r.traces.added):
        t = r.traces
        parts = [
            f"{word} {', '.join(ids)}" for word, ids in (("kept", t.kept), ("lost", t.lost), ("added", t.added)) if ids
        ]
        lines.append(f"  Generator traces: {'; '.join(parts)}")
    if r.status is not None:
        before, after = (_status_words(r.status[side], policy) for side in ("original", "delivered"))
        lines.append(f"  AI status:        {before}" + ("" if before == after else f" -> {after}"))
    for note in r.details:
        lines.append(f"  - {p(note)}")
    return _no_surrogates("\n".join(lines))


def _status_words(status: str, policy: Policy) -> str:
    return " / ".join(text for _, text in policy.ordered(policy.status_text(status))) or status


def summary_line(results: Iterable[PairComparison]) -> str:
    counts: dict[str, int] = {}
    for r in results:
        counts[r.verdict.value] = counts.get(r.verdict.value, 0) + 1
    return ", ".join(f"{n} {v}" for v, n in sorted(counts.items())) or "no files"


def csv_header() -> str:
    return csv_lines([list(CSV_COLUMNS)])


def csv_row(result: PairComparison) -> str:
    r = result
    values = [
        r.relative,
        r.original,
        r.delivered,
        r.verdict.value,
        "true" if r.accepted else "false",
        r.label.change.value if r.label else "",
        r.c2pa.change.value if r.c2pa else "",
        r.source_type.change.value if r.source_type else "",
        ";".join(r.traces.lost) if r.traces else "",
        ";".join(r.traces.added) if r.traces else "",
        r.status["original"] if r.status else "",
        r.status["delivered"] if r.status else "",
        " | ".join(f"{e.side}: {e.code}: {e.message}" for e in r.errors),
    ]
    return _no_surrogates(csv_lines([[csv_cell(v) for v in values]]))
