"""``scan --engine spark --similar`` against the local ``scan --similar`` on the same files: the same rows
(``cluster``, inherited status, verdict and evidence), the same ``clusters.jsonl``, the same account
signals, grades and measures (accounts.csv, the summary's accounts).

The files: the near-duplicate set made from the corpus (``fixtures/makers/near_duplicates.py``) plus
a bot's A1111 pictures, with a sidecar (local) and an input table (Spark) giving the same accounts
and ``posted_at``: a creator posting the labelled AI originals, a reposter posting their stripped
copies (they inherit ``suspected-ai``), a person posting photos at irregular daytime hours, and a bot
posting the same few pictures of one template every hour around the clock.  One local[2] session for
the module; skipped, with the reason, where Java, pyspark, pdqhash or the corpus is missing.
"""

from __future__ import annotations

import csv
import json
import random
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from conftest import ROOT
from scan_helpers import results, run_cli, summary
from spark_helpers import require_spark, small_session

require_spark(module_level=True)
pytest.importorskip("pdqhash", reason="the similar extra: pip install 'aigc-check[similar]'")
np = pytest.importorskip("numpy")

from PIL import Image, PngImagePlugin  # noqa: E402

from aigc_check.cli import ExitStatus, main  # noqa: E402
from aigc_check.spark import read_results, row_to_result  # noqa: E402

sys.path.insert(0, str(ROOT / "fixtures"))
from makers import near_duplicates  # noqa: E402

A1111 = (
    "a lighthouse, seed {seed}\nNegative prompt: blurry\n"
    "Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: {seed}, Size: 256x256, Model: dreamshaper_8"
)
TZ = timezone(timedelta(hours=8))


@pytest.fixture(scope="module")
def spark(tmp_path_factory):
    session = small_session(
        "aigc-check-similar-tests",
        str(tmp_path_factory.mktemp("warehouse")),
        # several batches a task, some with no cluster
        **{"spark.sql.execution.arrow.maxRecordsPerBatch": "16"},
    )
    yield session
    session.stop()


def _bot_picture(path: Path, seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", A1111.format(seed=n))
    Image.fromarray(small).resize((256, 256), Image.Resampling.BICUBIC).save(path, "PNG", pnginfo=info)


def posts(folder: Path) -> list[dict]:
    """The sidecar rows (name, declared, account, post_id, posted_at) for every file of ``folder``."""
    with open(folder / "truth.tsv", encoding="utf-8") as f:
        truth = {r["file"]: (r["group"], r["variant"]) for r in csv.DictReader(f, delimiter="\t")}
    ai_bases = {
        "huminify-c2pa-detector__lady",
        "huminify-c2pa-detector__ChatGPT_Image",
        "c2pa-node__ingredient-with-data-types",
    }
    rows = []
    rng = random.Random(7)
    person_time = datetime(2026, 3, 1, 9, 0, tzinfo=TZ)
    creator_time = datetime(2026, 3, 2, 10, 0, tzinfo=TZ)
    for n, name in enumerate(sorted(truth)):
        group, variant = truth[name]
        if group in ai_bases:
            account = "creator" if variant == "original" else "reposter"
            declared = "ai" if variant == "original" else "none"
            creator_time += timedelta(hours=rng.choice([2, 7, 30]), minutes=rng.randrange(60))
            when = creator_time.isoformat()
        elif n % 9 == 4:
            account, declared, when = None, "none", None  # a post with no account
        else:
            account, declared = "person", "none"
            person_time += timedelta(hours=rng.choice([3, 5, 20, 26, 49]), minutes=rng.randrange(60))
            if person_time.hour < 8:
                person_time += timedelta(hours=9)
            when = person_time.isoformat() if n % 5 else None  # some posts without a time
        rows.append({"name": name, "declared": declared, "account": account, "post_id": f"p{n}", "posted_at": when})
    start = datetime(2026, 3, 1, 0, 5, tzinfo=TZ)
    for n in range(24):  # eight pictures, each posted three times, one every hour exactly
        name = f"bot_{n:02d}.png"
        _bot_picture(folder / name, 1000 + n // 3, n)
        rows.append(
            {
                "name": name,
                "declared": "none",
                "account": "bot",
                "post_id": f"b{n}",
                "posted_at": (start + timedelta(hours=n)).isoformat(),
            }
        )
    return rows


@pytest.fixture(scope="module")
def scanned(spark, tmp_path_factory, corpus):
    """(local scan folder, Spark output folder, the posts) on the same files."""
    if not near_duplicates.available(corpus):
        pytest.skip("the corpus lacks a base picture of the near-duplicate set")
    base = tmp_path_factory.mktemp("spark-similar")
    folder = base / "set"
    near_duplicates.make(folder, corpus)
    rows = posts(folder)
    (folder / "truth.tsv").rename(base / "truth.tsv")  # not a post
    sidecar = base / "posts.csv"
    with open(sidecar, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["path", "declared", "account", "post_id", "posted_at"])
        for r in rows:
            w.writerow([r["name"], r["declared"], r["account"] or "", r["post_id"], r["posted_at"] or ""])
    local = base / "local"
    done = run_cli(
        str(folder), "--similar", "--declarations", str(sidecar), "--out", str(local), "--progress", "none", "--no-html"
    )
    assert done.returncode in (0, 1), done.stderr

    spark.createDataFrame(
        [(str(folder / r["name"]), r["declared"], r["account"], r["post_id"], r["posted_at"]) for r in rows],
        "object_key string, declared string, account string, post_id string, posted_at string",
    ).write.saveAsTable("similar_posts")
    out = base / "spark"
    status = main(
        [
            "scan", "--engine", "spark", "--master", "local[2]", "--similar", "--input-table", "similar_posts",
            "--uri-col", "object_key", "--out", str(out), "--partitions", "3",
        ]
    )  # fmt: skip
    assert status == ExitStatus.VIOLATION  # the reposter's copies are unlabelled AI, as locally
    return local, out, rows


def spark_rows(spark, out: Path) -> dict[str, dict]:
    got = {}
    for row in read_results(spark, out=str(out)).collect():
        result = row_to_result(row.asDict(recursive=True))
        result.pop("elapsed_ms")
        got[result["path"]] = result
    return got


def test_rows_have_the_local_scans_clusters_and_inherited_verdicts(spark, scanned):
    local, out, rows = scanned
    expected = {}
    for r in results(local):
        r.pop("elapsed_ms")
        expected[r["path"]] = r
    got = spark_rows(spark, out)
    assert set(got) == set(expected) and len(got) == len(rows)
    for path, r in expected.items():
        assert got[path] == r, path
    # The set exercises what is compared: clusters, inheritances from another account, a bot.
    clustered = [r for r in got.values() if r.get("cluster")]
    inherited = [r for r in got.values() if any(e["source"] == "near-duplicate" for e in r["evidence"])]
    assert len(clustered) >= 40 and len(inherited) >= 12
    assert all(r["label"] == "suspected-ai" and r["account"] == "reposter" for r in inherited)
    lady = got[next(p for p in got if p.endswith("huminify-c2pa-detector__lady__half-size.jpg"))]
    [ev] = [e for e in lady["evidence"] if e["source"] == "near-duplicate"]
    assert ev["location"].endswith("huminify-c2pa-detector__lady__original.png")
    assert lady["verdict"] == "unlabelled-ai" and lady["cluster"]


def test_clusters_jsonl_is_the_local_scans(scanned):
    local, out, _ = scanned
    mine = (Path(str(out) + ".clusters.jsonl")).read_text(encoding="utf-8")
    theirs = (local / "clusters.jsonl").read_text(encoding="utf-8")
    assert mine == theirs
    records = [json.loads(line) for line in mine.splitlines()]
    assert any(c["accounts"] >= 2 for c in records) and any(c["account_names"] == ["bot"] for c in records)


def test_account_signals_and_measures_are_the_local_scans(scanned):
    local, out, _ = scanned
    with open(local / "accounts.csv", encoding="utf-8") as f:
        theirs = list(csv.DictReader(f))
    with open(str(out) + ".accounts.csv", encoding="utf-8") as f:
        mine = list(csv.DictReader(f))
    assert mine == theirs
    by_name = {r["account"]: r for r in mine}
    assert by_name["bot"]["action"] == "ban" and "ai-managed-fully" in by_name["bot"]["grades"].split(";")
    assert float(by_name["bot"]["cadence_regularity"]) == 0.0 and float(by_name["bot"]["one_template"]) == 1.0
    # The person's photos are copied by others (homogeneous content), but nothing says a machine posts.
    person = by_name["person"]
    assert not [g for g in person["grades"].split(";") if g.startswith("ai-managed")] and person["action"] != "ban"
    assert float(person["cadence_regularity"]) > 0.5 and float(person["ai_share_all"]) < 0.5
    assert float(by_name["reposter"]["cross_account_share"]) > 0.5 and int(by_name["reposter"]["unlabelled"]) >= 12

    spark_summary = json.loads(Path(str(out) + ".summary.json").read_text(encoding="utf-8"))
    local_summary = summary(local)
    assert spark_summary["accounts"]["top"] == local_summary["accounts"]["top"]
    assert spark_summary["verdicts"] == local_summary["verdicts"]
    same = ("files", "hashed", "unreliable", "hash_errors", "clusters", "clustered_files", "inherited")
    assert {k: spark_summary["similar"][k] for k in same} == {k: local_summary["similar"][k] for k in same}
    assert spark_summary["similar"]["posted_at_invalid"] == 0


def test_a_posting_time_that_is_not_iso_8601_is_counted_not_fatal(spark, tmp_path, scanned, monkeypatch):
    """Into a table: the rows get their clusters there, the side files go to the working directory."""
    local, _, rows = scanned
    folder = local.parent / "set"
    bot = [r for r in rows if r["account"] == "bot"][:6]
    bad = [(str(folder / r["name"]), r["account"], r["posted_at"] if n else "yesterday") for n, r in enumerate(bot)]
    spark.createDataFrame(bad, "uri string, account string, posted_at string").write.saveAsTable("bad_times")
    monkeypatch.chdir(tmp_path)
    args = ["scan", "--engine", "spark", "--master", "local[2]", "--similar", "--input-table", "bad_times"]
    assert main([*args, "--output-table", "bad_times_results"]) == ExitStatus.VIOLATION  # unlabelled AI
    written = json.loads((tmp_path / "bad_times_results.summary.json").read_text(encoding="utf-8"))
    assert written["similar"]["posted_at_invalid"] == 1
    assert "'yesterday'" in written["similar"]["posted_at_invalid_example"]
    [account] = written["accounts"]["top"]
    assert account["account"] == "bot" and account["posts"] == 6 and account["burst"] is None  # 5 times < 6
    assert (tmp_path / "bad_times_results.accounts.csv").exists()
    table = spark.table("bad_times_results").collect()
    # The row keeps the value as given; bot_00 to bot_02 are one picture, bot_03 to bot_05 another.
    assert {r["posted_at"] for r in table} >= {"yesterday"} and len({r["cluster"] for r in table}) == 2
    clusters = [json.loads(line) for line in (tmp_path / "bad_times_results.clusters.jsonl").read_text().splitlines()]
    assert sorted(c["size"] for c in clusters) == [3, 3]
