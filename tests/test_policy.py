"""Policies are data: shipped ones validate, a user file plugs in, bad files are refused."""

from __future__ import annotations

import json

import pytest
from conftest import FIXTURES

from aigc_check import Checker, CheckOptions, PolicyError, load_policy, shipped_policies
from aigc_check.model import Classification, Status


def classification(status, basis="implicit-label", aigc_label=None):
    return Classification(Status(status), "strong", None, basis, aigc_label)


@pytest.mark.parametrize("name", shipped_policies())
def test_shipped_policies_load(name):
    assert load_policy(name).id == name


@pytest.mark.parametrize(
    "status,basis,declared,verdict,label",
    [
        ("ai-generated", "implicit-label", "none", "unlabelled-ai", "ai-generated"),
        ("ai-generated", "implicit-label", "not-ai", "mislabelled", "ai-generated"),
        ("ai-generated", "implicit-label", "ai", "compliant", "ai-generated"),
        ("ai-modified", "trace", "none", "unlabelled-ai", "suspected-ai"),
        ("ai-modified", "trace", "ai", "compliant", "possibly-ai"),
        ("unknown", "none", "ai", "compliant", "possibly-ai"),
        ("unknown", "none", "none", "compliant", None),
        ("captured", "implicit-label", "not-ai", "compliant", None),
    ],
)
def test_cn_measures_article_6_tiers(status, basis, declared, verdict, label):
    d = load_policy("cn").decide(classification(status, basis), declared, False, [])
    assert (d.verdict, d.label) == (verdict, label)
    if verdict == "unlabelled-ai":
        assert "restrict-exposure" in d.measures
    if verdict == "mislabelled":
        assert d.action == "warn"


def test_gb_label_value_sets_the_tier():
    d = load_policy("cn").decide(classification("ai-generated", aigc_label="3"), "none", False, [])
    assert d.label == "suspected-ai"


def test_unreadable_never_compliant():
    d = load_policy("cn").decide(classification("unknown", "none"), "none", True, [])
    assert d.verdict == "unreadable" and d.action == "hold-for-review"
    # readable AI evidence in a damaged file is still judged
    d = load_policy("cn").decide(classification("ai-generated"), "none", True, [])
    assert d.verdict == "unlabelled-ai"


def test_user_policy_file(tmp_path):
    data = json.loads((FIXTURES.parent.parent / "aigc_check" / "policies" / "cn.json").read_text())
    data["id"] = "strict"
    data["verdicts"]["not-ai"]["ai"] = "mislabelled"  # a platform that forbids declaring AI without proof
    path = tmp_path / "strict.json"
    path.write_text(json.dumps(data))
    result = Checker(CheckOptions(policy=str(path))).check(FIXTURES / "plain.png", "ai")
    assert result.policy == "strict" and result.verdict == "mislabelled"


@pytest.mark.parametrize(
    "mutate,message",
    [
        (lambda d: d.pop("verdicts"), "missing keys"),
        (lambda d: d["verdicts"]["ai"].__setitem__("none", "fine"), "must be one of"),
        (lambda d: d["measures"]["mislabelled"].append("jail"), "measure_order"),
        (lambda d: d["label_rules"].append({"when": "moon", "label": "x"}), "label rule"),
    ],
)
def test_bad_policy_files_are_refused(tmp_path, mutate, message):
    data = json.loads((FIXTURES.parent.parent / "aigc_check" / "policies" / "cn.json").read_text())
    mutate(data)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(PolicyError, match=message):
        load_policy(str(path))
