"""``scan --engine spark --similar``: each row's ``cluster``, label inheritance and the account signals,
by the local scan's own steps (``similar/audit.py``, ``similar/inherit.py``, ``scan/account_signals.py``),
so the two scans give the same rows, ``clusters.jsonl`` and accounts on the same files.

Why the rows are written once, after this pass, rather than written and then rewritten: a row's
``cluster`` and inherited verdict depend on every hash, so no row is final before the links are
known, and rewriting a written table costs a second full write and read for the few rows that
change.  ``job.py`` persists the checked rows (on the executors' disks: each object is read once;
an executor lost recomputes only its partitions) and this pass reads them three times:

1. the links, from ``spark/clusters.py``'s banding self-join over ``path`` and ``similarity``;
2. the facts of the clustered files only (a join with the few clustered paths), from which the
   driver makes the clusters, their ids and the inheritances with the local code (``assign_clusters``,
   ``inheritances``) and writes ``clusters.jsonl`` (``write_clusters_jsonl``);
3. the final rows: a left join with a small DataFrame (path -> cluster, original) and, per Arrow
   batch, the local ``inherit_dict`` on the rows that inherit (batches with nothing to add pass as
   they are).

Account signals: the final rows with an account are partitioned by account; each task feeds its
accounts' rows to the local ``Tally`` and ``SignalCollector`` (the clusters' account counts come
from the driver, where the clusters are) and yields one row per account with its counts, measures,
grades and reasons.  The driver holds the links, the clustered files' facts and one row per account:
nothing per row of the table.

Rows are keyed by ``path``: an input naming one path twice gives both rows the same cluster and
inheritance (the local scan never sees a path twice).
"""

from __future__ import annotations

import json
import os
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..checker import CheckOptions
from ..model import Status
from ..policy import Policy
from ..policy_accounts import validate_accounts
from ..scan.account_signals import SIGNAL_COLUMNS, SignalCollector, rank_accounts
from ..scan.accounts import ACCOUNT_COLUMNS, RepeatOffenderRules, account_rows
from ..scan.batch import checker_for
from ..scan.declarations import parse_posted_at
from ..scan.outputs import Tally, csv_cell, csv_lines, digest
from ..similar.audit import AuditOutcome, FileFacts, assign_clusters, file_facts, inheritances, similarity_of
from ..similar.audit import write_clusters_jsonl as write_local_clusters
from ..similar.cluster import Link
from ..similar.inherit import Original, inherit_dict
from ..similar.known import reliable_hashes
from .schema import COLUMN_NAMES, RESULT_DDL, arrow_schema, result_to_row, row_to_result

if TYPE_CHECKING:  # the spark extra: imported where it is used
    import pyarrow as pa
    from pyspark.sql import DataFrame

# The columns the join adds to each row (null for a file in no cluster); ``apply_additions`` drops them.
ADDED = ("_cluster", "_original", "_original_status", "_original_generator", "_original_distance")
ADDITIONS_DDL = (
    "_path string, _cluster string, _original string, _original_status string, _original_generator string, "
    "_original_distance int"
)
# The facts a clustered file's row gives (``file_facts`` reads them from the row as a result dict).
FACT_COLUMNS = ("path", "account", "post_id", "status", "certainty", "generator", "verdict", "evidence")
# The contract's JSON keys: the columns an inheritance may change (never the Spark-only ones).
_RESULT_KEYS = frozenset(COLUMN_NAMES) - {"account", "post_id", "skipped", "error", "tool_version", "posted_at"}


@dataclass
class SparkSimilarOutcome:
    """What the pass found: the local scan's ``AuditOutcome`` counts, the ranked account rows (with
    signals), and the posting times that could not be read."""

    outcome: AuditOutcome
    accounts: list[dict] = field(default_factory=list)
    invalid_times: int = 0
    invalid_time_example: str | None = None

    def summary(self, clusters_jsonl: str | None) -> dict:
        return {
            **self.outcome.summary(),
            "clusters_jsonl": clusters_jsonl,
            "posted_at_invalid": self.invalid_times,
            "posted_at_invalid_example": self.invalid_time_example,
        }


@dataclass(frozen=True)
class ClusterPlan:
    """The driver's result of steps 1 and 2: per clustered path, its cluster and its original."""

    facts: list[FileFacts]
    groups: list[list[int]]
    cluster_of: dict[int, str]
    originals: dict[int, Original]
    found: list[Link]

    def additions(self) -> list[tuple]:
        rows = []
        for number, f in enumerate(self.facts):
            o = self.originals.get(number)
            rows.append(
                (
                    f.path,
                    self.cluster_of[number],
                    o.path if o else None,
                    o.status.value if o else None,
                    o.generator if o else None,
                    o.distance if o else None,
                )
            )
        return rows

    def write_jsonl(self, path: str) -> None:
        """The local scan's ``clusters.jsonl`` (``write_clusters_jsonl``), whole, at the local ``path``."""
        write_local_clusters(path, self.groups, self.facts, self.cluster_of, self.originals, self.found)

    def cluster_accounts(self) -> dict[str, Counter[str]]:
        """Cluster id -> how many of its members each account posted (``SignalCollector.cluster_members``)."""
        out: dict[str, Counter[str]] = defaultdict(Counter)
        for number, cid in self.cluster_of.items():
            account = self.facts[number].account
            if account is not None:
                out[cid][account] += 1
        return out


def plan_clusters(results: DataFrame, policy: Policy) -> ClusterPlan:
    """Steps 1 and 2: the links on Spark, the clusters and inheritances on the driver."""
    from pyspark.sql import functions as F

    from .clusters import near_duplicate_links

    links = near_duplicate_links(results)
    paths = sorted({p for a, b, _ in links for p in (a, b)})
    if not paths:
        return ClusterPlan([], [], {}, {}, [])
    spark = results.sparkSession
    wanted = spark.createDataFrame([(p,) for p in paths], "path string")
    facts_by_path: dict[str, FileFacts] = {}
    rows = results.where(F.col("skipped").isNull()).join(wanted, "path").select(*FACT_COLUMNS).collect()
    for row in sorted(rows, key=lambda r: (r["path"], r["post_id"] or "")):
        r = row.asDict()
        r["evidence"] = json.loads(r["evidence"] or "[]")
        facts_by_path.setdefault(r["path"], file_facts(r, policy.ai_statuses))
    facts = [facts_by_path[p] for p in paths]
    number = {p: i for i, p in enumerate(paths)}
    found = [Link(number[a], number[b], d) for a, b, d in links]
    groups, cluster_of, _ = assign_clusters(facts, found)
    return ClusterPlan(facts, groups, cluster_of, inheritances(facts, found), found)


def apply_additions(batch: pa.RecordBatch, options: CheckOptions) -> pa.RecordBatch:
    """Step 3 on one Arrow batch of result rows plus ``ADDED``: the ``cluster`` of each clustered
    row and, for a copy of confirmed AI, the local ``inherit_dict``; a batch of ``arrow_schema()``."""
    import pyarrow as pa

    schema = arrow_schema()
    clusters = batch.column("_cluster")
    plain = pa.RecordBatch.from_arrays([batch.column(n) for n in COLUMN_NAMES], schema=schema)
    if clusters.null_count == batch.num_rows:
        return plain  # nothing to add: most batches
    policy = checker_for(options).policy
    rows = plain.to_pylist()
    added = {n: batch.column(n).to_pylist() for n in ADDED}
    for i, row in enumerate(rows):
        if added["_cluster"][i] is None or row.get("skipped"):
            continue
        row["cluster"] = added["_cluster"][i]
        if added["_original"][i] is None:
            continue
        result = row_to_result(row)
        original = Original(
            added["_original"][i],
            Status(added["_original_status"][i]),
            added["_original_generator"][i],
            int(added["_original_distance"][i]),
        )
        inherit_dict(result, policy, original)
        updated = result_to_row(result)
        row.update({k: updated[k] for k in _RESULT_KEYS})
    return pa.RecordBatch.from_pylist(rows, schema=schema)


def with_additions(results: DataFrame, plan: ClusterPlan, options: CheckOptions) -> DataFrame:
    """Step 3 as a lazy DataFrame of ``RESULT_DDL``: the rows to write."""
    from pyspark.sql import functions as F

    # Few rows, from a local list: Spark knows its size and broadcasts it (no shuffle of the results)
    # while it is below spark.sql.autoBroadcastJoinThreshold, and shuffles both sides past that.
    small = results.sparkSession.createDataFrame(plan.additions(), ADDITIONS_DDL)
    joined = results.join(small, F.col("path") == F.col("_path"), "left").drop("_path")

    def apply(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            yield apply_additions(batch, options)

    return joined.mapInArrow(apply, RESULT_DDL)


def account_batch_rows(
    batches: Iterable[pa.RecordBatch], options: CheckOptions, cluster_members: dict[str, Counter[str]]
) -> Iterator[dict]:
    """One partition's accounts (every row of an account is in one partition): their accounts.csv
    rows with the signals, each with ``_invalid_times`` and ``_invalid_example`` for the driver."""
    policy = checker_for(options).policy
    tally = Tally(ai_statuses=policy.ai_statuses)
    signals = SignalCollector(
        validate_accounts(policy.data, policy.id, list(policy.languages)), policy.data["ai_statuses"]
    )
    times: list[tuple[str, str]] = []
    invalid: Counter[str] = Counter()
    example: dict[str, str] = {}
    for batch in batches:
        for row in batch.to_pylist():
            result = row_to_result(row)
            tally.add(digest(result))
            signals.add(result)
            try:
                posted_at = parse_posted_at(row.get("posted_at"))
            except ValueError:
                invalid[result["account"]] += 1
                example.setdefault(result["account"], f"{row['path']}: {row['posted_at']!r}")
                continue
            if posted_at is not None:
                times.append((result["account"], posted_at))
    signals.add_times(times)
    # The clusters' members across every partition, not only this one's.
    signals.cluster_members = defaultdict(Counter, cluster_members)
    language = policy.advice_language
    for row in account_rows(tally.accounts, RepeatOffenderRules.from_policy(policy)):
        row.update(signals.row(row["account"], row["action"], language))
        row["_invalid_times"] = invalid[row["account"]]
        row["_invalid_example"] = example.get(row["account"])
        yield row


def account_signals(
    final: DataFrame, options: CheckOptions, cluster_members: dict[str, Counter[str]]
) -> tuple[list[dict], int, str | None]:
    """The ranked accounts.csv rows of the final rows, the unreadable posting times and an example."""
    import pyarrow as pa
    from pyspark.sql import functions as F

    def per_partition(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        lines = [json.dumps(r, ensure_ascii=False) for r in account_batch_rows(batches, options, cluster_members)]
        yield pa.RecordBatch.from_pydict({"account_row": lines}, schema=pa.schema([("account_row", pa.string())]))

    with_account = final.where(F.col("skipped").isNull() & F.col("account").isNotNull())
    spark = final.sparkSession
    partitions = int(spark.conf.get("spark.sql.shuffle.partitions") or "200")
    by_account = with_account.repartition(partitions, "account").mapInArrow(per_partition, "account_row string")
    rows = [json.loads(r["account_row"]) for r in by_account.collect()]
    invalid = sum(r.pop("_invalid_times") for r in rows)
    examples = sorted(e for r in rows if (e := r.pop("_invalid_example")))
    rank_accounts(rows, checker_for(options).policy.data["measure_order"])
    return rows, invalid, examples[0] if examples else None


def hash_counts(results: DataFrame) -> tuple[int, int, int, int]:
    """(files, hashed, unreliable, hash errors) over the rows, as ``run_audit`` counts them."""
    import pyarrow as pa

    def per_partition(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        files = hashed = unreliable = errors = 0
        for batch in batches:
            skipped = batch.column("skipped").to_pylist()
            for sim_raw, skip in zip(batch.column("similarity").to_pylist(), skipped):
                if skip is not None:
                    continue
                files += 1
                sim = similarity_of({"similarity": sim_raw})
                if sim is None:
                    continue
                if sim.error:
                    errors += 1
                elif reliable_hashes(sim):
                    hashed += 1
                else:
                    unreliable += 1
        yield pa.RecordBatch.from_pydict(
            {"files": [files], "hashed": [hashed], "unreliable": [unreliable], "errors": [errors]}
        )

    counts = results.select("skipped", "similarity").mapInArrow(
        per_partition, "files bigint, hashed bigint, unreliable bigint, errors bigint"
    )
    total = [0, 0, 0, 0]
    for row in counts.collect():
        for k, name in enumerate(("files", "hashed", "unreliable", "errors")):
            total[k] += row[name]
    return total[0], total[1], total[2], total[3]


def write_accounts_csv(path: str, rows: list[dict]) -> None:
    """accounts.csv with the local scan's columns (with ``--similar``), whole (a temporary file, renamed)."""
    columns = [*ACCOUNT_COLUMNS, *SIGNAL_COLUMNS]
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8", errors="surrogateescape", newline="") as f:
        f.write(csv_lines([columns] + [[csv_cell(r[c]) for c in columns] for r in rows]))
    os.replace(tmp, path)


def similar_pass(checked: DataFrame, options: CheckOptions) -> tuple[DataFrame, ClusterPlan]:
    """Steps 1 to 3 over the checked rows (persist them first): the rows to write, and the plan
    (``plan.write_jsonl(path)`` writes ``clusters.jsonl``; write it once the rows are written)."""
    plan = plan_clusters(checked, checker_for(options).policy)
    return with_additions(checked, plan, options), plan


def outcome_of(final: DataFrame, plan: ClusterPlan, options: CheckOptions) -> SparkSimilarOutcome:
    """The counts and account rows of the written rows (``final`` read back)."""
    files, hashed, unreliable, errors = hash_counts(final)
    outcome = AuditOutcome(
        files=files,
        hashed=hashed,
        unreliable=unreliable,
        hash_errors=errors,
        clusters=len(plan.groups),
        clustered_files=len(plan.cluster_of),
        inherited=len(plan.originals),
        cluster_accounts={cid: set(c) for cid, c in plan.cluster_accounts().items()},
    )
    accounts, invalid, example = account_signals(final, options, plan.cluster_accounts())
    return SparkSimilarOutcome(outcome, accounts, invalid, example)
