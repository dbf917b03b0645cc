"""``aigc-check compare`` on pairs made by real pipelines (``fixtures/makers/pipelines.py``: Pillow
re-saves, ffmpeg remuxes and transcodes, ``exiftool -all=`` and exiftool label edits, plain copies),
on folder trees, and on bad input (a side missing, empty, not media, a FIFO in a tree)."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT, TEST_ROOT_CA

from aigc_check import CheckOptions, compare
from aigc_check.cli import main
from aigc_check.compare_marks import Comparer, PairVerdict
from aigc_check.compare_marks.model import SCHEMA, C2paChange, Change, PairComparison
from fixtures.makers import pipelines
from fixtures.makers.pipelines import PIPELINES, ToolMissing

TRUSTING = CheckOptions(trust_anchor_files=(str(TEST_ROOT_CA),))
BY_NAME = {p.name: p for p in PIPELINES}


@pytest.fixture(scope="module")
def comparer() -> Comparer:
    return Comparer(TRUSTING)


@pytest.fixture(scope="module")
def pairs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path] | str]:
    """Every pipeline's (original, delivered), or why it could not run (a tool not installed)."""
    out = tmp_path_factory.mktemp("pipelines")
    made: dict[str, tuple[Path, Path] | str] = {}
    for p in PIPELINES:
        try:
            made[p.name] = p.make(out)
        except ToolMissing as exc:
            made[p.name] = str(exc)
    return made


def _pair(pairs: dict, name: str) -> tuple[Path, Path]:
    made = pairs[name]
    if isinstance(made, str):
        pytest.skip(f"pipeline {name}: {made}")
    return made


def _elements(result: PairComparison) -> dict[str, tuple[str | None, str | None, Change]]:
    assert result.label is not None
    return {e.name: (e.original, e.delivered, e.change) for e in result.label.elements}


@pytest.mark.parametrize("name", [p.name for p in PIPELINES])
def test_every_pipeline_gets_its_verdict(pairs: dict, comparer: Comparer, name: str) -> None:
    original, delivered = _pair(pairs, name)
    result = comparer.pair(original, delivered)
    assert result.verdict.value == BY_NAME[name].verdict, (BY_NAME[name].why, result.details)
    assert result.errors == []
    # Only a lost label, a change without a chain and a broken manifest are problems.
    assert result.accepted == (result.verdict in (PairVerdict.PRESERVED, PairVerdict.LABEL_ADDED))


def test_unchanged_copy_keeps_every_element(pairs: dict, comparer: Comparer) -> None:
    result = comparer.pair(*_pair(pairs, "copy-jpeg"))
    assert result.label is not None and result.label.change is Change.KEPT
    elements = _elements(result)
    assert elements["Label"] == ("1", "1", Change.KEPT)
    assert elements["ContentProducer"] == ("001191110102MACQD9K64010000",) * 2 + (Change.KEPT,)
    assert elements["ContentPropagator"] == ("", "", Change.KEPT)
    assert [e.name for e in result.label.elements][:7] == [
        "Label",
        "ContentProducer",
        "ProduceID",
        "ReservedCode1",
        "ContentPropagator",
        "PropagateID",
        "ReservedCode2",
    ]
    assert result.c2pa is not None and result.c2pa.change is C2paChange.ABSENT


def test_signed_copy_keeps_the_same_active_manifest(pairs: dict, comparer: Comparer) -> None:
    result = comparer.pair(*_pair(pairs, "copy-c2pa"))
    assert result.c2pa is not None and result.c2pa.change is C2paChange.KEPT
    assert result.c2pa.original.active_manifest == result.c2pa.delivered.active_manifest
    assert result.c2pa.original.active_manifest and result.c2pa.original.active_manifest.startswith("urn:c2pa:")
    assert result.c2pa.delivered.validation_state == "Trusted"


def test_pillow_resave_loses_the_label_and_the_ai_status(pairs: dict, comparer: Comparer) -> None:
    result = comparer.pair(*_pair(pairs, "pillow-jpeg"))
    assert result.label is not None and result.label.change is Change.LOST
    assert result.label.delivered is None
    assert _elements(result)["Label"] == ("1", None, Change.LOST)
    assert result.status == {"original": "ai-generated", "delivered": "unknown"}


def test_pillow_resave_of_a_signed_image_breaks_c2pa(pairs: dict, comparer: Comparer) -> None:
    result = comparer.pair(*_pair(pairs, "pillow-c2pa"))
    assert result.c2pa is not None and result.c2pa.change is C2paChange.LOST
    assert result.c2pa.original.validation_state == "Trusted"
    assert result.details[0] == "the C2PA manifest was removed"


def test_label_written_into_a_signed_file_without_resigning_breaks_c2pa(pairs: dict, comparer: Comparer) -> None:
    result = comparer.pair(*_pair(pairs, "exiftool-label-on-c2pa"))
    assert result.c2pa is not None and result.c2pa.change is C2paChange.BROKEN
    assert result.c2pa.original.active_manifest == result.c2pa.delivered.active_manifest
    assert result.c2pa.delivered.validation_state == "Invalid"
    assert result.label is not None and result.label.change is Change.ADDED  # the label itself is fine


def test_exiftool_strip_loses_label_and_manifest(pairs: dict, comparer: Comparer) -> None:
    result = comparer.pair(*_pair(pairs, "exiftool-strip"))
    assert result.label is not None and result.label.change is Change.LOST
    assert result.c2pa is not None and result.c2pa.change is C2paChange.LOST
    assert "the C2PA manifest was removed" in result.details


def test_exiftool_label_edit_is_a_change(pairs: dict, comparer: Comparer) -> None:
    result = comparer.pair(*_pair(pairs, "exiftool-edit-label"))
    elements = _elements(result)
    assert elements["Label"] == ("1", "2", Change.CHANGED)
    assert elements["ProduceID"][2] is Change.KEPT
    assert result.label is not None and result.label.delivered is not None
    assert result.label.delivered.label == "2"
    # The meaning is the policy's: cn maps Label 2 to "possibly-ai".
    assert result.label.delivered.meaning["zh"] == "该内容可能为人工智能生成合成内容"


def test_propagation_added_by_a_platform_is_not_a_change(pairs: dict, comparer: Comparer) -> None:
    result = comparer.pair(*_pair(pairs, "exiftool-propagation"))
    assert result.label is not None and result.label.change is Change.PROPAGATION_ADDED
    elements = _elements(result)
    assert elements["ContentPropagator"] == ("", pipelines.PLATFORM_PROPAGATOR, Change.ADDED)
    assert elements["PropagateID"] == ("", "post-0001", Change.ADDED)
    assert all(elements[k][2] is Change.KEPT for k in ("Label", "ContentProducer", "ProduceID"))


def test_a_changed_propagator_is_a_change(tmp_path: Path, comparer: Comparer) -> None:
    first = tmp_path / "first.jpg"
    first.write_bytes(pipelines.jpeg_with_label(pipelines.plain_jpeg(), pipelines.propagated_value()))
    second = tmp_path / "second.jpg"
    second.write_bytes(
        pipelines.jpeg_with_label(
            pipelines.plain_jpeg(), pipelines.label_value(ContentPropagator="OTHERPLATFORM", PropagateID="x")
        )
    )
    result = comparer.pair(first, second)
    assert result.verdict is PairVerdict.LABEL_CHANGED and not result.accepted
    assert _elements(result)["ContentPropagator"][2] is Change.CHANGED


def test_a_label_added_where_there_was_none(tmp_path: Path, comparer: Comparer) -> None:
    plain = pipelines.plain_jpeg()
    (tmp_path / "a.jpg").write_bytes(plain)
    (tmp_path / "b.jpg").write_bytes(pipelines.jpeg_with_label(plain, pipelines.propagated_value()))
    result = comparer.pair(tmp_path / "a.jpg", tmp_path / "b.jpg")
    assert result.verdict is PairVerdict.LABEL_ADDED and result.accepted
    assert result.label is not None and result.label.change is Change.ADDED
    assert result.status == {"original": "unknown", "delivered": "ai-generated"}


def test_ffmpeg_keeps_the_mp4_label_only_with_metadata_tags(pairs: dict, comparer: Comparer) -> None:
    lost = comparer.pair(*_pair(pairs, "ffmpeg-mp4-copy"))
    kept = comparer.pair(*_pair(pairs, "ffmpeg-mp4-keep"))
    assert lost.label is not None and lost.label.change is Change.LOST
    assert kept.label is not None and kept.label.change is Change.KEPT
    assert kept.label.original is not None and kept.label.delivered is not None
    assert kept.label.original.field == kept.label.delivered.field


def test_bytes_and_the_public_api(comparer: Comparer) -> None:
    data = (FIXTURES / "gb-png-itxt.png").read_bytes()
    result = compare(data, data)
    assert result.verdict is PairVerdict.PRESERVED
    assert (result.original, result.delivered) == ("<original>", "<delivered>")
    import aigc_check

    assert aigc_check.compare is compare  # the package of the same purpose does not shadow the function
    assert callable(aigc_check.compare)


# -- bad input -------------------------------------------------------------------------------------


def test_a_missing_or_empty_delivered_file_is_a_pair_error(tmp_path: Path, comparer: Comparer) -> None:
    original = FIXTURES / "gb-jpeg-xmp-element.jpg"
    missing = comparer.pair(original, tmp_path / "nope.jpg")
    assert missing.verdict is PairVerdict.ERROR and not missing.accepted
    assert [(e.side, e.code) for e in missing.errors] == [("delivered", "not-found")]
    (tmp_path / "empty.jpg").write_bytes(b"")
    empty = comparer.pair(original, tmp_path / "empty.jpg")
    assert [(e.side, e.code) for e in empty.errors] == [("delivered", "empty")]
    assert empty.label is None  # nothing is claimed about the labels of a file that was not read


def test_truncated_and_garbage_sides(tmp_path: Path, comparer: Comparer) -> None:
    original = FIXTURES / "c2pa-ai-created.jpg"
    (tmp_path / "garbage.bin").write_bytes(os.urandom(64).replace(b"\xff", b"\x00"))
    result = comparer.pair(tmp_path / "garbage.bin", original)
    assert result.verdict is PairVerdict.ERROR
    assert [(e.side, e.code) for e in result.errors] == [("original", "unsupported-format")]
    both = comparer.pair(tmp_path / "garbage.bin", tmp_path / "garbage.bin")
    assert both.verdict is PairVerdict.NOT_MEDIA and both.accepted
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(original.read_bytes()[: original.stat().st_size // 2])
    truncated = comparer.pair(original, cut)
    # Cut inside the image data: the walk fails, so the pair is an error, not a verdict on its labels.
    assert truncated.verdict is PairVerdict.ERROR and not truncated.accepted
    assert [(e.side, e.code) for e in truncated.errors] == [("delivered", "malformed")]


# -- trees and the command -------------------------------------------------------------------------


@pytest.fixture
def trees(tmp_path: Path, pairs: dict) -> tuple[Path, Path]:
    before, after = tmp_path / "uploads", tmp_path / "delivered"
    (before / "sub").mkdir(parents=True)
    (after / "sub").mkdir(parents=True)
    resaved = _pair(pairs, "pillow-jpeg")
    shutil.copyfile(resaved[0], before / "a.jpg")
    shutil.copyfile(resaved[1], after / "a.jpg")  # label-lost
    shutil.copyfile(FIXTURES / "gb-png-itxt.png", before / "sub" / "b.png")
    shutil.copyfile(FIXTURES / "gb-png-itxt.png", after / "sub" / "b.png")  # preserved
    shutil.copyfile(FIXTURES / "c2pa-ai-created.jpg", before / "only-original.jpg")  # missing-delivered
    shutil.copyfile(FIXTURES / "gb-png-text.png", after / "only-delivered.png")  # extra-delivered
    shutil.copyfile(FIXTURES / "gb-png-text.png", before / "emptied.png")
    (after / "emptied.png").write_bytes(b"")  # error
    return before, after


def _json_lines(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_trees_matched_by_relative_path(trees: tuple[Path, Path], capsys: pytest.CaptureFixture) -> None:
    before, after = trees
    code = main(["compare", "--format", "json", str(before), str(after)])
    records = {r["relative"]: r for r in _json_lines(capsys.readouterr().out)}
    assert {k: r["verdict"] for k, r in records.items()} == {
        "a.jpg": "label-lost",
        os.path.join("sub", "b.png"): "preserved",
        "only-original.jpg": "missing-delivered",
        "only-delivered.png": "extra-delivered",
        "emptied.png": "error",
    }
    assert code == 1  # a label was lost
    assert records["only-original.jpg"]["delivered"] is None
    assert records["emptied.png"]["errors"] == [{"side": "delivered", "code": "empty", "message": "the file is empty"}]
    assert all(r["schema"] == SCHEMA for r in records.values())


def test_tree_exit_code_without_a_problem_is_3_for_an_incomplete_pair(
    trees: tuple[Path, Path], capsys: pytest.CaptureFixture
) -> None:
    before, after = trees
    (before / "a.jpg").unlink()
    (after / "a.jpg").unlink()
    assert main(["compare", str(before), str(after)]) == 3  # missing-delivered and an error, nothing lost
    (before / "only-original.jpg").unlink()
    (before / "emptied.png").unlink()
    (after / "emptied.png").unlink()
    assert main(["compare", str(before), str(after)]) == 0  # preserved + extra-delivered
    capsys.readouterr()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_a_fifo_in_a_tree_is_reported_not_read(trees: tuple[Path, Path], capsys: pytest.CaptureFixture) -> None:
    before, after = trees
    os.mkfifo(after / "sub" / "pipe.jpg")
    main(["compare", "--format", "json", str(before), str(after)])
    records = {r["relative"]: r for r in _json_lines(capsys.readouterr().out)}
    fifo = records[os.path.join("sub", "pipe.jpg")]
    assert fifo["verdict"] == "error" and fifo["errors"][0]["code"] == "special-file"


def test_text_output_words_labels_as_the_policy_does(pairs: dict, capsys: pytest.CaptureFixture) -> None:
    original, delivered = _pair(pairs, "exiftool-edit-label")
    assert main(["compare", str(original), str(delivered)]) == 1
    out = capsys.readouterr().out
    assert "LABEL-CHANGED" in out
    assert "Label 1 (该内容为人工智能生成合成内容 / AI-generated content)" in out
    assert "Label 2 (该内容可能为人工智能生成合成内容 / This content may be AI-generated)" in out
    assert re.search(r"Label\s+1 -> 2\s+changed", out)
    main(["compare", "--policy", "eu", str(original), str(delivered)])
    eu = capsys.readouterr().out
    assert "该内容" not in eu  # the eu policy declares English only


def test_csv_output(pairs: dict, capsys: pytest.CaptureFixture) -> None:
    original, delivered = _pair(pairs, "pillow-jpeg")
    assert main(["compare", "--format", "csv", str(original), str(delivered)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split(",")[:5] == ["relative", "original", "delivered", "verdict", "accepted"]
    row = lines[1].split(",")
    assert row[3:6] == ["label-lost", "false", "lost"]


def test_output_file_and_quiet(trees: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """``-o FILE`` gets the report whole (standard output nothing), ``-q`` one line per pair and no
    summary, and a usage error leaves FILE as it was."""
    before, after = trees
    assert main(["compare", str(before), str(after)]) == 1
    full = capsys.readouterr().out
    report = tmp_path / "report.txt"
    assert main(["compare", str(before), str(after), "-o", str(report)]) == 1
    assert capsys.readouterr().out == "" and report.read_text(encoding="utf-8") == full
    assert main(["compare", "-q", str(before), str(after)]) == 1
    quiet = capsys.readouterr().out.splitlines()
    firsts = [line for line in full.splitlines() if line and not line.startswith(" ")]
    assert quiet == firsts[:-1] and len(quiet) == 5  # the five pairs' first lines; the summary is the last
    assert main(["compare", "--format", "json", str(before), str(after), "-o", str(report)]) == 1
    assert len(_json_lines(report.read_text(encoding="utf-8"))) == 5
    assert main(["compare", str(FIXTURES / "gb-png-itxt.png"), str(tmp_path), "-o", str(report)]) == 2
    assert len(_json_lines(report.read_text(encoding="utf-8"))) == 5  # as it was
    assert main(["compare", str(before), str(after), "-o", str(tmp_path / "no-such-folder" / "r.txt")]) == 2
    assert "cannot write" in capsys.readouterr().err


def test_an_output_file_inside_a_compared_folder_is_not_one_of_its_files(
    trees: tuple[Path, Path], capsys: pytest.CaptureFixture
) -> None:
    """The report is written once the pairs are compared, so the walk of the folder it goes into
    meets neither it nor a temporary file beside it."""
    before, after = trees
    assert main(["compare", str(before), str(after)]) == 1
    full = capsys.readouterr().out
    for inside in (before / "pairs.txt", after / "sub" / "pairs.txt"):
        assert main(["compare", str(before), str(after), "-o", str(inside)]) == 1
        assert inside.read_text(encoding="utf-8") == full, inside
        inside.unlink()
    assert capsys.readouterr().out == ""


def test_a_file_and_a_folder_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["compare", str(FIXTURES / "gb-png-itxt.png"), str(tmp_path)]) == 2
    assert "two files, or two folders" in capsys.readouterr().err


def test_readme_documents_every_record_key() -> None:
    result = compare(FIXTURES / "gb-png-itxt.png", FIXTURES / "gb-png-itxt.png").to_dict()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Comparing an original with what was delivered", 1)[1].split("\n## ", 1)[0]
    for key in result:
        assert f"`{key}`" in section, key
    for verdict in PairVerdict:
        assert f"`{verdict.value}`" in section, verdict
    for change in [*Change, *C2paChange]:
        assert f"`{change.value}`" in section, change


# -- mark ------------------------------------------------------------------------------------------


def test_a_marked_file_is_label_added_or_preserved(tmp_path: Path, comparer: Comparer) -> None:
    from aigc_check.mark import core

    assert core is not None
    original = FIXTURES / "gb-jpeg-xmp-element.jpg"
    propagation = core.Propagation(propagator=pipelines.PLATFORM_PROPAGATOR, propagate_id="post-0001")
    marked = core.mark_bytes(comparer.checker, original.read_bytes(), propagation, "ai", name=str(original))
    assert marked.data is not None, marked.result.notes
    out = tmp_path / "marked.jpg"
    out.write_bytes(marked.data)
    result = comparer.pair(original, out)
    assert result.verdict is PairVerdict.LABEL_ADDED and result.accepted
    assert result.label is not None and result.label.change is Change.PROPAGATION_ADDED
    assert _elements(result)["ContentPropagator"][1] == pipelines.PLATFORM_PROPAGATOR


def test_hostile_label_text_and_names_never_break_the_output(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """A label element that decodes to a lone surrogate, a control character or a line break, and a
    file name that is not UTF-8: every output is written, and a line stays a line."""
    value = json.dumps({"Label": "1", "ContentProducer": "\ud800x", "ProduceID": "a\nFAKE: line\x1b[31m"})
    before, after = tmp_path / "a", tmp_path / "b"
    before.mkdir()
    after.mkdir()
    name = os.fsdecode(b"odd-\xff.jpg")
    plain = pipelines.plain_jpeg()
    (before / name).write_bytes(pipelines.jpeg_with_label(plain, value))
    (after / name).write_bytes(pipelines.jpeg_with_label(plain, pipelines.label_value()))
    for fmt in ("text", "json", "csv"):
        assert main(["compare", "--format", fmt, str(before), str(after)]) == 1
        out = capsys.readouterr().out
        assert "\x1b" not in out and "\nFAKE" not in out
    main(["compare", "--format", "json", str(before), str(after)])
    (record,) = _json_lines(capsys.readouterr().out)
    assert record["verdict"] == "label-changed"
    elements = {e["name"]: e for e in record["label"]["elements"]}
    # a lone surrogate escape is read as U+FFFD (label_decoding), with a malformed-label defect
    assert elements["ContentProducer"]["original"] == "\ufffdx"
    assert os.fsencode(record["relative"]) == b"odd-\xff.jpg"


def test_unusable_labels_are_compared_as_written(comparer: Comparer) -> None:
    same = comparer.pair(FIXTURES / "gb-malformed-label-enum.png", FIXTURES / "gb-malformed-label-enum.png")
    assert same.verdict is PairVerdict.PRESERVED
    assert same.label is not None and same.label.original is not None and not same.label.original.usable
    other = comparer.pair(FIXTURES / "gb-malformed-label-enum.png", FIXTURES / "sig-gbbad-ambiguous.png")
    assert other.verdict is PairVerdict.LABEL_CHANGED and not other.accepted
    damaged = comparer.pair(FIXTURES / "gb-png-text.png", FIXTURES / "gb-malformed-label-enum.png")
    assert damaged.verdict is PairVerdict.LABEL_CHANGED
    assert damaged.label is not None and damaged.label.delivered is not None
    assert damaged.label.original is not None and damaged.label.original.usable and not damaged.label.delivered.usable
