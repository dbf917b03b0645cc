"""The result table's schema, in one place, and the mapping between a result dict and a row.

One row per input file.  The columns are the JSON contract's keys
(``CheckResult.to_dict()``, ``aigc-check/1``) in the same order, plus
``account``, ``post_id``, ``skipped``, ``error`` and ``tool_version``, all
derived from the contract's field table (``aigc_check.contract``).  Lists of
fixed shape (findings, errors, the C2PA summary) are typed structs, so
``array_contains(findings.code, 'c2pa-hash-mismatch')`` works in SQL; the
evidence list, whose entries carry free-form values, is a JSON string.
``result_to_row`` and ``row_to_result`` are exact inverses for every checked
file, which the tests assert against ``aigc-check check``.

Needs pyarrow only (no Spark), so the row mapping is tested without a JVM.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .. import __version__, contract
from ..model import path_fields

if TYPE_CHECKING:
    import pyarrow as pa

ROW_SCHEMA_VERSION = "aigc-check-row/1"  # bumped only by adding columns

# Errors that mean the file's content was never judged: the object could not be fetched, the row's
# declaration was invalid, or the checker failed.  Such rows carry the message in ``error`` too.
PIPELINE_ERROR_CODES = ("io-error", "not-found", "is-a-folder", "invalid-declared", "internal-error")


@dataclass(frozen=True)
class Column:
    name: str
    spark_type: str  # Spark SQL DDL; the Arrow type is derived from it
    meaning: str


# Derived from the contract's one field table (``aigc_check.contract``): never listed here.
COLUMNS: tuple[Column, ...] = tuple(Column(f.name, f.spark_type, f.meaning) for f in contract.spark_fields())
COLUMN_NAMES = tuple(c.name for c in COLUMNS)
RESULT_DDL = ", ".join(f"`{c.name}` {c.spark_type}" for c in COLUMNS)
# The JSON keys every row of a checked file carries (optional ones, path_b64, are set from the path helper).
_CONTRACT_KEYS = tuple(f.name for f in contract.json_fields() if not f.optional)
# The optional keys a result carries only when they are not null (``--similar``'s), null columns otherwise.
_OPTIONAL_KEYS = tuple(f.name for f in contract.json_fields() if f.optional and f.name != "path_b64")


def readme_table() -> str:
    """The README's table of the result rows, in Markdown."""
    lines = ["| column | type | meaning |", "| --- | --- | --- |"]
    lines += [f"| `{c.name}` | `{c.spark_type}` | {c.meaning} |" for c in COLUMNS]
    return "\n".join(lines) + "\n"


def arrow_schema() -> pa.Schema:
    """The Arrow schema matching ``RESULT_DDL`` type for type (``mapInArrow`` needs exact types)."""
    import pyarrow as pa

    return pa.schema([pa.field(c.name, _arrow_type(c.spark_type)) for c in COLUMNS])


def _arrow_type(ddl: str) -> pa.DataType:
    import pyarrow as pa

    ddl = ddl.strip()
    simple = {"string": pa.string(), "bigint": pa.int64(), "double": pa.float64(), "boolean": pa.bool_()}
    if ddl in simple:
        return simple[ddl]
    inner = ddl[ddl.index("<") + 1 : -1]
    if ddl.startswith("array<"):
        return pa.list_(_arrow_type(inner))
    if ddl.startswith("map<"):
        key, value = _split_top(inner)
        return pa.map_(_arrow_type(key), _arrow_type(value))
    if ddl.startswith("struct<"):
        fields = []
        for spec in _split_top(inner):
            name, type_ddl = spec.split(":", 1)
            fields.append(pa.field(name, _arrow_type(type_ddl)))
        return pa.struct(fields)
    raise ValueError(f"no Arrow type for {ddl!r}")


def _split_top(text: str) -> list[str]:
    """Split on the commas that are not inside <...>."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += ch == "<"
        depth -= ch == ">"
        if ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def pipeline_error(result: dict) -> str | None:
    for e in result.get("errors") or []:
        if e["code"] in PIPELINE_ERROR_CODES:
            return f"{e['code']}: {e['message']}"
    return None


def result_to_row(result: dict) -> dict:
    """A ``check_batch`` output dict (a result or a skip record) as a row of ``COLUMNS``."""
    row = dict.fromkeys(COLUMN_NAMES)
    # A result already has its path fields; a skip record still carries the raw name.
    paths = path_fields(result["path"]) if "path_b64" not in result else result
    row.update(
        path=paths["path"],
        path_b64=paths.get("path_b64"),
        account=result.get("account"),
        post_id=result.get("post_id"),
        tool_version=__version__,
    )
    if "skipped" in result:
        row["skipped"] = result["skipped"]
        return row
    for key in _CONTRACT_KEYS:
        row[key] = result[key]
    for key in _OPTIONAL_KEYS:
        row[key] = result.get(key)
    row["evidence"] = json.dumps(result["evidence"], ensure_ascii=False, separators=(",", ":"))
    row["label_text"] = None if result["label_text"] is None else list(result["label_text"].items())
    row["error"] = pipeline_error(result)
    return row


def row_to_result(row: dict) -> dict:
    """A result row (from Arrow ``to_pylist`` or Spark ``Row.asDict(recursive=True)``) back as the
    JSON contract's dict plus ``account`` and ``post_id``; a skipped row as its skip record."""
    extra = {"account": row.get("account"), "post_id": row.get("post_id")}
    if row.get("path_b64"):
        extra["path_b64"] = row["path_b64"]
    if row.get("skipped"):
        return {"path": row["path"], "skipped": row["skipped"], **extra}
    result = {key: row[key] for key in _CONTRACT_KEYS}
    result["evidence"] = json.loads(row["evidence"])
    for key in _OPTIONAL_KEYS:
        if row.get(key) is not None:
            result[key] = row[key]
    label_text = row["label_text"]
    result["label_text"] = dict(label_text) if label_text is not None else None  # Arrow gives [(k, v)], Spark a dict
    return {**result, **extra}
