"""Policies are data: shipped ones validate, a user file plugs in, bad files are refused."""

from __future__ import annotations

import json
import re

import pytest
from conftest import FIXTURES

from aigc_check import Checker, CheckOptions, PolicyError, load_policy, shipped_policies
from aigc_check.model import Classification, Status, Verdict


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
        (lambda d: d["repeat_offenders"]["basis_text"].pop("zh"), r"repeat_offenders\.basis_text lacks zh"),
        (lambda d: d["accounts"]["basis_text"].__setitem__("fr", "x"), r"accounts\.basis_text must give one text"),
    ],
)
def test_bad_policy_files_are_refused(tmp_path, mutate, message):
    data = json.loads((FIXTURES.parent.parent / "aigc_check" / "policies" / "cn.json").read_text())
    mutate(data)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(PolicyError, match=message):
        load_policy(str(path))


# -- languages: every text in every declared language (issue 11) -----------------------------------


def write(tmp_path, data, name="cn"):
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def shipped(name="cn"):
    return json.loads((FIXTURES.parent.parent / "aigc_check" / "policies" / f"{name}.json").read_text("utf-8"))


@pytest.mark.parametrize("name", shipped_policies())
def test_the_gradings_rule_is_given_in_every_language_of_the_policy(name):
    data = load_policy(name).data
    for section in ("repeat_offenders", "accounts"):
        if section in data:
            texts = data[section]["basis_text"]
            assert list(texts) == list(load_policy(name).languages) and texts["en"] == data[section]["basis"]
            assert re.search(r"[\u4e00-\u9fff]", texts["zh"])


@pytest.mark.parametrize("name", shipped_policies())
def test_shipped_policies_declare_their_languages(name):
    policy = load_policy(name)
    assert set(policy.languages) == {"zh", "en"} and policy.advice_language == "en"
    assert policy.ai_statuses == frozenset({Status.AI_GENERATED, Status.AI_MODIFIED})
    for verdict in Verdict:
        assert list(policy.verdict_text(verdict)) == list(policy.languages)
    for status in Status:
        assert list(policy.status_text(status)) == list(policy.languages)


def test_cn_reads_chinese_first_eu_english_first():
    assert load_policy("cn").languages == ("zh", "en")
    assert load_policy("eu").languages == ("en", "zh")


def test_label_text_lacking_a_language_is_refused_not_a_crash_later(tmp_path):
    """It used to load, then the text report died with KeyError 'zh'."""
    data = shipped()
    del data["label_text"]["possibly-ai"]["zh"]
    with pytest.raises(PolicyError, match=r"cn\.json: label_text\.possibly-ai lacks zh$"):
        load_policy(str(write(tmp_path, data)))


def test_shipped_name_is_the_file_in_messages(tmp_path):
    from aigc_check.policy import _validate

    data = shipped()
    del data["label_text"]["possibly-ai"]["zh"]
    with pytest.raises(PolicyError, match=r"^cn\.json: label_text\.possibly-ai lacks zh$"):
        _validate(data, "cn.json")


@pytest.mark.parametrize(
    "mutate,message",
    [
        (lambda d: d["advice"]["mislabelled"].pop("zh"), r"advice\.mislabelled lacks zh"),
        (lambda d: d["finding_advice"]["c2pa-hash-mismatch"].pop("en"), r"finding_advice\.c2pa-hash-mismatch lacks en"),
        (lambda d: d["verdict_text"]["unreadable"].pop("zh"), r"verdict_text\.unreadable lacks zh"),
        (lambda d: d["status_text"]["captured"].pop("en"), r"status_text\.captured lacks en"),
        (lambda d: d["status_text"].pop("unknown"), r"status_text lacks unknown"),
        (lambda d: d["label_clause"].pop("zh"), r"label_clause lacks zh"),
        (
            lambda d: d["label_text"]["ai-generated"].__setitem__("fr", "Contenu généré par IA"),
            r"label_text\.ai-generated\.fr is not a declared language \(languages: zh, en\)",
        ),
        (lambda d: d["advice"]["compliant"].__setitem__("de", "x"), r"advice\.compliant\.de is not a declared"),
        (lambda d: d["verdict_text"].__setitem__("fine", {"zh": "好", "en": "fine"}), r"verdict_text\.fine is not a"),
        (lambda d: d["advice"].__setitem__("fine", {"zh": "好", "en": "fine"}), r"advice\.fine is not a verdict"),
        (lambda d: d.__setitem__("labels", {}), r"unknown key labels"),
        (lambda d: d.pop("languages"), r"missing keys languages"),
        (lambda d: d.__setitem__("languages", []), r"languages must be a non-empty list"),
        (lambda d: d.__setitem__("languages", ["zh", "en", "zh"]), r"languages lists a language twice"),
        (lambda d: d.__setitem__("languages", ["zh", "English"]), r"'English' is not a language code"),
        (lambda d: d.__setitem__("advice_language", "fr"), r"advice_language 'fr' is not one of languages"),
        (lambda d: d["label_text"]["ai-generated"].__setitem__("en", " "), r"ai-generated\.en must be a non-empty"),
        (lambda d: d["ai_statuses"].append("robot"), r"ai_statuses: 'robot' is not a status"),
        (
            lambda d: d["advice"]["mislabelled"].__setitem__("en", "Show {label_fr}."),
            r"advice\.mislabelled\.en uses \{label_fr\}",
        ),
        (
            lambda d: d["advice"]["mislabelled"].__setitem__("zh", "显示{label"),
            r"advice\.mislabelled\.zh is not a valid",
        ),
        (lambda d: d.pop("label_clause"), r"advice uses \{label_clause\} but the policy has no label_clause"),
        (lambda d: d["aigc_label_values"].__setitem__("4", "robot-made"), r"aigc_label_values\.4 names 'robot-made'"),
    ],
)
def test_texts_in_every_declared_language_and_only_those(tmp_path, mutate, message):
    data = shipped()
    mutate(data)
    with pytest.raises(PolicyError, match=message):
        load_policy(str(write(tmp_path, data, "bad")))


def test_status_words_feed_the_advice_in_each_language():
    policy = load_policy("cn")
    d = policy.decide(classification("ai-modified", "trace"), "none", False, [])
    assert d.advice.startswith("The file shows AI-edited content but nothing was declared.")
    texts = policy.advice_texts(d.verdict, Status.AI_MODIFIED, d.label)
    assert texts["en"] == d.advice
    assert texts["zh"].startswith("文件显示为人工智能编辑内容，但发布时未作声明。")
    assert "“该内容疑似为人工智能生成合成内容”" in texts["zh"]


def test_finding_advice_follows_in_each_language():
    from aigc_check.model import Finding

    policy = load_policy("cn")
    findings = [Finding("c2pa-signature-invalid", "error", "x"), Finding("c2pa-hash-mismatch", "error", "y")]
    d = policy.decide(classification("ai-generated"), "ai", False, findings)
    assert d.advice == (
        'Nothing to change; the platform must show "AI-generated content". The C2PA manifest no longer matches'
        " the file (edited after signing): its claims cannot be verified. The C2PA signature is invalid: the"
        " manifest may be forged."
    )
    zh = policy.advice_texts(d.verdict, Status.AI_GENERATED, d.label, [f.code for f in findings])["zh"]
    assert zh == (
        "无需修改；平台须显示“该内容为人工智能生成合成内容”。C2PA清单与文件不再一致（签名后被修改）：其声明无法核验。"
        "C2PA签名无效：清单可能是伪造的。"
    )


def test_a_policy_in_english_only(tmp_path):
    from policy_helpers import english_only

    path = english_only(tmp_path)
    policy = load_policy(str(path))
    assert policy.languages == ("en",) and policy.advice_language == "en"
    result = Checker(CheckOptions(policy=str(path))).check(FIXTURES / "gen-a1111-parameters.png", "none")
    assert result.label_text == {"en": "Suspected AI-generated content"}
    assert result.advice.startswith("The file shows AI-generated content but nothing was declared.")
    assert policy.page_data()["label_text"]["possibly-ai"] == {"en": "This content may be AI-generated"}


def test_advice_language_sets_the_contract_string(tmp_path):
    data = shipped()
    data["id"] = "cn-zh"
    data["advice_language"] = "zh"
    result = Checker(CheckOptions(policy=str(write(tmp_path, data)))).check(FIXTURES / "gb-jpeg-xmp-element.jpg")
    assert result.advice.startswith("文件显示为人工智能生成内容，但发布时未作声明。")


def test_a_result_finds_its_policy_by_id(tmp_path):
    from aigc_check.policy import policy_by_id

    data = shipped()
    data["id"] = "my-rules"
    policy = load_policy(str(write(tmp_path, data)))
    assert policy_by_id("my-rules") is policy
    assert policy_by_id("eu") is load_policy("eu")
    assert policy_by_id("never-loaded") is None
    assert policy_by_id("../cn") is None
