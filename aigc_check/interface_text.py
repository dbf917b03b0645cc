"""The interface's own words (headings, field names, measure names) in each language, from
``data/interface_text.json``: the text report's (``check --lang``), the HTML audit report's
(``report``) and the creator page's (``page``).  The policy supplies the verdict, status, label and
advice texts.  Every language must give every word (``tests/test_policy_packs.py``)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from .data import load
from .errors import UsageError

FILE = "interface_text.json"
FALLBACK = "en"

# One font stack for the report and the page (page.css names the same; a test holds them equal):
# the platform UI fonts first for Latin text, then a CJK face on each system: Windows (Microsoft
# YaHei), macOS and iOS (PingFang SC, Hiragino Sans GB), Android and most Linux desktops (Noto Sans
# CJK SC, Source Han Sans SC), older Linux (WenQuanYi Micro Hei).
FONT_STACK = (
    'system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "PingFang SC", "Hiragino Sans GB", '
    '"Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", sans-serif'
)


def languages() -> tuple[str, ...]:
    return tuple(load(FILE))


def words(lang: str) -> dict[str, Any]:
    table = load(FILE)
    if lang not in table:
        raise UsageError(f"the interface has no language {lang!r} (it speaks {', '.join(table)})")
    return dict(table[lang])


def shown_languages(policy_languages: Iterable[str]) -> tuple[str, ...]:
    """The policy's languages the interface speaks, in the policy's order (English if none)."""
    own = set(languages())
    return tuple(lang for lang in policy_languages if lang in own) or (FALLBACK,)


_RANGE = re.compile(r"^\s*([A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*|\*)\s*(?:;\s*q\s*=\s*([01](?:\.\d{0,3})?))?\s*$")


def negotiate(accept_language: str | None, offered: Iterable[str], default: str) -> str:
    """The offered language an ``Accept-Language`` header prefers most (RFC 9110 12.5.4: ranges by
    q-value, ``zh-CN`` matching ``zh``, ``*`` any), else ``default``.  A malformed range is ignored."""
    offered = list(offered)
    best, best_q = default, 0.0
    for item in (accept_language or "")[:1024].split(","):
        match = _RANGE.match(item)
        if not match:
            continue
        tag, q = match.group(1).lower(), float(match.group(2) or 1)
        primary = tag.split("-")[0]
        choice = default if tag == "*" else next((lang for lang in offered if lang == primary), None)
        if choice is not None and q > best_q:  # a tie keeps the earlier range (the header's order); q=0 is "not this"
            best, best_q = choice, q
    return best
