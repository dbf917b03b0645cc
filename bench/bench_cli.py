"""The one-file command: ``aigc-check check FILE``, a whole process per file, as a creator runs it
or a gateway that shells out does, beside ``exiftool -json FILE`` and the physical limit.

    python bench/bench_cli.py [--runs 15] [--baseline-tree /tmp/base-e455] [--work DIR] [--json OUT]

For each kind of file (a photo without metadata, a camera JPEG, a PNG with a GB 45438 label, one
with generator chunks, an MP3 with ID3 tags, a C2PA-signed JPEG), the commands take turns
``--runs`` times and the median wall time of each is printed, with the ratios.  The limit is the
least a Python command can cost: an interpreter that starts, reads the bytes the check read, and
exits (``python -I -c``, no site packages).  ``--baseline-tree DIR`` (a checkout of an earlier
commit) runs that tree's ``check`` too (``PYTHONPATH=DIR``), in the same turns, and prints
baseline / now.  The commands run with Python's bytecode cache on (in the work folder), as an
installed package has it.  The machine may be shared: compare the ratios of one run.  Not a test:
run it by hand (exiftool: Debian's libimage-exiftool-perl).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_scan import FIXTURES, scan_env, templates

READ_BYTES = "import sys; f = open(sys.argv[1], 'rb'); f.read(int(sys.argv[2])); f.close()"


def sample_files(folder: Path) -> dict[str, Path]:
    """One file of each kind, written into ``folder`` (the fixtures' MP3 and signed JPEG copied)."""
    made = templates()
    files = {}
    for kind in ("plain-jpeg", "camera-exif", "gb45438-png", "generator-png"):
        path = folder / f"{kind}.{'png' if kind.endswith('png') else 'jpg'}"
        path.write_bytes(made[kind][0])
        files[kind] = path
    for kind, name in (("id3-mp3", "av-c2pa-ai.mp3"), ("c2pa-jpeg", "c2pa-ai-created.jpg")):
        source = FIXTURES / name
        if source.exists():
            files[kind] = folder / name
            shutil.copyfile(source, files[kind])
    return files


def timed(cmd: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1, 3):
        sys.exit(f"{cmd[:3]} failed ({done.returncode}): {done.stderr.decode(errors='replace')[-2000:]}")
    return elapsed


def bytes_read(path: Path, env: dict[str, str]) -> int:
    """What the check read of the file (its ``bytes_read``), for the limit to read as much."""
    out = subprocess.run(
        [sys.executable, "-m", "aigc_check", "check", "--format", "json", str(path)],  # this tree's reading
        env=env,
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    return int(json.loads(out)["bytes_read"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=15, help="turns of every command (medians are printed)")
    ap.add_argument("--baseline-tree", help="a checkout of an earlier commit, run beside this one")
    ap.add_argument("--work", help="a folder for the files and the bytecode cache (default: a temporary one)")
    ap.add_argument("--json", help="also write the figures here")
    args = ap.parse_args()
    work = Path(args.work or tempfile.mkdtemp(prefix="aigc-bench-cli-"))
    work.mkdir(parents=True, exist_ok=True)
    files = sample_files(work)
    env = scan_env(work)
    envs = {"now": env}
    if args.baseline_tree:
        envs["baseline"] = scan_env(work, str(Path(args.baseline_tree).resolve()))
        envs["baseline"]["PYTHONPYCACHEPREFIX"] = str(work / "pycache-baseline")
    exiftool = shutil.which("exiftool")
    command = shutil.which("aigc-check", path=os.path.dirname(sys.executable)) or shutil.which("aigc-check")
    if command is None:
        sys.exit("aigc-check is not installed beside this Python (pip install .)")
    results: dict[str, dict[str, float]] = {}
    for kind, path in files.items():
        read = bytes_read(path, env)
        commands = {name: ([command, "check", str(path)], e) for name, e in envs.items()}
        if exiftool:
            commands["exiftool"] = ([exiftool, "-json", str(path)], env)
        commands["limit"] = ([sys.executable, "-I", "-c", READ_BYTES, str(path), str(read)], env)
        for cmd, e in commands.values():
            timed(cmd, e)  # the bytecode caches, and the file in the page cache
        runs: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, (cmd, e) in commands.items():
                runs[name].append(timed(cmd, e))
        medians = {name: round(statistics.median(r) * 1000, 1) for name, r in runs.items()}
        results[kind] = medians
        line = f"{kind:14s} {path.stat().st_size:>8,} B: check {medians['now']:6.1f} ms"
        if "baseline" in medians:
            line += f", baseline {medians['baseline']:6.1f} ms ({medians['baseline'] / medians['now']:.2f}x)"
        if "exiftool" in medians:
            line += f", exiftool {medians['exiftool']:6.1f} ms ({medians['exiftool'] / medians['now']:.2f}x)"
        line += f", limit {medians['limit']:5.1f} ms (check takes {medians['now'] / medians['limit']:.1f}x)"
        print(line, flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps({"runs": args.runs, "ms": results}, indent=2) + "\n")
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    main()
