"""The Spark scan's engine-free parts: the result schema, ``check_arrow_batch`` and remote reads (no JVM)."""

from __future__ import annotations

import os
import re
from urllib.parse import urlsplit

import pytest
from conftest import FIXTURES, ROOT

from aigc_check import Checker
from aigc_check.checker import CheckOptions
from aigc_check.model import Declared
from aigc_check.scan import check_batch
from aigc_check.scan.objects import ObjectReader, ObjectStoreError, local_path

pa = pytest.importorskip("pyarrow", reason="pyarrow is in the spark extra: pip install '.[spark]'")

from aigc_check.spark.arrow import check_arrow_batch  # noqa: E402
from aigc_check.spark.schema import COLUMNS, RESULT_DDL, arrow_schema, result_to_row, row_to_result  # noqa: E402


def without_time(result: dict) -> dict:
    return {k: v for k, v in result.items() if k != "elapsed_ms"}


def test_every_fixture_row_decodes_to_the_check_result():
    paths = sorted(str(p) for p in FIXTURES.iterdir())
    declared = ["ai", "not-ai", None]
    batch = pa.RecordBatch.from_pylist(
        [
            {"path": p, "declared": declared[i % 3], "account": f"a{i % 4}", "post_id": str(i)}
            for i, p in enumerate(paths)
        ]
    )
    out = check_arrow_batch(batch)
    assert out.schema == arrow_schema() and out.num_rows == len(paths)
    checker = Checker()
    for i, (path, row) in enumerate(zip(paths, out.to_pylist())):
        expected = checker.check(path, declared[i % 3] or "none").to_dict()
        assert without_time(row_to_result(row)) == {
            **without_time(expected),
            "account": f"a{i % 4}",
            "post_id": str(i),
        }, path
        assert row["error"] is None and row["skipped"] is None


def test_bad_rows_are_result_rows_not_exceptions(tmp_path):
    corrupt = tmp_path / "corrupt.jpg"
    corrupt.write_bytes((FIXTURES / "c2pa-ai-created.jpg").read_bytes()[:3000])
    batch = pa.RecordBatch.from_pylist(
        [
            {"path": str(tmp_path / "missing.jpg")},
            {"path": None},
            {"path": str(FIXTURES / "plain.jpg"), "declared": "maybe"},
            {"path": str(corrupt)},
            # The one rule of every entry point (Declared.parse): case and surrounding space do not matter.
            {"path": str(FIXTURES / "plain.jpg"), "declared": " AI "},
            {"path": str(FIXTURES / "plain.jpg"), "declared": ""},
        ],
        schema=pa.schema([("path", pa.string()), ("declared", pa.string())]),
    )
    missing, null, bad_declared, cut, upper, empty = check_arrow_batch(batch).to_pylist()
    assert upper["declared"] == "ai" and upper["error"] is None
    assert empty["declared"] == "none"
    # Null or empty: the job's default declaration.
    defaults = check_arrow_batch(batch.slice(5), declared=Declared.NOT_AI).to_pylist()
    assert defaults[0]["declared"] == "not-ai" and defaults[0]["error"] is None
    assert missing["verdict"] == "unreadable" and missing["error"].startswith("not-found: no such file")
    assert without_time(row_to_result(missing)) == without_time(
        {**Checker().check(str(tmp_path / "missing.jpg")).to_dict(), "account": None, "post_id": None}
    )
    assert null["path"] == "" and null["error"].startswith("not-found")
    assert bad_declared["verdict"] == "unreadable" and bad_declared["declared"] == "none"
    assert bad_declared["error"] == "invalid-declared: declared must be one of ai, not-ai, none, not 'maybe'"
    # Content that cannot be read is the file's verdict, with its errors; the row itself is fine.
    assert cut["verdict"] == "unreadable" and cut["errors"] and cut["error"] is None


def test_a_checker_failure_is_that_files_row(monkeypatch):
    def explode(self, target, declared="none", name=None):
        raise RuntimeError("boom")

    monkeypatch.setattr(Checker, "check", explode)
    out = check_batch([{"path": str(FIXTURES / "plain.png")}], CheckOptions())
    assert out[0]["verdict"] == "unreadable"
    assert out[0]["errors"] == [{"code": "internal-error", "message": "RuntimeError: boom", "location": ""}]
    assert result_to_row(out[0])["error"] == "internal-error: RuntimeError: boom"


def test_sniffing_keeps_skipped_rows(tmp_path):
    (tmp_path / "notes.txt").write_text("not media")
    batch = pa.RecordBatch.from_pylist([{"path": str(tmp_path / "notes.txt")}, {"path": str(FIXTURES / "plain.png")}])
    skipped, checked = check_arrow_batch(batch, sniff=True).to_pylist()
    assert skipped["skipped"] == "not-media" and skipped["verdict"] is None
    assert row_to_result(skipped) == {
        "path": str(tmp_path / "notes.txt"),
        "skipped": "not-media",
        "account": None,
        "post_id": None,
    }
    assert checked["verdict"] == "compliant"
    # Rows of a key table are judged even when they are not media, as files named to `scan` are:
    # plain text is then judged as text.
    judged = check_arrow_batch(batch).to_pylist()[0]
    assert (judged["format"], judged["verdict"]) == ("text", "compliant")


def test_schema_is_one_definition():
    assert arrow_schema().names == [c.name for c in COLUMNS]
    assert RESULT_DDL.count("`") == 2 * len(COLUMNS)
    # The README documents exactly these columns, in this order.
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Result rows", 1)[1].split("\n\n", 2)[1]
    documented = re.findall(r"^\| `([a-z_0-9]+)` \|", section, re.M)
    assert documented == [c.name for c in COLUMNS]


def test_local_paths_and_file_uris():
    assert local_path("/data/a.jpg") == "/data/a.jpg"
    assert local_path("rel/a.jpg") == "rel/a.jpg"
    assert local_path("file:/data/a%20b.jpg") == "/data/a b.jpg"
    assert local_path("file:///data/a.jpg") == "/data/a.jpg"
    assert local_path("s3a://bucket/a.jpg") is None
    assert local_path("file://host/a.jpg") is None
    assert local_path("C:\\data\\a.jpg") == "C:\\data\\a.jpg"  # a drive letter is not a scheme


def test_a_path_without_a_colon_is_local_as_the_parse_would_say():
    """``local_path`` skips the URL parse for a string with no colon: what the parse says of it."""
    for path in ("/data/a.jpg", "rel/a.jpg", " /lead", "\ttab", "a%20b.jpg", "//host/share/a.jpg", "", "?q#f"):
        assert ":" not in path and len(urlsplit(path).scheme) <= 1
        assert local_path(path) == path
    assert local_path("//[x/a.jpg") == "//[x/a.jpg"  # a path, though the URL parse refuses it (an IPv6 host)


# --- remote objects, through an fsspec filesystem that serves ranged reads as object stores do --------


@pytest.fixture
def ranged_store():
    """A ``rangetest://`` fsspec filesystem over a dict: its files are fsspec's buffered files, as s3fs's
    and ossfs's are, and every ranged GET is recorded."""
    fsspec = pytest.importorskip("fsspec", reason="fsspec is in the spark extra")
    from fsspec.spec import AbstractBufferedFile, AbstractFileSystem

    objects: dict[str, bytes] = {}
    gets: list[tuple[str, int, int]] = []

    class RangedFile(AbstractBufferedFile):
        def _fetch_range(self, start, end):
            gets.append((self.path, start, end))
            return objects[self.path][start:end]

    class RangedStore(AbstractFileSystem):
        protocol = "rangetest"

        def info(self, path, **kwargs):
            path = self._strip_protocol(path)
            if path not in objects:
                raise FileNotFoundError(path)
            return {"name": path, "size": len(objects[path]), "type": "file"}

        def _open(self, path, mode="rb", block_size=None, cache_type="readahead", **kwargs):
            return RangedFile(self, path, mode, block_size=block_size, cache_type=cache_type, **kwargs)

    fsspec.register_implementation("rangetest", RangedStore, clobber=True)
    yield objects, gets


def test_remote_objects_give_the_local_results(ranged_store):
    objects, gets = ranged_store
    names = [
        "c2pa-ai-created.jpg",
        "gb-png-text.png",
        "av-gb-keys.mp4",
        "broken-truncated-in-app1.jpg",
        "av-c2pa-ai.mp4",
        "gen-a1111-parameters.png",
    ]
    for name in names:
        objects[f"bucket/{name}"] = (FIXTURES / name).read_bytes()
    uris = [f"rangetest://bucket/{n}" for n in names] + ["rangetest://bucket/missing.jpg"]
    out = check_batch(
        [{"path": u, "declared": "ai"} for u in uris],
        CheckOptions(),
        ObjectReader(header_bytes=16 * 1024, io_threads=3),
    )
    checker = Checker()
    for name, uri, result in zip(names, uris, out):
        expected = checker.check(str(FIXTURES / name), "ai", name=uri).to_dict()
        # bytes_read counts what the checker asked for: the same whether it came from a disk or a GET.
        assert without_time(result) == {**without_time(expected), "account": None, "post_id": None}, name
    assert out[-1]["verdict"] == "unreadable" and out[-1]["errors"][0]["code"] == "not-found"
    assert {path for path, _, _ in gets} == {f"bucket/{n}" for n in names}


def test_remote_reads_fetch_the_header_window_not_the_object(ranged_store):
    objects, gets = ranged_store
    # A labelled PNG followed by 4 MiB the walk never needs (after IEND).
    objects["bucket/big.png"] = (FIXTURES / "gb-png-text.png").read_bytes() + bytes(4 << 20)
    out = check_batch([{"path": "rangetest://bucket/big.png"}], CheckOptions(), ObjectReader(header_bytes=64 * 1024))
    assert out[0]["verdict"] == "unlabelled-ai"
    assert sum(end - start for _, start, end in gets) <= 2 * 64 * 1024, gets


def test_a_scheme_without_its_driver_stops_the_job():
    pytest.importorskip("fsspec", reason="fsspec is in the spark extra")
    with pytest.raises(ObjectStoreError, match="nosuchscheme"):
        check_batch([{"path": "nosuchscheme://bucket/a.jpg"}], CheckOptions(), ObjectReader())


def test_a_name_that_is_not_utf8_survives_the_row_both_ways(tmp_path):
    """Arrow strings must be UTF-8: the row carries the escaped name and its exact bytes."""
    from aigc_check.model import result_path

    raw = os.path.join(os.fsencode(tmp_path), b"caf\xe9.png")
    with open(raw, "wb") as f:
        f.write((FIXTURES / "gb-png-text.png").read_bytes())
    result = Checker().check(os.fsdecode(raw)).to_dict()
    row = result_to_row(result)
    pa.Table.from_pylist([row], schema=arrow_schema())  # encodes as UTF-8 without error
    back = row_to_result(row)
    assert os.fsencode(result_path(back)) == raw and back["path"].endswith("caf\\xe9.png")
    skipped = result_to_row({"path": os.fsdecode(raw), "skipped": "not-media"})
    assert skipped["path_b64"] and "\\xe9" in skipped["path"]


def test_the_similar_pass_adds_clusters_and_inheritances_as_the_local_scan_does():
    """``apply_additions`` (the Spark similar pass's per-batch step) on rows joined with their
    cluster and original: the local ``inherit_dict`` on the copy, the cluster on each clustered row,
    every other row and every Spark-only column as it was."""
    from aigc_check.model import Status
    from aigc_check.similar.inherit import Original, inherit_dict
    from aigc_check.spark.similar import ADDED, apply_additions

    names = ["plain.jpg", "plain.png", "gen-flux.jpg"]
    rows = check_arrow_batch(
        pa.RecordBatch.from_pylist(
            [{"path": str(FIXTURES / n), "account": "a", "posted_at": f"2026-03-01T0{i}:00:00+08:00"}
             for i, n in enumerate(names)]
        )
    ).to_pylist()  # fmt: skip
    flux = row_to_result(rows[2])
    original = Original(flux["path"], Status(flux["status"]), flux["generator"], 7)
    added = [
        ("c1", original.path, original.status.value, original.generator, original.distance),
        (None, None, None, None, None),
        ("c1", None, None, None, None),
    ]
    joined = [{**row, **dict(zip(ADDED, extra))} for row, extra in zip(rows, added)]
    schema = arrow_schema()
    for name, kind in zip(ADDED, (pa.string(), pa.string(), pa.string(), pa.string(), pa.int32())):
        schema = schema.append(pa.field(name, kind))
    out = apply_additions(pa.RecordBatch.from_pylist(joined, schema=schema), CheckOptions()).to_pylist()

    expected = row_to_result(rows[0])
    inherit_dict(expected, Checker().policy, original)
    copy = row_to_result(out[0])
    assert copy == {**expected, "cluster": "c1"} and copy["label"] == "suspected-ai"
    assert out[0]["posted_at"] == rows[0]["posted_at"] and out[0]["tool_version"] == rows[0]["tool_version"]
    assert out[1] == rows[1]
    assert out[2] == {**rows[2], "cluster": "c1"}
    # A batch with no clustered row passes as it was.
    none = [{**row, **dict.fromkeys(ADDED)} for row in rows]
    assert apply_additions(pa.RecordBatch.from_pylist(none, schema=schema), CheckOptions()).to_pylist() == rows
