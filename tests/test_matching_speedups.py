"""The speed-ups of issue 14 change no answer: each is checked against the plain way of doing it.

- the literal prefilter (``signatures/prefilter.py``) never rules out a text its pattern matches;
- the fingerprint table's plan (rules that can apply, per set of field names) finds exactly what a
  brute-force reading of the rules finds, on the rule samples and on every fixture's fields;
- the checker's kept decisions are equal to the policy's own and cannot be changed through a result;
- ``ByteSource.find_last`` finds what a search of ``read`` finds, counting the same bytes;
- the scan's one-open sniff gives the results and skips that ``sniff`` + ``Checker.check`` give;
- the CSV and HTML escapes' printable fast paths give the text the full escapes give.
"""

from __future__ import annotations

import fnmatch
import html
import re

import pytest
from conftest import FIXTURES
from hypothesis import given, settings
from hypothesis import strategies as st

from aigc_check import Checker, contract
from aigc_check.model import Field, printable
from aigc_check.scan.batch import ScanItem, check_batch, sniff
from aigc_check.scan.html_report import text as html_text
from aigc_check.scan.outputs import csv_cell, csv_row
from aigc_check.scan.report_rows import CONTROL_CHARS, escape_control
from aigc_check.signatures.fingerprints import FingerprintTable
from aigc_check.signatures.prefilter import prefilter
from aigc_check.source import HEAD_SIZE, ByteSource

TABLE = FingerprintTable.load()
PATTERNS = sorted(
    {c.pattern for g in TABLE.generators for rule in g.rules for c in rule if c.pattern is not None},
    key=lambda p: (p.pattern, p.flags),
)


# --------------------------------------------------------------------------- the prefilter


def test_literals_are_derived_from_the_parse():
    def literals(source: str, flags: int = 0):
        found = prefilter(re.compile(source, flags))
        return None if found is None else (set(found.literals), found.folded)

    assert literals(r"\bJob ID: [0-9a-f]{8}") == ({"Job ID: "}, False)
    assert literals(r"\b(?:midjourney|nijijourney)\b", re.I) == ({"midjourney", "nijijourney"}, True)
    assert literals(r"(?:abc)?def") == ({"def"}, False)  # an optional part adds nothing
    assert literals(r"(?:ab){2,}x") == ({"ab"}, False)  # a repeat that must occur does
    assert literals(r"^\s*\{(?=.*\"base_model\"\s*:)") == ({'"base_model"'}, False)  # so does a lookahead
    assert literals(r"(?!forbidden)x") == ({"x"}, False)  # a negative lookahead does not
    assert literals(r"(?i:Shouting)quiet") == ({"quiet"}, False)  # a group with its own flags is left out
    assert literals(r"a|.*") is None  # one alternative without a literal: no prefilter
    assert literals(r"^\d+$") is None
    assert literals(r"即梦|jimeng", re.I) is None  # folded, but not ASCII: re's folding decides


def test_the_shipped_free_text_patterns_have_prefilters():
    # The unanchored patterns searched across long descriptions are the costly ones (issue 14).
    costly = [p for p in PATTERNS if not p.pattern.startswith(("^", "(?s)^", "\\A"))]
    assert costly
    missing = [p.pattern for p in costly if prefilter(p) is None]
    assert not missing, missing


def test_case_folding_outside_ascii_goes_to_the_regex():
    # Under re.IGNORECASE the Kelvin sign matches k and the long s matches s; str.lower does not
    # fold them so, so a text holding any non-ASCII character is never ruled out.
    for pattern, text in ((r"\bkling\b", "\u212aling"), (r"stable diffusion", "\u017ftable diffusion")):
        compiled = re.compile(pattern, re.I)
        assert compiled.search(text)
        found = prefilter(compiled)
        assert found is not None and found.may_match(text)


def _fragments() -> list[str]:
    out = {"K", "\u212a", "\u017f", "\u0130", "\u0131", " ", ", ", "\n", '"', ":", "{", "}", "--", "Steps: 20, "}
    for p in PATTERNS:
        found = prefilter(p)
        if found is not None:
            for literal in found.literals:
                out.update((literal, literal.upper(), literal.title(), literal[: len(literal) // 2]))
    return sorted(out)


TEXTS = st.lists(st.one_of(st.sampled_from(_fragments()), st.text(max_size=6)), max_size=12).map("".join)


@settings(max_examples=300, deadline=None)
@given(TEXTS)
def test_a_text_ruled_out_never_matches(text):
    for pattern in PATTERNS:
        found = prefilter(pattern)
        if found is not None and not found.may_match(text):
            assert pattern.search(text) is None, (pattern.pattern, text)


# --------------------------------------------------------------------------- the plan


def brute_force(fields: list[Field]) -> list[tuple[str, Field]]:
    """The table's rules read literally: every generator, rule and condition, every field, in order."""

    def first(condition) -> int | None:
        for i, f in enumerate(fields):
            if not any(fnmatch.fnmatchcase(f.name, g) for g in condition.globs):
                continue
            if condition.pattern is None or (
                isinstance(f.value, str) and condition.pattern.search(f.value[: 256 * 1024])
            ):
                return i
        return None

    matched = []
    for g in TABLE.generators:
        for rule in g.rules:
            hits = [first(c) for c in rule]
            if all(h is not None for h in hits):
                matched.append((g, fields[hits[0]]))  # type: ignore[index]
                break
    dropped = {s for g, _ in matched for s in g.supersedes}
    return [(g.id, hit) for g, hit in matched if g.id not in dropped]


def planned(table: FingerprintTable, fields: list[Field]) -> list[tuple[str, Field]]:
    return [(g.id, hit) for g, hit in table.matches(fields)]


def test_the_plan_matches_the_rules_read_literally_on_the_samples():
    from test_fingerprints import NEGATIVE, POSITIVE

    cases = [fields for _, _, fields in POSITIVE] + [fields for *_, fields in NEGATIVE]
    assert len(cases) > 100
    for fields in cases:
        assert planned(TABLE, fields) == brute_force(fields), fields
    # A second pass is served from the cached plans and must say the same.
    for fields in cases:
        assert planned(TABLE, fields) == brute_force(fields), fields


class RecordingTable(FingerprintTable):
    """The shipped table, keeping the fields of every file it matched."""

    def __init__(self) -> None:
        shipped = FingerprintTable.load()
        super().__init__(shipped.generators, shipped.field_groups)
        self.seen: list[list[Field]] = []

    def matches(self, fields):
        self.seen.append(list(fields))
        return super().matches(fields)


def test_the_plan_matches_the_rules_read_literally_on_every_fixture():
    checker = Checker()
    table = RecordingTable()
    checker.fingerprints = table
    for path in sorted(FIXTURES.iterdir()):
        if path.is_file():
            checker.check(path)
    assert len(table.seen) > 200
    fresh = FingerprintTable.load()
    for fields in table.seen:
        assert planned(fresh, fields) == brute_force(fields), [f.name for f in fields]


def test_a_rule_needs_every_condition_named_and_the_order_is_the_tables():
    # Field order decides which field a generator's evidence points at: the first one in the file.
    fields = [
        Field("text", "Comment", "Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, Version: f2.0.1", "a"),
        Field("text", "parameters", "Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1", "b"),
    ]
    assert planned(TABLE, fields) == brute_force(fields)
    assert planned(TABLE, fields[::-1]) == brute_force(fields[::-1])
    assert planned(TABLE, []) == []


# --------------------------------------------------------------------------- kept decisions


def test_kept_decisions_equal_the_policys_and_are_copies(tmp_path):
    checker = Checker()
    path = FIXTURES / "gb-png-text.png"
    first = checker.check(path, "none")
    first.decision.measures.append("changed by a caller")
    again = checker.check(path, "none")
    fresh = Checker().policy.decide(again.classification, again.declared, False, again.findings)
    assert again.decision == fresh
    assert "changed by a caller" not in again.decision.measures
    assert checker.check(path, "ai").verdict != again.verdict  # the declaration is part of the case


# --------------------------------------------------------------------------- ByteSource.find_last


@pytest.mark.parametrize("size", [10, 4096, HEAD_SIZE, HEAD_SIZE + 10, 3 * HEAD_SIZE])
def test_find_last_is_a_search_of_read(size):
    data = bytes((i * 7) % 251 for i in range(size - 2)) + b"\xff\xd9"
    for start in (0, max(0, size - 64 * 1024), size - 1, size // 2):
        plain, fast = ByteSource.open(data), ByteSource.open(data)
        chunk = plain.read(start, size - start)
        expected = chunk.rfind(b"\xff\xd9")
        expected = expected + start if expected >= 0 else -1
        assert fast.find_last(b"\xff\xd9", start, size) == expected
        assert fast.bytes_read == plain.bytes_read


# --------------------------------------------------------------------------- the scan's one open


def test_one_open_sniff_gives_what_sniff_and_check_give(tmp_path):
    (tmp_path / "empty.bin").write_bytes(b"")
    (tmp_path / "notes.txt").write_bytes(b"post text, not an image\n")
    paths = [str(p) for p in sorted(FIXTURES.iterdir()) if p.is_file()]
    paths += [str(tmp_path / "empty.bin"), str(tmp_path / "notes.txt"), str(tmp_path / "missing.jpg")]
    checker = Checker()
    got = check_batch([ScanItem(p) for p in paths], checker.options)
    for path, row in zip(paths, got):
        reason = sniff(path)
        if reason:
            assert row == {"path": path, "skipped": reason, "account": None, "post_id": None}
            continue
        expected = {**checker.check(path, name=path).to_dict(), "account": None, "post_id": None}
        row.pop("elapsed_ms")
        expected.pop("elapsed_ms")
        assert row == expected, path
        assert list(row) == list(expected), path  # the same key order: the JSON line is the same text
        assert csv_row(row) == [_full_csv_cell(v) for v in contract.csv_values(row)], path


# --------------------------------------------------------------------------- escapes


def _full_csv_cell(value: object) -> str:
    text = "" if value is None else printable(str(value))
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def _full_html_text(value: object) -> str:
    s = "" if value is None else str(value)
    s = s.encode("utf-8", "backslashreplace").decode("utf-8")
    return html.escape(CONTROL_CHARS.sub(escape_control, s), quote=True)


NAMES = st.text(
    alphabet=st.one_of(
        st.characters(),
        st.sampled_from(["\udc80", "\u202e", "\u2028", "\t", "\n", "\x7f", "\x85", "\u061c", "<", "&", "="]),
    ),
    max_size=20,
)


@settings(max_examples=500, deadline=None)
@given(NAMES)
def test_fast_escapes_equal_the_full_ones(value):
    assert csv_cell(value) == _full_csv_cell(value)
    assert html_text(value) == _full_html_text(value)


def test_the_plan_cache_is_bounded_by_the_names_it_holds(monkeypatch):
    from aigc_check.signatures import fingerprints

    monkeypatch.setattr(fingerprints, "MAX_CACHED_PLAN_NAMES", 100)
    table = FingerprintTable(TABLE.generators, TABLE.field_groups)
    label = Field("text", "parameters", "Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1", "here")
    for n in range(200):  # files whose names are all different: hostile, or just varied
        fields = [Field("text", f"k{n}-{i}", "x", "here") for i in range(30)] + [label]
        assert planned(table, fields) == brute_force(fields)
    assert sum(len(key) for key in table._plans) <= 100
