"""File names with control characters, markup and bytes that are not UTF-8 are
reported safely in every output: strict JSON, CSV without raw control
characters, escaped HTML, a text report that cannot drive the terminal; and
scan writes nothing but its own files into its output folder."""

from __future__ import annotations

import csv
import io
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
    from aigc_check.scan.html_report import page_rows

    page = (out / "report.html").read_text(encoding="utf-8")
    assert "<img src=x onerror" not in page  # the rows' JSON escapes < and >: it is shown as text
    assert any("<img src=x onerror=alert(1)>" in r["p"] for r in page_rows(page))


# A right-to-left override shows "invoice\u202egpj.exe" as "invoiceexe.jpg"; an isolate and a line
# break can fake the layout of a report line.  (Both files are PNG images: scan judges them.)
SPOOFING = ["invoice\u202egpj.exe", "two\nlines\u2067.png"]
SPOOFING_SHOWN = ["invoice\\u202egpj.exe", "two\\x0alines\\u2067.png"]
BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


@pytest.fixture(scope="module")
def spoofing_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("spoofing")
    data = (FIXTURES / "gb-png-text.png").read_bytes()
    for name in SPOOFING:
        (folder / name).write_bytes(data)
    return folder


def test_bidi_controls_and_line_breaks_are_escaped_in_the_text_report(spoofing_folder):
    for name, shown in zip(SPOOFING, SPOOFING_SHOWN):
        run = run_cli("check", str(spoofing_folder / name))
        text = run.stdout.decode("utf-8")
        assert not any(c in text for c in BIDI)
        assert text.splitlines()[0].startswith(f"{spoofing_folder}/{shown}: ")
    as_json = run_cli("check", "--format", "json", *(str(spoofing_folder / n) for n in SPOOFING))
    paths = [json.loads(line)["path"] for line in as_json.stdout.splitlines()]
    assert paths == [str(spoofing_folder / n) for n in SPOOFING]  # the JSON keeps the exact name


def test_bidi_controls_and_line_breaks_are_escaped_in_the_scan_csv(spoofing_folder, tmp_path):
    out = tmp_path / "out"
    run = run_cli("scan", str(spoofing_folder), "--out", str(out), "--jobs", "1", "--progress", "none")
    assert run.returncode == 1, run.stderr
    text = (out / "results.csv").read_text(encoding="utf-8")
    assert not any(c in text for c in BIDI)
    lines = text.splitlines()
    assert len(lines) == 1 + len(SPOOFING)  # one line a row: no line break inside a cell
    cells = sorted(row["path"] for row in csv.DictReader(io.StringIO(text)))
    assert cells == sorted(f"{spoofing_folder}/{shown}" for shown in SPOOFING_SHOWN)
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    assert sorted(r["path"] for r in rows) == sorted(str(spoofing_folder / n) for n in SPOOFING)
    assert all("path_b64" not in r for r in rows)  # valid UTF-8: the path alone is exact


def test_printable_escapes_what_reorders_or_breaks_a_line():
    from aigc_check.model import path_fields, printable

    assert printable("invoice\u202egpj.exe") == "invoice\\u202egpj.exe"
    assert printable(BIDI) == "".join(f"\\u{ord(c):04x}" for c in BIDI)
    assert printable("a\nb\tc\u2028d\u2029e") == "a\\x0ab\\x09c\\u2028d\\u2029e"
    assert printable("\x1b[31m\udcff\u00e9\u4e2d") == "\\x1b[31m\\xff\u00e9\u4e2d"  # letters stay letters
    # The JSON path of a name that is not UTF-8 is the contract's: it keeps line breaks and bidi controls.
    assert path_fields("x\udcff\n\u202e")["path"] == "x\\xff\n\u202e"


def test_html_report_text_escapes_bidi_controls():
    from aigc_check.scan.html_report import text

    assert text("invoice\u202egpj.exe\nx<b>") == "invoice\\u202egpj.exe\\x0ax&lt;b&gt;"
