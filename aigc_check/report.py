"""Render results: one JSON object per line for machines, plain text for people."""

from __future__ import annotations

import json
from collections.abc import Iterable

from .model import CheckResult, printable

VERDICT_WORDS = {
    "compliant": "OK",
    "unlabelled-ai": "UNLABELLED AI",
    "mislabelled": "MISLABELLED",
    "unreadable": "UNREADABLE",
}
STATUS_WORDS = {
    "ai-generated": "AI-generated",
    "ai-modified": "edited with AI",
    "captured": "captured by a camera (signed, trusted)",
    "unknown": "no AI signal found",
}


def to_json_line(result: CheckResult) -> str:
    return json.dumps(result.to_dict(), ensure_ascii=False, sort_keys=False)


def to_text(result: CheckResult) -> str:
    r = result
    # File names and metadata values come from the file: escape control characters and line breaks
    # in them, so a file can neither drive the terminal nor fake a line of this report.
    p = printable
    lines = [
        f"{p(r.path)}: {VERDICT_WORDS.get(r.verdict, r.verdict)}"
        f"  ({r.format or 'unknown format'}, declared {r.declared}, policy {r.policy})"
    ]
    status = STATUS_WORDS[r.status.value]
    if r.status.value != "unknown":
        status += f", certainty {r.certainty}" + (f", generator {p(r.generator)}" if r.generator else "")
    lines.append(f"  Status:  {status}")
    deciding = [e for e in r.evidence if e.strength.value != "weak" and e.indicates.value != "info"]
    other = [e for e in r.evidence if e not in deciding]
    if deciding:
        lines.append("  Found:")
        lines.extend(f"    - {p(e.explanation)}\n      at {p(e.location)}" for e in deciding)
    if other:
        lines.append("  Also noted (not decisive):")
        lines.extend(f"    - {p(e.explanation)} (at {p(e.location)})" for e in other)
    if r.label_text:
        lines.append(f"  Label:   {r.label_text['en']} / {r.label_text['zh']}  [{r.label}]")
    else:
        lines.append("  Label:   none required")
    lines.append(f"  Action:  {r.action}" + (f" ({', '.join(r.measures)})" if len(r.measures) > 1 else ""))
    for f in r.findings:
        lines.append(
            f"  {f.severity.upper():7}  {f.code}: {p(f.message)}" + (f" [{p(f.location)}]" if f.location else "")
        )
    for e in r.errors:
        lines.append(f"  ERROR    {e.code}: {p(e.message)}" + (f" [{p(e.location)}]" if e.location else ""))
    lines.append(f"  What to do: {r.advice}")
    return "\n".join(lines)


def summary_line(results: Iterable[CheckResult]) -> str:
    counts: dict[str, int] = {}
    for r in results:
        counts[r.verdict] = counts.get(r.verdict, 0) + 1
    return ", ".join(f"{n} {v}" for v, n in sorted(counts.items())) or "no files"
