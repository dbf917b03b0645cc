"""``json_lines``: orjson's lines hold the JSON the standard encoder's did, keys in the same order,
and what orjson refuses is written by the standard encoder, text for text."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import FIXTURES, ROOT, corpus_dir, corpus_rows

from aigc_check.json_lines import compact_json, json_line, json_line_bytes, object_lines
from aigc_check.model import printable
from aigc_check.scan.outputs import jsonl_line

STANDARD = json.JSONEncoder(ensure_ascii=False)


def _same_json(fast: str, obj: object) -> None:
    standard = STANDARD.encode(obj)
    assert json.loads(fast) == json.loads(standard)
    # Same keys in the same order, at every level (== on dicts ignores order).
    assert json.loads(fast, object_pairs_hook=list) == json.loads(standard, object_pairs_hook=list)
    assert "\n" not in fast


def _results(checker, paths) -> list[dict]:
    return [checker.check(p).to_dict() for p in paths]


def test_every_fixture_result_is_the_same_json(trusting_checker) -> None:
    for d in _results(trusting_checker, sorted(p for p in FIXTURES.iterdir() if p.is_file())):
        _same_json(json_line(d), d)
        assert json_line_bytes(d) == json_line(d).encode("utf-8")
        assert jsonl_line(d) == json_line(d)


def test_every_corpus_result_is_the_same_json(checker) -> None:
    rows = corpus_rows()
    if not rows:
        pytest.skip(f"no corpus at {corpus_dir()} (set AIGC_CORPUS)")
    paths = [corpus_dir() / r["file"] for r in rows if (corpus_dir() / r["file"]).is_file()]
    for d in _results(checker, paths):
        _same_json(json_line(d), d)


@pytest.mark.parametrize(
    "obj",
    [
        {"path": "/photos/caf\udce9.jpg", "verdict": "compliant"},  # a name that is not UTF-8 (surrogateescape)
        {"n": 2**70},  # beyond 64 bits
        {1: "a key that is not a string"},
    ],
    ids=["lone-surrogate", "big-int", "int-key"],
)
def test_what_orjson_refuses_is_the_standard_text(obj: dict) -> None:
    assert json_line(obj) == STANDARD.encode(obj)


def test_bytes_of_a_lone_surrogate_raise_as_the_standard_text_did() -> None:
    obj = {"path": "caf\udce9.jpg"}
    with pytest.raises(UnicodeEncodeError):
        STANDARD.encode(obj).encode("utf-8")
    with pytest.raises(UnicodeEncodeError):
        json_line_bytes(obj)
    assert json_line_bytes({"n": 2**70}) == STANDARD.encode({"n": 2**70}).encode("utf-8")


def test_text_enums_and_unicode_are_written_as_their_values() -> None:
    from aigc_check.model import Verdict

    obj = {"verdict": Verdict.UNLABELLED_AI, "label": "人工智能生成", "ctl": "a\x00b\u2028c", "t": (1, 2.5)}
    _same_json(json_line(obj), obj)
    assert json.loads(json_line(obj))["verdict"] == "unlabelled-ai"


def test_a_scan_of_a_name_that_is_not_utf8_writes_its_line(tmp_path) -> None:
    """A file whose name is not UTF-8 gets its line, which reads back as UTF-8 JSON with the name
    shown as the scan shows it (``printable``: the byte as ``\\xe9``)."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / os.fsdecode(b"caf\xe9.jpg")).write_bytes((FIXTURES / "plain.jpg").read_bytes())
    (folder / "plain.jpg").write_bytes((FIXTURES / "plain.jpg").read_bytes())
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "aigc_check", "scan", str(folder), "--out", str(out), "--progress", "none"],
        cwd=ROOT,
        capture_output=True,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    lines = (out / "results.jsonl").read_bytes().splitlines()
    assert len(lines) == 2
    paths = sorted(json.loads(line.decode("utf-8"))["path"] for line in lines)
    assert paths == sorted([printable(str(folder / os.fsdecode(b"caf\xe9.jpg"))), str(folder / "plain.jpg")])


COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def test_report_rows_are_the_compact_text_character_for_character(trusting_checker) -> None:
    from aigc_check.scan.outputs import digest
    from aigc_check.scan.report_rows import ReportRows

    rows = ReportRows(trusting_checker.policy, trusting_checker.fingerprints, thumbnails=0)
    for d in _results(trusting_checker, sorted(p for p in FIXTURES.iterdir() if p.is_file())):
        d.update(account="acct=1", post_id="\u202epost")
        for value in (rows.row(digest(d)), rows.values(digest(d)), digest(d)):
            assert compact_json(value) == COMPACT.encode(value)
    assert compact_json(list(rows.strings)) == COMPACT.encode(list(rows.strings))


@pytest.mark.parametrize("obj", [["caf\udce9"], [2**70], {1: 2}], ids=["lone-surrogate", "big-int", "int-key"])
def test_compact_text_of_what_orjson_refuses(obj: object) -> None:
    assert compact_json(obj) == COMPACT.encode(obj)


@pytest.mark.parametrize("similar", [False, True], ids=["scan", "scan --similar"])
def test_a_scans_results_are_json_lines_text(tmp_path, similar):
    """Every line of results.jsonl is ``json_line``'s text of its object, with or without the
    near-duplicate pass (which rewrites the file whole)."""
    if similar:
        pytest.importorskip("pdqhash")
    from aigc_check import CheckOptions
    from aigc_check.scan import runner

    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("plain.jpg", "plain.png", "gen-flux.jpg"):
        (folder / name).write_bytes((FIXTURES / name).read_bytes())
    out = tmp_path / "out"
    config = runner.ScanConfig(
        paths=(str(folder),), out_dir=str(out), jobs=1, progress="none", options=CheckOptions(similar=similar)
    )
    runner.run_scan(config)
    lines = (out / "results.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3
    assert all(line == json_line(json.loads(line)) for line in lines)


class _LineError(Exception):
    pass


def test_object_lines_numbers_each_object_and_names_the_bad_line():
    lines = ['{"a": 1}\n', "\n", "  \n", '{"b": [2]}\n']
    assert list(object_lines(lines, "f.jsonl", _LineError)) == [(1, {"a": 1}), (4, {"b": [2]})]
    for bad, message in (
        ("{not json\n", "f.jsonl line 2: not valid JSON"),
        ("[1, 2]\n", "f.jsonl line 2: each line must be a JSON object"),
        ('"text"\n', "f.jsonl line 2: each line must be a JSON object"),
        ('{"long": "' + "x" * 100 + '"}\n', "f.jsonl line 2: longer than 50 characters"),
    ):
        with pytest.raises(_LineError, match=message):
            list(object_lines(['{"ok": true}\n', bad], "f.jsonl", _LineError, max_chars=50))
    long_line = '{"long": "' + "x" * 100 + '"}'
    assert list(object_lines([long_line], "f.jsonl", _LineError)) == [(1, {"long": "x" * 100})]  # no bound given
