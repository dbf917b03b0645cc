"""The scan on Apache Spark: rows of object URIs -> ``mapInArrow(check_arrow_batch)`` -> a result table.

Input is a key table (an inventory or the platform's media table), a
DataFrame, or, for small jobs, a path prefix that Spark lists with the
``binaryFile`` source with ``content`` left out, so no file is read by Spark
itself.  Each Python worker makes its ``Checker`` (and the C2PA context, keyed
by process id) on its first batch, after the PySpark daemon forked it, and
keeps it for every later batch and task (``spark.python.worker.reuse``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from types import ModuleType
from typing import TYPE_CHECKING

from ..checker import Checker, CheckOptions
from ..errors import UsageError
from ..model import Declared, Verdict
from ..scan.objects import ObjectReader, local_path
from .arrow import check_arrow_batch
from .config import InputColumns, SparkScanConfig
from .schema import RESULT_DDL, arrow_schema

if TYPE_CHECKING:  # the spark extra: imported where it is used, never by importing this module
    import pyarrow as pa
    from pyspark.sql import Column, DataFrame, SparkSession

    from ..scan.outputs import Tally
    from ..scan.runner import ScanSummary

# The package is on no registry yet: install the extra from a checkout or from a built wheel.
INSTALL_HINT = (
    "in an aigc-check checkout: pip install '.[spark]' "
    "(or from a built wheel: pip install 'aigc_check-VERSION-py3-none-any.whl[spark]')"
)
# Spark's default of 4 MiB per opened file packs ~32 small objects into one listing task
# (20,000 files -> 625 tasks, 16-19 s); 64 KiB makes it 18 tasks and 1.5 s (research, distributed.md).
SMALL_FILES_OPEN_COST = str(64 * 1024)
DEFAULT_OPEN_COST = {"4194304", "4194304b", "4MB", "4m"}


class SparkUnavailableError(UsageError):
    """pyspark (or pyarrow) is not installed: the spark extra is needed."""


def require_pyspark() -> ModuleType:
    try:
        import pyarrow  # noqa: F401  (mapInArrow moves Arrow batches)
        import pyspark
    except ImportError as exc:
        raise SparkUnavailableError(f"the Spark engine needs pyspark and pyarrow ({exc}): {INSTALL_HINT}") from exc
    return pyspark


def is_prefix(source: str) -> bool:
    """A path or URI (to list) rather than a table name: table names never hold '/' or ':'."""
    return "/" in source or ":" in source or source.startswith(".")


def list_prefix(spark: SparkSession, prefix: str) -> DataFrame:
    """Every file below ``prefix`` as ``uri`` rows; Spark lists them and reads no content.

    Sets ``spark.sql.files.openCostInBytes`` to 64 KiB on the session unless it was changed from
    Spark's default: the setting is read when the job runs, so it cannot be scoped to this call.
    """
    if spark.conf.get("spark.sql.files.openCostInBytes", "4194304") in DEFAULT_OPEN_COST:
        spark.conf.set("spark.sql.files.openCostInBytes", SMALL_FILES_OPEN_COST)
    return spark.read.format("binaryFile").option("recursiveFileLookup", "true").load(prefix).selectExpr("path AS uri")


def scan(
    spark: SparkSession,
    source: DataFrame | str,
    *,
    columns: InputColumns | None = None,
    declared: Declared | str = Declared.NONE,
    options: CheckOptions | None = None,
    objects: ObjectReader | None = None,
    partitions: int | None = None,
) -> DataFrame:
    """Check every object ``source`` names; a lazy DataFrame of ``schema.COLUMNS``, one row per input row.

    ``source``: a DataFrame, a table name (``ods.media_posts``), or a path prefix
    (``s3a://bucket/uploads/2026-11/``, ``/data/uploads``; anything with ``/`` or ``:``).
    Rows of a table or DataFrame are always judged; files listed under a prefix that are not
    media are kept as ``skipped`` rows, as the local scan counts them.  Optional input columns
    that are missing are null; a null or empty declaration means ``declared``.  ``partitions``: repartition
    the input first (a key table of few, large files otherwise gives few tasks).
    """
    require_pyspark()
    from pyspark.sql import DataFrame
    from pyspark.sql import functions as F

    columns, objects = columns or InputColumns(), objects or ObjectReader()
    options, declared = options or CheckOptions(), Declared.parse(declared)
    Checker(options)  # a bad policy, trust or fingerprint file fails here, on the driver, not in every task
    sniff = False
    if isinstance(source, DataFrame):
        frame = source
    elif isinstance(source, str) and is_prefix(source):
        frame, columns, sniff = list_prefix(spark, source), InputColumns(uri="uri"), True
    elif isinstance(source, str):
        frame = spark.table(source)
    else:
        raise UsageError(f"scan() takes a DataFrame, a table name or a path prefix, not {type(source).__name__}")
    present = set(frame.columns)
    if columns.uri not in present:
        raise UsageError(f"the input has no URI column {columns.uri!r}; its columns are {sorted(present)}")

    def text(name: str | None) -> Column:
        return F.col(name).cast("string") if name and name in present else F.lit(None).cast("string")

    inputs = frame.select(
        text(columns.uri).alias("path"),
        text(columns.declared).alias("declared"),  # parsed in the task, null or empty meaning ``declared``
        text(columns.account).alias("account"),
        text(columns.post_id).alias("post_id"),
        text(columns.posted_at).alias("posted_at"),  # a timestamp column reads as its session-time text
    )
    if partitions:
        inputs = inputs.repartition(partitions)

    def check_partition(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        # Runs in a (reused) Python worker; check_batch keeps one Checker per process.
        for batch in batches:
            yield check_arrow_batch(batch, options, objects, sniff, declared)

    return inputs.mapInArrow(check_partition, RESULT_DDL)


def write_results(
    results: DataFrame,
    *,
    table: str | None = None,
    out: str | None = None,
    fmt: str = "parquet",
    mode: str = "errorifexists",
) -> None:
    """Write to a catalog table (Hive, Iceberg: ``saveAsTable``) or a folder (Parquet, or JSON lines)."""
    if (table is None) == (out is None):
        raise UsageError("write the results to exactly one of a table or a folder")
    writer = results.write.mode(mode)
    if table is not None:
        writer.saveAsTable(table)
        return
    assert out is not None  # exactly one of table and out, checked above
    if fmt == "parquet":
        writer.parquet(out)
    elif fmt == "json":
        writer.option("ignoreNullFields", "false").json(out)
    else:
        raise UsageError(f"output format must be parquet or json, not {fmt!r}")


def read_results(
    spark: SparkSession, *, table: str | None = None, out: str | None = None, fmt: str = "parquet"
) -> DataFrame:
    if table is not None:
        return spark.table(table)
    if out is None:
        raise UsageError("read the results from a table or a folder: give table or out")
    if fmt == "json":
        return spark.read.schema(RESULT_DDL).json(out)
    return spark.read.parquet(out)


def local_session(master: str, app_name: str = "aigc-check", conf: dict[str, str] | None = None) -> SparkSession:
    """A session for ``--master local[N]`` runs and tests: workers run this interpreter."""
    require_pyspark()
    from pyspark.sql import SparkSession

    # Workers otherwise start the system python3, which lacks this package (research, distributed.md).
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    settings = {
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.shuffle.partitions": "8",
        "spark.sql.files.openCostInBytes": SMALL_FILES_OPEN_COST,
        **(conf or {}),
    }
    builder = SparkSession.builder.master(master).appName(app_name)
    for key, value in settings.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def _refuse_to_overwrite(spark: SparkSession, config: SparkScanConfig) -> None:
    """As the local scan: earlier results are replaced only when asked (--overwrite)."""
    if config.overwrite:
        return
    if config.output_table and spark.catalog.tableExists(config.output_table):
        raise UsageError(f"table {config.output_table} exists: replace it with --overwrite")
    path = local_path(config.out_dir) if config.out_dir else None
    if path and os.path.exists(path):
        raise UsageError(f"{path} exists: replace it with --overwrite")


def run_spark_scan(config: SparkScanConfig) -> ScanSummary:
    """The CLI's Spark scan; returns a ``ScanSummary`` (verdict counts) so exit codes match the local scan."""
    from ..scan.runner import ScanSummary

    if (config.prefix is None) == (config.input_table is None):
        raise UsageError("with --engine spark, give either a path prefix or --input-table")
    if (config.output_table is None) == (config.out_dir is None):
        raise UsageError("with --engine spark, give either --out or --output-table")
    source, where = config.input_table or config.prefix, config.output_table or config.out_dir
    if not source:  # an empty --input-table or prefix
        raise UsageError("with --engine spark, give either a path prefix or --input-table")
    if not where:  # an empty --output-table or --out
        raise UsageError("with --engine spark, give either --out or --output-table")
    require_pyspark()
    from pyspark.sql import SparkSession

    if config.master:
        spark = (
            local_session(config.master)
            if config.master.startswith("local")
            else SparkSession.builder.master(config.master).appName("aigc-check").getOrCreate()
        )
    else:  # under spark-submit: the master and the settings come from there
        spark = SparkSession.builder.appName("aigc-check").getOrCreate()
    _refuse_to_overwrite(spark, config)
    prefix_path = local_path(config.prefix) if config.prefix else None
    if prefix_path is not None:
        source = os.path.abspath(prefix_path)
    results = scan(
        spark,
        source,
        columns=config.columns,
        declared=config.declared,
        options=config.options,
        objects=ObjectReader(io_threads=config.io_threads),
        partitions=config.partitions,
    )
    table, out, fmt = config.output_table, config.out_dir, config.output_format
    mode = "overwrite" if config.overwrite else "errorifexists"
    if not config.options.similar:
        write_results(results, table=table, out=out, fmt=fmt, mode=mode)
        tally = _tally(read_results(spark, table=table, out=out, fmt=fmt))
        extra: dict = {}
    else:
        tally, extra = _similar_scan(results, config)
    print(
        f"done: {tally.checked:,} files checked, {sum(tally.skipped.values()):,} skipped, "
        f"{tally.violations:,} violations, {tally.verdicts[Verdict.UNREADABLE]:,} unreadable; results in {where}",
        file=sys.stderr,
    )
    return ScanSummary(tally=tally, interrupted=False, out_dir=where, data={"verdicts": dict(tally.verdicts), **extra})


def _tally(written: DataFrame) -> Tally:
    """The verdict and skip counts of the written rows (the exit code is the local scan's)."""
    from pyspark.sql import functions as F

    from ..scan.outputs import Tally

    counts = {
        row["key"]: row["count"]
        for row in written.select(
            F.coalesce(F.col("verdict"), F.concat(F.lit("skipped:"), F.col("skipped"))).alias("key")
        )
        .groupBy("key")
        .count()
        .collect()
    }
    tally = Tally()
    for key, n in counts.items():
        if key.startswith("skipped:"):
            tally.skipped[key.split(":", 1)[1]] += n
        else:
            tally.verdicts[key] += n
            tally.checked += n
    return tally


def side_files_base(config: SparkScanConfig) -> str:
    """Where ``--similar``'s files go: beside a local output folder (inside it, Spark would read them
    as data); for a table or a remote folder, in the working directory, named after it."""
    out = local_path(config.out_dir) if config.out_dir else None
    if out is not None:
        return out.rstrip("/")
    name = config.output_table or (config.out_dir or "results").rstrip("/").rsplit("/", 1)[-1]
    return os.path.join(os.getcwd(), name)


def _similar_scan(results: DataFrame, config: SparkScanConfig) -> tuple[Tally, dict]:
    """``--similar``: the checked rows persisted, the similar pass (``spark/similar.py``), the rows
    written once with their clusters and inheritances, then the account signals of what was written."""
    from pyspark import StorageLevel

    from ..scan.outputs import write_json_atomic
    from .similar import outcome_of, similar_pass, write_accounts_csv

    spark = results.sparkSession
    table, out, fmt = config.output_table, config.out_dir, config.output_format
    base = side_files_base(config)
    clusters_path, accounts_path, summary_path = (
        base + s for s in (".clusters.jsonl", ".accounts.csv", ".summary.json")
    )
    checked = results.persist(StorageLevel.DISK_ONLY)  # each object is read once, for every step below
    try:
        final, plan = similar_pass(checked, config.options)
        write_results(final, table=table, out=out, fmt=fmt, mode="overwrite" if config.overwrite else "errorifexists")
    finally:
        checked.unpersist()
    plan.write_jsonl(clusters_path)  # once the rows it describes are written
    written = read_results(spark, table=table, out=out, fmt=fmt)
    tally = _tally(written)
    found = outcome_of(written, plan, config.options)
    if found.accounts:
        write_accounts_csv(accounts_path, found.accounts)
    elif os.path.exists(accounts_path):
        os.remove(accounts_path)  # an earlier run's: no row of this one names an account
    similar = found.summary(clusters_path)
    summary = {
        "schema": "aigc-check-spark-similar/1",
        "results": table or out,
        "files": {"checked": tally.checked, "skipped": dict(tally.skipped)},
        "violations": tally.violations,
        "verdicts": dict(tally.verdicts),
        "accounts": {
            "count": len(found.accounts),
            "top": found.accounts[:100],
            "csv": accounts_path if found.accounts else None,
        },
        "similar": similar,
    }
    write_json_atomic(summary_path, summary)
    print(
        f"near-duplicates: {similar['clusters']:,} clusters in {clusters_path}; summary in {summary_path}",
        file=sys.stderr,
    )
    if found.invalid_times:
        print(
            f"posted_at: {found.invalid_times:,} posting times are not ISO 8601 and were left out of the "
            f"cadence signals (e.g. {found.invalid_time_example})",
            file=sys.stderr,
        )
    return tally, {"accounts": summary["accounts"], "similar": similar}


__all__ = [
    "InputColumns",
    "SparkScanConfig",
    "SparkUnavailableError",
    "arrow_schema",
    "list_prefix",
    "local_session",
    "read_results",
    "run_spark_scan",
    "scan",
    "write_results",
]
