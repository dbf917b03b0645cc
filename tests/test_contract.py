"""The result contract is written once (``aigc_check.contract``): the JSON object, the CSV columns, the
Spark result schema and the README's tables are derived from it, and none of them may drift."""

from __future__ import annotations

import importlib
import json
import re

import pytest
from conftest import FIXTURES, ROOT

from aigc_check import Checker, contract, docs
from aigc_check.model import C2paSummary, Evidence, Finding, ReadError
from aigc_check.scan import outputs

PINNED_ROW_DDL = ROOT / "tests" / "data" / "spark-ddl-row1.txt"


def _ddl_columns(ddl: str) -> list[tuple[str, str]]:
    return re.findall(r"`([a-z_0-9]+)` ([^`]+?)(?:, (?=`)|$)", ddl.strip())


@pytest.fixture(scope="module")
def result(checker: Checker) -> dict:
    return checker.check(str(FIXTURES / "c2pa-ai-created.jpg")).to_dict()


def test_json_keys_are_the_table_in_order(result):
    assert list(result) == [f.name for f in contract.json_fields() if not f.optional]


def test_nested_records_serialise_their_own_fields(result):
    for key, cls in (("findings", Finding), ("evidence", Evidence), ("errors", ReadError)):
        for item in result[key]:
            assert list(item) == list(contract.record_keys(cls))
    assert list(result["c2pa"]) == list(contract.record_keys(C2paSummary))
    assert "fatal" not in contract.record_keys(ReadError)  # decides the verdict, never in the contract


def test_csv_header_and_rows_follow_the_table(result):
    header = list(contract.csv_columns())
    assert header == [f.csv.header or f.name for f in contract.csv_fields()]
    row = outputs.csv_row({**result, "account": "acc-1", "post_id": "p-9"})
    assert len(row) == len(header)
    cells = dict(zip(header, row))
    assert cells["path"] == result["path"] and cells["verdict"] == result["verdict"]
    assert cells["account"] == "acc-1" and cells["post_id"] == "p-9"
    assert cells["measures"] == ";".join(result["measures"])
    assert cells["c2pa_state"] == result["c2pa"]["validation_state"]
    # Every CSV column is a field of the table, and no two share a header.
    assert len(set(header)) == len(header)


def test_spark_schema_only_appends_to_row_schema_1():
    pytest.importorskip("pyarrow")
    from aigc_check.spark.schema import RESULT_DDL, arrow_schema

    pinned = _ddl_columns(PINNED_ROW_DDL.read_text(encoding="utf-8"))
    current = _ddl_columns(RESULT_DDL)
    assert current[: len(pinned)] == pinned, "a column of aigc-check-row/1 was removed, renamed, moved or retyped"
    assert [name for name, _ in current] == [f.name for f in contract.spark_fields()]
    assert arrow_schema().names == [name for name, _ in current]


def test_spark_struct_types_come_from_the_records():
    assert contract.spark_struct(Finding) == "struct<code:string,severity:string,message:string,location:string>"
    assert contract.spark_struct(ReadError) == "struct<code:string,message:string,location:string>"
    assert "failure_codes:array<string>" in contract.spark_struct(C2paSummary)


def test_readme_sections_are_generated_from_the_code():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert docs.sync_readme(readme) == readme, "README is out of date: python -m aigc_check.docs --readme README.md"


def test_readme_without_markers_is_refused():
    with pytest.raises(ValueError, match="markers"):
        docs.sync_readme("# a README without generated sections\n")


def test_one_new_row_reaches_every_output(monkeypatch, checker):
    """Adding a field to the contract is a one-place change: one row in the table."""
    new = contract.ContractField(
        "example_added",
        "string",
        "a field added for this test",
        lambda r: f"{r.format}!",
        contract.CsvColumn(99),
    )
    rows = contract.fields() + (new,)
    contract.clear_caches()
    monkeypatch.setattr(contract, "_rows", lambda: rows)
    try:
        d = checker.check(str(FIXTURES / "plain.webp")).to_dict()
        assert d["example_added"] == "webp!" and list(d)[-1] == "example_added"
        assert contract.csv_columns()[-1] == "example_added"
        assert outputs.csv_row(d)[-1] == "webp!"
        assert "| `example_added` | a field added for this test |" in contract.readme_table()
        if importlib.util.find_spec("pyarrow"):
            from aigc_check.spark import schema

            importlib.reload(schema)
            assert schema.RESULT_DDL.endswith("`example_added` string")
            row = schema.result_to_row(json.loads(json.dumps(d)))
            assert row["example_added"] == "webp!"
            assert schema.row_to_result(row)["example_added"] == "webp!"
    finally:
        monkeypatch.undo()
        contract.clear_caches()
        if importlib.util.find_spec("pyarrow"):
            from aigc_check.spark import schema

            importlib.reload(schema)
