"""``--similar``'s hashing runs within the check's own ``--time-limit``: a picture slow to decode (made by
``fixtures/makers/slow_decode.py``: 61 million pixels, read in a millisecond, decoded in about half a
second) keeps its metadata verdict and gets ``similarity.error`` ``time-limit`` instead of a hash; the
same file with time to spare is hashed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT
from scan_helpers import results, run_cli, summary

import aigc_check.similar  # noqa: F401  (first: it keeps numpy's BLAS from starting native threads here)

pytest.importorskip("pdqhash", reason="the similar extra: pip install 'aigc-check[similar]'")

from aigc_check import Checker, CheckOptions
from aigc_check.similar.stage import add_similarity
from aigc_check.source import ByteSource

sys.path.insert(0, str(ROOT / "fixtures"))
from makers import slow_decode

TINY_LIMIT = 0.1  # the metadata check of the picture takes about 1 ms, its decode about 500 ms


@pytest.fixture(scope="module")
def slow_png(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return slow_decode.make(tmp_path_factory.mktemp("slow") / "slow.png")


def warm(checker: Checker) -> Checker:
    checker.check(str(FIXTURES / "plain.png"))  # the first check of a process loads what checks need
    return checker


def test_the_picture_is_hashed_when_there_is_time(slow_png):
    result = warm(Checker(CheckOptions(similar=True, time_limit=None))).check(str(slow_png))
    assert result.similarity is not None and result.similarity.error is None
    assert result.similarity.reliable and result.similarity.hash
    assert result.label == "ai-generated"


def test_a_decode_past_the_time_limit_costs_the_hash_not_the_verdict(slow_png):
    checker = warm(Checker(CheckOptions(similar=True, time_limit=TINY_LIMIT)))
    result = checker.check(str(slow_png))
    plain = warm(Checker(CheckOptions(time_limit=TINY_LIMIT))).check(str(slow_png))
    # The metadata verdict is the one the check without --similar gives: the label is found, nothing fatal.
    assert result.verdict == plain.verdict == "unlabelled-ai" and result.label == plain.label == "ai-generated"
    assert not result.errors
    assert result.similarity is not None and result.similarity.hash is None
    assert result.similarity.error.startswith("time-limit: ") and f"{TINY_LIMIT:g} s" in result.similarity.error
    assert result.to_dict()["similarity"]["error"] == result.similarity.error


def test_the_limit_counts_from_the_start_of_the_check(slow_png):
    """A check that used its whole limit on the metadata leaves nothing for the hash: not decoded at all."""
    checker = Checker(CheckOptions(similar=True, time_limit=5))
    result = Checker(CheckOptions(time_limit=None)).check(str(slow_png))
    with ByteSource.open(str(slow_png), "slow.png") as src:
        before = src.bytes_read
        add_similarity(checker, src, result, started=time.perf_counter() - 5)
        assert src.bytes_read == before  # nothing read for a decode
    assert result.similarity is not None and result.similarity.error.startswith("time-limit: ")
    # Given the time, the same call hashes it.
    with ByteSource.open(str(slow_png), "slow.png") as src:
        add_similarity(checker, src, result, started=time.perf_counter())
    assert result.similarity.error is None and result.similarity.reliable


def test_check_and_scan_report_the_hash_time_limit(slow_png, tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "aigc_check", "check", "--similar", "--time-limit", str(TINY_LIMIT), "--format",
         "json", str(slow_png)],
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr  # unlabelled-ai: a violation, not an unreadable file (3)
    record = json.loads(done.stdout)
    assert record["verdict"] == "unlabelled-ai" and record["similarity"]["error"].startswith("time-limit: ")

    folder = tmp_path / "uploads"
    folder.mkdir()
    (folder / "slow.png").write_bytes(slow_png.read_bytes())
    out = tmp_path / "scan"
    done = run_cli(str(folder), "--similar", "--time-limit", str(TINY_LIMIT), "--out", str(out), "--progress", "none")
    assert done.returncode == 1, done.stderr
    (line,) = results(out)
    assert line["verdict"] == "unlabelled-ai" and line["similarity"]["error"].startswith("time-limit: ")
    assert summary(out)["similar"]["hash_errors"] == 1
