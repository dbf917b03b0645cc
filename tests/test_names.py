"""File names with control characters, markup and bytes that are not UTF-8 are
reported safely in every output: strict JSON, CSV without raw control
characters, escaped HTML, a text report that cannot drive the terminal; and
scan writes nothing but its own files into its output folder."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys

import pytest
from conftest import FIXTURES, ROOT

NAMES = [
    b"ctl\x01\x1b[31mred.png",
    b"a\nb<img src=x onerror=alert(1)>.png",
    b"bad-\xff\xfe-utf8.png",
    b"=cmd|calc.png",
    b'"quote,comma.png',
]


@pytest.fixture(scope="module")
def weird_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("weird")
    data = (FIXTURES / "gb-png-text.png").read_bytes()
    for name in NAMES:
        with open(os.path.join(os.fsencode(folder), name), "wb") as f:
            f.write(data)
    return folder


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "aigc_check", *args], capture_output=True, cwd=ROOT)


def test_json_is_strict_utf8_and_round_trips_the_name(weird_folder, checker):
    from aigc_check.model import result_path

    for name in NAMES:
        path = os.fsdecode(os.path.join(os.fsencode(weird_folder), name))
        d = json.loads(json.dumps(checker.check(path).to_dict()))
        json.dumps(d).encode("utf-8")  # no lone surrogates anywhere
        d["path"].encode("utf-8")
        assert result_path(d) == path
        assert ("path_b64" in d) == (b"\xff" in name)


def test_text_report_escapes_control_characters(weird_folder):
    run = run_cli("check", os.path.join(os.fsencode(weird_folder), NAMES[0]))
    assert b"\x1b" not in run.stdout and b"\\x1b[31m" in run.stdout
    run = run_cli("check", os.path.join(os.fsencode(weird_folder), NAMES[1]))
    first = run.stdout.splitlines()[0]
    assert b"\\x0ab<img" in first  # the line break in the name does not start a new report line


def test_scan_outputs_are_safe(weird_folder, tmp_path):
    out = tmp_path / "out"
    run = run_cli("scan", str(weird_folder), "--out", str(out), "--jobs", "1")
    assert run.returncode == 1, run.stderr
    assert sorted(os.listdir(out)) == ["report.html", "results.csv", "results.jsonl", "summary.json"]
    raw_csv = (out / "results.csv").read_bytes()
    assert not any(b in raw_csv for b in (b"\x01", b"\x1b", b"\xff"))
    rows = list(csv.DictReader((out / "results.csv").open(encoding="utf-8", newline="")))
    assert len(rows) == len(NAMES)
    for line in (out / "results.jsonl").read_bytes().splitlines():
        json.loads(line.decode("utf-8", "strict"))
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "<img src=x onerror" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
