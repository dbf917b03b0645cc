"""Per-file check time of this checkout against an earlier revision, on the same files, A/B.

    python bench/bench_ab.py --base 8c2c081 [--rounds 6] [--repeat 5] [--corpus ../shared/corpus] [--mix 5000]
                             [--record] [--clock wall|cpu] [--c2pa]

The machine is shared and noisy, so the two implementations are not timed one after the other:
each round starts one child process per implementation (the base revision checked out in a
temporary git worktree, then this checkout), alternating A, B, A, B..., and each child times every
file ``--repeat`` times in process.  A file's time is its best over all rounds.  The files are
the base revision's fixtures that still exist here plus the shared corpus, less those with a C2PA
manifest (whose cost is c2pa-python's validation), so both sides judge the same bytes; the ones
without any label or trace evidence (here) are reported apart: the gateway's common case.  The
package was renamed ``provenance`` -> ``aigc_check`` in issue 11; the child imports whichever the
tree has.

``--mix N`` adds the figure of issue 14: N files made as ``bench/bench_scan.py`` makes its folder
(C2PA-signed ones included), and each child's mean time per file over all of them (best pass of
``--repeat``), also alternated round by round; with ``--record``, the mean time of the mix's JSON
records too (``to_dict`` and one JSON line, as the scan writes them).  ``--c2pa`` adds the files
with a manifest back, in groups of their own ("jpeg with C2PA", ...).  ``--clock cpu`` times with the child's CPU time
instead of the elapsed time: on a machine others are loading, the elapsed time of a pass is mostly
time spent waiting for a core, and the CPU time is what the check itself cost.  Not a test: run
it by hand.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, sys, time
try:
    from aigc_check import Checker
except ImportError:
    from provenance import Checker
job, repeat = json.loads(sys.stdin.read()), int(sys.argv[1])
clock = time.process_time if sys.argv[2] == "cpu" else time.perf_counter
paths, mix = job["paths"], job["mix"]
checker = Checker()
for p in (paths + mix)[:20]:
    checker.check(p)  # warm caches and lazy imports
best = {}
for p in paths:
    times = []
    for _ in range(repeat):
        t = clock()
        checker.check(p)
        times.append(clock() - t)
    best[p] = min(times)
mix_s = None
if mix:
    for p in mix:
        checker.check(p)  # the plans and decisions a long scan would have made by now
    for _ in range(repeat):
        t = clock()
        for p in mix:
            checker.check(p)
        took = (clock() - t) / len(mix)
        mix_s = took if mix_s is None else min(mix_s, took)
record_s = None
if mix and job["record"]:
    # What the scan writes of each result: its JSON record (to_dict) as one line, one encoder for all.
    encode = json.JSONEncoder(ensure_ascii=False).encode
    results = [checker.check(p) for p in mix]
    for _ in range(repeat):
        t = clock()
        for r in results:
            encode(r.to_dict())
        took = (clock() - t) / len(results)
        record_s = took if record_s is None else min(record_s, took)
print(json.dumps({"best": best, "mix": mix_s, "record": record_s}))
"""


def files(base_tree: Path, corpus: Path) -> list[str]:
    names = sorted(p.name for p in (base_tree / "fixtures" / "files").iterdir() if p.is_file())
    out = [str(ROOT / "fixtures" / "files" / n) for n in names if (ROOT / "fixtures" / "files" / n).exists()]
    manifest = corpus / "MANIFEST.tsv"
    if manifest.exists():
        rows = manifest.read_text(encoding="utf-8").splitlines()[1:]
        out += [str(corpus / r.split("\t", 1)[0]) for r in rows if r.strip()]
    return out


def run_child(tree: Path, paths: list[str], mix: list[str], repeat: int, clock: str, record: bool = False) -> dict:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(repeat), clock],
        input=json.dumps({"paths": paths, "mix": mix, "record": record}),
        capture_output=True,
        text=True,
        env=env,
        cwd=tree,
        check=True,
        timeout=1800,
    )
    return json.loads(proc.stdout)


def mix_files(folder: Path, count: int) -> list[str]:
    sys.path.insert(0, str(ROOT / "bench"))
    import bench_scan

    bench_scan.make_folder(folder, 0, count, bench_scan.templates())
    return sorted(str(p) for p in folder.rglob("*") if p.is_file())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base", required=True, help="the earlier revision (a commit, tag or branch)")
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument(
        "--corpus", type=Path, default=Path(os.environ.get("AIGC_CORPUS", ROOT.parent / "shared" / "corpus"))
    )
    ap.add_argument("--json", type=Path, help="write the per-group figures here")
    ap.add_argument("--mix", type=int, default=0, help="files in a bench_scan-style mix timed as a whole (0: none)")
    ap.add_argument(
        "--c2pa",
        action="store_true",
        help="also time the files with a C2PA manifest (validated by c2pa-python), as groups of their own",
    )
    ap.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="wall: elapsed time (an idle machine); cpu: the child's CPU time (time.process_time), which "
        "leaves out the time a loaded machine keeps it waiting for a core",
    )
    ap.add_argument(
        "--record",
        action="store_true",
        help="with --mix: also time the mix's JSON records (to_dict and one JSON line, as the scan writes them)",
    )
    args = ap.parse_args()

    sys.path.insert(0, str(ROOT))
    from aigc_check import Checker

    with tempfile.TemporaryDirectory() as tmp:
        base_tree = Path(tmp) / "base"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "-q", "--detach", str(base_tree), args.base], check=True
        )
        try:
            checker = Checker()
            paths, plain, signed = [], set(), set()
            for p in files(base_tree, args.corpus):
                r = checker.check(p).to_dict()
                if r["verdict"] == "unreadable" or (r["c2pa"]["present"] and not args.c2pa):
                    continue
                paths.append(p)
                if r["c2pa"]["present"]:
                    signed.add(p)
                elif not r["evidence"]:
                    plain.add(p)
            mix = mix_files(Path(tmp) / "mix", args.mix) if args.mix else []
            best: dict[str, dict[str, float]] = {"base": {}, "here": {}}
            mix_best: dict[str, float] = {}
            record_best: dict[str, float] = {}
            for n in range(args.rounds):
                for side, tree in (
                    (("base", base_tree), ("here", ROOT)) if n % 2 == 0 else (("here", ROOT), ("base", base_tree))
                ):
                    answer = run_child(tree, paths, mix, args.repeat, args.clock, args.record)
                    for p, t in answer["best"].items():
                        best[side][p] = min(t, best[side].get(p, t))
                    if answer["mix"] is not None:
                        mix_best[side] = min(answer["mix"], mix_best.get(side, answer["mix"]))
                    if answer.get("record") is not None:
                        record_best[side] = min(answer["record"], record_best.get(side, answer["record"]))
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(base_tree)], check=False)

    groups: dict[str, list[str]] = {}
    for p in paths:
        fmt = checker.check(p).to_dict()["format"]
        groups.setdefault(f"{fmt} with C2PA" if p in signed else fmt, []).append(p)
    unsigned = [p for p in paths if p not in signed]
    head = [("all (no C2PA)", unsigned), ("no label or trace", sorted(plain)), ("all with C2PA", sorted(signed))]
    rows = []
    for name, members in head + sorted(groups.items()):
        if not members:
            continue
        base_ms = statistics.median(best["base"][p] for p in members) * 1000
        here_ms = statistics.median(best["here"][p] for p in members) * 1000
        ratio = statistics.median(best["here"][p] / best["base"][p] for p in members)
        rows.append({"group": name, "files": len(members), "base_ms": base_ms, "here_ms": here_ms, "ratio": ratio})
    if mix_best:
        rows.append(
            {
                "group": f"mix of {len(mix):,} (mean)",
                "files": len(mix),
                "base_ms": mix_best["base"] * 1000,
                "here_ms": mix_best["here"] * 1000,
                "ratio": mix_best["here"] / mix_best["base"],
            }
        )
    if record_best:
        rows.append(
            {
                "group": "mix records (mean)",
                "files": len(mix),
                "base_ms": record_best["base"] * 1000,
                "here_ms": record_best["here"] * 1000,
                "ratio": record_best["here"] / record_best["base"],
            }
        )
    print(f"({args.clock} clock)")
    print(f"{'group':22} {'files':>5} {'base ms':>9} {'here ms':>9} {'here/base':>10}  (median of per-file ratios)")
    for r in rows:
        print(f"{r['group']:22} {r['files']:>5} {r['base_ms']:>9.3f} {r['here_ms']:>9.3f} {r['ratio']:>9.2f}x")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps({"base": args.base, "clock": args.clock, "rows": rows}, indent=2), encoding="utf-8"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
