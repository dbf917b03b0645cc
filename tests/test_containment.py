"""Never break the answer (issue 12): no exception escapes ``Checker.check``.  A stage after the
readers that raises (a signature module, the classifier, the policy) becomes a fatal
``internal-error`` for that file, whose verdict is then ``unreadable`` (never compliant), and the
check returns; a batch on the command line or on ``--stdin-jsonl`` goes on to the next file."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT

import aigc_check.checker
from aigc_check import Checker
from aigc_check.policy import Policy
from aigc_check.signatures import aigc_label, c2pa_manifest, camera, fingerprints, iptc

SIGNATURE_MODULES = [c2pa_manifest, aigc_label, iptc, fingerprints, camera]


def png(*chunks: tuple[bytes, bytes]) -> bytes:
    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    body = b"".join(chunk(k, p) for k, p in ((b"IHDR", ihdr), *chunks, (b"IDAT", zlib.compress(b"\x00\x00"))))
    return b"\x89PNG\r\n\x1a\n" + body + chunk(b"IEND", b"")


def deep_label_png(levels: int = 5000) -> bytes:
    """A 10 KB PNG whose AIGC label nests ``levels`` arrays: json.loads on it exhausts the stack."""
    return png((b"tEXt", b"AIGC\x00" + b'{"AIGC":' + b"[" * levels + b"]" * levels + b"}"))


def boom(*args, **kwargs):
    raise RuntimeError("injected failure")


def internal_errors(result) -> list:
    return [e for e in result.errors if e.code == "internal-error"]


# --------------------------------------------------------------------------- the hostile label itself


def test_the_deeply_nested_label_is_a_finding_not_an_exception():
    data = deep_label_png()
    assert 10_000 <= len(data) <= 11_000
    result = Checker().check(data, name="deep.png")
    assert result.errors == []
    codes = {f.code for f in result.findings}
    assert {"aigc-label-malformed", "aigc-label-unreadable"} <= codes
    assert result.status.value == "unknown" and "review" in result.measures
    json.dumps(result.to_dict())


def test_nesting_in_every_free_text_field_is_bounded_too():
    deep = b'{"AIGC":{"Label":"1","ContentProducer":"x","ProduceID":' + b"[" * 5000 + b"]" * 5000 + b"}}"
    for key in (b"Comment", b"Description"):
        result = Checker().check(png((b"tEXt", key + b"\x00" + deep)))
        assert result.errors == [] and "aigc-label-unreadable" in {f.code for f in result.findings}


# --------------------------------------------------------------------------- a stage that raises


@pytest.mark.parametrize("module", SIGNATURE_MODULES, ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_a_failing_signature_module_is_an_internal_error(module, monkeypatch):
    monkeypatch.setattr(module, "collect", boom)
    result = Checker().check(FIXTURES / "plain.jpg")
    (error,) = internal_errors(result)
    name = module.__name__.rsplit(".", 1)[-1]
    assert error.fatal and f"{name} signature failed: RuntimeError: injected failure" == error.message
    assert result.verdict == "unreadable" and result.action != "none"
    json.dumps(result.to_dict())


def test_the_other_signatures_still_run_and_the_file_is_never_compliant(monkeypatch):
    monkeypatch.setattr(iptc, "collect", boom)
    checker = Checker()
    result = checker.check(FIXTURES / "gb-png-text.png", "ai")
    assert result.status.value == "ai-generated" and any(e.source == "gb45438" for e in result.evidence)
    assert result.verdict == "unreadable"  # declared AI and labelled, but a stage failed: not cleared
    assert internal_errors(result)[0].fatal


def test_a_failing_classifier_leaves_the_status_unknown(monkeypatch):
    monkeypatch.setattr(aigc_check.checker, "classify", boom)
    result = Checker().check(FIXTURES / "gb-png-text.png")
    (error,) = internal_errors(result)
    assert error.message == "the classifier failed: RuntimeError: injected failure"
    assert result.status.value == "unknown" and result.verdict == "unreadable"
    assert result.evidence  # what the signatures found is still reported


def test_a_failing_policy_gives_an_unreadable_decision_without_it(monkeypatch):
    monkeypatch.setattr(Policy, "decide", boom)
    checker = Checker()
    for target in (FIXTURES / "plain.jpg", FIXTURES / "gb-png-text.png", b"not media", FIXTURES / "no-such.jpg"):
        result = checker.check(target)
        assert result.verdict == "unreadable", target
        assert any(e.message == "the policy failed: RuntimeError: injected failure" for e in result.errors), target
        assert result.action == checker.policy.data["measures"]["unreadable"][-1]
        assert result.policy == "cn"
        json.dumps(result.to_dict())


def test_a_failure_no_stage_expected_still_returns(monkeypatch):
    monkeypatch.setattr(aigc_check.checker.SignalView, "__init__", boom)
    result = Checker().check(FIXTURES / "plain.jpg")
    assert result.verdict == "unreadable"
    assert internal_errors(result)[0].message == "the signatures failed: RuntimeError: injected failure"
    monkeypatch.setattr(Checker, "_check_source", boom)
    result = Checker().check(FIXTURES / "plain.jpg")
    assert result.verdict == "unreadable" and internal_errors(result)[0].message.startswith("the check failed")


def test_internal_error_is_in_the_contract_like_any_read_error(monkeypatch):
    monkeypatch.setattr(camera, "collect", boom)
    d = Checker().check(FIXTURES / "camera-canon.jpg").to_dict()
    assert d["verdict"] == "unreadable"
    assert {
        "code": "internal-error",
        "message": "camera signature failed: RuntimeError: injected failure",
        "location": "",
    } in d["errors"]


# --------------------------------------------------------------------------- batches go on


def test_check_prints_every_verdict_around_a_hostile_file(tmp_path):
    hostile = tmp_path / "deep-label.png"
    hostile.write_bytes(deep_label_png())
    files = [FIXTURES / "gb-png-text.png", hostile, FIXTURES / "plain.jpg"]
    run = subprocess.run(
        [sys.executable, "-m", "aigc_check", "check", "--format", "json", *map(str, files)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Traceback" not in run.stderr, run.stderr
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    assert [Path(d["path"]).name for d in lines] == [p.name for p in files]
    assert [d["verdict"] for d in lines] == ["unlabelled-ai", "compliant", "compliant"]
    assert "aigc-label-unreadable" in {f["code"] for f in lines[1]["findings"]}
    text = subprocess.run(
        [sys.executable, "-m", "aigc_check", "check", *map(str, files)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Traceback" not in text.stderr and text.stdout.count(": ") >= 3
    assert all(p.name in text.stdout for p in files)


def test_check_prints_every_verdict_when_a_stage_fails(tmp_path, monkeypatch, capsys):
    from aigc_check.cli import main

    monkeypatch.setattr(fingerprints, "collect", boom)
    files = [FIXTURES / "gb-png-text.png", FIXTURES / "gen-a1111-parameters.png", FIXTURES / "plain.jpg"]
    main(["check", "--format", "json", *map(str, files)])
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [d["verdict"] for d in lines] == ["unreadable"] * 3
    assert all(d["errors"][-1]["code"] == "internal-error" for d in lines)


def test_stdin_jsonl_answers_the_line_after_a_hostile_file(tmp_path):
    hostile = tmp_path / "deep-label.png"
    hostile.write_bytes(deep_label_png())
    process = subprocess.Popen(
        [sys.executable, "-m", "aigc_check", "check", "--stdin-jsonl"],
        cwd=ROOT,
        text=True,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        answers = []
        for i, path in enumerate((hostile, FIXTURES / "gb-png-text.png")):
            process.stdin.write(json.dumps({"path": str(path), "id": i}) + "\n")
            process.stdin.flush()
            line = process.stdout.readline()
            assert line, process.stderr.read()
            answers.append(json.loads(line))
        assert process.poll() is None, "the checker must stay up after the hostile file"
    finally:
        _, err = process.communicate("", timeout=60)
    assert "Traceback" not in err
    assert [a["id"] for a in answers] == [0, 1]
    assert answers[0]["verdict"] == "compliant" and answers[0]["action"] == "review"
    assert answers[1]["status"] == "ai-generated"


def test_every_cut_of_every_malformed_label_is_answered():
    """Cut anywhere, a label is either still read (AI) or reported unreadable: never silently dropped."""
    from PIL import Image

    checker = Checker()
    for path in sorted(FIXTURES.glob("sig-gbbad-*.png")):
        with Image.open(path) as im:
            label = im.info["AIGC"]
        for k in range(1, 9):
            cut = label[: len(label) * k // 8]
            kind = b"iTXt" if not cut.isascii() else b"tEXt"
            payload = b"AIGC\x00\x00\x00\x00\x00" + cut.encode() if kind == b"iTXt" else b"AIGC\x00" + cut.encode()
            result = checker.check(png((kind, payload)), name=f"{path.name}[:{k}/8]")
            assert not internal_errors(result), (path.name, k, result.errors)
            codes = {f.code for f in result.findings}
            assert result.status.value == "ai-generated" or "aigc-label-unreadable" in codes, (path.name, k)
