"""What a scan's worker hands the parent for a chunk is what the parent would have made itself from
each file's result: the chunk's counts (``Tally.for_chunk``, added by ``Tally.merge``) give the
summary's tallies of adding every file, the cap of distinct values included; a row the worker
rendered (``ReportRows.rendered``) gives, once the parent interns its strings, the very line
``ReportRows.line`` writes."""

from __future__ import annotations

import json
import pickle
import random
import subprocess
import sys

import pytest
from conftest import ROOT
from scan_helpers import copy_fixtures, fixture_names

from aigc_check import Checker, CheckOptions
from aigc_check.model import VIOLATIONS
from aigc_check.scan import runner
from aigc_check.scan.batch import ScanItem, check_batch
from aigc_check.scan.outputs import COUNTERS, CappedCounter, Tally, digest, is_issue
from aigc_check.scan.report_rows import NOT_MADE, THUMB_FORMATS, ReportRows


@pytest.fixture(scope="module")
def checker() -> Checker:
    return Checker(CheckOptions())


@pytest.fixture(scope="module")
def checked(tmp_path_factory, checker) -> list[dict]:
    """Every fixture's result (and the skip records of those that are not media), as a scan's
    worker has them, with accounts from a sidecar."""
    folder = tmp_path_factory.mktemp("chunk") / "in"
    paths = copy_fixtures(folder, fixture_names())
    accounts = ["alice", "bob", None, "carol"]
    items = [ScanItem(str(p), account=accounts[i % 4], post_id=f"p{i}") for i, p in enumerate(paths)]
    return check_batch(items, CheckOptions())


def _per_file(results: list[dict], checker: Checker) -> Tally:
    tally = Tally(ai_statuses=checker.policy.ai_statuses, fingerprints=checker.fingerprints)
    for r in results:
        if "skipped" in r:
            tally.skip(r["skipped"])
        else:
            tally.add(digest(r))
    return tally


def _by_chunks(results: list[dict], checker: Checker, size: int) -> Tally:
    tally = Tally(ai_statuses=checker.policy.ai_statuses, fingerprints=checker.fingerprints)
    for start in range(0, len(results), size):
        counts = Tally.for_chunk(checker.policy.ai_statuses, checker.fingerprints)
        for r in results[start : start + size]:
            if "skipped" in r:
                counts.skip(r["skipped"])
            else:
                counts.add(digest(r))
        counts.fingerprints = None
        tally.merge(pickle.loads(pickle.dumps(counts)))  # as it crosses the result pipe
    return tally


def _tallies(t: Tally) -> dict:
    """Every count, with the order of each counter's keys (the summary lists them in that order)."""
    return {
        "checked": t.checked,
        "bytes_read": t.bytes_read,
        **{name: list(getattr(t, name).items()) for name in COUNTERS},
        "accounts": {a: vars(s) for a, s in t.accounts.items()},
        "violations": t.violations,
    }


@pytest.mark.parametrize("limit", [500, 4, 1])
@pytest.mark.parametrize("size", [1, 7, 128])
def test_chunk_counts_merged_are_the_counts_of_every_file(checked, checker, monkeypatch, limit, size):
    # A small cap makes values overflow into "(other)" in the middle of chunks.
    monkeypatch.setattr(CappedCounter, "limit", limit)
    shuffled = list(checked)
    random.Random(size * 1000 + limit).shuffle(shuffled)
    expected = _tallies(_per_file(shuffled, checker))
    assert _tallies(_by_chunks(shuffled, checker, size)) == expected
    if limit == 1:
        assert any(key == "(other)" for key, _ in expected["formats"]), "the cap was reached"


def test_a_chunk_counter_has_no_cap(checker, monkeypatch):
    monkeypatch.setattr(CappedCounter, "limit", 2)
    counts = Tally.for_chunk(checker.policy.ai_statuses, None)
    for name in ("a", "b", "c", "d"):
        counts.formats.bump(name)
    assert dict(counts.formats) == {"a": 1, "b": 1, "c": 1, "d": 1}


def _issues(checked: list[dict]) -> list[dict]:
    return [d for d in (digest(r) for r in checked if "skipped" not in r) if d["issue"]]


def _hostile(d: dict, n: int) -> dict:
    """The digest with the characters a row's template must keep: a % sign and a placeholder's
    text in the path and the post id, control and bidirectional characters, markup."""
    d = dict(d)
    d["path"] = f"dir%d/{n}%s 100%\u202e<b>&\x00.{d['path'].rsplit('.', 1)[-1]}"
    d["post_id"] = "%(x)s\x01" if n % 2 else None
    d["account"] = "acc%%\n" if n % 3 else d["account"]
    return d


@pytest.mark.parametrize("thumbnails", [0, 3, 200])
def test_a_rendered_row_is_the_line_the_parent_would_write(checked, checker, thumbnails):
    issues = _issues(checked)
    assert any(d["verdict"] in VIOLATIONS and d["format"] in THUMB_FORMATS for d in issues)
    rows = issues + [_hostile(d, n) for n, d in enumerate(issues)]
    parent = ReportRows(checker.policy, checker.fingerprints, thumbnails)
    worker = ReportRows(checker.policy, checker.fingerprints, 0)  # makes no thumbnail: the parent does
    expected = "".join(parent.line(d) for d in rows)
    parent_of_rendered = ReportRows(checker.policy, checker.fingerprints, thumbnails)
    rendered = [pickle.loads(pickle.dumps(worker.rendered(d, NOT_MADE))) for d in rows]
    got = "".join(parent_of_rendered.rendered_line(row) for row in rendered)
    assert got == expected
    assert list(parent_of_rendered.strings) == list(parent.strings)
    assert parent_of_rendered.thumbnails == parent.thumbnails


def test_a_thumbnail_the_worker_made_or_could_not_make_is_used_as_it_is(checked, checker):
    d = next(d for d in _issues(checked) if d["verdict"] in VIOLATIONS and d["format"] in THUMB_FORMATS)
    worker = ReportRows(checker.policy, checker.fingerprints, 0)
    for made in ("data:image/jpeg;base64,AAAA%d", None):
        parent = ReportRows(checker.policy, checker.fingerprints, 1)
        expected = ReportRows(checker.policy, checker.fingerprints, 1).line(d, made=made)
        assert parent.rendered_line(worker.rendered(d, made)) == expected
        assert parent.thumbnails == (0 if made else 1)  # a failed thumbnail spends no budget


def test_scan_chunk_hands_on_text_and_counts(checked, tmp_path):
    """The chunk's whole message: lines, counts and rows; no per-file object but the rows' strings."""
    folder = tmp_path / "in"
    paths = copy_fixtures(folder, fixture_names("gen-") + ["plain.jpg", "plain.png"])
    (folder / "note.txt").write_text("not media\n")
    items = [ScanItem(str(p)) for p in [*paths, folder / "note.txt"]]
    json_text, csv_text, issue_text, counts, rows = runner.scan_chunk(items, CheckOptions())
    assert json_text.count("\n") == len(paths) and csv_text.count("\n") == len(paths)
    assert counts.checked == len(paths) and dict(counts.skipped) == {"not-media": 1}
    assert counts.fingerprints is None
    assert rows is None  # this process is no worker of a scan that writes a report
    issues = [r for r in map(json.loads, json_text.splitlines()) if is_issue(r)]
    assert issues and [json.loads(line) for line in issue_text.splitlines()] == [digest(r) for r in issues]


# Run in a fresh interpreter: this test process has native threads by now (the C2PA library's),
# which make the scan start its workers from a fork server, where nothing is inherited.
_INHERIT_PROBE = """
import sys
from aigc_check import CheckOptions
from aigc_check.scan import runner

def mark(options):
    from aigc_check.scan.batch import checker_for
    return getattr(checker_for(options), "parent_mark", None)

if __name__ == "__main__":
    options = CheckOptions(similar=sys.argv[2] == "similar")
    scan = runner.Scan(runner.ScanConfig(paths=(sys.argv[1],), out_dir=sys.argv[1] + "/out", options=options))
    scan.checker.parent_mark = "the parent's"
    pool = scan._pool(1)
    try:
        print(pool._mp_context.get_start_method(), pool.submit(mark, options).result(timeout=60))
    finally:
        pool.shutdown()
"""


@pytest.mark.parametrize("similar", [False, True])
def test_forked_workers_check_with_the_parents_checker(tmp_path, similar):
    """A forked worker inherits the parent's checker rather than building one (policy, fingerprint
    table); with --similar it builds its own, as the index may hold native state."""
    if similar:
        pytest.importorskip("pdqhash")
    probe = tmp_path / "probe.py"
    probe.write_text(_INHERIT_PROBE)
    done = subprocess.run(
        [sys.executable, str(probe), str(tmp_path), "similar" if similar else "plain"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split(None, 1) == ["fork", "None\n" if similar else "the parent's\n"]
