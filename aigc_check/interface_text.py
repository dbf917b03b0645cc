"""The interface's own words (headings, field names, measure names) in each language the text
report speaks, from ``data/interface_text.json``; the policy supplies the verdict, status, label
and advice texts.  Every language must give every word (``tests/test_policy_packs.py``)."""

from __future__ import annotations

from typing import Any

from .data import load
from .errors import UsageError

FILE = "interface_text.json"


def languages() -> tuple[str, ...]:
    return tuple(load(FILE))


def words(lang: str) -> dict[str, Any]:
    table = load(FILE)
    if lang not in table:
        raise UsageError(f"the interface has no language {lang!r} (it speaks {', '.join(table)})")
    return dict(table[lang])
