"""One vocabulary in summary.json (and so in the report's charts): one id per format and per
generator, on the fixtures and on the shared corpus; run totals across --resume."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import FIXTURES
from scan_helpers import copy_fixtures, results, summary

from aigc_check.cli import main
from aigc_check.scan.outputs import CANONICAL_FORMATS, NAME_ONLY, NOT_NAMED, canonical_format, earlier_runs
from aigc_check.signatures.fingerprints import FingerprintTable

TABLE = FingerprintTable.load()


def scan(folder: Path, out: Path, *extra: str) -> dict:
    main(["scan", str(folder), "--out", str(out), "--progress", "none", "--no-html", *extra])
    return summary(out)


def assert_one_vocabulary(s: dict, rows: list[dict]) -> None:
    formats = s["formats"]
    assert not set(formats) & set(CANONICAL_FORMATS), f"a handler's family name is counted: {formats}"
    # Every result counted once, under its canonical id.
    expected: dict[str, int] = {}
    for r in rows:
        key = canonical_format(r["format"]) or "(none)"
        expected[key] = expected.get(key, 0) + 1
    assert formats == expected
    for key in s["generators"]:
        assert key in TABLE.ids or key in (NOT_NAMED, NAME_ONLY), f"{key!r} is not a generator id"
    for name in s["generator_names"]:
        assert TABLE.canonical(name) is None, f"{name!r} maps to an id but is counted as a name"
    assert sum(s["generator_names"].values()) == s["generators"].get(NAME_ONLY, 0)
    assert set(s["generator_display"]) == set(s["generators"]) & TABLE.ids


def test_fixture_summary_has_one_id_per_format_and_generator(tmp_path):
    s = scan(FIXTURES, tmp_path / "out")
    rows = results(tmp_path / "out")
    assert_one_vocabulary(s, rows)
    # The cases the issue names: 豆包 is doubao, a broken ID3 MP3 is an mp3, Test Diffusion is a name.
    assert any(r["generator"] == "豆包" for r in rows) and "豆包" not in s["generators"]
    assert any(r["format"] == "mpeg-audio" for r in rows) and "mpeg-audio" not in s["formats"]
    assert s["generator_names"].get("Test Diffusion", 0) > 0 and "Test Diffusion" not in s["generators"]
    assert s["generator_display"]["doubao"] == "Doubao 豆包"


def test_corpus_summary_has_one_id_per_format_and_generator(tmp_path, corpus):
    s = scan(corpus, tmp_path / "out")
    assert s["files"]["checked"] > 50
    assert_one_vocabulary(s, results(tmp_path / "out"))


def test_aliases_and_names_canonicalise():
    assert TABLE.canonical("豆包") == "doubao" and TABLE.canonical("DOUBAO") == "doubao"
    assert TABLE.canonical("doubao") == "doubao"
    assert TABLE.canonical("Adobe Firefly 3") == "adobe-firefly"  # a C2PA name the table maps
    assert TABLE.canonical("Test Diffusion") is None and TABLE.canonical("") is None
    assert TABLE.display_name("doubao") == "Doubao 豆包" and TABLE.display_name("nope") == "nope"


def test_run_totals_add_up_across_resume(tmp_path):
    names = sorted(p.name for p in FIXTURES.iterdir() if p.suffix == ".png")
    folder = tmp_path / "in"
    copy_fixtures(folder, names[:10])
    out = tmp_path / "out"
    first = scan(folder, out)
    copy_fixtures(folder, names[10:20])
    second = scan(folder, out, "--resume")
    assert len(second["runs"]) == 2
    assert second["first_started"] == first["started"] == second["runs"][0]["started"]
    assert second["runs"][0] == first["runs"][0]
    # "checked" is the run's this_run (a non-media file is sniffed again by each run).
    assert [r["checked"] for r in second["runs"]] == [first["files"]["this_run"], second["files"]["this_run"]]
    assert second["files"]["this_run"] >= 10 and second["files"]["resumed"] == first["files"]["checked"]
    total = sum(r["elapsed_s"] for r in second["runs"])
    assert second["files"]["elapsed_total_s"] == pytest.approx(total, abs=0.002)
    assert second["files"]["elapsed_total_s"] >= second["files"]["elapsed_s"]
    main(["scan", str(folder), "--out", str(out), "--progress", "none", "--resume"])  # with report.html
    third = summary(out)
    assert len(third["runs"]) == 3 and third["runs"][:2] == second["runs"]
    assert third["runs"][2]["checked"] == third["files"]["this_run"] < 10  # only the re-sniffed ones
    header = (out / "report.html").read_text(encoding="utf-8")
    assert f"started {first['started']}, {third['files']['elapsed_total_s']:,.1f} s in total over 3 runs" in header
    runs_table = header.split('<table class="runs" id="runs">', 1)[1].split("</table>", 1)[0]
    assert runs_table.count("<tr><td") == 3 and first["started"] in runs_table


def test_earlier_runs_from_an_older_or_broken_summary(tmp_path):
    assert earlier_runs(str(tmp_path)) == []
    (tmp_path / "summary.json").write_text("{not json", encoding="utf-8")
    assert earlier_runs(str(tmp_path)) == []
    (tmp_path / "summary.json").write_text(json.dumps([1, 2]), encoding="utf-8")
    assert earlier_runs(str(tmp_path)) == []
    old = {"started": "2026-01-01T00:00:00+00:00", "updated": "2026-01-01T00:01:00+00:00", "interrupted": True}
    old["files"] = {"elapsed_s": 60.0, "this_run": 5}
    (tmp_path / "summary.json").write_text(json.dumps(old), encoding="utf-8")
    assert earlier_runs(str(tmp_path)) == [
        {
            "started": old["started"],
            "ended": old["updated"],
            "elapsed_s": 60.0,
            "checked": 5,
            "interrupted": True,
        }
    ]


def test_verified_hash_is_null_without_a_manifest():
    from aigc_check import Checker, CheckOptions, check

    assert check(FIXTURES / "plain.jpg").to_dict()["c2pa"]["verified_hash"] is None
    signed = FIXTURES / "c2pa-ai-created.avif"
    assert check(signed).to_dict()["c2pa"]["verified_hash"] is True
    unverified = Checker(CheckOptions(verify_hash=False)).check(signed).to_dict()["c2pa"]
    assert unverified["verified_hash"] is False and unverified["validation_state"] == "NotVerified"
    assert (
        Checker(CheckOptions(verify_hash=False)).check(FIXTURES / "plain.jpg").to_dict()["c2pa"]["verified_hash"]
        is None
    )
