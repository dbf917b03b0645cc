"""Shared test helpers: where the fixtures and the shared corpus live, ready checkers."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from aigc_check import Checker, CheckOptions

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures" / "files"
TEST_ROOT_CA = ROOT / "fixtures" / "ca" / "test-root.pem"


def corpus_dir() -> Path:
    return Path(os.environ.get("AIGC_CORPUS", ROOT.parent / "shared" / "corpus"))


def corpus_rows() -> list[dict]:
    manifest = corpus_dir() / "MANIFEST.tsv"
    if not manifest.exists():
        return []
    with manifest.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def expected_fixtures() -> list[dict]:
    path = ROOT / "fixtures" / "expected.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else []


@pytest.fixture(scope="session")
def corpus() -> Path:
    d = corpus_dir()
    if not (d / "MANIFEST.tsv").exists():
        pytest.skip(f"shared corpus not found at {d} (set AIGC_CORPUS to its folder)")
    return d


@pytest.fixture(scope="session")
def checker() -> Checker:
    # No per-file time limit (the library's default is the CLI's 10 s): these tests are about what
    # files say, and on a loaded machine a big one may take longer; the limit has tests of its own.
    return Checker(CheckOptions(time_limit=None))


@pytest.fixture(scope="session")
def trusting_checker() -> Checker:
    """Trusts the fixtures' test CA in addition to the shipped C2PA trust list."""
    return Checker(CheckOptions(trust_anchor_files=(str(TEST_ROOT_CA),), time_limit=None))


def exiftool_fixtures(*names: str) -> dict[str, dict]:
    """exiftool's ``-j -G1 -a`` reading of fixture files, by file name (an independent reader)."""
    exe = shutil.which("exiftool")
    if not exe:
        pytest.skip("exiftool not installed (apt-get install libimage-exiftool-perl)")
    run = subprocess.run(
        [exe, "-j", "-G1", "-a", *(str(FIXTURES / n) for n in names)], capture_output=True, text=True, check=False
    )
    return {r["SourceFile"].rsplit("/", 1)[-1]: r for r in json.loads(run.stdout)}
