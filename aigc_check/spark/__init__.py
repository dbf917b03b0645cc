"""``aigc-check`` on Apache Spark: the scan over tables of object keys (the ``spark`` extra:
``pip install '.[spark]'`` in a checkout).

From PySpark::

    from aigc_check.spark import scan, write_results
    results = scan(spark, "ods.media_posts")          # or a DataFrame, or "s3a://bucket/uploads/"
    write_results(results, table="audit.aigc_results")

Modules: ``schema`` (the result columns, in one place), ``arrow`` (the
engine-free ``check_arrow_batch`` over ``check_batch``), ``job`` (``scan``,
writing, the CLI runner).  Importing this package does not import pyspark.
"""

from .arrow import INPUT_COLUMNS, check_arrow_batch
from .job import InputColumns, SparkUnavailableError, list_prefix, local_session, read_results, scan, write_results
from .schema import COLUMNS, RESULT_DDL, arrow_schema, result_to_row, row_to_result

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
