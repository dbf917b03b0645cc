"""``aigc-check scan``: walk, sidecar, the batch core, outputs, exit codes, failures that must not stop it."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import time
from pathlib import Path

import pytest
from conftest import FIXTURES
from scan_helpers import copy_fixtures, results, summary

from aigc_check import Checker
from aigc_check.checker import CheckOptions
from aigc_check.cli import ExitStatus, main
from aigc_check.model import result_path
from aigc_check.scan import ScanItem, check_batch, runner
from aigc_check.scan.html_report import page_rows
from aigc_check.scan.walk import FoundFile, WalkProblem, walk_targets

MEDIA_SAMPLE = [
    "plain.jpg",
    "plain.png",
    "gen-a1111-parameters.png",
    "gb-png-text.png",
    "gen-flux.jpg",
    "camera-canon.jpg",
    "c2pa-ai-created.jpg",
    "c2pa-ai-tampered.jpg",
]


def scan(*args) -> int:
    return main(["scan", "--progress", "none", "--jobs", "2", *map(str, args)])


# --- the batch core -------------------------------------------------------------------------------


def test_check_batch_is_the_check_contract_plus_account(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    items = [
        ScanItem(str(FIXTURES / "gb-png-text.png"), "ai", "acct-1", "p-9"),
        {"path": str(tmp_path / "notes.txt")},
        ScanItem(str(FIXTURES / "broken-text.jpg"), sniff=False),
    ]
    out = check_batch(items, CheckOptions())
    expected = Checker().check(str(FIXTURES / "gb-png-text.png"), "ai").to_dict()
    first = {k: v for k, v in out[0].items() if k != "elapsed_ms"}
    assert first == {**{k: v for k, v in expected.items() if k != "elapsed_ms"}, "account": "acct-1", "post_id": "p-9"}
    assert out[1] == {"path": str(tmp_path / "notes.txt"), "skipped": "not-media", "account": None, "post_id": None}
    # A file that is named explicitly is judged even when it is not media, as check would.
    assert out[2]["verdict"] == "unreadable" and out[2]["errors"][0]["code"] == "unsupported-format"


# --- walking ----------------------------------------------------------------------------------------


def test_symlink_loops_end_and_every_file_is_seen_once(tmp_path):
    tree = tmp_path / "tree"
    copy_fixtures(tree / "a" / "b", ["plain.jpg", "gen-flux.jpg"])
    copy_fixtures(tree, ["plain.png"])
    os.symlink("..", tree / "a" / "b" / "up")  # back to an ancestor
    os.symlink(".", tree / "a" / "self")  # to itself
    os.symlink(str(tree / "a"), tree / "again")  # a second way into a/
    os.symlink("missing.jpg", tree / "dangling.jpg")  # a broken file link
    events = list(walk_targets([str(tree)]))
    found = sorted(os.path.relpath(e.path, tree) for e in events if isinstance(e, FoundFile))
    loops = [e for e in events if isinstance(e, WalkProblem) and e.code == "symlink-loop"]
    assert sorted(os.path.basename(f) for f in found) == ["dangling.jpg", "gen-flux.jpg", "plain.jpg", "plain.png"]
    assert len(loops) >= 2

    out = tmp_path / "out"
    code = scan(tree, "--out", out)
    rows = results(out)
    assert sorted(os.path.basename(r["path"]) for r in rows) == [
        "dangling.jpg",
        "gen-flux.jpg",
        "plain.jpg",
        "plain.png",
    ]
    dangling = next(r for r in rows if r["path"].endswith("dangling.jpg"))
    assert dangling["verdict"] == "unreadable" and dangling["errors"][0]["code"] == "io-error"
    assert summary(out)["walk_problems"]["counts"]["symlink-loop"] >= 2
    assert code == ExitStatus.VIOLATION  # gen-flux.jpg is unlabelled AI


def test_content_sniffing_not_extension(tmp_path):
    folder = tmp_path / "mixed"
    copy_fixtures(folder, ["plain.jpg"])
    shutil.copyfile(FIXTURES / "gen-a1111-parameters.png", folder / "upload.bin")  # media with a wrong name
    (folder / "readme.jpg").write_text("not an image")  # not media with a media name
    (folder / "empty.png").write_bytes(b"")
    os.mkfifo(folder / "pipe.jpg")  # opening it would block forever
    out = tmp_path / "out"
    scan(folder, "--out", out)
    assert summary(out)["walk_problems"]["counts"] == {"special-file": 1}
    checked = {os.path.basename(r["path"]): r for r in results(out)}
    assert set(checked) == {"plain.jpg", "upload.bin"}
    assert checked["upload.bin"]["format"] == "png" and checked["upload.bin"]["verdict"] == "unlabelled-ai"
    assert summary(out)["files"]["skipped"] == {"not-media": 1, "empty": 1}


def test_unreadable_files_and_folders_are_reported_and_the_scan_goes_on(tmp_path):
    """Permission errors on a file and on a folder; as root, the scan runs without the capabilities
    that let root read anything, so the errors are the real ones."""
    from scan_helpers import run_cli

    prefix = []
    if os.geteuid() == 0:
        if not shutil.which("setpriv"):
            pytest.skip("running as root without setpriv: root would read the unreadable files")
        prefix = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]
    tree = tmp_path / "tree"
    copy_fixtures(tree / "ok", ["plain.jpg", "gen-flux.jpg"])
    copy_fixtures(tree / "locked", ["gb-png-text.png"])
    os.chmod(copy_fixtures(tree, ["plain.png"])[0], 0)
    os.chmod(tree / "locked", 0)
    out = tmp_path / "out"
    try:
        proc = run_cli(str(tree), "--out", str(out), "--progress", "none", prefix=prefix)
    finally:
        os.chmod(tree / "locked", 0o755)
    assert proc.returncode == ExitStatus.VIOLATION, proc.stderr
    rows = {os.path.relpath(r["path"], tree): r for r in results(out)}
    assert set(rows) == {"ok/plain.jpg", "ok/gen-flux.jpg", "plain.png", "locked"}
    for unreadable in ("plain.png", "locked"):
        assert rows[unreadable]["verdict"] == "unreadable"
        assert "Permission denied" in rows[unreadable]["errors"][0]["message"]
    assert rows["ok/gen-flux.jpg"]["verdict"] == "unlabelled-ai"
    assert summary(out)["walk_problems"]["counts"] == {"io-error": 1}


# --- declarations sidecar --------------------------------------------------------------------------


def _sidecar_tree(tmp_path) -> Path:
    return copy_fixtures(tmp_path / "uploads", MEDIA_SAMPLE)[0].parent


def test_sidecar_declarations_accounts_and_missing_files(tmp_path):
    folder = _sidecar_tree(tmp_path)
    sidecar = tmp_path / "posts.csv"
    sidecar.write_text(
        "path,declared,account,post_id\n"
        "gb-png-text.png,ai,alice,1\n"  # relative to the scanned folder
        f"{folder}/gen-flux.jpg,not-ai,bob,2\n"  # absolute
        "gen-a1111-parameters.png,none,bob,3\n"
        "gone.jpg,ai,carol,4\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    code = scan(folder, "--declarations", sidecar, "--out", out)
    rows = {os.path.basename(r["path"]): r for r in results(out)}
    assert rows["gb-png-text.png"]["verdict"] == "compliant" and rows["gb-png-text.png"]["account"] == "alice"
    assert rows["gen-flux.jpg"]["verdict"] == "mislabelled" and rows["gen-flux.jpg"]["post_id"] == "2"
    assert rows["plain.jpg"]["declared"] == "none" and rows["plain.jpg"]["account"] is None  # not in the sidecar
    missing = [json.loads(line) for line in (out / "missing-files.jsonl").read_text().splitlines()]
    assert missing == [{"line": 5, "path": "gone.jpg", "declared": "ai", "account": "carol", "post_id": "4"}]
    s = summary(out)
    assert s["declarations"]["missing_files"] == 1 and s["declarations"]["rows"] == 4
    bob = next(a for a in s["accounts"]["top"] if a["account"] == "bob")
    # cn policy data: mislabelled weighs 2, unlabelled 1; score 3 reaches "warn"
    assert (bob["posts"], bob["mislabelled"], bob["unlabelled"], bob["score"], bob["action"]) == (2, 1, 1, 3, "warn")
    with open(out / "accounts.csv", encoding="utf-8") as f:
        assert {r["account"] for r in csv.DictReader(f)} == {"alice", "bob"}
    assert code == ExitStatus.VIOLATION
    assert not (out / ".declarations.sqlite").exists()


@pytest.mark.parametrize(
    "name,content,message",
    [
        ("bad.csv", "path,declared\na.jpg,ai\nb.jpg,yes\n", "bad.csv line 3: declared must be one of ai, not-ai, none"),
        ("bad.csv", "file,declared\na.jpg,ai\n", "bad.csv line 1: the header needs columns path and declared"),
        ("bad.csv", "path,declared\na.jpg,ai\n,none\n", "bad.csv line 3: path is missing or empty"),
        ("bad.csv", "path,declared\na.jpg,ai\nb.jpg,none,x\n", "bad.csv line 3: 3 cells but the header has 2"),
        (
            "dup.csv",
            "path,declared\na.jpg,ai\nb.jpg,ai\n./a.jpg,none\n",
            "dup.csv line 4: path 'a.jpg' is already declared on line 2",
        ),
        (
            "bad.jsonl",
            '{"path": "a.jpg", "declared": "ai"}\n\n{"path": "b.jpg", "declared": \n',
            "bad.jsonl line 3: not valid JSON",
        ),
        (
            "bad.jsonl",
            '{"path": "a.jpg", "declared": "ai"}\n["b.jpg", "ai"]\n',
            "bad.jsonl line 2: each line must be a JSON object",
        ),
    ],
)
def test_bad_sidecar_rows_stop_the_scan_naming_the_line(tmp_path, capsys, name, content, message):
    folder = copy_fixtures(tmp_path / "in", ["plain.jpg"])[0].parent
    sidecar = tmp_path / name
    sidecar.write_text(content, encoding="utf-8")
    code = scan(folder, "--declarations", sidecar, "--out", tmp_path / "out")
    err = capsys.readouterr().err
    assert code == ExitStatus.USAGE
    assert message in err
    assert not (tmp_path / "out" / "results.jsonl").exists()


def test_jsonl_sidecar_and_declared_default(tmp_path):
    folder = copy_fixtures(tmp_path / "in", ["gen-flux.jpg", "gb-png-text.png"])[0].parent
    sidecar = tmp_path / "posts.jsonl"
    sidecar.write_text(json.dumps({"path": "gen-flux.jpg", "declared": "none", "account": 7, "post_id": 8}) + "\n")
    out = tmp_path / "out"
    code = scan(folder, "--declarations", sidecar, "--declared", "ai", "--out", out)
    rows = {os.path.basename(r["path"]): r for r in results(out)}
    assert rows["gen-flux.jpg"]["verdict"] == "unlabelled-ai" and rows["gen-flux.jpg"]["account"] == "7"
    assert rows["gb-png-text.png"]["declared"] == "ai" and rows["gb-png-text.png"]["verdict"] == "compliant"
    assert code == ExitStatus.VIOLATION


# --- outputs ----------------------------------------------------------------------------------------


def test_outputs_agree_and_csv_is_safe_for_spreadsheets(tmp_path):
    folder = copy_fixtures(tmp_path / "in", MEDIA_SAMPLE)[0].parent
    weird = folder / "=HYPERLINK(1).png"
    shutil.copyfile(FIXTURES / "gen-novelai.png", weird)
    out = tmp_path / "out"
    scan("--from-list", _path_list(tmp_path, [folder / n for n in MEDIA_SAMPLE] + [weird]), "--out", out)
    rows = results(out)
    with open(out / "results.csv", encoding="utf-8", newline="") as f:
        table = list(csv.DictReader(f))
    assert len(rows) == len(table) == len(MEDIA_SAMPLE) + 1
    assert {r["path"] for r in rows} == {t["path"] for t in table}  # the folder path does not start with '='
    assert {
        "path",
        "format",
        "status",
        "verdict",
        "declared",
        "label",
        "action",
        "generator",
        "account",
        "post_id",
        "findings",
        "errors",
    } <= set(table[0])
    tampered = next(t for t in table if t["path"].endswith("c2pa-ai-tampered.jpg"))
    assert "c2pa-hash-mismatch" in tampered["findings"].split(";")
    s = summary(out)
    assert s["files"]["checked"] == len(rows) and sum(s["verdicts"].values()) == len(rows)
    assert s["findings"]["c2pa-hash-mismatch"] == 1


def _path_list(tmp_path, paths) -> Path:
    listing = tmp_path / "list.txt"
    listing.write_bytes(b"".join(os.fsencode(p) + b"\n" for p in paths))
    return listing


def test_exit_codes_follow_check(tmp_path):
    ok = copy_fixtures(tmp_path / "ok", ["plain.jpg", "plain.png"])[0].parent
    assert scan(ok, "--out", tmp_path / "o1") == ExitStatus.COMPLIANT
    unreadable = copy_fixtures(tmp_path / "bad", ["plain.jpg", "broken-truncated-in-ihdr.png"])[0].parent
    assert scan(unreadable, "--out", tmp_path / "o2") == ExitStatus.UNREADABLE
    assert scan(tmp_path / "o2", "--out", tmp_path / "o2") == ExitStatus.USAGE  # results exist: no silent overwrite
    assert main(["scan", "--progress", "none"]) == ExitStatus.USAGE


def test_non_utf8_and_markup_file_names_round_trip(tmp_path):
    folder = tmp_path / "names"
    folder.mkdir()
    raw_name = b"caf\xe9-<img src=x onerror=alert(1)>\x07.png"
    shutil.copyfile(FIXTURES / "gen-a1111-parameters.png", os.path.join(os.fsencode(folder), raw_name))
    out = tmp_path / "out"
    scan(folder, "--out", out)
    (row,) = results(out)  # results.jsonl is valid UTF-8 JSON
    assert os.fsencode(result_path(row)) == os.path.join(os.fsencode(folder), raw_name)  # exact, via path_b64
    assert row["path"].endswith("caf\\xe9-<img src=x onerror=alert(1)>\\x07.png")  # readable, strict UTF-8
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "<img src=x" not in page  # the rows' JSON escapes < and >: the script shows it as text
    (shown,) = [r["p"] for r in page_rows(page)]
    assert shown.endswith("caf\\xe9-<img src=x onerror=alert(1)>\\x07.png")


# --- failures inside a worker ------------------------------------------------------------------------

# Captured at import: in a forked worker runner.scan_chunk is the test's replacement, in a worker
# from the fork server it is the original; this name is the original in both.
ORIGINAL_SCAN_CHUNK = runner.scan_chunk


def crashing_scan_chunk(items, options):
    """Stands in for runner.scan_chunk: dies like a native crash on one file."""
    if any(item.path.endswith("boom.jpg") for item in items):
        os._exit(9)
    return ORIGINAL_SCAN_CHUNK(items, options)


def test_a_worker_that_dies_costs_one_file_not_the_scan(tmp_path, monkeypatch):
    folder = copy_fixtures(tmp_path / "in", MEDIA_SAMPLE)[0].parent
    shutil.copyfile(FIXTURES / "plain.jpg", folder / "boom.jpg")
    monkeypatch.setattr(runner, "scan_chunk", crashing_scan_chunk)
    out = tmp_path / "out"
    runner.run_scan(runner.ScanConfig(paths=(str(folder),), out_dir=str(out), jobs=2, chunk_size=3, progress="none"))
    rows = {os.path.basename(r["path"]): r for r in results(out)}
    assert set(rows) == set(MEDIA_SAMPLE) | {"boom.jpg"}
    assert rows["boom.jpg"]["errors"][0]["code"] == "worker-crashed"
    assert all(
        r["errors"] == [] or r["errors"][0]["code"] != "worker-crashed"
        for name, r in rows.items()
        if name != "boom.jpg"
    )


def stalling_scan_chunk(items, options):
    """Stands in for runner.scan_chunk: hangs on one file where the per-file timer cannot reach it,
    as a native library call would (SIGALRM blocked)."""
    if any(item.path.endswith("stall.jpg") for item in items):
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
        time.sleep(3600)
    return ORIGINAL_SCAN_CHUNK(items, options)


def test_a_file_stuck_in_native_code_costs_one_file_not_the_scan(tmp_path, monkeypatch):
    folder = copy_fixtures(tmp_path / "in", MEDIA_SAMPLE)[0].parent
    shutil.copyfile(FIXTURES / "plain.jpg", folder / "stall.jpg")
    monkeypatch.setattr(runner, "scan_chunk", stalling_scan_chunk)
    # Margins a loaded CI machine keeps: a C2PA file validates in native code, which a tight margin
    # (0.2 s + 0.5 s) took for a stall under load and replaced its process too.
    monkeypatch.setattr(runner, "STALL_MARGIN_S", 2.0)
    out = tmp_path / "out"
    options = CheckOptions(time_limit=1.0)
    runner.run_scan(
        runner.ScanConfig(
            paths=(str(folder),), out_dir=str(out), jobs=2, chunk_size=3, progress="none", options=options
        )
    )
    rows = {os.path.basename(r["path"]): r for r in results(out)}
    assert set(rows) == set(MEDIA_SAMPLE) | {"stall.jpg"}
    assert rows["stall.jpg"]["verdict"] == "unreadable" and rows["stall.jpg"]["errors"][0]["code"] == "time-limit"
    # No other file is blamed for the stall.  (On a loaded machine another file may well outlive the
    # 1 s Python timer, a time-limit of its own: that is not a stall and its process is not replaced.)
    replaced = [name for name, r in rows.items() if any("process was replaced" in e["message"] for e in r["errors"])]
    assert replaced == ["stall.jpg"]


def test_account_grading_is_policy_data(tmp_path, capsys):
    policy = json.loads((Path(__file__).resolve().parent.parent / "aigc_check" / "policies" / "cn.json").read_text())
    policy["repeat_offenders"]["thresholds"] = [{"score": 1, "action": "ban"}]
    strict = tmp_path / "strict.json"
    strict.write_text(json.dumps(policy), encoding="utf-8")
    folder = copy_fixtures(tmp_path / "in", ["gen-flux.jpg"])[0].parent
    sidecar = tmp_path / "posts.csv"
    sidecar.write_text("path,declared,account\ngen-flux.jpg,none,dave\n", encoding="utf-8")
    scan(folder, "--declarations", sidecar, "--policy", strict, "--out", tmp_path / "out")
    assert summary(tmp_path / "out")["accounts"]["top"][0]["action"] == "ban"

    policy["repeat_offenders"]["thresholds"] = [{"score": 1, "action": "shadow-ban"}]
    unknown = tmp_path / "unknown-action.json"  # another name: policies are cached by path
    unknown.write_text(json.dumps(policy), encoding="utf-8")
    code = scan(folder, "--policy", unknown, "--out", tmp_path / "out2")
    assert code == ExitStatus.USAGE and "repeat_offenders: actions must be in measure_order" in capsys.readouterr().err
