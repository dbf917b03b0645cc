"""``aigc-check`` on Apache Spark: the scan over tables of object keys (the ``spark`` extra:
``pip install '.[spark]'`` in a checkout).

From PySpark::

    from aigc_check.spark import scan, write_results
    results = scan(spark, "ods.media_posts")          # or a DataFrame, or "s3a://bucket/uploads/"
    write_results(results, table="audit.aigc_results")

Modules: ``schema`` (the result columns, in one place), ``arrow`` (the
engine-free ``check_arrow_batch`` over ``check_batch``), ``job`` (``scan``,
writing, the CLI runner), ``config`` (its input columns and configuration).
Importing this package does not import pyspark, nor any of these modules until
one of its names is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .arrow import INPUT_COLUMNS, check_arrow_batch
    from .config import InputColumns
    from .job import SparkUnavailableError, list_prefix, local_session, read_results, scan, write_results
    from .schema import COLUMNS, RESULT_DDL, arrow_schema, result_to_row, row_to_result

# Each name's module, imported when the name is first asked for (PEP 562): the command line imports
# ``spark.config`` at every start, and that must not import the job and the schema with it.
_HOMES = {
    "INPUT_COLUMNS": "arrow",
    "check_arrow_batch": "arrow",
    "InputColumns": "config",
    "SparkUnavailableError": "job",
    "list_prefix": "job",
    "local_session": "job",
    "read_results": "job",
    "scan": "job",
    "write_results": "job",
    "COLUMNS": "schema",
    "RESULT_DDL": "schema",
    "arrow_schema": "schema",
    "result_to_row": "schema",
    "row_to_result": "schema",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{home}", __name__), name)


__all__ = [
    "COLUMNS",
    "INPUT_COLUMNS",
    "RESULT_DDL",
    "InputColumns",
    "SparkUnavailableError",
    "arrow_schema",
    "check_arrow_batch",
    "list_prefix",
    "local_session",
    "read_results",
    "result_to_row",
    "row_to_result",
    "scan",
    "write_results",
]
