"""Render results: one JSON object per line for machines, plain text for people.

The words a person reads (verdict, status, label, advice) come from the policy that judged the
file, in every language it declares and in its order: ``cn`` shows Chinese first.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

from .model import CheckResult, Indicates, Status, Strength, printable
from .policy import Policy, ordered, policy_by_id


def to_json_line(result: CheckResult) -> str:
    return json.dumps(result.to_dict(), ensure_ascii=False, sort_keys=False)


def _joined(texts: Mapping[str, str], languages: Iterable[str], fallback: str) -> str:
    """The texts in every language, ``zh / en``; the code itself when there are none."""
    return " / ".join(text for _, text in ordered(texts, languages)) or fallback


def to_text(result: CheckResult, policy: Policy | None = None) -> str:
    """The result for a person.  ``policy`` is the one that judged it (by default the policy this
    process loaded under the result's ``policy`` id, or the shipped one); without it the codes are
    shown and the label in the languages the result carries."""
    r = result
    policy = policy or policy_by_id(r.policy)
    languages = policy.languages if policy else ()
    # File names and metadata values come from the file: escape control characters and line breaks
    # in them, so a file can neither drive the terminal nor fake a line of this report.
    p = printable
    verdict = _joined(policy.verdict_text(r.verdict) if policy else {}, languages, r.verdict)
    lines = [
        f"{p(r.path)}: {verdict.upper()}  ({r.format or 'unknown format'}, declared {r.declared}, policy {r.policy})"
    ]
    status = _joined(policy.status_text(r.status) if policy else {}, languages, r.status.value)
    if r.status is not Status.UNKNOWN:
        status += f", certainty {r.certainty}" + (f", generator {p(r.generator)}" if r.generator else "")
    lines.append(f"  Status:  {status}")
    deciding = [e for e in r.evidence if e.strength is not Strength.WEAK and e.indicates is not Indicates.INFO]
    other = [e for e in r.evidence if e not in deciding]
    if deciding:
        lines.append("  Found:")
        lines.extend(f"    - {p(e.explanation)}\n      at {p(e.location)}" for e in deciding)
    if other:
        lines.append("  Also noted (not decisive):")
        lines.extend(f"    - {p(e.explanation)} (at {p(e.location)})" for e in other)
    if r.label_text:
        lines.append(f"  Label:   {_joined(r.label_text, languages, r.label or '')}  [{r.label}]")
    else:
        lines.append("  Label:   none required")
    lines.append(f"  Action:  {r.action}" + (f" ({', '.join(r.measures)})" if len(r.measures) > 1 else ""))
    for f in r.findings:
        lines.append(
            f"  {f.severity.upper():7}  {f.code}: {p(f.message)}" + (f" [{p(f.location)}]" if f.location else "")
        )
    for e in r.errors:
        lines.append(f"  ERROR    {e.code}: {p(e.message)}" + (f" [{p(e.location)}]" if e.location else ""))
    advice = [r.advice]
    if policy and len(languages) > 1:
        try:
            texts = policy.advice_texts(r.verdict, r.status, r.label, [f.code for f in r.findings])
        except (KeyError, ValueError):  # a result this policy did not make (another file of the same id)
            texts = {}
        if texts:
            texts[policy.advice_language] = r.advice  # exactly the contract's string
            advice = [text for _, text in ordered(texts, languages)]
    lines.append(f"  What to do: {advice[0]}")
    lines.extend(f"              {text}" for text in advice[1:])
    return "\n".join(lines)


def summary_line(results: Iterable[CheckResult]) -> str:
    counts: dict[str, int] = {}
    for r in results:
        counts[r.verdict] = counts.get(r.verdict, 0) + 1
    return ", ".join(f"{n} {v}" for v, n in sorted(counts.items())) or "no files"
