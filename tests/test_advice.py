"""Advice that fits the cause: a missing file, a folder, an empty file, a file that is not media and
a manifest that is only online each get their own advice and measures (policy data, inherited by
the packs that extend the base packs), in every language; a missing path is a usage error for scan."""

from __future__ import annotations

import json

import pytest
from conftest import FIXTURES
from policy_helpers import shipped_data

from aigc_check import Checker, CheckOptions, PolicyError, load_policy
from aigc_check.cli import ExitStatus, main
from aigc_check.formats import DISPLAY_NAMES, handlers, supported_formats
from aigc_check.model import Classification, Finding, Status
from aigc_check.report import to_text

GENERIC_UNREADABLE = "Re-export it"  # the verdict's own advice: it must not be what these causes get
BASE_PACKS = ("cn", "eu")
# Packs that extend a base pack and so inherit its cause texts.
CHILD_PACKS = {"douyin": "cn", "xiaohongshu": "cn", "ca": "eu", "in": "eu", "kr": "eu"}


def run(capsys, *args):
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def not_media(tmp_path):
    path = tmp_path / "upload.bin"
    path.write_bytes(b"\x00\x01\x02\x03\xfe\xff binary, not a media file")
    return path


def empty(tmp_path):
    path = tmp_path / "empty.jpg"
    path.write_bytes(b"")
    return path


CAUSES = {
    # cause code: (make the target, the measures that fit, a phrase of the English advice)
    "not-found": (lambda tmp: tmp / "nope.jpg", [], "check the file name"),
    "is-a-folder": (lambda tmp: tmp, [], "use aigc-check scan"),
    "empty": (empty, [], "empty (0 bytes)"),
    "unsupported-format": (not_media, ["review"], "The formats it reads: JPEG, PNG"),
}


@pytest.mark.parametrize("policy", BASE_PACKS)
@pytest.mark.parametrize("cause", sorted(CAUSES))
def test_each_unreadable_cause_has_its_own_advice_and_measures(tmp_path, cause, policy):
    make, measures, phrase = CAUSES[cause]
    result = Checker(CheckOptions(policy=policy)).check(make(tmp_path))
    assert result.verdict == "unreadable"
    assert [e.code for e in result.errors] == [cause]
    assert result.measures == measures and result.action == (measures[-1] if measures else "none")
    assert phrase in result.advice and GENERIC_UNREADABLE not in result.advice
    # The text report shows the same cause's words in every language of the policy.
    report = to_text(result)
    texts = load_policy(policy).data["cause_advice"][cause]
    for lang in load_policy(policy).languages:
        assert texts[lang].split("{")[0] in report, lang


def test_a_damaged_file_keeps_the_generic_advice(checker):
    result = checker.check(FIXTURES / "av-broken-ebml-size.mkv")
    assert result.verdict == "unreadable" and GENERIC_UNREADABLE in result.advice
    assert result.measures == ["hold-for-review"]


def test_not_media_advice_names_every_format_read():
    assert set(DISPLAY_NAMES) >= {h.name for h in handlers()}  # a new walker needs its display name
    listed = supported_formats()
    for handler in handlers():
        assert DISPLAY_NAMES[handler.name] in listed
    assert listed.endswith("plain text")


@pytest.mark.parametrize("policy", BASE_PACKS)
def test_remote_only_manifest_is_never_nothing_to_change(policy):
    result = Checker(CheckOptions(policy=policy)).check(FIXTURES / "c2pa-remote-only.jpg")
    assert "c2pa-remote-manifest" in [f.code for f in result.findings]
    assert result.verdict == "compliant"  # nothing AI was read; but it is not cleared either
    assert "Nothing to change" not in result.advice
    assert "exists online" in result.advice and "--allow-network" in result.advice
    assert "embedded manifest" in result.advice and "AI-generated" in result.advice
    assert result.measures == ["review"]
    report = to_text(result)
    assert "Nothing to change" not in report and "无需修改" not in report
    assert "--allow-network" in report.split("What to do:", 1)[1]


def test_a_cause_does_not_replace_the_advice_of_a_violation():
    policy = load_policy("cn")
    ai = Classification(Status.AI_GENERATED, "strong", None, "implicit-label", None)
    remote = [Finding("c2pa-remote-manifest", "warning", "remote", "")]
    decision = policy.decide(ai, "none", False, remote)
    assert decision.verdict == "unlabelled-ai"
    assert decision.advice.startswith("The file shows AI-generated content but nothing was declared.")
    assert decision.measures == ["add-label", "restrict-exposure"]


@pytest.mark.parametrize("child", sorted(CHILD_PACKS))
def test_packs_inherit_the_cause_texts(tmp_path, child):
    base = load_policy(CHILD_PACKS[child])
    policy = load_policy(child)
    assert policy.data["cause_advice"] == base.data["cause_advice"]
    result = Checker(CheckOptions(policy=child)).check(tmp_path / "nope.jpg")
    assert result.advice == base.data["cause_advice"]["not-found"][policy.advice_language]


def test_cause_texts_are_validated(tmp_path):
    data = shipped_data("cn")
    del data["cause_advice"]["empty"]["zh"]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(PolicyError, match=r"cause_advice\.empty lacks zh"):
        load_policy(str(path))
    data = shipped_data("cn")
    data["cause_measures"]["no-such-cause"] = ["review"]
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(PolicyError, match=r"cause_measures\.no-such-cause has no cause_advice"):
        load_policy(str(path))
    data = shipped_data("cn")
    data["cause_measures"]["empty"] = ["not-a-measure"]
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(PolicyError, match="measures not in measure_order: not-a-measure"):
        load_policy(str(path))


def test_check_answers_every_file_given(capsys, tmp_path):
    code, out, _ = run(
        capsys,
        "check",
        "--format",
        "json",
        str(FIXTURES / "gb-png-text.png"),
        str(tmp_path / "typo.jpg"),
        str(tmp_path),
        str(empty(tmp_path)),
    )
    records = [json.loads(line) for line in out.splitlines()]
    assert [r["errors"][0]["code"] if r["errors"] else None for r in records] == [
        None,
        "not-found",
        "is-a-folder",
        "empty",
    ]
    assert code == ExitStatus.VIOLATION  # the violation outranks the unreadable ones


def test_check_of_a_folder_points_to_scan(capsys, tmp_path):
    code, out, _ = run(capsys, "check", "--lang", "zh", str(tmp_path))
    assert code == ExitStatus.UNREADABLE and "aigc-check scan" in out
    code, out, _ = run(capsys, "check", str(tmp_path))
    assert "use aigc-check scan" in out and "请用 aigc-check scan" in out


def test_scan_refuses_a_missing_path(capsys, tmp_path):
    out_dir = tmp_path / "report"
    code, _, err = run(capsys, "scan", str(tmp_path / "nonexistent"), "--out", str(out_dir), "--progress", "none")
    assert code == ExitStatus.USAGE and "no such file or folder" in err and "nonexistent" in err
    assert not out_dir.exists()  # no report about one unreadable file
    code, _, err = run(capsys, "scan", str(FIXTURES / "plain.png"), str(tmp_path / "typo.jpg"), "--out", str(out_dir))
    assert code == ExitStatus.USAGE and "typo.jpg" in err and not out_dir.exists()
