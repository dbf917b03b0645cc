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


def similar_scan(base: Path, corpus: Path, *args: str) -> Path:
    """A small ``scan --similar`` with a cluster and an account signal, for the report's language
    tests: Google's C2PA-labelled AI picture of the corpus and two stripped copies of it, posted by
    one account (three AI posts: the ``ai_posts`` signal), and an unrelated photo by another;
    ``args``: more scan options; returns the scan's output folder."""
    from PIL import Image

    folder = base / "similar-files"
    folder.mkdir(parents=True)
    shutil.copyfile(corpus / "huminify-c2pa-detector" / "lady.png", folder / "lady.png")
    with Image.open(folder / "lady.png") as im:
        rgb = im.convert("RGB")
        rgb.resize((600, 1050)).save(folder / "repost-1.jpg", "JPEG", quality=60)
        rgb.resize((384, 672)).save(folder / "repost-2.jpg", "JPEG", quality=40)
    shutil.copyfile(corpus / "pillow" / "hopper.jpg", folder / "hopper.jpg")
    sidecar = base / "similar-posts.csv"
    sidecar.write_text(
        "path,declared,account,post_id\nlady.png,none,botacct,1\nrepost-1.jpg,none,botacct,2\n"
        "repost-2.jpg,none,botacct,3\nhopper.jpg,none,personacct,4\n",
        encoding="utf-8",
    )
    out = base / "similar-out"
    done = run_cli(
        str(folder), "--similar", "--declarations", str(sidecar), "--out", str(out), "--progress", "none", *args
    )
    assert done.returncode in (0, 1), done.stderr
    return out
