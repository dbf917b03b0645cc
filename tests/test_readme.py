"""The README's snippets run as written: its marked Python snippets are run, and the commands of
its opening block are checked (the quick ones run; the ones that take minutes are checked to name
extras and files that exist)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]
from pathlib import Path

import pytest
from conftest import ROOT

from aigc_check import __version__

README = (ROOT / "README.md").read_text(encoding="utf-8")
RUNS_AS_WRITTEN = "# runs as written"  # the first line of each Python snippet this test runs
EXTRAS = set(tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"])
WHEEL = f"aigc_check-{__version__}-py3-none-any.whl"


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, re.S)


def opening_commands() -> list[str]:
    """The shell commands of the README's first block, one per ``&&``-joined step."""
    steps = []
    for line in blocks("sh")[0].splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            steps.extend(step.strip() for step in line.split("&&"))
    return steps


def env() -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


@pytest.mark.parametrize(
    "snippet", [b for b in blocks("python") if b.startswith(RUNS_AS_WRITTEN)], ids=lambda b: b.splitlines()[2][:40]
)
def test_python_snippet_runs_as_written(snippet):
    proc = subprocess.run(
        [sys.executable, "-c", snippet], cwd=ROOT, env=env(), capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    # Each "# a b c" comment after a print() is the output it gives.
    expected = [
        line.split("#", 1)[1].strip()
        for line in snippet.splitlines()
        if line.startswith("print(") and "#" in line and "(" not in line.split("#", 1)[1]
    ]
    assert [line for line in proc.stdout.splitlines() if line in expected] == expected


def test_there_is_a_runnable_python_snippet():
    assert any(b.startswith(RUNS_AS_WRITTEN) for b in blocks("python"))


def test_opening_block_is_valid_shell():
    proc = subprocess.run(["bash", "-n"], input=blocks("sh")[0], text=True, capture_output=True, timeout=30)
    assert proc.returncode == 0, proc.stderr


def test_install_commands_name_what_exists():
    """Every ``pip install`` names the checkout (``.``), or the wheel it builds, with extras that
    exist; none names the package on a registry, where it is not."""
    installs = [shlex.split(step) for step in opening_commands() if " install " in f" {step} "]
    assert installs
    for words in installs:
        specs = [w for w in words[words.index("install") + 1 :] if not w.startswith("-")]
        assert specs, words
        for spec in specs:
            match = re.fullmatch(r"(?P<target>[^\[]+)(\[(?P<extras>[^\]]+)\])?", spec)
            assert match, spec
            target = match["target"]
            assert target == "." or target == f"dist/{WHEEL}", f"{spec}: not the checkout or its wheel"
            for extra in (match["extras"] or "").split(","):
                assert not extra or extra in EXTRAS, f"{spec}: no extra {extra!r} in pyproject.toml"
    for hint_file in (
        "aigc_check/service/__init__.py",
        "aigc_check/spark/job.py",
        "aigc_check/cli.py",
        "aigc_check/cli_serve.py",
    ):
        assert "aigc-check[" not in (ROOT / hint_file).read_text(encoding="utf-8"), hint_file


def test_the_check_command_runs_as_written():
    step = next(s for s in opening_commands() if "aigc-check check" in s)
    assert step == ".venv/bin/aigc-check check fixtures/files/*"
    # This test's own environment stands for the .venv the block made.
    script = Path(sys.executable).with_name("aigc-check")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "aigc_check"]
    files = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "fixtures" / "files").iterdir())
    proc = subprocess.run(command + ["check", *files], cwd=ROOT, env=env(), capture_output=True, timeout=900)
    assert proc.returncode == 1, proc.stderr  # "exit code 1: some are unlabelled AI, by design"
    assert b"UNLABELLED AI CONTENT" in proc.stdout


def test_the_wheel_builds_as_written(tmp_path):
    step = next(s for s in opening_commands() if " wheel " in f" {s} ")
    assert step == ".venv/bin/pip wheel --no-deps -w dist ."
    listed = next(s for s in opening_commands() if s.startswith("ls "))
    assert listed == f"ls dist/{WHEEL}"
    # The same command, into a temporary folder instead of dist/ (the checkout stays as it was).
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / WHEEL).exists(), sorted(p.name for p in tmp_path.iterdir())
