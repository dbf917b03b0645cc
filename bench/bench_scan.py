"""Throughput and memory of ``aigc-check scan`` beside ``exiftool -json -r`` and the physical limit.

    python bench/bench_scan.py [--sizes 5000,20000] [--large 100000] [--jobs 2] [--rounds 3]
                               [--work /tmp/aigc-bench] [--baseline-tree /tmp/base-1154] [--repeat 3]

Makes a folder of mixed files (plain JPEG/PNG, camera EXIF, A1111 and ComfyUI
generator chunks, GB 45438 labels, ~1% C2PA-signed copies, every fixture, ~3%
non-media) and, at each of ``--sizes`` (the folder grows from one to the next),
runs on the same warm folder, ``--rounds`` times taking turns: ``aigc-check scan
--jobs 1``, ``exiftool -json -r`` and ``aigc-check scan --jobs N`` (start-up and
report.html included), and reports the median of each (and each round's runs
and ratios, so the spread shows); then the physical limit, one process walking the folder, opening
every file and reading as many bytes as the scan read from it (``bytes_read``
of its result; a skipped file's sniff).  Beside each scan's wall time it prints
the CPU time of its process tree and of its parent alone (the rest is the
workers'), which a loaded machine disturbs less than the wall time.  It prints files/s of each and the
ratios: scan / exiftool, the limit / scan, and how near the N-job scan comes to
N times the one-job scan.  Then grows the folder to ``--large`` files and scans
again, to compare peak memory.  Peak memory is the largest sum of RSS over the
scan's whole process tree (parent + workers), sampled from /proc every 20 ms.
The scans run with Python's bytecode cache on (in the work folder, warmed by
a first small scan), as an installed package has it, whatever
PYTHONDONTWRITEBYTECODE says here: compiling every module at each start would
be counted as start-up otherwise.  The machine may be shared: compare the
ratios of one run, not figures of different runs.  ``--baseline-tree DIR`` (a
checkout of an earlier commit, e.g. ``git worktree add --detach /tmp/base-1154
1154e4f``) runs that tree's scan (``PYTHONPATH=DIR``) beside this one's at each
size, alternating, ``--repeat`` times each, and prints the median of each and
their ratio: on a loaded machine the ratio of one run is what holds.  Not a
test: run it by hand (exiftool: Debian's libimage-exiftool-perl).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures" / "files"
VARIANTS = 40  # distinct generated images per kind; files cycle through them

AIGC = {
    "Label": "1",
    "ContentProducer": "001191110102MACQD9K64010000",
    "ProduceID": "",
    "ReservedCode1": "",
    "ContentPropagator": "",
    "PropagateID": "",
    "ReservedCode2": "",
}
A1111 = (
    "a lighthouse on a cliff at dusk, oil painting\nNegative prompt: blurry\nSteps: 20, Sampler: Euler a, "
    "CFG scale: 7, Seed: {seed}, Size: 96x96, Model: sd_xl_base_1.0"
)


def _image(rng: random.Random, mode: str = "RGB"):
    from PIL import Image

    img = Image.new(mode, (96, 96), tuple(rng.randrange(256) for _ in range(len(mode))))
    img.putdata([tuple(rng.randrange(256) for _ in range(len(mode))) for _ in range(96 * 96 // 16)] * 16)
    return img


def templates(seed: int = 7) -> dict[str, list[bytes]]:
    """The file contents the folder is made of, by kind."""
    import piexif
    from PIL import PngImagePlugin

    rng = random.Random(seed)
    kinds: dict[str, list[bytes]] = {
        k: [] for k in ("plain-jpeg", "plain-png", "camera-exif", "generator-png", "gb45438-png")
    }
    for i in range(VARIANTS):
        img = _image(rng)
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=85)
        kinds["plain-jpeg"].append(buf.getvalue())
        buf = io.BytesIO()
        img.save(buf, "PNG")
        kinds["plain-png"].append(buf.getvalue())
        exif = piexif.dump(
            {
                "0th": {piexif.ImageIFD.Make: b"Canon", piexif.ImageIFD.Model: f"EOS R{i % 8}".encode()},
                "Exif": {
                    piexif.ExifIFD.DateTimeOriginal: b"2025:05:01 10:00:00",
                    piexif.ExifIFD.ExposureTime: (1, 100 + i),
                    piexif.ExifIFD.FNumber: (28, 10),
                },
            }
        )
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=85, exif=exif)
        kinds["camera-exif"].append(buf.getvalue())
        info = PngImagePlugin.PngInfo()
        if i % 2:
            info.add_text("parameters", A1111.format(seed=rng.randrange(10**9)))
        else:
            info.add_text("prompt", json.dumps({"3": {"class_type": "KSampler", "inputs": {"seed": i}}}))
            info.add_text("workflow", json.dumps({"nodes": [{"id": 3, "type": "KSampler"}], "links": []}))
        buf = io.BytesIO()
        img.save(buf, "PNG", pnginfo=info)
        kinds["generator-png"].append(buf.getvalue())
        info = PngImagePlugin.PngInfo()
        info.add_text("AIGC", json.dumps(dict(AIGC, ProduceID=f"bench-{i}"), separators=(",", ":")))
        buf = io.BytesIO()
        img.save(buf, "PNG", pnginfo=info)
        kinds["gb45438-png"].append(buf.getvalue())
    fixtures = sorted(FIXTURES.iterdir())
    kinds["c2pa"] = [p.read_bytes() for p in fixtures if p.name.startswith("c2pa-")]
    kinds["fixture"] = [p.read_bytes() for p in fixtures if not p.name.startswith("c2pa-")]
    kinds["not-media"] = [b"post text, not an image\n" * (i + 1) for i in range(5)] + [b'{"id": 1}\n']
    return kinds


# Share of each kind in the folder.
MIX = [
    ("plain-jpeg", 20),
    ("plain-png", 14),
    ("camera-exif", 20),
    ("generator-png", 14),
    ("gb45438-png", 10),
    ("fixture", 18),
    ("c2pa", 1),
    ("not-media", 3),
]
PNG = b"\x89PNG"
SUFFIX = {"plain-jpeg": ".jpg", "camera-exif": ".jpg", "not-media": ".txt"}


def make_folder(folder: Path, start: int, stop: int, kinds: dict[str, list[bytes]]) -> None:
    """Files numbered start..stop-1, 500 to a folder, the kind chosen by a fixed cycle."""
    cycle = [k for k, weight in MIX for _ in range(weight)]
    for n in range(start, stop):
        kind = cycle[n * 37 % len(cycle)]
        content = kinds[kind][n % len(kinds[kind])]
        sub = folder / f"d{n // 5000:03d}" / f"e{n // 500 % 10}"
        if n % 500 == 0 or n == start:
            sub.mkdir(parents=True, exist_ok=True)
        # Names do not always match the content: the scan sniffs content, as exiftool does.
        (sub / f"f{n:07d}{SUFFIX.get(kind, '.png' if content.startswith(PNG) else '.bin')}").write_bytes(content)


def _tree_rss_kb(pid: int) -> int:
    """RSS of a process and all its descendants, from /proc."""
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/status") as f:
                total += next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    stack.extend(int(c) for c in f.read().split())
        except (OSError, StopIteration, ValueError):
            continue
    return total


class Run(NamedTuple):
    wall_s: float
    peak_kib: int  # the largest sum of RSS over the process tree
    returncode: int
    cpu_s: float  # CPU time of the whole tree (the command and every process it waited for)
    parent_cpu_s: float  # of the command's own process: the last /proc sample before it ended


def _own_cpu_s(pid: int) -> float | None:
    """utime + stime of one process, from /proc/<pid>/stat (None once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_measured(cmd: list[str], **kwargs) -> Run:
    """Wall time, peak RSS, exit code, and CPU time of the tree and of its first process (a scan's
    parent: the rest is its workers').  The parent's is sampled every 20 ms, so it misses at most
    its last 20 ms."""
    peak = 0
    parent_cpu = 0.0
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kwargs)
    done = threading.Event()

    def sample():
        nonlocal peak, parent_cpu
        while not done.is_set():
            peak = max(peak, _tree_rss_kb(proc.pid))
            own = _own_cpu_s(proc.pid)
            if own is not None and proc.returncode is None:
                parent_cpu = max(parent_cpu, own)
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, err = proc.communicate()
    elapsed = time.perf_counter() - started
    done.set()
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in (0, 1, 3):
        sys.exit(f"{cmd[0]} failed ({proc.returncode}): {err.decode(errors='replace')[-2000:]}")
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return Run(elapsed, peak, proc.returncode, cpu, parent_cpu)


def scan_cmd(folder: Path, out: Path, jobs: int) -> list[str]:
    exe = shutil.which("aigc-check", path=os.path.dirname(sys.executable)) or shutil.which("aigc-check")
    return [exe, "scan", str(folder), "--out", str(out), "--jobs", str(jobs), "--progress", "none", "--overwrite"]


def scan_env(work: Path, tree: str | None = None) -> dict[str, str]:
    """The environment of the scans: this one, with a bytecode cache of their own (and ``tree``, a
    baseline checkout, first on the path)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
    if tree:
        env["PYTHONPATH"] = tree
    return env


Medians = dict[str, float]  # wall_s, cpu_s, parent_cpu_s


def a_b(folder: Path, out: Path, jobs: int, envs: dict[str, dict[str, str]], repeat: int) -> dict[str, Medians]:
    """Median wall time, tree CPU and parent CPU of each tree's scan, the trees taking turns, so
    load falls on both alike."""
    runs: dict[str, list[Run]] = {name: [] for name in envs}
    for _ in range(repeat):
        for name, env in envs.items():
            runs[name].append(run_measured(scan_cmd(folder, out, jobs), env=env))
    return {
        name: {
            "wall_s": round(statistics.median(r.wall_s for r in rs), 3),
            "cpu_s": round(statistics.median(r.cpu_s for r in rs), 3),
            "parent_cpu_s": round(statistics.median(r.parent_cpu_s for r in rs), 3),
        }
        for name, rs in runs.items()
    }


class Rounds(NamedTuple):
    """The runs of each command over the rounds, in the order they ran."""

    scans: list[Run]
    one_jobs: list[Run]
    exiftools: list[float]

    @staticmethod
    def _median_run(runs: list[Run]) -> Run:
        return sorted(runs, key=lambda r: r.wall_s)[(len(runs) - 1) // 2]

    @property
    def scan(self) -> Run:
        return self._median_run(self.scans)

    @property
    def one_job(self) -> Run:
        return self._median_run(self.one_jobs)

    @property
    def scan_s(self) -> float:
        return statistics.median(r.wall_s for r in self.scans)

    @property
    def one_s(self) -> float:
        return statistics.median(r.wall_s for r in self.one_jobs)

    @property
    def exiftool_s(self) -> float | None:
        return statistics.median(self.exiftools) if self.exiftools else None

    def runs(self) -> dict[str, list[float]]:
        return {
            "scan_s": [round(r.wall_s, 3) for r in self.scans],
            "scan_1_job_s": [round(r.wall_s, 3) for r in self.one_jobs],
            "exiftool_s": [round(t, 3) for t in self.exiftools],
        }

    def spread(self, jobs: int) -> str:
        """Each command's runs, lowest to highest, and the ratios of each round."""
        names = {"scan_s": f"--jobs {jobs}", "scan_1_job_s": "--jobs 1", "exiftool_s": "exiftool"}
        parts = [
            f"{names[name]} {', '.join(f'{t:.2f}' for t in sorted(times))} s"
            for name, times in self.runs().items()
            if times
        ]
        ratios = [f"{e / s.wall_s:.1f}x" for s, e in zip(self.scans, self.exiftools)]
        scaling = [f"{100 * o.wall_s / (jobs * s.wall_s):.0f}%" for s, o in zip(self.scans, self.one_jobs)]
        return (
            "; ".join(parts)
            + (f"; per round scan/exiftool {', '.join(ratios)}" if ratios else "")
            + (f"; per round --jobs {jobs} of {jobs} x --jobs 1 {', '.join(scaling)}" if scaling else "")
        )


def measured_rounds(
    folder: Path, out: Path, jobs: int, env: dict[str, str], exiftool: str | None, rounds: int
) -> Rounds:
    """``rounds`` rounds of: the scan with one job, exiftool, the scan with ``jobs``; the three taking
    turns, so that a loaded spell of a shared machine falls on all of them alike.  The scan with
    ``jobs`` runs last in each round, so its output folder is the one left (summary.json, and the
    results the read limit reads the sizes from)."""
    scans: list[Run] = []
    one_jobs: list[Run] = []
    exiftools: list[float] = []
    for _ in range(max(1, rounds)):
        one_jobs.append(run_measured(scan_cmd(folder, out, 1), env=env))
        if exiftool:
            exiftools.append(run_measured([exiftool, "-json", "-r", "-q", "-q", str(folder)]).wall_s)
        scans.append(run_measured(scan_cmd(folder, out, jobs), env=env))
    return Rounds(scans, one_jobs, exiftools)


def read_limit_s(folder: Path, results: Path) -> float:
    """Seconds for one process to walk the folder, open every file and read what the scan read."""
    read = {}
    with open(results, encoding="utf-8", errors="surrogateescape") as f:
        for line in f:
            r = json.loads(line)
            read[r["path"]] = r.get("bytes_read") or 0
    sniff = 8192  # a skipped file: the scan read its head to tell it is not media
    started = time.perf_counter()
    for top, _dirs, names in os.walk(folder):
        for name in names:
            path = os.path.join(top, name)
            with open(path, "rb", buffering=0) as fh:
                fh.read(read.get(path, sniff))
    return time.perf_counter() - started


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="5000,20000", help="folder sizes to measure at, ascending")
    ap.add_argument("--large", type=int, default=100_000, help="a last size, for peak memory (0: skip)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--work", default=None, help="working folder (default: a new temporary one, removed after)")
    ap.add_argument("--json", default=str(ROOT / "bench" / "out" / "scan.json"))
    ap.add_argument("--baseline-tree", default=None, help="an earlier checkout to scan beside this one (A/B)")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each tree's scan in the A/B (median)")
    ap.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="rounds of the three runs (--jobs 1, exiftool, --jobs N) taking turns at each size; "
        "figures and ratios are of the medians",
    )
    args = ap.parse_args()
    sizes = sorted(int(n) for n in args.sizes.split(","))
    work = Path(args.work or tempfile.mkdtemp(prefix="aigc-bench-"))
    folder, out = work / "files", work / "out"
    exiftool = shutil.which("exiftool")
    env = scan_env(work)
    if not exiftool:
        print("exiftool not found (apt-get install -y libimage-exiftool-perl): no exiftool ratio")
    rows = []
    try:
        kinds = templates()
        make_folder(work / "warm", 0, 50, kinds)
        run_measured(scan_cmd(work / "warm", out, args.jobs), env=env)  # fills the bytecode cache
        envs = {"now": env}
        if args.baseline_tree:
            envs["baseline"] = scan_env(work, str(Path(args.baseline_tree).resolve()))
            run_measured(scan_cmd(work / "warm", out, args.jobs), env=envs["baseline"])
        made = 0
        for size in sizes:
            make_folder(folder, made, size, kinds)
            made = size
            trio = measured_rounds(folder, out, args.jobs, env, exiftool, args.rounds)
            scan, one_job, ours, one, theirs = trio.scan, trio.one_job, trio.scan_s, trio.one_s, trio.exiftool_s
            peak = max(r.peak_kib for r in trio.scans)
            summary = json.loads((out / "summary.json").read_text())
            limit = read_limit_s(folder, out / "results.jsonl")
            ab = a_b(folder, out, args.jobs, envs, args.repeat) if args.baseline_tree else None
            row = {
                "files": size,
                "jobs": args.jobs,
                "scan_s": round(ours, 3),
                "scan_files_per_s": round(size / ours),
                "scan_1_job_s": round(one, 3),
                "exiftool_s": round(theirs, 3) if theirs else None,
                "read_limit_s": round(limit, 3),
                "scan_over_exiftool": round(theirs / ours, 2) if theirs else None,
                "limit_over_scan": round(ours / limit, 1),
                "of_jobs_times_one": round(one / (args.jobs * ours), 2),
                "peak_rss_mib": round(peak / 1024),
                "cpu_s": round(scan.cpu_s, 3),
                "parent_cpu_s": round(scan.parent_cpu_s, 3),
                "cpu_1_job_s": round(one_job.cpu_s, 3),
                "rounds": args.rounds,
                "runs": trio.runs(),
                "checked": summary["files"]["checked"],
                "skipped": sum(summary["files"]["skipped"].values()),
                "verdicts": summary["verdicts"],
                **(
                    {"a_b_median": ab, "baseline_over_now": round(ab["baseline"]["wall_s"] / ab["now"]["wall_s"], 2)}
                    if ab
                    else {}
                ),
            }
            rows.append(row)
            if args.rounds > 1:
                print(f"{size:,} files, median of {args.rounds} rounds taking turns; {trio.spread(args.jobs)}")
            print(
                f"{size:,} files: scan --jobs {args.jobs} {ours:.2f} s ({size / ours:,.0f} files/s, peak RSS "
                f"{peak / 1024:.0f} MiB); --jobs 1 {one:.2f} s; exiftool -json -r "
                + (f"{theirs:.2f} s ({size / theirs:,.0f} files/s)" if theirs else "n/a")
                + f"; read limit {limit:.2f} s ({size / limit:,.0f} files/s)"
            )
            print(
                f"  CPU: --jobs {args.jobs} {scan.cpu_s:.2f} s (parent {scan.parent_cpu_s:.2f} s, workers "
                f"{scan.cpu_s - scan.parent_cpu_s:.2f} s); --jobs 1 {one_job.cpu_s:.2f} s (parent "
                f"{one_job.parent_cpu_s:.2f} s)"
            )
            print(
                "  scan / exiftool "
                + (f"{theirs / ours:.1f}x" if theirs else "n/a")
                + f"; scan takes {ours / limit:.0f}x the read limit; --jobs {args.jobs} reaches "
                f"{100 * one / (args.jobs * ours):.0f}% of {args.jobs} x --jobs 1; verdicts {summary['verdicts']}"
            )
            if ab:
                base, now = ab["baseline"], ab["now"]
                print(
                    f"  A/B, median of {args.repeat} each, taking turns: baseline {base['wall_s']:.2f} s, now "
                    f"{now['wall_s']:.2f} s: baseline / now {base['wall_s'] / now['wall_s']:.2f}x; CPU baseline "
                    f"{base['cpu_s']:.2f} s (parent {base['parent_cpu_s']:.2f} s), now {now['cpu_s']:.2f} s (parent "
                    f"{now['parent_cpu_s']:.2f} s)"
                )
        if args.large > made:
            make_folder(folder, made, args.large, kinds)
            big, peak_large = run_measured(scan_cmd(folder, out, args.jobs), env=env)[:2]
            rows.append(
                {
                    "files": args.large,
                    "jobs": args.jobs,
                    "scan_s": round(big, 3),
                    "peak_rss_mib": round(peak_large / 1024),
                }
            )
            print(
                f"{args.large:,} files: scan {big:.2f} s, {args.large / big:,.0f} files/s, "
                f"peak RSS {peak_large / 1024:.0f} MiB"
            )
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"python": sys.version.split()[0], "rows": rows}, indent=2))
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
