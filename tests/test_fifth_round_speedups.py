"""Issue 14's fifth round changes no answer: each shortcut is checked against the plain way.

- a C2PA store's JSON text is parsed by orjson where its value is ``json.loads``'s (every store
  of every fixture and corpus file, and the texts where the two parsers part);
- a process that owns its signals (a scan or service worker) sets the ``SIGALRM`` handler once and
  each check only arms and disarms the timer: the limit still ends a check, no timer is left
  armed, an inner block's expiry is its own, and a handler set since is used and given back;
- a GB 45438 label's elements, written into the evidence by orjson where its text is the standard
  encoder's (every label of every fixture and corpus file, and values where the two part);
- a path is read through its descriptor (no file object): the same errors as ``open``, the same
  bytes and counts as a buffer's source;
- the shipped fingerprint table compiles a rule's pattern on its first use, to the pattern an
  eager compile gives; a user's fingerprint file compiles its patterns when it loads, so a bad
  one still fails the load with the same error;
- the lean path's copy of a record, a function made per class, copies what a copy slot by slot
  does (slots, frozen slots, a ``__dict__``), and the results of the lean path are the full path's
  (``test_core_speedups`` compares them on every fixture and corpus file);
- a stream read inside the head is counted as a read through the source is (and the property test
  of ``test_core_speedups`` compares every read and seek with a plain file object).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT, corpus_dir, corpus_rows

from aigc_check import Checker
from aigc_check.json_lines import parse_json
from aigc_check.options import CheckOptions
from aigc_check.readers import c2pa as c2pa_reader


def _every_file() -> list[Path]:
    paths = sorted(p for p in FIXTURES.iterdir() if p.is_file())
    corpus = corpus_dir()
    paths += [corpus / row["file"] for row in corpus_rows() if (corpus / row["file"]).is_file()]
    return paths


def _arguments_while_checking(module: object, name: str) -> list:
    """What ``module.name`` (a one-argument function) was called with while every fixture and
    corpus file was checked."""
    seen: list = []
    original = getattr(module, name)

    def spy(argument: object) -> object:
        seen.append(argument)
        return original(argument)

    checker = Checker(CheckOptions(time_limit=None))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(module, name, spy)
        for path in _every_file():
            checker.check(str(path))
    return seen


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
    return _arguments_while_checking(c2pa_reader, "parse_json")


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


def test_a_text_nested_deeper_than_the_standard_parser_reads_fails_as_it_does() -> None:
    for depth in (300, 1000, 1020, 2000):
        text = "[" * depth + "]" * depth
        try:
            expected: object = json.loads(text)
        except RecursionError:
            with pytest.raises(RecursionError):
                parse_json(text)
        else:
            assert _same(parse_json(text), expected)


def test_a_store_with_a_wide_integer_keeps_it_exact() -> None:
    value = parse_json('{"manifests": {"m": {"size": 340282366920938463463374607431768211456}}}')
    assert value["manifests"]["m"]["size"] == 2**128
    assert isinstance(value["manifests"]["m"]["size"], int)


# --------------------------------------------------------------------------- the owned SIGALRM handler


def _run_fresh(code: str) -> None:
    """Run ``code`` in a fresh interpreter (owning the signal is for good: not in the test process)."""
    run = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().endswith("ok"), run.stdout


def test_an_owned_handler_still_ends_a_block_and_stays_in_place() -> None:
    _run_fresh(
        """
        import signal, time
        from aigc_check import deadline
        from aigc_check.deadline import TimeLimitError, time_limit

        def spin(seconds):
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                pass

        deadline.own_alarm_signal()
        assert signal.getsignal(signal.SIGALRM) is deadline._dispatch
        for _ in range(3):
            try:
                with time_limit(0.05):
                    spin(5)
            except TimeLimitError as exc:
                assert "0.05 s limit" in str(exc)
            else:
                raise AssertionError("no TimeLimitError")
            assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
            assert signal.getsignal(signal.SIGALRM) is deadline._dispatch
            assert deadline._armed is None
        with time_limit(5):
            assert signal.getitimer(signal.ITIMER_REAL)[0] > 0
            assert deadline._armed is not None
        assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0) and deadline._armed is None

        # A library that swallows the expiry: the block still ends with it.
        try:
            with time_limit(0.05):
                try:
                    spin(5)
                except TimeLimitError:
                    pass
        except TimeLimitError:
            pass
        else:
            raise AssertionError("the swallowed expiry was lost")

        # Nested: the inner block's expiry is the inner one's, and the outer is armed again after.
        outer = time_limit(30)
        with outer:
            try:
                with time_limit(0.05):
                    spin(5)
            except TimeLimitError:
                pass
            assert deadline._armed is outer and not outer.expired
        assert deadline._armed is None

        # A handler set since (something else took SIGALRM): the block sets its own, gives it back.
        def other(signum, frame):
            raise AssertionError("the block's own handler should have been in place")

        signal.signal(signal.SIGALRM, other)
        try:
            with time_limit(0.05):
                spin(5)
        except TimeLimitError:
            pass
        assert signal.getsignal(signal.SIGALRM) is other
        assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)

        # A stray alarm with no block armed is ignored under the owned handler.
        deadline.own_alarm_signal()
        signal.setitimer(signal.ITIMER_REAL, 0.01)
        spin(0.1)
        print("ok")
        """
    )


def test_a_scan_worker_owns_the_handler_and_a_slow_check_still_ends_at_the_limit() -> None:
    _run_fresh(
        f"""
        import signal, time
        from aigc_check import deadline
        from aigc_check.checker import Checker
        from aigc_check.options import CheckOptions
        from aigc_check.scan import batch

        slow = Checker._check_source

        def spinning(self, src, display, declared):
            if display.endswith("plain.jpg"):
                end = time.monotonic() + 5
                while time.monotonic() < end:
                    pass
            return slow(self, src, display, declared)

        Checker._check_source = spinning
        options = CheckOptions(time_limit=0.2)
        batch.init_worker(options)
        assert signal.getsignal(signal.SIGALRM) is deadline._dispatch
        checker = batch.checker_for(options)
        result = checker.check({str(FIXTURES / "plain.jpg")!r})
        assert result.verdict.value == "unreadable", result.verdict
        assert [e.code for e in result.errors] == ["time-limit"], result.errors
        assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
        fine = checker.check({str(FIXTURES / "gen-flux.jpg")!r})
        assert fine.verdict.value != "unreadable", fine.verdict
        print("ok")
        """
    )


# --------------------------------------------------------------------------- a path read by its descriptor


def _open_error(opener, target) -> tuple:
    with pytest.raises(OSError) as caught:
        opener(target)
    exc = caught.value
    return type(exc), exc.errno, exc.strerror, exc.filename, str(exc)


def test_a_path_that_cannot_be_opened_fails_as_open_did(tmp_path: Path) -> None:
    from aigc_check.source import ByteSource

    def plain(target):
        return open(target, "rb", buffering=0)

    for target in (tmp_path, str(tmp_path), tmp_path / "missing.jpg", str(tmp_path / "missing" / "x.png")):
        assert _open_error(ByteSource.open, target) == _open_error(plain, target)


def test_a_path_reads_what_its_bytes_read_and_closes_once(tmp_path: Path) -> None:
    import os

    from aigc_check.source import HEAD_SIZE, ByteSource

    data = bytes(range(256)) * (3 * HEAD_SIZE // 256 + 7)
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    src, mem = ByteSource.open(path), ByteSource.open(data)
    assert src.head == mem.head == data[:HEAD_SIZE] and src.bytes_read == mem.bytes_read == HEAD_SIZE
    for offset, n in ((0, 10), (HEAD_SIZE - 5, 10), (HEAD_SIZE + 100, 50), (2 * HEAD_SIZE, 5000), (len(data) - 3, 9)):
        assert src.read(offset, n) == mem.read(offset, n) == data[offset : offset + n]
        assert src.bytes_read == mem.bytes_read
    stream, mem_stream = src.stream(), mem.stream()
    stream.seek(HEAD_SIZE + 1)
    mem_stream.seek(HEAD_SIZE + 1)
    assert stream.read(100) == mem_stream.read(100) == data[HEAD_SIZE + 1 : HEAD_SIZE + 101]
    assert src.bytes_read == mem.bytes_read
    fd = src._fd
    src.close()
    src.close()  # a second close is nothing (the descriptor may be another file's by now)
    with pytest.raises(OSError):
        os.fstat(fd)
    # A checked file's descriptor is closed with its check.
    before = len(os.listdir("/proc/self/fd"))
    checker = Checker(CheckOptions(time_limit=None))
    for p in sorted(FIXTURES.iterdir())[:40]:
        checker.check(p)
    assert len(os.listdir("/proc/self/fd")) <= before


# --------------------------------------------------------------------------- the label's evidence text


def _label_values() -> list[dict]:
    from aigc_check.signatures import aigc_label

    return _arguments_while_checking(aigc_label, "_values_text")


_PARTING_VALUES = [
    {"Label": "1", "ContentProducer": 'a\u2028b\x7f\x00\x1f"\\/\n\t\b\f\r', "ProduceID": "标识"},
    {"Label": 1, "n": 2**63 - 1, "m": -(2**63), "wide": 2**70, "t": True, "f": False, "z": None},
    {"Label": "1", "ContentProducer": "\udcff lone surrogate"},
    {"Label": "1", "ratio": 1e-05, "big": 1e16, "nan": float("nan"), "inf": float("inf")},
    {"Label": "1", "nested": {"a": [1, 2.5, "x"]}},
    {"Label": "1", 5: "a key that is not a string"},
]


def test_every_label_text_is_the_standard_encoders() -> None:
    from aigc_check.signatures import aigc_label

    values = _label_values()
    assert len(values) >= 20
    for v in values + _PARTING_VALUES:
        assert aigc_label._values_text(v) == aigc_label._VALUE_ENCODER.encode(v), v


# --------------------------------------------------------------------------- patterns compiled on first use


def test_the_shipped_patterns_compile_on_first_use_to_what_an_eager_compile_gives() -> None:
    import re

    from aigc_check.data import load
    from aigc_check.signatures import fingerprints

    data = load("generators.json")
    lazy = fingerprints.parse_generators(data, compile_now=False)
    eager = fingerprints.parse_generators(data)
    pairs = [
        (a, b)
        for ga, gb in zip(lazy, eager, strict=True)
        for ra, rb in zip(ga.rules, gb.rules, strict=True)
        for a, b in zip(ra, rb, strict=True)
    ]
    with_patterns = [(a, b) for a, b in pairs if a.source is not None]
    assert len(with_patterns) > 50
    assert all("pattern" not in a.__dict__ for a, _ in with_patterns)  # nothing compiled at load
    assert all("pattern" in b.__dict__ for _, b in with_patterns)
    for a, b in pairs:
        assert a == b and a.globs == b.globs
        if a.source is None:
            assert a.pattern is None and b.pattern is None
            continue
        assert a.pattern.pattern == b.pattern.pattern == a.source
        assert a.pattern.flags == b.pattern.flags == re.compile(a.source, a.flags).flags
        assert a.__dict__["pattern"] is a.pattern  # cached: compiled once
    # The table a Checker uses is the lazy one, and judges the fixtures as the eager one does.
    table = fingerprints._shipped()
    first = table.generators[0].rules[0][0]
    assert first.source is not None
    eager_table = fingerprints.FingerprintTable(eager, fingerprints.parse_field_groups(data))
    lazy_checker, eager_checker = Checker(CheckOptions(time_limit=None)), Checker(CheckOptions(time_limit=None))
    eager_checker.fingerprints = eager_table
    compared = 0
    for path in sorted(FIXTURES.iterdir()):
        a, b = lazy_checker.check(path).to_dict(), eager_checker.check(path).to_dict()
        a.pop("elapsed_ms", None)
        b.pop("elapsed_ms", None)
        assert a == b, path.name
        compared += 1
    assert compared > 100


def test_a_users_bad_pattern_still_fails_the_load(tmp_path: Path) -> None:
    from aigc_check.errors import DataFileError
    from aigc_check.signatures.fingerprints import FingerprintTable

    good = {"id": "mine", "name": "Mine", "rules": [{"when": [{"field": "text/*", "pattern": "mine-[0-9]+"}]}]}
    bad = {"id": "broken", "name": "Broken", "rules": [{"when": [{"field": "text/*", "pattern": "a(b"}]}]}
    path = tmp_path / "generators.json"
    path.write_text(json.dumps({"generators": [good, bad]}), encoding="utf-8")
    with pytest.raises(DataFileError, match=r"generators\[1\] \(broken\): bad regular expression 'a\(b'"):
        FingerprintTable.load(str(path))
    path.write_text(json.dumps({"generators": [good]}), encoding="utf-8")
    table = FingerprintTable.load(str(path))
    condition = table.generators[0].rules[0][0]
    assert "pattern" in condition.__dict__ and condition.pattern.search("x mine-42")


# --------------------------------------------------------------------------- the lean path's record copies


def test_a_record_copy_is_a_slot_by_slot_copy() -> None:
    from dataclasses import dataclass, fields

    from aigc_check.checker import _copied
    from aigc_check.model import Classification, Decision, Finding, Status, Verdict

    @dataclass(slots=True, frozen=True)
    class FrozenRecord:
        a: int
        b: list

    @dataclass
    class DictRecord:
        a: int
        b: list

    records = [
        Classification(Status.AI_GENERATED, "strong", "flux", "generator", None, ["x"]),
        Decision(Verdict.COMPLIANT, None, {"zh": "x"}, "none", ["m"], "advice", "cn"),
        Finding("code", "warning", "message", "here"),
        FrozenRecord(1, [2]),
        DictRecord(1, [2]),
    ]
    for record in records:
        for _ in range(2):  # the copier made, then the one kept
            copy = _copied(record)
            assert type(copy) is type(record) and copy is not record and copy == record
            for f in fields(record):
                assert getattr(copy, f.name) is getattr(record, f.name)
    copy = _copied(records[0])
    copy.deciding = []
    assert records[0].deciding == ["x"]
