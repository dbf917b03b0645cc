"""Helpers for the scan tests: build folders from the fixtures, run the CLI, read outputs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import FIXTURES, ROOT


def fixture_names(prefix: str = "") -> list[str]:
    return sorted(p.name for p in FIXTURES.iterdir() if p.name.startswith(prefix))


def copy_fixtures(dest: Path, names: list[str]) -> list[Path]:
    dest.mkdir(parents=True, exist_ok=True)
    out = []
    for name in names:
        shutil.copyfile(FIXTURES / name, dest / name)
        out.append(dest / name)
    return out


def results(out_dir: Path) -> list[dict]:
    """Every line of results.jsonl, failing on a line that is not whole JSON."""
    lines = (out_dir / "results.jsonl").read_bytes().split(b"\n")
    assert lines[-1] == b"", "results.jsonl must end with a newline"
    return [json.loads(line) for line in lines[:-1]]


def summary(out_dir: Path) -> dict:
    return json.loads((out_dir / "summary.json").read_text(encoding="utf-8"))


def cli_command(*args: str) -> list[str]:
    return [
        sys.executable,
        "-c",
        "import sys; from aigc_check.cli import main; sys.exit(main(sys.argv[1:]))",
        "scan",
        *args,
    ]


def run_cli(*args: str, prefix: tuple = (), **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [*prefix, *cli_command(*args)], capture_output=True, text=True, env=env, timeout=120, **kwargs
    )
