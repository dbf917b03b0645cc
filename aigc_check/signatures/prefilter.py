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
        if len(text) >= REMEMBER_FROM:
            return self._may_match_long(text)
        if self.folded:
            if not text.isascii():
                return True  # re's case folding differs from str.lower outside ASCII: let the regex decide
            text = _lowered(text)
        for literal in self.literals:  # noqa: SIM110 (a loop, not any() over a generator: most have one)
            if literal in text:
                return True
        return False

    def _may_match_long(self, text: str) -> bool:
        """``may_match`` for a long value, whose every ``in`` test of a literal is a scan of all of
        it.  Two things make it cheap, neither changes an answer: the answer for each literal is
        kept with the value (``_memo``), so the forty conditions of the free-text fields that test
        one description ask about each of their sixty-odd distinct literals once, not once per
        condition; and a literal one of whose characters the value lacks cannot be in it, which a
        one-character ``in`` (a ``memchr``, also kept) tells at once where the text is repetitive."""
        if self.folded and not text.isascii():
            return True
        memo = _memo(text)
        if self.folded:
            haystack, answers, chars = memo.lowered(text), memo.folded, memo.folded_chars
        else:
            haystack, answers, chars = text, memo.exact, memo.exact_chars
        for literal in self.literals:
            found = answers.get(literal)
            if found is None:
                found = answers[literal] = _has_chars(haystack, literal, chars) and literal in haystack
            if found:
                return True
        return False


def _has_chars(haystack: str, literal: str, known: dict[str, bool]) -> bool:
    """Whether every character of ``literal`` is in ``haystack`` (answers kept in ``known``)."""
    for char in literal:
        held = known.get(char)
        if held is None:
            held = known[char] = char in haystack
        if not held:
            return False
    return True


# Values at least this long keep their answers (``Prefilter._may_match_long``); for a shorter one an
# ``in`` test costs less than the dictionary that would remember it.
REMEMBER_FROM = 4096


class _Memo:
    """What is known of one long value: its lower-cased text, which literals it holds, and which
    characters (of the text as it is, and lower-cased)."""

    __slots__ = ("_lowered", "exact", "exact_chars", "folded", "folded_chars", "text")

    def __init__(self, text: str) -> None:
        self.text = text  # held, so a new string at a freed address cannot pass the identity test
        self.exact: dict[str, bool] = {}
        self.folded: dict[str, bool] = {}
        self.exact_chars: dict[str, bool] = {}
        self.folded_chars: dict[str, bool] = {}
        self._lowered: str | None = None

    def lowered(self, text: str) -> str:
        if self._lowered is None:
            self._lowered = _lowered(text)
        return self._lowered


_last_memo: _Memo | None = None


def _memo(text: str) -> _Memo:
    """The memo of ``text``, kept for the next call: the conditions that test one field ask in a
    row.  One value is kept; another thread asking about another value replaces it, and one asking
    about the same value shares answers that are the same for both."""
    global _last_memo
    memo = _last_memo
    if memo is None or memo.text is not text:
        memo = _last_memo = _Memo(text)
    return memo


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
