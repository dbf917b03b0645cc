"""The engine-free Arrow batch function: input rows in, result rows out, through the local scan's ``check_batch``.

Spark's ``mapInArrow`` calls ``check_arrow_batch`` on each record batch of a
partition; so can any engine that moves Arrow batches (Ray Data, Daft, a plain
``pyarrow.dataset`` loop).  Input columns are the local scan's item fields
(``INPUT_COLUMNS``: ``path``, ``declared``, ``account``, ``post_id``, ``posted_at``,
all strings, the last four optional), so a row means here exactly what a sidecar
row means to ``aigc-check scan``, and both go through ``ScanItem.coerce`` and
``check_batch``: the two scans cannot drift.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..checker import CheckOptions
from ..model import Declared
from ..scan.batch import check_batch
from ..scan.objects import LOCAL_ONLY, ObjectReader
from .schema import arrow_schema, result_to_row

if TYPE_CHECKING:
    import pyarrow as pa

# ``posted_at`` is not an item field: it is carried through to the row as given, for the account signals.
INPUT_COLUMNS = ("path", "declared", "account", "post_id", "posted_at")

_schema: pa.Schema | None = None


def result_schema() -> pa.Schema:
    global _schema
    if _schema is None:
        _schema = arrow_schema()
    return _schema


def check_arrow_batch(
    batch: pa.RecordBatch,
    options: CheckOptions | None = None,
    objects: ObjectReader = LOCAL_ONLY,
    sniff: bool = False,
    declared: Declared = Declared.NONE,
) -> pa.RecordBatch:
    """One result row per input row, in order, as a ``pyarrow.RecordBatch`` of ``schema.COLUMNS``.

    ``sniff``: skip (as a ``skipped`` row) files whose first bytes are not media, as the local scan
    does for files it finds by walking; rows of a key table are always judged.  Never raises for a
    bad file or row; raises ``ObjectStoreError`` when remote storage cannot be used at all.
    ``declared`` applies to rows whose declaration is null or empty (``Declared.parse``).
    """
    import pyarrow as pa

    names = set(batch.schema.names)
    if "path" not in names:
        raise ValueError(f"the input batch needs a 'path' column; it has {sorted(names)}")
    columns = {
        name: batch.column(name).to_pylist() if name in names else [None] * batch.num_rows for name in INPUT_COLUMNS
    }
    # A null URI is a row to report (io-error on the empty path), not a reason to fail the task.
    columns["path"] = [path or "" for path in columns["path"]]
    items = [{**{name: columns[name][i] for name in INPUT_COLUMNS}, "sniff": sniff} for i in range(batch.num_rows)]
    rows = [result_to_row(r) for r in check_batch(items, options or CheckOptions(), objects, declared)]
    for row, posted_at in zip(rows, columns["posted_at"]):
        row["posted_at"] = posted_at
    return pa.RecordBatch.from_pylist(rows, schema=result_schema())
