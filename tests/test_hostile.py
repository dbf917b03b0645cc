"""The hostile-file suite (fixtures/make_hostile.py): every case gets the
verdict it must, an error code naming the limit, and nothing leaks from
the file system (XXE)."""

from __future__ import annotations

import json
import sys

import pytest
from conftest import ROOT

sys.path.insert(0, str(ROOT / "fixtures"))
from make_hostile import CASES


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_file(case, checker):
    data = case.make()
    result = checker.check(data, name=case.name)
    codes = {e.code for e in result.errors} | {f.code for f in result.findings}
    context = f"{case.name} ({case.why}): verdict {result.verdict}, errors {[e.message for e in result.errors]}"
    assert result.verdict == case.verdict, context
    if case.error_code:
        assert case.error_code in codes, context
    else:
        assert not result.errors, context
    json.dumps(result.to_dict())  # the report is still whole


def test_xxe_leaks_nothing(checker):
    xxe = next(c for c in CASES if c.name == "xmp-xxe.jpg")
    text = json.dumps(checker.check(xxe.make()).to_dict())
    assert "root:" not in text and "/bin/" not in text


def test_a_refused_block_does_not_hide_evidence_elsewhere(checker):
    case = next(c for c in CASES if c.name == "exif-2g-shorts-with-label.jpg")
    result = checker.check(case.make())
    assert result.status.value == "ai-generated" and any(e.source == "gb45438" for e in result.evidence)
    assert any(e.code == "limit-exceeded" and e.fatal for e in result.errors)


# c2pa-python reports the timer's exception raised inside its stream callback as "ignored"; the
# time limit then ends the check on its way out, which is what this test shows.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_time_limit_turns_a_slow_file_into_an_unreadable_result():
    from conftest import FIXTURES

    from aigc_check import Checker, CheckOptions

    signed = (FIXTURES / "c2pa-ai-created.jpg").read_bytes()  # C2PA validation: milliseconds, far past 0.5 ms
    result = Checker(CheckOptions(time_limit=0.0005)).check(signed, name="slow.jpg")
    assert result.verdict == "unreadable"
    assert [e.code for e in result.errors] == ["time-limit"] and "0.0005 s" in result.errors[0].message
    # the timer is gone afterwards: a later check in the same process is not interrupted
    assert Checker(CheckOptions(time_limit=30)).check(signed).status.value == "ai-generated"


def test_memory_cap_applies_to_the_process(tmp_path):
    import subprocess

    code = (
        "import resource; from aigc_check.deadline import limit_memory; limit_memory(512); "
        "print(resource.getrlimit(resource.RLIMIT_AS)[0]); "
        "b = bytearray(1 << 30)"
    )  # 1 GiB under a 512 MiB cap
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert run.stdout.split()[0] == str(512 * 1024 * 1024)
    assert "MemoryError" in run.stderr
