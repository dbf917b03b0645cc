#!/usr/bin/env python3
"""Worst time and peak memory per format over hostile, truncated and mutated inputs.

    python bench/hostile_report.py [--mutations 2000] [--seed 1] [--json bench/out/hostile.json]

Inputs: the hostile-file suite (fixtures/make_hostile.py), every fixture cut
at every 1/16th, and --mutations random structural mutations of the fixtures
(the same operators as tests/test_fuzz.py).  Each format's inputs run in a
fresh process with the default limits (10 s per file, fields and sizes from
aigc_check/limits.py), so its peak RSS is that format's own.  Prints a
markdown table for the README and fails (exit 1) if any input crashed the
checker, took longer than the time limit or came out compliant with a fatal
error.  Not a test: run it by hand.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import resource
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "fixtures"))
sys.path.insert(0, str(ROOT / "fuzz"))

from targets import SIZE_EXTREMES  # noqa: E402  (the same size-field values as tests/test_fuzz.py)


def mutate(rnd: random.Random, seeds: list[bytes]) -> bytes:
    data = bytearray(rnd.choice(seeds))
    for _ in range(rnd.randint(1, 6)):
        if not data:
            break
        at = rnd.randrange(len(data))
        op = rnd.random()
        if op < 0.3:
            data[at : at + 4] = rnd.choice(SIZE_EXTREMES)
        elif op < 0.45:
            del data[at:]
        elif op < 0.6:
            n = rnd.randint(1, 256)
            data[at:at] = data[at : at + n] * rnd.randint(2, 50)
        elif op < 0.75:
            other = rnd.choice(seeds)
            if other:
                s = rnd.randrange(len(other))
                data[at:at] = other[s : s + rnd.randint(1, 512)]
        elif op < 0.9:
            data[at] ^= 1 << rnd.randrange(8)
        else:
            del data[at : at + rnd.randint(1, 64)]
    return bytes(data)


def _peak_rss_kb() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def run_group(inputs: list[tuple[str, bytes]], queue) -> None:
    """In a fresh process: check every input, report the worst time, peak RSS and any failure."""
    from aigc_check import Checker, CheckOptions
    from aigc_check.limits import DEFAULT_TIME_LIMIT

    checker = Checker(CheckOptions(time_limit=DEFAULT_TIME_LIMIT))
    checker.check(inputs[0][1])  # first-call costs (imports, C2PA context) are not the input's
    # ru_maxrss survives exec (it would show the parent's peak): reset the high-water mark instead.
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    base = _peak_rss_kb()
    worst, worst_name, failures, codes = 0.0, "", [], defaultdict(int)
    for name, data in inputs:
        t = time.perf_counter()
        try:
            result = checker.check(data, name=name)
            json.dumps(result.to_dict())
        except Exception as exc:
            failures.append(f"{name}: {type(exc).__name__}: {exc}")
            continue
        elapsed = time.perf_counter() - t
        if elapsed > worst:
            worst, worst_name = elapsed, name
        if result.verdict == "compliant" and any(e.fatal for e in result.errors):
            failures.append(f"{name}: compliant despite {[e.code for e in result.errors]}")
        if elapsed > DEFAULT_TIME_LIMIT:
            failures.append(f"{name}: took {elapsed:.1f} s")
        for e in result.errors:
            codes[e.code] += 1
    peak = _peak_rss_kb()
    queue.put(
        {
            "worst_ms": worst * 1000,
            "worst_input": worst_name,
            "peak_rss_mb": peak / 1024,
            "growth_mb": (peak - base) / 1024,
            "failures": failures,
            "error_codes": dict(codes),
        }
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mutations", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", default=str(ROOT / "bench" / "out" / "hostile.json"))
    args = ap.parse_args()

    from make_hostile import CASES

    from aigc_check import formats

    fixtures = sorted(p for p in (ROOT / "fixtures" / "files").iterdir() if p.is_file())
    seeds = [p.read_bytes() for p in fixtures]
    groups: dict[str, list[tuple[str, bytes]]] = defaultdict(list)
    kinds: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))

    def add(kind: str, name: str, data: bytes) -> None:
        handler = formats.identify(data[:65536]) if data else None
        fmt = handler.name if handler else "(not media)"
        groups[fmt].append((name, data))
        kinds[fmt][kind] += 1

    for case in CASES:
        add("hostile", case.name, case.make())
    for p, data in zip(fixtures, seeds):
        for k in range(1, 16):
            add("truncated", f"{p.name}[:{k}/16]", data[: len(data) * k // 16])
    rnd = random.Random(args.seed)
    for i in range(args.mutations):
        add("mutated", f"mutation-{i}", mutate(rnd, seeds))

    ctx = multiprocessing.get_context("spawn")
    rows, failed = [], False
    for fmt in sorted(groups):
        queue = ctx.Queue()
        proc = ctx.Process(target=run_group, args=(groups[fmt], queue))
        proc.start()
        proc.join()
        if proc.exitcode != 0:
            rows.append({"format": fmt, "inputs": len(groups[fmt]), "crashed": proc.exitcode})
            failed = True
            continue
        r = queue.get()
        r.update(format=fmt, inputs=len(groups[fmt]), kinds=dict(kinds[fmt]))
        failed |= bool(r["failures"])
        rows.append(r)

    print("| format | inputs (hostile / cut / mutated) | worst time | worst input | peak RSS | failures |")
    print("| --- | ---: | ---: | --- | ---: | ---: |")
    for r in rows:
        if "crashed" in r:
            print(f"| {r['format']} | {r['inputs']} | – | – | – | process exit {r['crashed']} |")
            continue
        k = r["kinds"]
        print(
            f"| {r['format']} | {r['inputs']} ({k.get('hostile', 0)} / {k.get('truncated', 0)} / "
            f"{k.get('mutated', 0)}) | {r['worst_ms']:.1f} ms | {r['worst_input']} | {r['peak_rss_mb']:.0f} MB | "
            f"{len(r['failures'])} |"
        )
    for r in rows:
        for f in r.get("failures", []):
            print("FAIL", r["format"], f)
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps({"mutations": args.mutations, "seed": args.seed, "rows": rows}, indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
