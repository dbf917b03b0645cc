"""The command line: output formats, the JSON contract and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import FIXTURES, ROOT

from aigc_check.cli import ExitStatus, main

CONTRACT = {
    "path",
    "media_type",
    "declared",
    "status",
    "certainty",
    "generator",
    "verdict",
    "label",
    "action",
    "findings",
    "evidence",
    "errors",
}


def run(capsys, *args):
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_json_contract_one_line_per_file(capsys):
    code, out, _ = run(
        capsys,
        "check",
        "--format",
        "json",
        "--declared",
        "ai",
        str(FIXTURES / "gb-png-text.png"),
        str(FIXTURES / "plain.jpg"),
    )
    lines = out.strip().splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert set(first) >= CONTRACT and set(second) >= CONTRACT
    assert first["status"] == "ai-generated" and first["label"] == "ai-generated" and first["verdict"] == "compliant"
    assert second["label"] == "possibly-ai"  # declared AI, nothing found: Art. 6(2)
    assert first["evidence"][0]["source"] == "gb45438"
    assert code == ExitStatus.COMPLIANT


def test_exit_code_violation(capsys):
    code, out, _ = run(capsys, "check", str(FIXTURES / "gen-a1111-parameters.png"), "--declared", "not-ai")
    assert code == ExitStatus.VIOLATION
    assert "MISLABELLED" in out


def test_exit_code_unreadable_without_violation(capsys):
    code, out, _ = run(capsys, "check", str(FIXTURES / "broken-empty.jpg"), str(FIXTURES / "plain.png"))
    assert code == ExitStatus.UNREADABLE
    assert "UNREADABLE" in out and "empty" in out


def test_violation_outranks_unreadable(capsys):
    code, _, _ = run(capsys, "check", str(FIXTURES / "broken-empty.jpg"), str(FIXTURES / "gen-flux.jpg"))
    assert code == ExitStatus.VIOLATION


def test_usage_errors(capsys):
    assert run(capsys, "check")[0] == ExitStatus.USAGE
    assert run(capsys, "check", "--declared", "maybe", str(FIXTURES / "plain.png"))[0] == ExitStatus.USAGE
    code, _, err = run(capsys, "check", "--policy", "nowhere", str(FIXTURES / "plain.png"))
    assert code == ExitStatus.USAGE and "no policy named" in err


def test_missing_file_is_unreadable_not_a_crash(capsys, tmp_path):
    code, out, _ = run(capsys, "check", str(tmp_path / "gone.jpg"))
    assert code == ExitStatus.UNREADABLE and "not-found" in out


def test_text_explains_where_and_what(capsys):
    _, out, _ = run(capsys, "check", str(FIXTURES / "gb-jpeg-xmp-element.jpg"))
    assert "TC260:AIGC says Label 1" in out
    assert "APP1 (XMP)" in out
    assert "该内容为人工智能生成合成内容" in out


def test_policy_file_and_eu_policy(capsys):
    code, out, _ = run(capsys, "check", "--policy", "eu", "--format", "json", str(FIXTURES / "gen-flux.jpg"))
    assert json.loads(out)["policy"] == "eu" and code == ExitStatus.VIOLATION


def test_trust_anchor_option(capsys):
    path = str(FIXTURES / "c2pa-capture.jpg")
    _, out, _ = run(capsys, "check", "--format", "json", path)
    assert json.loads(out)["status"] == "unknown"
    _, out, _ = run(
        capsys, "check", "--format", "json", "--trust-anchors", str(ROOT / "fixtures" / "ca" / "test-root.pem"), path
    )
    doc = json.loads(out)
    assert doc["status"] == "captured" and doc["c2pa"]["validation_state"] == "Trusted"


def test_console_script_runs_as_a_process():
    proc = subprocess.run(
        [sys.executable, "-m", "aigc_check", "check", "--format", "json", str(FIXTURES / "plain.webp")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["verdict"] == "compliant"


def test_spark_engine_without_pyspark_names_the_extra(monkeypatch, capsys, tmp_path):
    import sys

    monkeypatch.setitem(sys.modules, "pyspark", None)  # as if not installed
    code = main(["scan", "--engine", "spark", str(tmp_path), "--out", str(tmp_path / "out")])
    assert code == ExitStatus.USAGE
    assert "pip install '.[spark]'" in capsys.readouterr().err


def test_spark_options_need_the_spark_engine(capsys, tmp_path):
    assert main(["scan", str(tmp_path), "--output-table", "audit.results"]) == ExitStatus.USAGE
    assert "--output-table is a Spark option" in capsys.readouterr().err
