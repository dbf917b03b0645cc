"""The conventions a command-line user expects: -o, -q/-v, colour and NO_COLOR, the machine formats
(JSON Lines, one JSON array, CSV), standard input, help with examples, exit codes and environment,
a manual page, shell completion, UTF-8 JSON; the text report in words with the codes in -v; and
the Python API's keywords, docstrings and defaults."""

from __future__ import annotations

import ast
import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys

import pytest
from conftest import FIXTURES, ROOT

from aigc_check import Checker, CheckOptions, check, contract
from aigc_check.cli import ExitStatus, main
from aigc_check.cli_output import color_wanted
from aigc_check.limits import DEFAULT_TIME_LIMIT
from aigc_check.scan.outputs import csv_row

AI_PNG = str(FIXTURES / "gb-png-text.png")  # unlabelled AI (doubao), Chinese label texts
PLAIN = str(FIXTURES / "plain.png")
SIGNED = str(FIXTURES / "c2pa-ai-created.jpg")  # signed by the test CA: not on the trust list
TAMPERED = str(FIXTURES / "c2pa-ai-tampered.jpg")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def run(capsys, *args):
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def command(*args, stdin: bytes | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "aigc_check", *args],
        input=stdin,
        capture_output=True,
        env=environment,
        cwd=ROOT,
        timeout=120,
    )


# -- output: -o, formats, encoding ----------------------------------------------------------------


def test_output_file_gets_the_report_and_stdout_nothing(capsys, tmp_path):
    target = tmp_path / "report.txt"
    code, out, _ = run(capsys, "check", AI_PNG, "-o", str(target))
    assert code == ExitStatus.VIOLATION and out == ""
    text = target.read_text(encoding="utf-8")
    assert text.startswith(f"{AI_PNG}: 未标识的AI内容 / UNLABELLED AI CONTENT") and "\x1b[" not in text


def test_output_file_is_left_as_it_was_on_a_usage_error(capsys, tmp_path):
    target = tmp_path / "report.json"
    code, _, err = run(capsys, "check", "--policy", "nowhere", PLAIN, "-o", str(target))
    assert code == ExitStatus.USAGE and not target.exists() and list(tmp_path.iterdir()) == []
    target.write_text("earlier report\n", encoding="utf-8")
    assert run(capsys, "check", "-q", "-v", PLAIN, "-o", str(target))[0] == ExitStatus.USAGE
    assert target.read_text(encoding="utf-8") == "earlier report\n" and list(tmp_path.iterdir()) == [target]
    assert run(capsys, "check", "--format", "json", PLAIN, "-o", str(target))[0] == ExitStatus.COMPLIANT
    assert json.loads(target.read_text(encoding="utf-8"))["verdict"] == "compliant"
    assert target.stat().st_mode & 0o044  # readable as a file the user made, not mkstemp's private mode
    code, _, err = run(capsys, "check", PLAIN, "-o", str(tmp_path / "no-such-folder" / "r.txt"))
    assert code == ExitStatus.USAGE and "cannot write" in err


def test_policy_listings_write_to_an_output_file(capsys, tmp_path):
    for args in (["policies"], ["policies", "--format", "json"], ["policy", "show", "eu"]):
        code, shown, _ = run(capsys, *args)
        target = tmp_path / "listing.txt"
        assert run(capsys, *args, "-o", str(target)) == (ExitStatus.COMPLIANT, "", "")
        assert target.read_text(encoding="utf-8") == shown and code == ExitStatus.COMPLIANT, args
    target.write_text("earlier\n", encoding="utf-8")
    assert run(capsys, "policy", "show", "no-such-pack", "-o", str(target))[0] == ExitStatus.USAGE
    assert target.read_text(encoding="utf-8") == "earlier\n"


def test_json_array_is_one_document_of_the_json_lines_records(capsys, tmp_path):
    _, lines, _ = run(capsys, "check", "--format", "json", AI_PNG, PLAIN)
    target = tmp_path / "all.json"
    code, out, _ = run(capsys, "check", "--format", "json-array", AI_PNG, PLAIN, "--output", str(target))
    assert out == "" and code == ExitStatus.VIOLATION
    array = json.loads(target.read_text(encoding="utf-8"))
    records = [json.loads(line) for line in lines.splitlines()]
    drop = {"elapsed_ms"}
    assert [{k: v for k, v in r.items() if k not in drop} for r in array] == [
        {k: v for k, v in r.items() if k not in drop} for r in records
    ]
    _, one, _ = run(capsys, "check", "--format", "json-array", PLAIN)
    assert len(json.loads(one)) == 1


def test_csv_has_the_contract_columns_and_the_scan_rows(capsys, tmp_path):
    code, out, _ = run(capsys, "check", "--format", "csv", AI_PNG, str(tmp_path / "gone.jpg"))
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == list(contract.csv_columns())
    assert len(rows) == 3 and code == ExitStatus.VIOLATION
    by_column = [dict(zip(rows[0], row)) for row in rows[1:]]
    assert by_column[0]["verdict"] == "unlabelled-ai" and by_column[0]["generator"] == "doubao"
    assert by_column[1]["verdict"] == "unreadable" and by_column[1]["errors"].startswith("not-found")
    # The same cells as the scan's results.csv writes (elapsed time aside).
    expected = csv_row({**Checker().check(AI_PNG).to_dict(), "account": None, "post_id": None})
    elapsed = rows[0].index("elapsed_ms")
    assert [c for i, c in enumerate(rows[1]) if i != elapsed] == [c for i, c in enumerate(expected) if i != elapsed]


def test_json_and_csv_are_utf8_not_escaped(tmp_path):
    named = tmp_path / "该图片.png"
    shutil.copyfile(AI_PNG, named)
    for fmt in ("json", "json-array", "csv"):
        proc = command("check", "--format", fmt, str(named), env={"LC_ALL": "C.UTF-8"})
        text = proc.stdout.decode("utf-8")  # strict
        assert "该图片.png" in text and "\\u8be5" not in text, fmt
        if fmt != "csv":
            assert "该内容为人工智能生成合成内容" in text


# -- standard input -------------------------------------------------------------------------------


def test_dash_reads_standard_input():
    data = (FIXTURES / "gb-png-text.png").read_bytes()
    proc = command("check", "--format", "json", "-", stdin=data)
    record = json.loads(proc.stdout)
    assert proc.returncode == ExitStatus.VIOLATION
    assert record["path"] == "<stdin>" and record["verdict"] == "unlabelled-ai" and record["generator"] == "doubao"
    expected = Checker().check(data, name="<stdin>").to_dict()
    assert {k: v for k, v in record.items() if k != "elapsed_ms"} == {
        k: v for k, v in expected.items() if k != "elapsed_ms"
    }
    proc = command("check", "-", stdin=b"")
    assert proc.returncode == ExitStatus.UNREADABLE and b"empty (0 bytes)" in proc.stdout


def test_dash_once_only(capsys):
    code, _, err = run(capsys, "check", "-", "-")
    assert code == ExitStatus.USAGE and "standard input" in err


# -- -q, -v and the text report in words ------------------------------------------------------------


def test_quiet_prints_one_line_per_file(capsys, tmp_path):
    code, out, _ = run(capsys, "check", "-q", AI_PNG, PLAIN, str(tmp_path / "gone.jpg"))
    lines = out.splitlines()
    assert len(lines) == 3 and code == ExitStatus.VIOLATION
    assert lines[1] == f"{PLAIN}: 合规 / COMPLIANT  (png, declared none, policy cn)"


def test_quiet_and_verbose_together_are_a_usage_error(capsys):
    assert run(capsys, "check", "-q", "-v", PLAIN)[0] == ExitStatus.USAGE


def test_measures_in_words_and_their_codes_in_verbose(capsys):
    _, out, _ = run(capsys, "check", AI_PNG)
    action = next(line for line in out.splitlines() if line.startswith("  Action:"))
    assert action == "  Action:  the platform adds the label; the post's reach is restricted"
    _, out, _ = run(capsys, "check", "-v", AI_PNG)
    assert "[restrict-exposure: add-label, restrict-exposure]" in out
    _, out, _ = run(capsys, "check", "--lang", "zh", AI_PNG)
    assert "  处置:  平台添加标识；内容的传播受到限制" in out.splitlines()
    _, out, _ = run(capsys, "check", PLAIN)
    assert "  Action:  nothing happens to the post" in out.splitlines()


def test_untrusted_signer_is_part_of_the_disclosure_line(capsys):
    _, out, _ = run(capsys, "check", SIGNED)
    assert "c2pa-untrusted-signer" not in out and "signingCredential.untrusted" not in out
    disclosure = next(line for line in out.splitlines() if line.startswith("  Disclosure:"))
    assert "(signature valid, signer not on the trust list)" in disclosure
    _, out, _ = run(capsys, "check", "-v", SIGNED)
    assert "c2pa-untrusted-signer" in out and "signingCredential.untrusted" in out
    _, out, _ = run(capsys, "check", "--lang", "zh", SIGNED)
    assert "签名者不在信任列表中" in out


def test_tampered_file_in_plain_words_with_the_raw_message_in_verbose(capsys):
    _, out, _ = run(capsys, "check", TAMPERED)
    assert "Hashes do not match" not in out and "hash verification(" not in out
    assert "the file was changed after its C2PA manifest was signed" in out
    _, out, _ = run(capsys, "check", "-v", TAMPERED)
    assert "c2pa-hash-mismatch:" in out and "Hashes do not match" in out
    _, out, _ = run(capsys, "check", "--lang", "zh", TAMPERED)
    assert "C2PA清单签名后文件被修改过" in out


# -- colour ---------------------------------------------------------------------------------------


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_rules(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert color_wanted(None, Terminal()) is True
    assert color_wanted(None, io.StringIO()) is False  # not a terminal
    monkeypatch.setenv("NO_COLOR", "1")
    assert color_wanted(None, Terminal()) is False
    assert color_wanted(True, io.StringIO()) is True  # --color wins
    monkeypatch.setenv("NO_COLOR", "")  # empty: as if unset (no-color.org)
    assert color_wanted(None, Terminal()) is True
    assert color_wanted(False, Terminal()) is False


def test_color_flags(capsys, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    _, out, _ = run(capsys, "check", "--color", AI_PNG)
    assert "\x1b[31m" in out.splitlines()[0]  # the violation's headline in red
    assert ANSI.sub("", out) == run(capsys, "check", AI_PNG)[1]  # the same words, only coloured
    _, out, _ = run(capsys, "check", "--no-color", AI_PNG)
    assert "\x1b[" not in out
    monkeypatch.delenv("NO_COLOR")
    _, out, _ = run(capsys, "check", AI_PNG)  # captured output is not a terminal
    assert "\x1b[" not in out


# -- help, manual page, completion ------------------------------------------------------------------


def test_main_help_lists_every_command_whole(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0
    commands = out.split("Commands:", 1)[1].split("Examples:", 1)[0]
    assert "..." not in commands
    flat = " ".join(commands.split())
    assert "Check every media file below PATHS (folders or files) in parallel; write results and a report." in flat
    for heading in ("Examples:", "Exit codes", "Environment:", "NO_COLOR", "AIGC_TIME_LIMIT", "_AIGC_CHECK_COMPLETE"):
        assert heading in out, heading
    _, out, _ = run(capsys, "policy", "--help")
    assert "..." not in out.split("Commands:", 1)[1]


def test_check_help_has_examples_exit_codes_and_environment(capsys):
    _, out, _ = run(capsys, "check", "--help")
    for text in ("Examples:", "aigc-check check -", "Exit codes:", "130", "Environment:", "NO_COLOR", "json-array"):
        assert text in out, text
    assert re.search(r"^\s+3\s+at least one file could not be checked", out, re.M)


def test_help_man_is_a_manual_page_from_the_click_definitions(capsys, tmp_path):
    code, out, _ = run(capsys, "--help-man")
    assert code == 0 and out.startswith('.TH "AIGC-CHECK" "1"')
    assert ".SH COMMANDS" in out and "scan" in out and "Exit codes" in out
    code, out, _ = run(capsys, "man", "--out", str(tmp_path))
    names = sorted(p.name for p in tmp_path.iterdir())
    assert code == 0 and {"aigc-check.1", "aigc-check-check.1", "aigc-check-scan.1", "aigc-check-policy-show.1"} <= set(
        names
    )
    check_page = (tmp_path / "aigc-check-check.1").read_text(encoding="utf-8")
    assert "json\\-array" in check_page and "\\-\\-no\\-color" in check_page and "Exit codes:" in check_page
    if shutil.which("groff"):  # renders as a manual page, no warnings
        proc = subprocess.run(
            ["groff", "-man", "-Tutf8", "-ww", str(tmp_path / "aigc-check-check.1")], capture_output=True, timeout=60
        )
        assert proc.returncode == 0 and b"Check FILES" in proc.stdout


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_shell_completion_as_the_readme_says(shell):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"_AIGC_CHECK_COMPLETE={shell}_source aigc-check" in readme
    proc = command(env={"_AIGC_CHECK_COMPLETE": f"{shell}_source"})
    assert proc.returncode == 0 and b"_AIGC_CHECK_COMPLETE" in proc.stdout
    # And it completes: the command names after "aigc-check ".
    if shell == "bash":
        proc = command(env={"_AIGC_CHECK_COMPLETE": "bash_complete", "COMP_WORDS": "aigc-check sc", "COMP_CWORD": "1"})
        assert b"plain,scan" in proc.stdout


def test_scan_quiet_prints_nothing(tmp_path):
    proc = command("scan", str(FIXTURES / "plain.png"), "--out", str(tmp_path / "out"), "-q", "-j", "1", "--no-html")
    assert proc.returncode == ExitStatus.COMPLIANT and proc.stderr == b"" and proc.stdout == b""


# -- the Python API ------------------------------------------------------------------------------


def test_check_takes_option_keywords():
    result = check(AI_PNG, policy="eu")
    assert result.policy == "eu" and result.label_text == Checker(CheckOptions(policy="eu")).check(AI_PNG).label_text
    assert check(AI_PNG, options=CheckOptions(policy="eu"), policy="cn").policy == "cn"  # the keyword wins
    assert check(SIGNED, trust_anchor_files=[str(ROOT / "fixtures" / "ca" / "test-root.pem")]).certainty == "definitive"
    with pytest.raises(TypeError, match="polcy"):
        check(AI_PNG, polcy="eu")
    with pytest.raises(TypeError, match="trust_anchors_pem"):
        check(AI_PNG, trust_anchors_pem="")


def test_library_time_limit_is_the_clis():
    assert CheckOptions().time_limit == DEFAULT_TIME_LIMIT == 10.0


def test_public_api_has_docstrings():
    import aigc_check

    for obj in (aigc_check.Checker, aigc_check.Checker.check, aigc_check.check, aigc_check.CheckOptions):
        assert obj.__doc__ and len(obj.__doc__.split()) > 10, obj
    result_doc = aigc_check.CheckResult.__doc__ or ""
    assert "verdict" in result_doc and "to_dict" in result_doc
    for name in ("verdict", "status", "label", "action", "measures", "advice", "policy"):
        assert getattr(aigc_check.CheckResult, name).__doc__, name
    # Every CheckOptions field is followed by its docstring (what pdoc shows).
    tree = ast.parse((ROOT / "aigc_check" / "options.py").read_text(encoding="utf-8"))
    body = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "CheckOptions").body
    for i, node in enumerate(body):
        if isinstance(node, ast.AnnAssign):
            following = body[i + 1] if i + 1 < len(body) else None
            assert isinstance(following, ast.Expr) and isinstance(following.value, ast.Constant), ast.unparse(node)


def test_api_reference_builds(tmp_path):
    pdoc = pytest.importorskip("pdoc", reason="pdoc is in the test extra")
    proc = subprocess.run(
        [sys.executable, "-m", "pdoc", "aigc_check", "!aigc_check\\..*", "-o", str(tmp_path)],
        capture_output=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    page = (tmp_path / "aigc_check.html").read_text(encoding="utf-8")
    for text in ("CheckOptions", "Checks files against one set of options", "Seconds one file may take"):
        assert text in page, text
    assert pdoc.__version__


# -- the scan's progress bar (rich) -----------------------------------------------------------------


class CountedTen:
    total = 10


def drive_bar(stream) -> str:
    from aigc_check.scan.progress import Progress

    progress = Progress("bar", stream=stream)
    progress.update(1, 0, 0, 0, 0, force=True)  # the total is not counted yet
    progress.note("a note")
    progress.counter = CountedTen()  # type: ignore[assignment]
    progress.update(3, 0, 1, 0, 0, force=True)
    progress.close("done")
    return stream.getvalue()


def test_progress_bar_on_a_terminal(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    out = drive_bar(Terminal())
    plain = ANSI.sub("", out)
    assert "1/?" in plain and "3/10" in plain and "violations 1" in plain
    assert plain.index("aigc-check scan: a note") < plain.rindex("3/10") < plain.rindex("aigc-check scan: done")
    assert "\x1b[3" in out or "\x1b[9" in out  # coloured on a terminal
    monkeypatch.setenv("NO_COLOR", "1")
    out = drive_bar(Terminal())
    assert not re.search(r"\x1b\[(3|9)\dm", out) and "3/10" in ANSI.sub("", out)


def test_progress_bar_off_a_terminal_is_plain_lines():
    out = drive_bar(io.StringIO())
    assert "\x1b" not in out and "\r" not in out
    assert out.splitlines()[0] == "aigc-check scan: a note" and out.splitlines()[-1] == "aigc-check scan: done"
