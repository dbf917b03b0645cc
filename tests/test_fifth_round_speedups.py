"""Issue 14's fifth round changes no answer: each shortcut is checked against the plain way.

- a C2PA store's JSON text is parsed by orjson where its value is ``json.loads``'s (every store
  of every fixture and corpus file, and the texts where the two parsers part);
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import FIXTURES, corpus_dir, corpus_rows

from aigc_check import Checker
from aigc_check.json_lines import parse_json
from aigc_check.options import CheckOptions
from aigc_check.readers import c2pa as c2pa_reader


def _every_file() -> list[Path]:
    paths = sorted(p for p in FIXTURES.iterdir() if p.is_file())
    corpus = corpus_dir()
    paths += [corpus / row["file"] for row in corpus_rows() if (corpus / row["file"]).is_file()]
    return paths


def _same(a: object, b: object) -> bool:
    """Equal, and of the same types all the way down (``1 == 1.0`` is not enough), keys in order."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)  # type: ignore[index]
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))  # type: ignore[arg-type]
    if isinstance(a, float) and a != a:
        return b != b  # NaN
    return a == b


def _outcome(parse, text: str) -> tuple:
    try:
        return ("value", parse(text))
    except ValueError as exc:
        return ("error", type(exc), str(exc))


# --------------------------------------------------------------------------- the C2PA store's JSON


@pytest.fixture(scope="module")
def store_texts() -> list[str]:
    """The JSON text c2pa-python gave for every fixture's and corpus file's manifest store."""
    texts: list[str] = []

    def spy(text: str) -> object:
        texts.append(text)
        return parse_json(text)

    checker = Checker(CheckOptions(time_limit=None))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(c2pa_reader, "parse_json", spy)
        for path in _every_file():
            checker.check(str(path))
    return texts


def test_there_are_stores_to_compare(store_texts: list[str]) -> None:
    assert len(store_texts) >= 20


def test_every_store_parses_to_the_standard_value(store_texts: list[str]) -> None:
    for text in store_texts:
        fast, plain = _outcome(parse_json, text), _outcome(json.loads, text)
        assert fast[0] == plain[0] and (_same(fast[1], plain[1]) if fast[0] == "value" else fast == plain), text[:200]


_PARTING_TEXTS = [
    # integers beyond 64 bits, which orjson would read as floats: every place a number token stands
    "123456789012345678901234567890",
    "-123456789012345678901234567890",
    '{"a": 18446744073709551616}',
    '{"a":-9223372036854775809}',
    "[1,99999999999999999999]",
    "[\n  99999999999999999999\n]",
    '{"a":\t-99999999999999999999}',
    # and the widest that orjson keeps exact, and a false alarm (the digits in a string)
    "[18446744073709551615, -9223372036854775808]",
    '{"explanation": "signing cert not revoked: 284898736063105708962602248470"}',
    # what orjson refuses and the standard parser reads
    '"\\ud800"',
    '["\\udcff", 1]',
    "NaN",
    "[Infinity, -Infinity]",
    "1e400",
    # what both refuse (the standard parser's own error)
    "\ufeff{}",
    "[1,]",
    "",
    "{} x",
    '["\x01"]',
    # ordinary values
    '{"b": 1, "a": [true, false, null, -0, 0.0, 1E2, 1e-7, 5e-324, "\\u00e9"], "b": 2}',
]


@pytest.mark.parametrize("text", _PARTING_TEXTS)
def test_texts_where_the_parsers_part_give_the_standard_value_or_error(text: str) -> None:
    fast, plain = _outcome(parse_json, text), _outcome(json.loads, text)
    if plain[0] == "value":
        assert fast[0] == "value" and _same(fast[1], plain[1])
    else:
        assert fast == plain


def test_a_store_with_a_wide_integer_keeps_it_exact() -> None:
    value = parse_json('{"manifests": {"m": {"size": 340282366920938463463374607431768211456}}}')
    assert value["manifests"]["m"]["size"] == 2**128
    assert isinstance(value["manifests"]["m"]["size"], int)
