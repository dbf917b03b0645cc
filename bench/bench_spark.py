"""Files/s of the local scan and the Spark scan on the same generated folder, in one run.

    python bench/bench_spark.py [--files 20000] [--jobs 2] [--runs 2] [--similar] [--work /tmp/aigc-bench-spark]

Makes ``bench_scan.py``'s folder (``--files`` mixed files), then on the same
warm folder measures:

- the per-file cost of the core alone: ``check_arrow_batch`` over every file in
  this one process (no engine), the basis of the README's sizing;
- ``aigc-check scan --jobs N --no-html`` (the local process pool), whole command;
- Spark ``local[N]``: ``scan(spark, prefix)`` written to Parquet, and the same
  files as a key table (``scan(spark, DataFrame)``), each ``--runs`` times in
  one session (session start-up reported apart);
- with ``--similar``: the key table again with PDQ hashes (``CheckOptions(similar=True)``), then
  with the whole similar pass as ``scan --engine spark --similar`` runs it (rows persisted, links,
  clusters, inheritance join, one write, account signals: ``spark/similar.py``), each as a ratio to
  the plain key-table run of the same session.

Not a test: run it by hand (needs the spark extra and Java).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pyarrow as pa
from bench_scan import make_folder, run_measured, scan_cmd, templates

from aigc_check import CheckOptions
from aigc_check.spark import check_arrow_batch, local_session, read_results, scan, write_results


def core_cost(paths: list[str]) -> float:
    """Seconds per file of check_arrow_batch alone, one process, batches of 10,000 rows (Spark's default)."""
    started = time.perf_counter()
    for i in range(0, len(paths), 10_000):
        check_arrow_batch(pa.RecordBatch.from_pylist([{"path": p} for p in paths[i : i + 10_000]]), sniff=True)
    return (time.perf_counter() - started) / len(paths)


def timed_spark_job(spark, source, out: Path) -> tuple[float, int]:
    shutil.rmtree(out, ignore_errors=True)
    started = time.perf_counter()
    write_results(scan(spark, source), out=str(out))
    elapsed = time.perf_counter() - started
    return elapsed, spark.read.parquet(str(out)).count()


def timed_similar_pass(spark, keys, out: Path) -> tuple[float, int]:
    """The key table through ``scan --engine spark --similar``'s steps; seconds and clusters."""
    from pyspark import StorageLevel

    from aigc_check.spark.similar import outcome_of, similar_pass

    options = CheckOptions(similar=True)
    shutil.rmtree(out, ignore_errors=True)
    started = time.perf_counter()
    checked = scan(spark, keys, options=options).persist(StorageLevel.DISK_ONLY)
    final, plan = similar_pass(checked, options)
    write_results(final, out=str(out))
    plan.write_jsonl(str(out) + ".clusters.jsonl")
    checked.unpersist()
    outcome_of(read_results(spark, out=str(out)), plan, options)
    return time.perf_counter() - started, len(plan.groups)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--files", type=int, default=20_000)
    ap.add_argument("--jobs", type=int, default=2, help="local workers, and N of local[N]")
    ap.add_argument("--runs", type=int, default=2, help="Spark runs per input kind (the first warms the workers)")
    ap.add_argument("--similar", action="store_true", help="also measure --similar (hashes, then the whole pass)")
    ap.add_argument("--work", default=None, help="working folder (default: a new temporary one, removed after)")
    args = ap.parse_args()
    work = Path(args.work or tempfile.mkdtemp(prefix="aigc-bench-spark-"))
    folder = work / "files"
    try:
        make_folder(folder, 0, args.files, templates())
        paths = sorted(str(p) for p in folder.rglob("*") if p.is_file())
        print(f"made {len(paths):,} files under {folder}")

        per_file = core_cost(paths)
        print(f"core alone (check_arrow_batch, 1 process): {per_file * 1e3:.3f} ms/file, {1 / per_file:,.0f} files/s")

        local_s, peak, _ = run_measured(scan_cmd(folder, work / "local-out", args.jobs) + ["--no-html"])
        local_rate = args.files / local_s
        print(
            f"local scan --jobs {args.jobs} --no-html: {local_s:.2f} s, {local_rate:,.0f} files/s, "
            f"peak RSS {peak / 1024:.0f} MiB"
        )

        started = time.perf_counter()
        spark = local_session(f"local[{args.jobs}]", "aigc-check-bench", {"spark.driver.memory": "1g"})
        spark.sparkContext.setLogLevel("ERROR")
        print(f"Spark session start: {time.perf_counter() - started:.1f} s")
        keys = spark.createDataFrame([(p,) for p in paths], "uri string").cache()
        keys.count()
        best = {}
        for kind, source in (("prefix", str(folder)), ("key table", keys)):
            for run in range(1, args.runs + 1):
                elapsed, rows = timed_spark_job(spark, source, work / "spark-out")
                best[kind] = min(best.get(kind, elapsed), elapsed)
                print(
                    f"Spark local[{args.jobs}] {kind} -> Parquet, run {run}: {elapsed:.2f} s, "
                    f"{args.files / elapsed:,.0f} files/s ({rows:,} rows)"
                )
        if args.similar:
            plain = best["key table"]
            for run in range(1, args.runs + 1):
                started = time.perf_counter()
                write_results(
                    scan(spark, keys, options=CheckOptions(similar=True)), out=str(work / "hashed"), mode="overwrite"
                )
                hashed = time.perf_counter() - started
                whole, clusters = timed_similar_pass(spark, keys, work / "similar-out")
                print(
                    f"Spark key table --similar, run {run}: hashes {hashed:.2f} s ({hashed / plain:.2f}x the plain "
                    f"run), whole pass {whole:.2f} s ({whole / plain:.2f}x; {clusters:,} clusters)"
                )
        spark.stop()

        spark_rate = args.files / best["prefix"]
        print(f"ratio local / Spark (prefix, best run): {local_rate / spark_rate:.2f}x")
        spark_core_ms = best["key table"] * args.jobs / args.files * 1e3
        print(f"Spark key table, best run: {spark_core_ms:.3f} core-ms/file including the engine")
        for label, ms in (("core alone", per_file * 1e3), ("Spark, engine included", spark_core_ms)):
            core_hours = 1e9 * ms / 1e3 / 3600
            print(
                f"per 10^9 objects ({label}, CPU only, no storage latency): {core_hours:,.0f} core-hours "
                f"= {core_hours / 100:,.1f} h on 100 cores"
            )
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
