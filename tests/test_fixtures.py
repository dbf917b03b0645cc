"""Every fixture made by fixtures/make_fixtures.py gives the status, signals,
generator and findings recorded for it in fixtures/expected.json."""

from __future__ import annotations

import pytest
from conftest import FIXTURES, expected_fixtures

CASES = expected_fixtures()


def test_fixture_catalogue_present():
    assert len(CASES) > 50, "fixtures/expected.json is missing or nearly empty: run fixtures/make_fixtures.py"
    for case in CASES:
        assert (FIXTURES / case["file"]).exists(), case["file"]


@pytest.mark.parametrize("case", CASES, ids=[c["file"] for c in CASES])
def test_fixture_without_test_anchor(case, checker):
    result = checker.check(FIXTURES / case["file"])
    context = (
        f"{case['file']} ({case['why']}): evidence {[e.explanation for e in result.evidence]}, "
        f"findings {[f.code for f in result.findings]}, errors {[e.message for e in result.errors]}"
    )
    assert result.status.value == case["status"], context
    assert (result.verdict == "unreadable") == case["unreadable"], context
    sources = {e.source for e in result.evidence}
    assert set(case["signals"]) <= sources, context
    codes = {f.code for f in result.findings}
    assert set(case["findings"]) <= codes, context
    if case.get("generator"):
        assert result.generator == case["generator"], context


SIGNED = [c for c in CASES if "c2pa" in c["signals"]]


@pytest.mark.parametrize("case", SIGNED, ids=[c["file"] for c in SIGNED])
def test_fixture_with_test_anchor(case, trusting_checker):
    result = trusting_checker.check(FIXTURES / case["file"])
    assert result.status.value == case.get("status_with_test_ca_trusted", case["status"]), case["why"]
    codes = {f.code for f in result.findings}
    expected = set(case.get("findings_with_test_ca_trusted", case["findings"]))
    assert expected <= codes, case["why"]
    if "c2pa-untrusted-signer" not in expected:
        assert "c2pa-untrusted-signer" not in codes, "the test CA was passed as an anchor"


@pytest.mark.parametrize("case", CASES, ids=[c["file"] for c in CASES])
def test_bytes_and_path_give_the_same_answer(case, checker):
    path = FIXTURES / case["file"]
    a = checker.check(path).to_dict()
    b = checker.check(path.read_bytes(), name=str(path)).to_dict()
    for key in ("status", "verdict", "label", "generator", "findings", "evidence"):
        assert a[key] == b[key], key
