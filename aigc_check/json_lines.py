"""One JSON text per result line: orjson where it takes the object, the standard library where not.

A scan writes a line per file (``results.jsonl``) and the service one per answer: orjson encodes a
mean 1.7 KB result in a seventh of ``json.JSONEncoder``'s time (about 5 against 35 µs here), which
was a tenth of a scan worker's time per file.  Its text is compact (no blank after ``,`` and ``:``);
the JSON, the keys and their order are the same, which is what the contract is.

orjson refuses some objects the standard encoder writes: a string holding a lone surrogate (a file
name that is not UTF-8, kept by ``surrogateescape``), an integer beyond 64 bits, a key that is not a
string.  Those are written by the standard encoder with the options the lines always had, so their
text is what it always was.  (orjson writes a NaN or infinite float as ``null`` where the standard
encoder writes ``NaN``, which is not JSON; none reaches a result: its floats are ``elapsed_ms`` and
numbers of C2PA stores parsed from c2pa-rs's JSON, which has no such token.)
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import orjson

# One encoder each: ``json.dumps`` with any option builds a new one per call.
_STANDARD = json.JSONEncoder(ensure_ascii=False)
_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _text(obj: object, standard: json.JSONEncoder) -> str:
    """orjson's text of ``obj``, or ``standard``'s where orjson refuses it."""
    try:
        return orjson.dumps(obj).decode("utf-8")
    except orjson.JSONEncodeError:
        return standard.encode(obj)


def json_line(obj: object) -> str:
    """``obj`` as one line of JSON text (no newline at its end)."""
    return _text(obj, _STANDARD)


def json_line_bytes(obj: object) -> bytes:
    """``json_line`` encoded in UTF-8 (a lone surrogate raises ``UnicodeEncodeError``, as the
    standard text's encoding did)."""
    try:
        return orjson.dumps(obj)
    except orjson.JSONEncodeError:
        return _STANDARD.encode(obj).encode("utf-8")


def compact_json(obj: object) -> str:
    """``obj`` as ``json.dumps(obj, ensure_ascii=False, separators=(",", ":"))`` writes it.  orjson's
    text is that text, character for character, but for floats with an exponent (``1e-05`` is
    its ``1e-5``, the same number); report.html's rows hold none (strings, ints, None).  What
    orjson refuses is written by the standard encoder, as in ``json_line``."""
    return _text(obj, _COMPACT)


# -- reading: orjson where its value is the standard library's ------------------------------------

# orjson reads an integer beyond 64 bits (below -2**63 or above 2**64 - 1) as a float, silently,
# where ``json.loads`` keeps it exact.  Such an integer is a token of 19 digits or more, and a
# number token always follows a ``:``, ``[``, ``,``, a blank or its own ``-``; mapped through this
# table (digits to ``0``, those to ``:``) a text holds ``_WIDE_NUMBER`` wherever it may hold one (a
# string with such digits after a blank gives a false alarm: the standard parser then reads it).
_NUMBER_SHAPES = bytes.maketrans(b"0123456789[, \t\r\n-", b"0000000000:::::::")
_WIDE_NUMBER = b":" + b"0" * 19
# ``json.loads`` gives up on nesting somewhat under Python's recursion limit (a RecursionError at
# about 1,000 levels, fewer deep in a call stack) where orjson reads 1,024: a text with more openers
# than this may nest that deep, and is read by ``json.loads`` (C2PA stores hold 25-140).
_DEEP = 256


def parse_json(text: str) -> Any:
    """``json.loads(text)``, the same value (types, key order, and any error the standard parser
    raises), through orjson, about four times faster on a C2PA store's text.  orjson refuses what
    the standard parser reads differently (a lone surrogate, ``NaN``, a number out of a double's
    range): those texts, and any that may hold an integer wider than 64 bits or nest deeper than
    ``json.loads`` reads, are read by ``json.loads`` itself."""
    if text.count("[") + text.count("{") > _DEEP:
        return json.loads(text)
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)  # its value where it reads one, its own error where not
    shapes = text.encode("utf-8").translate(_NUMBER_SHAPES)
    if _WIDE_NUMBER in shapes or shapes.startswith(_WIDE_NUMBER[1:]):
        return json.loads(text)
    return value


# -- reading a file of JSON lines -------------------------------------------------------------------


def object_lines(
    lines: Iterable[str], where: str, error: Callable[[str], Exception], max_chars: int | None = None
) -> Iterator[tuple[int, dict]]:
    """Each line's JSON object, with its line number (blank lines skipped): the reading of a
    user's JSON-lines file (a declaration sidecar, a similar index).  A line that is not a JSON
    object, or is longer than ``max_chars``, raises ``error(message)``, the message naming
    ``where`` and the line."""
    for number, line in enumerate(lines, 1):
        if max_chars is not None and len(line) > max_chars:
            raise error(f"{where} line {number}: longer than {max_chars} characters")
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            raise error(f"{where} line {number}: not valid JSON ({exc})") from exc
        if not isinstance(row, dict):
            raise error(f"{where} line {number}: each line must be a JSON object")
        yield number, row
