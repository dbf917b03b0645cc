"""``mark`` with a known-content index (``--similar-index``): a stripped re-encode of a labelled AI
picture, never seen before, is marked at the suspected tier and its record names the original; without
the index it is copied unchanged.  Every path: the command, ``mark()``, ``scan --mark-into`` and
``POST /v1/mark``; and a missing or malformed index is a usage error before anything is written."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT
from scan_helpers import run_cli

import aigc_check.similar  # noqa: F401  (first: it keeps numpy's BLAS from starting native threads here)

pytest.importorskip("pdqhash", reason="the similar extra: pip install 'aigc-check[similar]'")

from PIL import Image

from aigc_check import Checker, mark
from aigc_check.errors import UsageError
from aigc_check.policy import load_policy

PROPAGATOR = "001191110102MA01ABCDE22XHS1"
ORIGINAL = "huminify-c2pa-detector/lady.png"  # Google's generative AI, C2PA c2pa.created: confirmed AI
SUSPECTED_TIER = load_policy("cn").data["marking"]["tiers"]["suspected-ai"]


def stripped_copy(original: Path, out: Path, size: tuple[int, int] = (600, 1050), quality: int = 55) -> Path:
    """A re-upload with no metadata at all: decoded, resized and re-encoded by Pillow."""
    with Image.open(original) as im:
        im.convert("RGB").resize(size).save(out, "JPEG", quality=quality)
    return out


@pytest.fixture(scope="module")
def known(tmp_path_factory: pytest.TempPathFactory, corpus: Path) -> tuple[Path, Path]:
    """An audit of the original, written as a known-content index by ``scan --similar``."""
    if not (corpus / ORIGINAL).exists():
        pytest.skip(f"the corpus lacks {ORIGINAL}")
    base = tmp_path_factory.mktemp("known")
    audit = base / "audit"
    audit.mkdir()
    shutil.copyfile(corpus / ORIGINAL, audit / "lady.png")
    index = base / "known.idx"
    done = run_cli(str(audit), "--similar", "--similar-index", str(index), "--out", str(base / "scan"),
                   "--progress", "none")  # fmt: skip
    assert done.returncode in (0, 1), done.stderr
    assert index.exists()
    return audit / "lady.png", index


def mark_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "aigc_check", "mark", "--propagator", PROPAGATOR, "--format", "json", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=120,
    )


def label_in(path: Path) -> dict:
    labels = [e for e in Checker().check(str(path)).evidence if e.source == "gb45438"]
    assert len(labels) == 1
    return json.loads(labels[0].value)


def assert_names_original(record: dict, original: Path, where: str) -> None:
    notes = [n for n in record["notes"] if "near-duplicate" in n]
    assert len(notes) == 1 and str(original) in notes[0] and where in notes[0], record["notes"]
    evidence = [e for e in record["check"]["evidence"] if e["source"] == "near-duplicate"]
    assert len(evidence) == 1 and evidence[0]["location"] == str(original)


def test_mark_with_the_index_writes_the_suspected_tier_and_names_the_original(known, tmp_path):
    original, index = known
    upload = stripped_copy(original, tmp_path / "upload.jpg")
    done = mark_cli("--similar-index", str(index), "--propagate-id", "note-1", "--out", str(tmp_path / "out.jpg"),
                    str(upload))  # fmt: skip
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    assert record["action"] == "marked" and record["label"]["Label"] == SUSPECTED_TIER
    assert record["check"]["label"] == "suspected-ai" and record["check"]["status"] == "ai-generated"
    assert_names_original(record, original, str(index))
    # The output carries the label written, read back by a checker that knows no index.
    assert label_in(tmp_path / "out.jpg") == record["label"]

    # The same upload without the index: nothing says AI, so nothing is added.
    plain = mark_cli("--propagate-id", "note-1", "--out", str(tmp_path / "plain.jpg"), str(upload))
    assert plain.returncode == 0, plain.stderr
    record = json.loads(plain.stdout)
    assert record["action"] == "copied-unchanged" and record["label"] is None
    assert not any("near-duplicate" in n for n in record["notes"])
    assert (tmp_path / "plain.jpg").read_bytes() == upload.read_bytes()


def test_an_unrelated_upload_is_not_marked_by_the_index(known, corpus, tmp_path):
    _, index = known
    other = stripped_copy(corpus / "pillow" / "hopper.jpg", tmp_path / "hopper.jpg", (512, 512))
    done = mark_cli("--similar-index", str(index), "--propagate-id", "n", "--out", str(tmp_path / "o.jpg"), str(other))
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    assert record["action"] == "copied-unchanged" and record["notes"] == ["policy cn gives this file no label "
                                                                          "(verdict compliant)"]  # fmt: skip


def test_the_library_mark_reads_the_index(known, tmp_path):
    original, index = known
    data = stripped_copy(original, tmp_path / "upload.jpg", (500, 875), 45).read_bytes()
    result = mark(data, PROPAGATOR, "note-2", similar_index=index)
    assert result.action.value == "marked" and result.label is not None and result.label.Label == SUSPECTED_TIER
    assert_names_original(result.to_dict(), original, str(index))
    assert mark(data, PROPAGATOR, "note-2").action.value == "copied-unchanged"
    with pytest.raises(UsageError, match="similar index"):
        mark(data, PROPAGATOR, "note-2", similar_index=tmp_path / "none.idx")
    with pytest.raises(UsageError, match="checker"):
        mark(data, PROPAGATOR, "note-2", similar_index=index, checker=Checker())


@pytest.mark.parametrize(
    "content, message",
    [(None, "cannot read the similar index"), ("not an index\n", "line 1: not valid JSON"), ("", "empty")],
)
def test_a_missing_or_malformed_index_is_a_usage_error_and_nothing_is_written(tmp_path, content, message):
    index = tmp_path / "known.idx"
    if content is not None:
        index.write_text(content, encoding="utf-8")
    upload = tmp_path / "upload.jpg"
    Image.new("RGB", (64, 64), (200, 30, 30)).save(upload, "JPEG")
    done = mark_cli("--similar-index", str(index), "--propagate-id", "n", "--out", str(tmp_path / "out.jpg"),
                    str(upload))  # fmt: skip
    assert done.returncode == 2 and message in done.stderr and done.stdout == ""
    assert not (tmp_path / "out.jpg").exists()


def test_scan_mark_into_marks_a_stripped_copy_of_this_audits_ai(known, tmp_path):
    """Without --similar-index the scan's own confirmed AI files are the index of the mark pass."""
    original, _ = known
    folder = tmp_path / "uploads"
    folder.mkdir()
    shutil.copyfile(original, folder / "lady.png")
    stripped_copy(original, folder / "repost.jpg")
    out, into = tmp_path / "scan", tmp_path / "stamped"
    done = run_cli(str(folder), "--similar", "--out", str(out), "--progress", "none", "--mark-into", str(into),
                   "--propagator", PROPAGATOR, "--propagate-id", "p-{sha256}")  # fmt: skip
    assert done.returncode == 1, done.stderr  # the original is unlabelled AI
    records = {Path(r["path"]).name: r for r in map(json.loads, (out / "mark.jsonl").read_text().splitlines())}
    repost = records["repost.jpg"]
    assert repost["action"] == "marked" and repost["label"]["Label"] == SUSPECTED_TIER
    assert_names_original(repost, folder / "lady.png", str(out / "results.jsonl"))
    assert label_in(into / "repost.jpg") == repost["label"]
    assert records["lady.png"]["action"] == "refused"  # its C2PA manifest: no credentials to re-sign


def test_scan_mark_into_reads_the_given_index(known, tmp_path):
    original, index = known
    folder = tmp_path / "uploads"
    folder.mkdir()
    stripped_copy(original, folder / "repost.jpg", (640, 1120), 40)
    given = tmp_path / "known.idx"
    shutil.copyfile(index, given)  # the scan adds to the index it is given: keep the module's as it is
    out, into = tmp_path / "scan", tmp_path / "stamped"
    done = run_cli(str(folder), "--similar", "--similar-index", str(given), "--out", str(out), "--progress", "none",
                   "--mark-into", str(into), "--propagator", PROPAGATOR, "--propagate-id", "p-{sha256}")  # fmt: skip
    assert done.returncode == 1, done.stderr
    (repost,) = map(json.loads, (out / "mark.jsonl").read_text().splitlines())
    assert repost["action"] == "marked" and repost["label"]["Label"] == SUSPECTED_TIER
    assert_names_original(repost, original, str(given))


def test_serve_mark_reads_the_index(known, tmp_path):
    from serve_helpers import ServerProcess, query, request

    original, index = known
    data = stripped_copy(original, tmp_path / "upload.jpg").read_bytes()
    with ServerProcess(["--workers", "1", "--similar-index", str(index)]) as server:
        answer = request(server.url, "POST", "/v1/mark?" + query(propagator=PROPAGATOR, propagate_id="note-3"), data,
                         {"Content-Type": "application/octet-stream"})  # fmt: skip
    assert answer.status == 200, answer.body
    record = json.loads(base64.b64decode(answer.headers["x-aigc-check-result"]))
    assert record["action"] == "marked" and record["label"]["Label"] == SUSPECTED_TIER
    assert_names_original(record, original, str(index))
    out = tmp_path / "out.jpg"
    out.write_bytes(answer.body)
    assert label_in(out) == record["label"]
