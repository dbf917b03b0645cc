"""The scan on a real ``local[2]`` Spark session: table input, prefix input, error rows, Parquet output, the CLI.

Every row must equal ``aigc-check check`` on the same file.  Skipped, with the
reason, where Java or pyspark is missing (``.ci/run`` installs both).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import FIXTURES, TEST_ROOT_CA
from spark_helpers import require_spark, small_session

from aigc_check import Checker
from aigc_check.checker import CheckOptions
from aigc_check.cli import ExitStatus, main
from aigc_check.errors import UsageError
from aigc_check.scan.batch import sniff

require_spark(module_level=True)

from aigc_check.spark import InputColumns, read_results, row_to_result, scan, write_results  # noqa: E402

TRUSTING = CheckOptions(trust_anchor_files=(str(TEST_ROOT_CA),))


@pytest.fixture(scope="module")
def spark(tmp_path_factory):
    session = small_session(
        "aigc-check-tests",
        str(tmp_path_factory.mktemp("warehouse")),
        **{"spark.sql.execution.arrow.maxRecordsPerBatch": "32"},
    )
    yield session
    session.stop()


def as_results(rows) -> dict:
    """path -> the row decoded back into the JSON contract's dict, without the timing."""
    out = {}
    for row in rows:
        result = row_to_result(row.asDict(recursive=True))
        result.pop("elapsed_ms", None)
        out[result["path"]] = result
    return out


def expected(checker: Checker, path, declared="none", name=None, account=None, post_id=None) -> dict:
    result = checker.check(str(path), declared, name=name).to_dict()
    result.pop("elapsed_ms")
    return {**result, "account": account, "post_id": post_id}


def test_key_table_rows_equal_the_local_check(spark, tmp_path):
    fixtures = sorted(FIXTURES.iterdir())
    declarations = ["ai", "not-ai", None]
    rows = [(str(p), declarations[i % 3], f"acct-{i % 5}", i) for i, p in enumerate(fixtures)]
    rows += [(str(tmp_path / "gone.jpg"), "ai", "acct-x", 9000), (str(FIXTURES / "plain.jpg"), "AI?", None, 9001)]
    frame = spark.createDataFrame(rows, "object_key string, ai_label string, account string, post_id bigint")
    frame.write.saveAsTable("media_posts")

    results = scan(
        spark,
        "media_posts",
        columns=InputColumns(uri="object_key", declared="ai_label"),
        options=TRUSTING,
        partitions=4,
    ).collect()

    assert len(results) == len(rows)
    got = {(r["path"], r["post_id"]): r for r in results}
    checker = Checker(TRUSTING)
    for path, declared, account, post_id in rows[:-2]:
        row = got[(path, str(post_id))].asDict(recursive=True)
        decoded = row_to_result(row)
        decoded.pop("elapsed_ms")
        assert decoded == expected(checker, path, declared or "none", None, account, str(post_id)), path
        assert row["error"] is None and row["skipped"] is None
    # The options reached the executors: the test CA is trusted there.
    assert (
        got[(str(FIXTURES / "c2pa-ai-created.jpg"), str(fixtures.index(FIXTURES / "c2pa-ai-created.jpg")))]["c2pa"][
            "validation_state"
        ]
        == "Trusted"
    )
    # A missing object and a bad declaration are rows with an error, not a failed job.
    gone, bad = got[(str(tmp_path / "gone.jpg"), "9000")], got[(str(FIXTURES / "plain.jpg"), "9001")]
    assert gone["verdict"] == "unreadable" and gone["error"].startswith("not-found: no such file")
    assert bad["verdict"] == "unreadable" and bad["error"].startswith("invalid-declared")


def test_prefix_rows_equal_the_local_check_and_survive_parquet(spark, tmp_path):
    folder = tmp_path / "uploads"
    shutil.copytree(FIXTURES, folder / "2026-11")
    (folder / "2026-11" / "corrupt.jpg").write_bytes((FIXTURES / "c2pa-ai-created.jpg").read_bytes()[:2500])
    (folder / "2026-11" / "deep").mkdir()
    (folder / "2026-11" / "deep" / "notes.txt").write_text("not media")
    shutil.copyfile(FIXTURES / "gen-flux.jpg", folder / "2026-11" / "deep" / "upload.bin")

    results = scan(spark, str(folder), declared="ai")
    out = tmp_path / "results"
    write_results(results, out=str(out))
    rows = as_results(read_results(spark, out=str(out)).collect())

    local = {f"file:{p}": p for p in folder.rglob("*") if p.is_file() and p.stat().st_size}
    assert set(rows) == set(local)  # Spark does not list empty files (broken-empty.jpg)
    checker = Checker()
    for uri, path in local.items():
        reason = sniff(str(path))
        if reason:
            assert rows[uri] == {"path": uri, "skipped": reason, "account": None, "post_id": None}
        else:
            assert rows[uri] == expected(checker, path, "ai", name=uri), uri
    assert rows[f"file:{folder}/2026-11/deep/notes.txt"]["skipped"] == "not-media"
    corrupt = rows[f"file:{folder}/2026-11/corrupt.jpg"]
    assert corrupt["verdict"] == "unreadable" and corrupt["errors"]
    assert rows[f"file:{folder}/2026-11/deep/upload.bin"]["verdict"] == "compliant"  # declared ai, is ai


def test_a_table_without_the_uri_column_is_a_usage_error(spark):
    frame = spark.createDataFrame([("a.jpg",)], "key string")
    with pytest.raises(UsageError, match="no URI column 'uri'"):
        scan(spark, frame)


def test_cli_table_to_table_and_prefix_to_json(spark, tmp_path):
    names = ["plain.jpg", "gen-flux.jpg", "gb-png-text.png"]
    spark.createDataFrame(
        [(str(FIXTURES / n), "ai" if n == "gb-png-text.png" else None, n) for n in names],
        "uri string, declared string, post_id string",
    ).write.saveAsTable("ods_media_posts")

    args = ["scan", "--engine", "spark", "--master", "local[2]"]
    assert (
        main([*args, "--input-table", "ods_media_posts", "--output-table", "aigc_results"]) == ExitStatus.VIOLATION
    )  # gen-flux.jpg is unlabelled AI
    table = {r["post_id"]: r for r in spark.table("aigc_results").collect()}
    assert {k: r["verdict"] for k, r in table.items()} == {
        "plain.jpg": "compliant",
        "gen-flux.jpg": "unlabelled-ai",
        "gb-png-text.png": "compliant",
    }
    # As the local scan: earlier results are kept unless --overwrite.
    assert main([*args, "--input-table", "ods_media_posts", "--output-table", "aigc_results"]) == ExitStatus.USAGE
    assert (
        main([*args, "--input-table", "ods_media_posts", "--output-table", "aigc_results", "--overwrite"])
        == ExitStatus.VIOLATION
    )

    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copyfile(FIXTURES / "plain.png", folder / "plain.png")
    out = tmp_path / "json-out"
    assert main([*args, str(folder), "--out", str(out), "--output-format", "json"]) == ExitStatus.COMPLIANT
    [row] = as_results(read_results(spark, out=str(out), fmt="json").collect()).values()
    assert row == expected(Checker(), folder / "plain.png", name=f"file:{folder}/plain.png")
    assert list(Path(out).glob("part-*.json"))


def test_spark_clusters_equal_the_local_scans(spark, tmp_path):
    """The banding self-join on Spark finds the local scan's clusters, ids and members, on the same rows."""
    import json

    pytest.importorskip("pdqhash", reason="the similar extra: pip install 'aigc-check[similar]'")
    from scan_helpers import run_cli

    from aigc_check.contract import spark_struct
    from aigc_check.model import Similarity
    from aigc_check.spark.clusters import clusters

    folder = tmp_path / "files"
    folder.mkdir()
    import numpy as np
    from PIL import Image, ImageEnhance

    rng = np.random.default_rng(1)
    for n in range(6):  # six different pictures, each with a re-encoded and a brightened copy
        im = Image.fromarray(rng.integers(0, 256, (24, 36, 3), dtype=np.uint8)).resize((300, 200), Image.BICUBIC)
        im.save(folder / f"p{n}.png")
        im.save(folder / f"p{n}-q40.jpg", quality=40)
        ImageEnhance.Brightness(im).enhance(1.2).save(folder / f"p{n}-bright.jpg")
        if n == 0:
            im.crop((12, 8, 288, 192)).save(folder / "p0-crop.jpg")
        if n == 1:  # cut from the top and the left only: found variant to variant
            im.crop((15, 10, 300, 200)).save(folder / "p1-corner-crop.jpg")
    out = tmp_path / "scan"
    done = run_cli(str(folder), "--similar", "--out", str(out), "--progress", "none", "--no-html")
    assert done.returncode in (0, 1), done.stderr
    local = {}
    for line in (out / "clusters.jsonl").read_text().splitlines():
        c = json.loads(line)
        local[c["id"]] = sorted(m["path"] for m in c["members"])
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    frame = spark.createDataFrame(
        [(r["path"], r["similarity"]) for r in rows], f"path string, similarity {spark_struct(Similarity)}"
    )
    # p0's centre crop and p1's corner crop join them too
    assert sorted(len(m) for m in local.values()) == [3, 3, 3, 3, 4, 4]
    assert clusters(frame) == local
    from aigc_check.spark.clusters import write_clusters

    assert write_clusters(frame, str(tmp_path / "c.jsonl")) == len(local)
    written = [json.loads(line) for line in (tmp_path / "c.jsonl").read_text().splitlines()]
    assert {c["id"]: c["members"] for c in written} == local and written[0]["size"] == written[1]["size"] == 4
