"""Bounded structure-aware fuzzing in the suite (hypothesis), plus the inputs
earlier fuzzing found, kept as regression tests.

Seeds are the fixtures and, when present, the shared corpus; each example
applies a few mutations that break structure the way real damage and attacks
do: size fields set to extremes, cuts, repeated regions, bytes spliced from
another file, flipped bits.  Every target in fuzz/targets.py runs (the whole
check, each container walker, each metadata reader).  The number of examples
is small and the examples are the same on every run by default, so CI stays reproducible; set
AIGC_FUZZ_EXAMPLES for a longer run with fresh random examples, and use fuzz/fuzz_atheris.py for
coverage-guided fuzzing.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from pathlib import Path

import pytest
from conftest import ROOT, corpus_dir
from fuzz_strategies import damaged
from hypothesis import HealthCheck, given, settings

sys.path.insert(0, str(ROOT / "fuzz"))
from targets import all_targets, check_target, seed_files

SEEDS = [p.read_bytes() for p in seed_files(corpus_dir())]
TARGETS = all_targets()
EXAMPLES = int(os.environ.get("AIGC_FUZZ_EXAMPLES", "60"))
EXPLORE = "AIGC_FUZZ_EXAMPLES" in os.environ  # a longer run explores; the default run is repeatable
FAILURES = Path(os.environ.get("AIGC_FUZZ_FAILURES", Path(tempfile.gettempdir()) / "aigc-fuzz-failures"))


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_fuzz_target(name):
    target = TARGETS[name]

    @settings(
        max_examples=EXAMPLES if name == "check" else max(10, EXAMPLES // 3),
        deadline=None,
        database=None,
        derandomize=not EXPLORE,
        suppress_health_check=list(HealthCheck),
    )
    @given(damaged(SEEDS))
    def run(data: bytes) -> None:
        try:
            target(data)
        except Exception as exc:
            saved = FAILURES / f"{name.replace(':', '-')}-{hashlib.sha256(data).hexdigest()[:16]}.bin"
            saved.parent.mkdir(parents=True, exist_ok=True)
            saved.write_bytes(data)
            raise AssertionError(f"{name}: {type(exc).__name__}: {exc} (input saved to {saved})") from exc

    run()


REGRESSIONS = ROOT / "tests" / "fuzz_regressions"
# input found by fuzzing -> (verdict, error code it must list); each once stalled or crashed a release.
FOUND = {
    # piexif unpacked an IFD entry claiming 2^31 values: 20-30 s and gigabytes per file.
    "exif-ifd-pointer-2g-values.jpg": ("unreadable", "limit-exceeded"),
    "exif-ifd-pointer-2.8g-values.jpg": ("unreadable", "limit-exceeded"),
    # An ASF Extended Content Description record cut after its name: struct.error escaped the walker
    # (found by this suite's fuzzing in CI).
    "asf-extended-content-cut-in-record.wma": ("unreadable", "malformed"),
    # A HEIF iloc box of 4 bytes: IndexError escaped the BMFF walker (atheris, format:bmff).
    "bmff-iloc-box-too-short.heic": ("unreadable", "malformed"),
}


@pytest.mark.parametrize("name", sorted(FOUND))
def test_fuzz_regression(name, checker):
    data = (REGRESSIONS / name).read_bytes()
    check_target(data)
    for target in TARGETS.values():  # the walker and readers that once failed on it, and the rest
        target(data)
    verdict, code = FOUND[name]
    result = checker.check(data)
    assert result.verdict == verdict and code in {e.code for e in result.errors}


def test_every_regression_file_is_listed():
    assert {p.name for p in REGRESSIONS.iterdir()} == set(FOUND)
