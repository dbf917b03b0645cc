"""report.html's rows as the scan writes them while it runs (workers make each row's values and
thumbnails, the parent interns the strings, ``report_rows.RowsFile``) are the rows the report
makes from the finished results, byte for byte: in the order results.jsonl lists the files, with
thumbnails for exactly the first image violations the budget allows, whichever worker checked
them, after a resume too."""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path

import pytest
from scan_helpers import copy_fixtures, fixture_names, results

from aigc_check import Checker, CheckOptions
from aigc_check.model import VIOLATIONS
from aigc_check.scan import runner
from aigc_check.scan.outputs import digest, is_issue, repair_results
from aigc_check.scan.report_rows import THUMB_FORMATS, ReportRows

ROWS_BLOCK = re.compile(
    r'<script type="application/json" id="report-rows">.*?</script>'
    r'<script type="application/json" id="report-strings">.*?</script>',
    re.S,
)


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """Every fixture, and enough copies of the image violations that thumbnails run out."""
    root = tmp_path_factory.mktemp("rows") / "in"
    copy_fixtures(root, fixture_names())
    checker = Checker(CheckOptions())
    images = [
        p
        for p in sorted(root.iterdir())
        if (r := checker.check(str(p))).verdict in VIOLATIONS and r.format in THUMB_FORMATS
    ]
    assert len(images) >= 3, "the fixtures hold image violations"
    for n in range(40):
        shutil.copyfile(images[n % len(images)], root / f"copy-{n:02d}{images[n % len(images)].suffix}")
    return root


def rows_block(out: Path) -> str:
    match = ROWS_BLOCK.search((out / "report.html").read_text(encoding="utf-8"))
    assert match, "report.html holds the rows and the strings"
    return match.group(0)


def rows_from_results(out: Path, thumbnails: int) -> str:
    """The rows as ``write_report`` makes them from an issue list: the finished results, in order."""
    checker = Checker(CheckOptions())
    issues = [digest(r) for r in results(out) if is_issue(r)]
    buf = io.StringIO()
    ReportRows(checker.policy, checker.fingerprints, thumbnails).write(buf, issues)
    return buf.getvalue()


def scan(folder: Path, out: Path, **kwargs) -> None:
    config = runner.ScanConfig(paths=(str(folder),), out_dir=str(out), progress="none", **kwargs)
    runner.run_scan(config)


@pytest.mark.parametrize(("jobs", "thumbnails"), [(1, 200), (2, 0), (2, 5), (2, 200)])
def test_rows_written_while_scanning_are_the_rows_of_the_results(folder, tmp_path, jobs, thumbnails):
    out = tmp_path / "out"
    scan(folder, out, jobs=jobs, chunk_size=4, thumbnails=thumbnails)
    block = rows_block(out)
    assert block == rows_from_results(out, thumbnails)
    made = block.count("data:image/jpeg;base64,")
    assert made == min(thumbnails, 5) if thumbnails <= 5 else made > 5
    assert not (out / ".report-rows.tmp").exists()


def test_the_workers_make_no_more_thumbnails_than_their_shared_slots(folder, tmp_path, monkeypatch):
    # One count for both workers: 4 slots, however the images fall between them.
    monkeypatch.setattr(runner, "THUMBNAIL_MARGIN", 0)
    out = tmp_path / "out"
    config = runner.ScanConfig(
        paths=(str(folder),), out_dir=str(out), progress="none", jobs=2, chunk_size=3, thumbnails=4
    )
    scan_run = runner.Scan(config)
    scan_run.run()
    assert scan_run._thumbnail_slots is not None and scan_run._thumbnail_slots.value == 0  # all 4 taken
    block = rows_block(out)
    assert block == rows_from_results(out, 4)
    assert block.count("data:image/jpeg;base64,") == 4


def test_thumbnails_the_workers_did_not_make_are_made_by_the_parent(folder, tmp_path, monkeypatch):
    # Two slots short of the budget: the first image violations the workers left without one get
    # theirs from the parent, and the page is what it would be had the workers made them all.
    monkeypatch.setattr(runner, "THUMBNAIL_MARGIN", -2)
    out = tmp_path / "out"
    scan(folder, out, jobs=2, chunk_size=3, thumbnails=4)
    block = rows_block(out)
    assert block == rows_from_results(out, 4)
    assert block.count("data:image/jpeg;base64,") == 4


def test_rows_after_a_resume_are_the_rows_of_all_the_results(folder, tmp_path):
    out = tmp_path / "out"
    scan(folder, out, jobs=2, chunk_size=4, thumbnails=6)
    files = len(results(out))
    jsonl = out / "results.jsonl"
    data = jsonl.read_bytes()
    jsonl.write_bytes(data[: len(data) // 2])  # killed halfway: a partial last line, half the files left
    repair_results(str(jsonl))
    scan(folder, out, jobs=2, chunk_size=4, thumbnails=6, resume=True)
    assert len(results(out)) == files
    assert rows_block(out) == rows_from_results(out, 6)
