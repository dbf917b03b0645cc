"""``aigc-check check --stdin-jsonl``: a long-lived checker on a pipe, with the base install only."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import FIXTURES, ROOT

from aigc_check import Checker

SERVE_STACK = ("starlette", "uvicorn", "python_multipart", "prometheus_client")
# Runs aigc_check.cli.main with the serve extra made unimportable, as on a base install.
WITHOUT_SERVE_EXTRA = (
    "import sys\n"
    f"for name in {SERVE_STACK!r}: sys.modules[name] = None\n"
    "from aigc_check.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


def start(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", WITHOUT_SERVE_EXTRA, *args],
        cwd=ROOT,
        text=True,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def ask(process: subprocess.Popen, line: str) -> dict:
    """Send one line and read its answer while the process keeps running."""
    process.stdin.write(line + "\n")
    process.stdin.flush()
    answer = process.stdout.readline()
    assert answer, process.stderr.read()
    assert process.poll() is None, "the checker must stay up between requests"
    return json.loads(answer)


def expected(path, declared="none") -> dict:
    result = Checker().check(path, declared).to_dict()
    result.pop("elapsed_ms")
    return result


def test_answers_one_line_per_request_and_stays_up():
    process = start("check", "--stdin-jsonl")
    try:
        first = FIXTURES / "gb-jpeg-xmp-element.jpg"
        answer = ask(process, json.dumps({"path": str(first), "declared": "none", "id": 17}))
        assert answer.pop("id") == 17
        answer.pop("elapsed_ms")
        assert answer == expected(first)

        second = FIXTURES / "gen-a1111-parameters.png"
        answer = ask(process, json.dumps({"path": str(second), "declared": "not-ai"}))
        assert "id" not in answer
        answer.pop("elapsed_ms")
        assert answer == expected(second, "not-ai")

        missing = ask(process, json.dumps({"path": str(FIXTURES / "no-such-file.jpg"), "id": "m"}))
        assert missing["verdict"] == "unreadable" and missing["errors"][0]["code"] == "not-found"
        assert missing["id"] == "m"
    finally:
        out, err = process.communicate("", timeout=30)
    assert process.returncode == 0, err
    assert out == ""


def test_bad_lines_get_an_error_line_and_the_loop_goes_on():
    process = start("check", "--stdin-jsonl", "--declared", "ai")
    try:
        assert ask(process, "not json")["error"]["code"] == "bad-request"
        assert ask(process, "[1, 2]")["error"]["code"] == "bad-request"
        no_path = ask(process, json.dumps({"declared": "ai", "id": 3}))
        assert no_path["error"]["code"] == "bad-request" and no_path["id"] == 3
        bad_declared = ask(process, json.dumps({"path": "x.jpg", "declared": "maybe"}))
        assert "maybe" in bad_declared["error"]["message"]
        # --declared is the default for lines that do not say
        ok = ask(process, json.dumps({"path": str(FIXTURES / "camera-canon.jpg")}))
        assert ok["declared"] == "ai"
    finally:
        process.communicate("\n\n", timeout=30)  # blank lines are skipped, then EOF ends the loop
    assert process.returncode == 0


def test_files_and_stdin_jsonl_together_is_a_usage_error():
    process = start("check", "--stdin-jsonl", str(FIXTURES / "camera-canon.jpg"))
    _, err = process.communicate("", timeout=30)
    assert process.returncode == 2 and "--stdin-jsonl" in err


def test_serve_without_the_extra_names_the_pip_command():
    process = start("serve", "--port", "0")
    _, err = process.communicate("", timeout=30)
    assert process.returncode == 2
    assert "pip install '.[serve]'" in err
