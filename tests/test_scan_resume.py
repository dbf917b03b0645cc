"""Interrupted scans: SIGKILL mid-way then --resume, and Ctrl-C; every file once, no broken line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT
from scan_helpers import cli_command, results, run_cli, summary

from aigc_check.cli import ExitStatus

COPIES = 30  # 84 fixtures x 30: long enough on 2 cores (C2PA validation) to be stopped half-way
NOT_MEDIA = 4  # fixtures that do not sniff as media (named in big_folder)


@pytest.fixture(scope="module")
def big_folder(tmp_path_factory) -> tuple[Path, int]:
    """Hard links to every fixture, many times over, in nested folders; and how many are media."""
    root = tmp_path_factory.mktemp("big")
    names = sorted(p.name for p in FIXTURES.iterdir())
    for copy in range(COPIES):
        folder = root / f"batch{copy % 5}" / f"set{copy}"
        folder.mkdir(parents=True)
        for name in names:
            os.link(FIXTURES / name, folder / name)
    # broken-empty.jpg, broken-random.png, broken-text.jpg and md-plain.md do not sniff as media
    return root, (len(names) - NOT_MEDIA) * COPIES


def _start(folder: Path, out: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        cli_command(str(folder), "--out", str(out), "--jobs", "2", "--progress", "lines"),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )  # its own process group: the kill reaches the workers too


def _wait_for_lines(out: Path, proc: subprocess.Popen, at_least: int) -> None:
    deadline = time.monotonic() + 60
    results_file = out / "results.jsonl"
    while time.monotonic() < deadline:
        if results_file.exists() and results_file.read_bytes().count(b"\n") >= at_least:
            return
        assert proc.poll() is None, "the scan ended before it could be interrupted: make the folder bigger"
        time.sleep(0.02)
    pytest.fail("the scan wrote no results within 60 s")


def _assert_each_once(out: Path, folder: Path, media: int) -> list[dict]:
    rows = results(out)  # fails on any broken line
    paths = [r["path"] for r in rows]
    assert len(paths) == len(set(paths)), "a file was checked twice"
    assert len(rows) == media
    assert all(Path(p).is_relative_to(folder) for p in paths)
    return rows


def test_resume_after_sigkill(big_folder, tmp_path):
    folder, media = big_folder
    out = tmp_path / "out"
    proc = _start(folder, out)
    _wait_for_lines(out, proc, 200)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    done_before = (out / "results.jsonl").read_bytes().count(b"\n")
    assert done_before < media, "the scan finished before the kill"
    with open(out / "results.jsonl", "ab") as f:  # what a kill in the middle of a write leaves
        f.write(b'{"schema": "aigc-check/1", "path": "' + os.fsencode(folder) + b"/half")

    resumed = run_cli(str(folder), "--out", str(out), "--resume", "--jobs", "2", "--progress", "none")
    assert resumed.returncode == ExitStatus.VIOLATION, resumed.stderr
    rows = _assert_each_once(out, folder, media)
    s = summary(out)
    assert s["files"]["resumed"] >= done_before - 1 and s["files"]["checked"] == media
    assert s["files"]["resumed"] + s["files"]["this_run"] == media + NOT_MEDIA * COPIES  # plus re-sniffed non-media
    assert sum(s["verdicts"].values()) == media
    with open(out / "results.csv", encoding="utf-8") as f:
        assert sum(1 for _ in f) == media + 1  # the CSV is rebuilt whole: header + one row a file
    assert {r["verdict"] for r in rows} == {"compliant", "unlabelled-ai", "unreadable"}


def test_ctrl_c_stops_cleanly_and_resume_finishes(big_folder, tmp_path):
    folder, media = big_folder
    out = tmp_path / "out"
    proc = _start(folder, out)
    _wait_for_lines(out, proc, 200)
    os.killpg(proc.pid, signal.SIGINT)  # as a terminal sends it: to the whole group
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == ExitStatus.INTERRUPTED, err
    assert "interrupted" in err and "--resume" in err
    first = results(out)  # every line whole
    assert 0 < len(first) < media
    s = summary(out)
    assert s["interrupted"] is True and s["files"]["checked"] == len(first)
    assert "was interrupted" in (out / "report.html").read_text(encoding="utf-8")

    resumed = run_cli(str(folder), "--out", str(out), "--resume", "--progress", "none")
    assert resumed.returncode == ExitStatus.VIOLATION, resumed.stderr
    _assert_each_once(out, folder, media)
    assert summary(out)["interrupted"] is False


def test_resume_refuses_results_made_under_another_policy(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    os.link(FIXTURES / "plain.jpg", folder / "plain.jpg")
    out = tmp_path / "out"
    assert run_cli(str(folder), "--out", str(out), "--progress", "none").returncode == ExitStatus.COMPLIANT
    again = run_cli(str(folder), "--out", str(out), "--resume", "--policy", "eu", "--progress", "none")
    assert again.returncode == ExitStatus.USAGE and "policy 'cn'" in again.stderr
    assert json.loads((out / "results.jsonl").read_text())["policy"] == "cn"
