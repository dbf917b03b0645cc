"""The command's exit (``_entry.exit_now``): it skips the interpreter's teardown, yet the exit code,
everything written to the standard streams and the ``atexit`` functions are what an ordinary exit
gives; a thread still running, or a stream that cannot be flushed, gets the ordinary exit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures" / "files"


def run(code: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # buffered, as a pipe usually is
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, timeout=60, env=env)


@pytest.mark.parametrize("code", [0, 1, 3])
def test_the_code_buffered_output_and_atexit_functions_survive(tmp_path, code):
    marker = tmp_path / "atexit-ran"
    proc = run(
        "import atexit, sys\n"
        "from pathlib import Path\n"
        "from aigc_check._entry import exit_now\n"
        f"atexit.register(Path({str(marker)!r}).write_text, 'yes')\n"
        "sys.stdout.write('x' * 200_000)\n"  # more than any buffer: what is still in it must reach the pipe
        "sys.stderr.write('done')\n"
        f"exit_now({code})\n"
        "raise SystemExit('exit_now returned')\n"
    )
    assert proc.returncode == code, proc.stderr
    assert proc.stdout == b"x" * 200_000
    assert proc.stderr == b"done"
    assert marker.read_text() == "yes"


def test_a_running_thread_gets_the_ordinary_exit():
    proc = run(
        "import threading, time\n"
        "from aigc_check._entry import exit_now\n"
        "t = threading.Thread(target=lambda: (time.sleep(0.3), print('thread finished', flush=True)))\n"
        "t.start()\n"
        "raise SystemExit(exit_now(4))\n"
    )
    assert proc.returncode == 4
    assert proc.stdout == b"thread finished\n"  # the interpreter waited for it


def test_a_closed_stdout_gets_the_ordinary_exit():
    proc = run(
        "import os, sys\n"
        "from aigc_check._entry import exit_now\n"
        "sys.stdout.write('x' * 100)\n"
        "os.close(1)\n"
        "raise SystemExit(exit_now(0) + 5)\n"
    )
    # exit_now returned (else the code would be 0): the ordinary exit reports the stream, with 120.
    assert proc.returncode == 120
    assert b"Bad file descriptor" in proc.stderr


def test_the_command_writes_its_whole_report_and_code():
    files = sorted(map(str, FIXTURES.iterdir()))
    command = [sys.executable, "-m", "aigc_check", "check", "--format", "json", *files]
    proc = subprocess.run(command, cwd=ROOT, capture_output=True, timeout=300)
    assert proc.returncode == 1, proc.stderr  # the fixtures hold violations
    assert [json.loads(line)["path"] for line in proc.stdout.splitlines()] == files
