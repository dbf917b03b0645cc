"""Required literals of a regular expression: a cheap test that rules a value out before the regex runs.

Most fingerprint patterns cannot start their search with a fixed prefix (``\\b(?:midjourney|...)``,
``(?:^|[,\\n])\\s*Version: ...``), so Python's ``re`` tries them at every position of the value: a
110 KB XMP description costs milliseconds per pattern.  Every match of such a pattern contains one
of a few literal strings ("midjourney" or "nijijourney"; "Version: "), and ``str.__contains__`` finds
those in microseconds.  When none of them is in the value the pattern cannot match, and the regex is
never run.  When one is, the regex decides, so a match is exactly what it always was.

Neither ``re`` nor the ecosystem (pyre2 needs a C++ library and matches a different regex dialect)
offers such a prefilter, so it is derived here from ``re``'s own parse of the pattern.  The
derivation is conservative: whatever it does not understand (a group with its own flags, a class,
a back reference) adds no literal, and a pattern without a usable literal has no prefilter.

Case-insensitive patterns: under ``re.IGNORECASE`` a few non-ASCII characters match ASCII letters
(the Kelvin sign matches ``k``, long s matches ``s``), so folding a value with ``str.lower`` is not
exactly ``re``'s rule.  For an ASCII value and ASCII literals it is (no such character can occur), so
such a prefilter is used only on ASCII values (``str.isascii`` is constant time) and a value with
any other character goes straight to the regex.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

# re's own parser: Python 3.11 moved it behind a private name; 3.10 has the public (now deprecated)
# module.  Looked up by name, since the type stubs know only one of them per version.
try:
    _ops: Any = importlib.import_module("re._constants")
    _sre_parse: Any = importlib.import_module("re._parser")
except ImportError:  # pragma: no cover (Python 3.10)
    _ops = importlib.import_module("sre_constants")
    _sre_parse = importlib.import_module("sre_parse")

Literals = frozenset[str]
_REPEATS = tuple(getattr(_ops, op) for op in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT") if hasattr(_ops, op))
_ATOMIC = getattr(_ops, "ATOMIC_GROUP", None)


@dataclass(frozen=True)
class Prefilter:
    """``may_match(text)`` is False only when ``pattern.search(text)`` is certainly None."""

    literals: tuple[str, ...]  # one of these is in every match (lower case when ``folded``)
    folded: bool  # the pattern ignores case: compare lower-cased, on ASCII text only

    def may_match(self, text: str) -> bool:
        if not self.folded:
            return any(literal in text for literal in self.literals)
        if not text.isascii():
            return True  # re's case folding differs from str.lower outside ASCII: let the regex decide
        lowered = _lowered(text)
        return any(literal in lowered for literal in self.literals)


_last_lowered: tuple[str, str] | None = None


def _lowered(text: str) -> str:
    """``text.lower()``, kept for the next call: the folded prefilters of one field ask in a row.
    One string is kept (as one tuple, so another thread sees a consistent pair; holding the text
    means a new string at a freed address cannot pass the identity test)."""
    global _last_lowered
    last = _last_lowered
    if last is not None and last[0] is text:
        return last[1]
    lowered = text.lower()
    _last_lowered = (text, lowered)
    return lowered


def prefilter(pattern: re.Pattern) -> Prefilter | None:
    """The prefilter of a compiled ``str`` pattern, or None when no literal is certain to occur."""
    if not isinstance(pattern.pattern, str):
        return None
    return _prefilter(pattern.pattern, pattern.flags)


@lru_cache(maxsize=1024)  # one pattern is shared by several rules (and by re's own compile cache)
def _prefilter(source: str, flags: int) -> Prefilter | None:
    try:
        parsed = _sre_parse.parse(source, flags)
        found = _required(list(parsed))
    except Exception:  # a parser detail this module does not know: no prefilter, the regex decides
        return None
    if not found:
        return None
    folded = bool(flags & re.IGNORECASE)
    if folded:
        if not all(literal.isascii() for literal in found):
            return None
        found = frozenset(literal.lower() for literal in found)
    return Prefilter(tuple(sorted(found)), folded)


def _required(items: list) -> Literals | None:
    """A set of strings one of which every match of the sequence ``items`` contains, the most
    selective one found (its shortest string longest), or None."""
    candidates: list[Literals] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            candidates.append(frozenset(["".join(run)]))
            run.clear()

    for op, arg in items:
        if op is _ops.LITERAL:
            run.append(chr(arg))
            continue
        flush()
        inner: Literals | None = None
        if op is _ops.SUBPATTERN:
            _group, add_flags, del_flags, sub = arg
            if not add_flags and not del_flags:  # a group with its own flags may change case rules
                inner = _required(list(sub))
        elif op is _ops.BRANCH:
            alternatives = [_required(list(sub)) for sub in arg[1]]
            if all(alternatives):
                inner = frozenset().union(*alternatives)  # type: ignore[arg-type]
        elif op in _REPEATS:
            low, _high, sub = arg
            if low >= 1:
                inner = _required(list(sub))
        elif _ATOMIC is not None and op is _ATOMIC:
            inner = _required(list(arg))
        elif op is _ops.ASSERT:  # a positive lookahead or lookbehind also matches inside the text
            _direction, sub = arg
            inner = _required(list(sub))
        if inner:
            candidates.append(inner)
    flush()
    if not candidates:
        return None
    return max(candidates, key=lambda s: (min(map(len, s)), -len(s)))
