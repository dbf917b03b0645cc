"""The result contract, written once: every output is derived from ``FIELDS``.

``check --format json`` (``CheckResult.to_dict``), the ``results.csv`` columns,
the Spark result schema and the README's contract table are all generated
from the one ordered table below, and ``tests/test_contract.py`` fails the
moment any of them drifts.  Records nested in the contract (findings,
evidence, errors, the C2PA summary) serialise from their own dataclass fields,
as cattrs does, so their shape is written once too.

Adding a field to the contract is one row in ``FIELDS`` (and, where the value
is new, the attribute on ``CheckResult`` it reads): the JSON gains the key, the
CSV a column at the end (if the row says how to show it), the Spark schema a
column, and the README tables a row (``python -m aigc_check.docs --readme README.md``).
The JSON contract only ever gains keys (``aigc-check/1``).
"""

from __future__ import annotations

import dataclasses
import sys
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from functools import cache
from operator import attrgetter
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

SCHEMA = "aigc-check/1"


def _joined(separator: str, item: Callable[[Any], str] = str) -> Callable[[Any], str]:
    return lambda values: separator.join(item(v) for v in values or [])


def _c2pa_state(c2pa: dict | None) -> str:
    c2pa = c2pa or {}
    return c2pa.get("validation_state") or ("present" if c2pa.get("present") else "")


@dataclass(frozen=True)
class CsvColumn:
    """How ``results.csv`` shows a field: its place among the columns, its header, and the cell text
    made from the field's JSON value (``None``: the value as it is)."""

    order: int
    render: Callable[[Any], Any] | None = None
    header: str | None = None


@dataclass(frozen=True)
class ContractField:
    """One key of the result.

    ``value`` reads it from a ``CheckResult`` (``None``: not a JSON key but a column of the scan's
    rows, e.g. ``account``); ``spark_type`` is its Spark SQL DDL type; ``meaning`` documents it (the
    README table and the Spark column comments); ``record`` names the dataclass its value is made of
    (or a list of), whose keys the README then lists; ``optional`` keys appear in the JSON only when
    not null."""

    name: str
    spark_type: str
    meaning: str
    value: Callable[[Any], Any] | None = None
    csv: CsvColumn | None = None
    record: type | None = None
    optional: bool = False
    # The Spark row's own columns (not in the JSON); ``account`` and ``post_id`` are scan columns too.
    spark_only: bool = False


# How a row reads its value from a CheckResult, already in JSON form.  Chosen per row, so the hot
# path (``to_dict`` for every file a gateway checks) makes no type tests beyond the enums'.  Each is
# also written as a Python expression of the result ``r`` (``Reader.source``), which
# ``_result_encoder`` puts in its one generated dict display: reading a row is then an attribute
# load, not a call of a closure that calls an ``attrgetter`` (a result has thirty keys).
class Reader:
    """A row's reader: ``reader(result)`` gives the value; ``source`` is the same as an expression
    of ``r``, where ``{helper}`` stands for ``helper`` (a function the expression calls)."""

    __slots__ = ("helper", "read", "source")

    def __init__(self, read: Callable[[Any], Any], source: str, helper: Callable[..., Any] | None = None) -> None:
        self.read = read
        self.source = source
        self.helper = helper

    def __call__(self, result: Any) -> Any:
        return self.read(result)


def _enum_value(v: Any) -> Any:
    # ``_value_`` is what ``Enum.value`` returns, without the descriptor's call.
    return v._value_ if isinstance(v, Enum) else v


def _attr(path: str) -> Callable[[Any], Any]:
    return Reader(attrgetter(path), f"r.{path}")


def _enum(path: str) -> Callable[[Any], Any]:
    get = attrgetter(path)
    return Reader(lambda result: _enum_value(get(result)), f"{{helper}}(r.{path})", _enum_value)


def _list(path: str) -> Callable[[Any], Any]:
    get = attrgetter(path)
    return Reader(lambda result: list(get(result)), f"list(r.{path})")


def _record(path: str, cls: type) -> Callable[[Any], Any]:
    get, encode = attrgetter(path), record_encoder(cls)
    return Reader(lambda result: encode(get(result)), f"{{helper}}(r.{path})", encode)


def _c2pa_record(cls: type) -> Callable[[Any], Any]:
    # ``verified_hash`` says whether a manifest's hashes were checked: with no manifest read
    # (``validation_state`` null) there was nothing to check, so it is null, not true.
    encode = _record("c2pa", cls)

    def c2pa(result: Any) -> Any:
        out = encode(result)
        if out.get("validation_state") is None:
            out["verified_hash"] = None
        return out

    return c2pa


def _records(path: str, cls: type) -> Callable[[Any], Any]:
    get, encode = attrgetter(path), record_encoder(cls)
    return Reader(
        lambda result: [encode(item) for item in get(result)], f"[{{helper}}(item) for item in r.{path}]", encode
    )


def _optional_record(path: str, cls: type) -> Callable[[Any], Any]:
    get, encode = attrgetter(path), record_encoder(cls)

    def value(result: Any) -> Any:
        v = get(result)
        return None if v is None else encode(v)

    return value


def _rows() -> tuple[ContractField, ...]:
    # Imported here, not at the top: model imports this module for ``record_dict``.
    from .model import C2paSummary, Disclosure, Evidence, Finding, ReadError, Similarity

    F, plain = ContractField, CsvColumn
    return (
        F("schema", "string", f"the contract's version, `{SCHEMA}`", _attr("schema")),
        F(
            "path",
            "string",
            "the input as given (a file name, a URI, or the name passed with bytes); always valid UTF-8",
            _attr("json_path"),
            plain(0),
        ),
        F("media_type", "string", "media type sniffed from content, not from the name", _attr("media_type"), plain(2)),
        F("format", "string", "container format (`jpeg`, `mp4`, `pdf`, ...)", _attr("format"), plain(1)),
        F("size", "bigint", "size in bytes", _attr("size"), plain(3)),
        F("declared", "string", "what the creator declared: `ai`, `not-ai` or `none`", _enum("declared"), plain(7)),
        F(
            "status",
            "string",
            "`ai-generated`, `ai-modified`, `captured` (only a trusted, intact C2PA capture claim) or `unknown`",
            _enum("classification.status"),
            plain(5),
        ),
        F(
            "certainty",
            "string",
            "`definitive` (trusted C2PA), `strong`, or `none`",
            _attr("classification.certainty"),
            plain(6),
        ),
        F(
            "generator",
            "string",
            "generator id (`a1111`, `google`, `doubao`, ...), a name from the manifest, or null",
            _attr("classification.generator"),
            plain(11),
        ),
        F(
            "verdict",
            "string",
            "`compliant`, `unlabelled-ai`, `mislabelled` or `unreadable`",
            _enum("decision.verdict"),
            plain(4),
        ),
        F(
            "label",
            "string",
            "the explicit label the platform must show (`ai-generated`, `possibly-ai`, `suspected-ai`; the eu, ca, in "
            "and kr packs also `declared-ai`), or null",
            _attr("decision.label"),
            plain(8),
        ),
        F(
            "label_text",
            "map<string,string>",
            "the label's text in each language the policy declares (shipped policies: `{zh, en}`), or null",
            _attr("decision.label_text"),
        ),
        F("action", "string", "the most severe measure", _attr("decision.action"), plain(9)),
        F(
            "measures",
            "array<string>",
            "every measure (`show-label`, `review`, `add-label`, `restrict-exposure`, `warn`, `hold-for-review`)",
            _list("decision.measures"),
            plain(10, _joined(";")),
        ),
        F(
            "advice",
            "string",
            "plain-language advice for the creator, in the policy's `advice_language` (shipped policies: English; the "
            "text report, the scan report and the service page show every language)",
            _attr("decision.advice"),
        ),
        F("policy", "string", "the rule set that judged it", _attr("decision.policy"), plain(18)),
        F(
            "findings",
            spark_struct_array(Finding),
            "integrity and conformance problems (codes below)",
            _records("findings", Finding),
            plain(14, _joined(";", lambda f: f["code"])),
            record=Finding,
        ),
        F(
            "evidence",
            "string",
            "the signals found; in the Spark rows a JSON array of these objects",
            _records("evidence", Evidence),
            plain(16, lambda es: ";".join(sorted({e["source"] for e in es or []}))),
            record=Evidence,
        ),
        F(
            "errors",
            spark_struct_array(ReadError),
            "what could not be read",
            _records("errors", ReadError),
            plain(15, _joined(" | ", lambda e: f"{e['code']}: {e['message']}")),
            record=ReadError,
        ),
        F(
            "c2pa",
            spark_struct(C2paSummary),
            "what the C2PA stage did; `validation_state` is `Trusted`, "
            "`Valid`, `Invalid`, `NotVerified` (`--no-verify-hash`), `Unreadable` or null; `verified_hash` is "
            "null where no manifest was read",
            _c2pa_record(C2paSummary),
            CsvColumn(17, _c2pa_state, header="c2pa_state"),
            record=C2paSummary,
        ),
        F("bytes_read", "bigint", "bytes read: the walk, plus what C2PA validation hashed", _attr("bytes_read")),
        F(
            "elapsed_ms",
            "double",
            "time spent on the file, its reads included",
            lambda r: round(r.elapsed_ms, 3),
            plain(19),
        ),
        F(
            "account",
            "string",
            "the account that posted it (scan and Spark rows, from the declarations)",
            csv=plain(12),
            spark_only=True,
        ),
        F(
            "post_id",
            "string",
            "the post it belongs to (scan and Spark rows, from the declarations)",
            csv=plain(13),
            spark_only=True,
        ),
        F(
            "skipped",
            "string",
            "Spark prefix scans only: `not-media` or `empty` for listed files that are not "
            "media; every result column is then null",
            spark_only=True,
        ),
        F(
            "error",
            "string",
            "Spark rows: null when the object was read and judged; otherwise `code: message` "
            "(`io-error`, `not-found`, `is-a-folder`, `invalid-declared`, `internal-error`), and the verdict is "
            "`unreadable`",
            spark_only=True,
        ),
        F("tool_version", "string", "Spark rows: the aigc-check version that wrote the row", spark_only=True),
        F(
            "path_b64",
            "string",
            "only for a file name that is not valid UTF-8: its exact bytes, base64 (`path` then shows them as `\\xNN`)",
            _attr("path_b64"),
            optional=True,
        ),
        F(
            "disclosure",
            spark_struct(Disclosure),
            "what the provenance data discloses, for a platform to show as is: whether there is any "
            "(`provenance`: `c2pa`, `gb45438`, `iptc`), the signature and its signer, CAWG identities, the "
            "system or capture device it names, watermark evidence (soft bindings, `c2pa.watermarked`), "
            "and the latent-disclosure elements (provider, system, version, time, identifier), each with "
            "where it was read (`*_at`); `latent_missing` lists those not found",
            _record("disclosure", Disclosure),
            record=Disclosure,
        ),
        F(
            "similarity",
            spark_struct(Similarity),
            "`--similar` only: the perceptual hash (PDQ; for a video, PDQ of frames about one a second), its "
            "quality, whether it is reliable enough to match on (quality 50 or more), or why none could be made",
            _optional_record("similarity", Similarity),
            record=Similarity,
            optional=True,
        ),
        F(
            "cluster",
            "string",
            "`scan --similar` only: the id of the near-duplicate cluster the file is in (`clusters.jsonl`), "
            "or absent when it has no near-duplicate",
            _attr("cluster"),
            optional=True,
        ),
        F(
            "posted_at",
            "string",
            "Spark rows: when the post was made, from the input's posting-time column (`--posted-at-col`), as "
            "given; `--similar` reads it (ISO 8601) for the account cadence signals; null when the input has none",
            spark_only=True,
        ),
    )


def record_dict(record: DataclassInstance) -> dict:
    """A nested record (finding, evidence, error, C2PA summary) as a JSON object, from its own fields."""
    return record_encoder(type(record))(record)


@cache
def record_encoder(cls: type) -> Callable[[Any], dict]:
    """A function from a record to its JSON object, generated once per class from its fields, as
    cattrs does: enum fields by value, lists copied, the rest as they are (strings, numbers, None)."""
    hints = typing.get_type_hints(cls, vars(sys.modules[cls.__module__]))
    items = []
    for name in record_keys(cls):
        hint = hints[name]
        if isinstance(hint, type) and issubclass(hint, Enum):
            items.append(f"{name!r}: o.{name}._value_")  # what ``.value`` returns, without its descriptor
        elif typing.get_origin(hint) in (list, tuple):
            items.append(f"{name!r}: list(o.{name})")  # JSON arrays: a tuple field is written as a list
        else:
            items.append(f"{name!r}: o.{name}")
    # The source is made from the dataclass's own field names (identifiers), nothing from input.
    return eval(f"lambda o: {{{', '.join(items)}}}", {})


@cache
def record_keys(cls: type) -> tuple[str, ...]:
    """The contract keys of a record class: its dataclass fields, less those marked ``contract: False``."""
    return tuple(f.name for f in dataclasses.fields(cls) if f.metadata.get("contract", True))


# Spark SQL types of the Python annotations that records use.
_SPARK_TYPES = {str: "string", bool: "boolean", int: "bigint", float: "double"}


def _spark_type(annotation: Any) -> str:
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType) and len(args) == 1:
        return _spark_type(args[0])  # X | None: nullable X
    if origin is list and len(args) == 1:
        return f"array<{_spark_type(args[0])}>"
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return f"array<{_spark_type(args[0])}>"  # tuple[X, ...]: a JSON array
    if annotation in _SPARK_TYPES:
        return _SPARK_TYPES[annotation]
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return "string"
    raise TypeError(f"no Spark type for {annotation!r}")


def spark_struct(cls: type) -> str:
    """The Spark struct DDL of a record class, from its fields and their annotations."""
    hints = typing.get_type_hints(cls, vars(sys.modules[cls.__module__]))
    return "struct<" + ",".join(f"{name}:{_spark_type(hints[name])}" for name in record_keys(cls)) + ">"


def spark_struct_array(cls: type) -> str:
    return f"array<{spark_struct(cls)}>"


@cache
def fields() -> tuple[ContractField, ...]:
    return _rows()


@cache
def json_fields() -> tuple[ContractField, ...]:
    """The JSON object's keys, in order."""
    return tuple(f for f in fields() if f.value is not None)


def result_dict(result: Any) -> dict:
    """``CheckResult.to_dict``: the JSON contract."""
    out = _result_encoder()(result)
    for name in _optional_keys():
        if out[name] is None:
            del out[name]
    return out


def _csv_column(f: ContractField) -> CsvColumn:
    """How ``results.csv`` shows a field of ``csv_fields()`` (every one of which has a ``csv``)."""
    if f.csv is None:
        raise ValueError(f"{f.name} is not a results.csv column")
    return f.csv


@cache
def _result_encoder() -> Callable[[Any], dict]:
    # One generated dict display over the rows' readers: the gateway calls this for every file.  A
    # row whose reader is a ``Reader`` is its expression there; any other is called.
    names: dict[str, Any] = {}
    items = []
    for i, f in enumerate(json_fields()):
        reader = f.value
        if isinstance(reader, Reader):
            names[f"helper{i}"] = reader.helper
            items.append(f"{f.name!r}: {reader.source.format(helper=f'helper{i}')}")
        else:
            names[f"read{i}"] = reader
            items.append(f"{f.name!r}: read{i}(r)")
    # The source is made from the table's own names and paths (identifiers), nothing from input.
    return eval(f"lambda r: {{{', '.join(items)}}}", names)


def result_dict_by_rows(result: Any) -> dict:
    """``result_dict`` the plain way, each row's reader called in turn (what the tests compare it with)."""
    out = {f.name: f.value(result) for f in json_fields() if f.value is not None}
    for name in _optional_keys():
        if out[name] is None:
            del out[name]
    return out


@cache
def _optional_keys() -> tuple[str, ...]:
    return tuple(f.name for f in json_fields() if f.optional)


@cache
def csv_fields() -> tuple[ContractField, ...]:
    return tuple(sorted((f for f in fields() if f.csv is not None), key=lambda f: _csv_column(f).order))


@cache
def csv_columns() -> tuple[str, ...]:
    """The ``results.csv`` header."""
    return tuple(_csv_column(f).header or f.name for f in csv_fields())


def csv_values(row: dict) -> list[Any]:
    """A result dict (plus ``account`` and ``post_id``) as the CSV's cell values, before escaping."""
    values = []
    for name, render in _csv_renders():
        value = row.get(name)
        values.append(render(value) if render is not None else value)
    return values


@cache
def _csv_renders() -> tuple[tuple[str, Callable[[Any], Any] | None], ...]:
    # (key, render) per column, worked out once: a scan renders a row per file.
    return tuple((f.name, _csv_column(f).render) for f in csv_fields())


def spark_fields() -> tuple[ContractField, ...]:
    """The Spark result row's columns: every field, in table order (so new ones are appended)."""
    return fields()


def clear_caches() -> None:
    """Forget what was derived from the table (for tests that change it)."""
    for derived in (fields, json_fields, csv_fields, csv_columns, _csv_renders, _result_encoder, _optional_keys):
        derived.cache_clear()


def readme_table() -> str:
    """The README's contract table, in Markdown."""
    lines = ["| key | meaning |", "| --- | --- |"]
    for f in json_fields():
        meaning = f.meaning
        if f.record is not None:
            meaning = "`{" + ", ".join(record_keys(f.record)) + "}`: " + meaning
        lines.append(f"| `{f.name}` | {meaning} |")
    return "\n".join(lines) + "\n"
