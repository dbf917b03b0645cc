"""The creator page in the visitor's language: ``GET /`` answers ``index.html`` with ``<html lang>``
set to the language ``Accept-Language`` prefers among those the page speaks (``?lang=`` overrides
it; the serving policy's first language when neither names one), and the page's words in every
language it speaks as one inert JSON block (``<script type="application/json">``: data, not
script, so the page's Content-Security-Policy stays ``script-src 'self'``).  ``page.js`` renders
the chosen language and offers a switch to the others.

The words are the interface's (``data/interface_text.json``: ``page``, and the shared value
tables); the verdict, status, label and advice texts stay the policy's (``GET /v1/policy``).
"""

from __future__ import annotations

import json
import re
from functools import cache

from ..interface_text import languages, negotiate, shown_languages, words
from ..policy import load_policy

SHARED_TABLES = ("declared_values", "certainty_values", "measure_values", "language_name")
SEVERITIES = ("error", "warning", "info")
_HTML_TAG = re.compile(rb"<html[^>]*>")


def page_languages(policy_languages: tuple[str, ...]) -> tuple[str, ...]:
    """Every interface language, the policy's (that the interface speaks) first, in its order."""
    first = shown_languages(policy_languages)
    return first + tuple(lang for lang in languages() if lang not in first)


@cache
def _texts(offered: tuple[str, ...]) -> dict[str, dict]:
    out = {}
    for lang in offered:
        table = words(lang)
        out[lang] = {
            **table["page"],
            **{k: table[k] for k in SHARED_TABLES},
            "severity_values": {s: table[s] for s in SEVERITIES},
        }
    return out


def chosen_language(policy_id: str, accept_language: str | None, asked: str | None) -> tuple[str, tuple[str, ...]]:
    offered = page_languages(load_policy(policy_id).languages)
    if asked in offered:
        return str(asked), offered
    return negotiate(accept_language, offered, offered[0]), offered


def page_html(template: bytes, policy_id: str, accept_language: str | None, asked: str | None) -> bytes:
    lang, offered = chosen_language(policy_id, accept_language, asked)
    data = {"languages": list(offered), "chosen": lang, "text": _texts(offered)}
    # "<" escaped: the block cannot end early whatever a text holds.
    blob = json.dumps(data, ensure_ascii=False).replace("<", "\\u003c").encode("utf-8")
    html = _HTML_TAG.sub(f'<html lang="{lang}">'.encode(), template, count=1)
    return html.replace(
        b"</head>", b'<script type="application/json" id="page-text">' + blob + b"</script>\n</head>", 1
    )
