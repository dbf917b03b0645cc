"""``aigc-check mark`` (issue 15): the decision, the image and PDF writers, safe output, the CLI.

Every round trip marks a real file (a fixture, a corpus file, or one made by
``fixtures/makers/mark_inputs.py``), checks the output with the checker and with exiftool, and
compares the decoded pixels and the container's non-metadata parts before and after."""

from __future__ import annotations

import io
import json
import os
import sys

import pytest
from conftest import FIXTURES, ROOT, corpus_dir
from mark_helpers import (
    HAVE_EXIFTOOL,
    exiftool_label,
    gif_parts,
    heif_items,
    jpeg_parts,
    pixels,
    png_parts,
    tiff_changed_ranges,
    tiff_xmp_span,
    webp_parts,
)
from PIL import features

from aigc_check import Checker, CheckOptions, mark
from aigc_check.cli import ExitStatus, main
from aigc_check.errors import PolicyError, UsageError
from aigc_check.mark.core import MarkAction, MarkResult, Propagation, mark_bytes
from aigc_check.mark.label import LabelFields, LabelValueError
from aigc_check.policy import _validate, load_policy

sys.path.insert(0, str(ROOT / "fixtures"))
from makers import mark_inputs

PROPAGATOR = "001191110102MA01ABCDE22XHS1"  # 27 characters: 00, 1, 1, an 18-character USCC, 2, XHS1
assert len(PROPAGATOR) == 27
PROPAGATION = Propagation(PROPAGATOR, "note-8842")
# exiftool (12.57) warns "Can't currently extract application/rdf+xml with construction method 1":
# it reads no XMP item stored in idat, the input's label included.
EXIFTOOL_CANNOT = {"heif-xmp-idat.heic"}


@pytest.fixture(scope="module")
def checker() -> Checker:
    return Checker(CheckOptions())


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def made(name: str) -> bytes:
    if name == "avif_plain" and not features.check("avif"):
        pytest.skip("this Pillow has no AVIF encoder (libavif)")
    return getattr(mark_inputs, name)()


def the_label(checker: Checker, data: bytes) -> tuple[dict, str]:
    """The one GB 45438 label the checker reads in ``data``, and where."""
    result = checker.check(data)
    labels = [e for e in result.evidence if e.source == "gb45438"]
    assert len(labels) == 1, [e.location for e in labels]
    assert "aigc-label-duplicate" not in {f.code for f in result.findings}
    return json.loads(labels[0].value), labels[0].location


def non_metadata(fmt: str, data: bytes) -> object:
    return {
        "jpeg": jpeg_parts,
        "png": png_parts,
        "webp": webp_parts,
        "gif": gif_parts,
        "avif": heif_items,
        "heif": heif_items,
        "heic": heif_items,
    }[fmt](data)


# (input, how it is made, declared, action, Label written)
ROUND_TRIPS = [
    ("gen-flux.jpg", fixture, "none", "marked", "3"),  # traces: case 3, suspected
    ("plain.jpg", fixture, "ai", "marked", "2"),  # declared: case 2, may be
    ("gb-jpeg-xmp-element.jpg", fixture, "none", "updated", "1"),  # an existing label
    ("gb-jpeg-xmp-attribute.jpg", fixture, "none", "updated", "1"),
    ("gb-jpeg-xmp-lowercase-prefix.jpg", fixture, "none", "updated", "1"),
    ("gb-png-xmp.png", fixture, "none", "updated", "1"),
    ("gen-comfyui.png", fixture, "none", "marked", "3"),
    ("png-itxt-after-idat.png", fixture, "none", "updated", "1"),
    ("plain.png", fixture, "ai", "marked", "2"),
    ("gb-webp-xmp.webp", fixture, "none", "updated", "1"),
    ("gen-comfyui.webp", fixture, "none", "marked", "3"),
    ("plain.webp", fixture, "ai", "marked", "2"),  # simple VP8L: VP8X added
    ("webp_lossy", made, "ai", "marked", "2"),  # simple VP8: VP8X added
    ("gb-gif-xmp.gif", fixture, "none", "updated", "1"),
    ("gen-a1111-comment.gif", fixture, "none", "marked", "3"),
    ("plain.gif", fixture, "ai", "marked", "2"),  # GIF87a: becomes GIF89a
    ("gb-avif-xmp.avif", fixture, "none", "updated", "1"),  # in place, same length
    ("avif_plain", made, "ai", "marked", "2"),  # a new XMP item
    ("heif-xmp-idat.heic", fixture, "none", "updated", "1"),
    ("heif-xmp-two-extents.avif", fixture, "none", "updated", "1"),
]


@pytest.mark.parametrize(("name", "source", "declared", "action", "tier"), ROUND_TRIPS, ids=[r[0] for r in ROUND_TRIPS])
def test_round_trip(checker, tmp_path, name, source, declared, action, tier):
    data = source(name)
    before = checker.check(data, declared)
    result = mark_bytes(checker, data, PROPAGATION, declared, name)
    assert result.action.value == action, result.notes
    assert result.data is not None and result.data != data
    read, location = the_label(checker, result.data)
    assert read["Label"] == tier
    assert read["ContentPropagator"] == PROPAGATOR and read["PropagateID"] == "note-8842"
    assert location == result.location
    old = [e for e in before.evidence if e.source == "gb45438"]
    if old:  # the producer's elements are kept as they were
        values = json.loads(old[0].value)
        for key in ("Label", "ContentProducer", "ProduceID", "ReservedCode1"):
            assert read[key] == values.get(key, ""), key
    else:  # a new label: producer elements empty, not invented
        assert read["ContentProducer"] == read["ProduceID"] == read["ReservedCode1"] == ""
    if before.format not in ("heif", "heic", "avif") or name == "avif_plain":
        assert pixels(result.data) == pixels(data)
    assert non_metadata(before.format, result.data) == non_metadata(before.format, data)
    assert checker.check(result.data, declared).format == before.format
    if HAVE_EXIFTOOL and name not in EXIFTOOL_CANNOT:
        out = tmp_path / name
        out.write_bytes(result.data)
        assert json.loads(exiftool_label(str(out)) or "null") == read


def test_a_second_mark_changes_nothing(checker):
    once = mark_bytes(checker, fixture("gen-flux.jpg"), PROPAGATION, "none").data
    again = mark_bytes(checker, once, PROPAGATION, "none")
    assert again.action is MarkAction.COPIED and again.data == once
    assert "already carries exactly this label" in " ".join(again.notes)


TIFFS = ["gb-tiff-xmp.tif", "iim-drawthings-program.tif", "xmp-utf16le.tif", "xmp-utf32be-bom.tif"]


@pytest.mark.parametrize("name", TIFFS)
def test_tiff_round_trip(checker, tmp_path, name):
    data = fixture(name)
    span = tiff_xmp_span(data)
    result = mark_bytes(checker, data, PROPAGATION, "ai", name)
    assert result.action in (MarkAction.MARKED, MarkAction.UPDATED), result.notes
    read, _ = the_label(checker, result.data)
    assert read["ContentPropagator"] == PROPAGATOR
    assert pixels(result.data) == pixels(data)
    # Nothing before the old end of file changed but the header's IFD0 offset, the XMP entry and packet.
    allowed = [(4, 8)] + ([span] if span else [])
    bo = "<" if data[:2] == b"II" else ">"
    ifd0 = int.from_bytes(data[4:8], "little" if bo == "<" else "big")
    allowed.append((ifd0, ifd0 + 2 + 12 * 64))
    for start, end in tiff_changed_ranges(data, result.data):
        assert any(a <= start and end <= b for a, b in allowed), (start, end)
    if HAVE_EXIFTOOL:
        out = tmp_path / name
        out.write_bytes(result.data)
        assert json.loads(exiftool_label(str(out)) or "null") == read


def test_utf16_packet_rewritten_in_its_encoding(checker):
    data = fixture("xmp-utf16le.tif")
    result = mark_bytes(checker, data, PROPAGATION, "ai")
    assert len(result.data) == len(data)  # the padding took the change: rewritten where it was
    start, end = tiff_xmp_span(result.data)
    assert result.data[start:end][1:2] == b"\x00"  # still UTF-16LE


@pytest.mark.parametrize("name", ["doc-gb-info.pdf", "doc-plain.pdf", "doc-gb-xmp.pdf", "sig-gb-pdf-subject.pdf"])
def test_pdf_round_trip(checker, name):
    pikepdf = pytest.importorskip("pikepdf")
    data = fixture(name)
    result = mark_bytes(checker, data, PROPAGATION, "ai", name)
    assert result.action in (MarkAction.MARKED, MarkAction.UPDATED), result.notes
    read, _ = the_label(checker, result.data)
    assert read["ContentPropagator"] == PROPAGATOR
    with pikepdf.open(io.BytesIO(data)) as a, pikepdf.open(io.BytesIO(result.data)) as b:
        assert json.loads(str(b.docinfo["/AIGC"])) == read  # in the information dictionary
        assert len(a.pages) == len(b.pages)
        for pa, pb in zip(a.pages, b.pages):  # page content kept as stored, byte for byte
            contents_a = pa.obj.get("/Contents")
            contents_b = pb.obj.get("/Contents")
            if contents_a is not None:
                assert contents_a.read_raw_bytes() == contents_b.read_raw_bytes()
        if "/Metadata" in b.Root:
            assert b"tc260.org.cn/ns/AIGC" not in b.Root.Metadata.read_bytes() or "AIGC>" not in str(
                b.Root.Metadata.read_bytes()
            )


def test_pdf_signed_is_refused(checker):
    pytest.importorskip("pikepdf")
    data = fixture("doc-plain.pdf").replace(b"%%EOF", b"%/ByteRange [0 1 2 3]\n%%EOF")
    result = mark_bytes(checker, data, PROPAGATION, "ai")
    assert result.action is MarkAction.ERROR and "signed" in " ".join(result.notes)


def test_existing_label_updated_where_it_stands(checker):
    data = fixture("gb-jpeg-xmp-element.jpg")
    before = checker.check(data)
    result = mark_bytes(checker, data, PROPAGATION, "none")
    assert result.action is MarkAction.UPDATED
    assert result.location == next(e.location for e in before.evidence if e.source == "gb45438")


def test_duplicates_resolved_and_reported(checker):
    for data in (fixture("gb-duplicate-xmp-exif.jpg"), made("jpeg_two_packets")):
        assert "aigc-label-duplicate" in {f.code for f in checker.check(data).findings}
        result = mark_bytes(checker, data, PROPAGATION, "none")
        assert result.action is MarkAction.UPDATED, result.notes
        notes = " ".join(result.notes)
        assert "labels found" in notes and ("blanked" in notes or "removed" in notes)
        the_label(checker, result.data)  # exactly one, no duplicate finding


def test_annex_b_text_chunk_moves_to_the_normative_place(checker):
    result = mark_bytes(checker, fixture("gb-png-text.png"), PROPAGATION, "none")
    assert result.action is MarkAction.UPDATED
    assert "iTXt" in result.location and "removed the duplicate tEXt chunk" in " ".join(result.notes)


def test_producer_name_kept_as_found(checker):
    result = mark_bytes(checker, made("jpeg_named_producer"), PROPAGATION, "none")
    read, _ = the_label(checker, result.data)
    assert read["ContentProducer"] == "Minimax Agent AI"
    assert "kept as found" in " ".join(result.notes)


def test_c2pa_refused_by_default(checker):
    for name in ("c2pa-ai-created.jpg", "c2pa-ai-created.png", "c2pa-ai-created.webp", "c2pa-ai-created.avif"):
        result = mark_bytes(checker, fixture(name), PROPAGATION, "ai")
        assert result.action is MarkAction.REFUSED and result.reason == "c2pa-would-break"
        assert result.data is None


def test_no_label_needed_is_copied_unchanged(checker):
    result = mark_bytes(checker, fixture("plain.jpg"), PROPAGATION, "none")
    assert result.action is MarkAction.COPIED and result.data == fixture("plain.jpg")


def test_unreadable_label_is_not_replaced(checker):
    result = mark_bytes(checker, fixture("gb-liblibai-dict.png"), PROPAGATION, "ai")
    assert result.action is MarkAction.REFUSED and result.reason == "existing-label-unreadable"


def test_unreadable_file_is_an_error(checker):
    result = mark_bytes(checker, fixture("broken-truncated-in-app1.jpg"), PROPAGATION, "ai")
    assert result.action is MarkAction.ERROR and result.data is None


def test_extended_xmp_label_moves_to_the_main_packet(checker):
    data = fixture("xmp-extended-label.jpg")
    before = checker.check(data)
    result = mark_bytes(checker, data, PROPAGATION, "none")
    assert result.action is MarkAction.UPDATED, result.notes
    read, location = the_label(checker, result.data)
    assert "Extended" not in location and "moved the label out of the Extended XMP part" in " ".join(result.notes)
    old = json.loads(next(e.value for e in before.evidence if e.source == "gb45438"))
    assert read["ProduceID"] == old["ProduceID"]
    after = checker.check(result.data)
    # The rewritten part is whole, its GUID its digest, and the main packet names it.
    assert not {f.code for f in after.findings} & {"xmp-extended-mismatch", "xmp-extended-incomplete"}
    assert not [e for e in after.errors if "xtended" in e.message]
    assert jpeg_parts(result.data) == jpeg_parts(data) and pixels(result.data) == pixels(data)


def test_eu_policy_does_not_mark():
    eu = Checker(CheckOptions(policy="eu"))
    result = mark_bytes(eu, fixture("gen-flux.jpg"), PROPAGATION, "ai")
    assert result.action is MarkAction.COPIED and "EU AI Act" in " ".join(result.notes)


def test_label_values_validated():
    with pytest.raises(LabelValueError):
        LabelFields("4")
    with pytest.raises(LabelValueError):
        LabelFields("1", ContentPropagator="has space")
    with pytest.raises(LabelValueError):
        Propagation("").warnings()
    with pytest.raises(LabelValueError):
        Propagation(PROPAGATOR, "id-{unknown}").warnings()
    assert Propagation(PROPAGATOR, "x").warnings() == []
    assert "27-character" in Propagation("xiaohongshu", "x").warnings()[0]
    assert "service type '1'" in Propagation("001191440300708461136T1XGW3", "x").warnings()[0]  # a generator's


def test_policy_marking_section_validated():
    data = json.loads(json.dumps(load_policy("cn").data))
    data["marking"]["tiers"]["suspected-ai"] = "4"
    with pytest.raises(PolicyError, match=r"marking\.tiers\.suspected-ai"):
        _validate(data, "test")
    del data["marking"]["tiers"]["suspected-ai"]
    with pytest.raises(PolicyError, match="lacks suspected-ai"):
        _validate(data, "test")
    data["marking"] = {"writes": "yes"}
    with pytest.raises(PolicyError, match="writes"):
        _validate(data, "test")


# ---- the command -------------------------------------------------------------------------------


def run(capsys, *args):
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_marks_one_file(capsys, tmp_path):
    out = tmp_path / "stamped.jpg"
    code, stdout, _ = run(
        capsys, "mark", str(FIXTURES / "gen-flux.jpg"), "--out", str(out), "--propagator", PROPAGATOR,
        "--propagate-id", "note-8842", "--format", "json",
    )  # fmt: skip
    assert code == ExitStatus.COMPLIANT
    record = json.loads(stdout)
    assert record["schema"] == "aigc-check-mark/1" and record["action"] == "marked"
    assert record["out"] == str(out) and record["label"]["Label"] == "3"
    assert record["check"]["verdict"] == "unlabelled-ai"
    assert (FIXTURES / "gen-flux.jpg").read_bytes() != out.read_bytes()
    assert oct(out.stat().st_mode & 0o777) != "0o600"  # a normal file, not the temporary file's mode


def test_cli_bad_values_exit_2_nothing_written(capsys, tmp_path):
    out = tmp_path / "o.jpg"
    for extra in (["--propagator", "bad name"], ["--propagator", PROPAGATOR, "--propagate-id", "a b"]):
        code, _, err = run(capsys, "mark", str(FIXTURES / "gen-flux.jpg"), "--out", str(out), *extra)
        assert code == ExitStatus.USAGE and "Annex E" in err
        assert not out.exists()


def test_cli_refuses_to_overwrite(capsys, tmp_path):
    out = tmp_path / "o.jpg"
    out.write_bytes(b"keep me")
    args = ["mark", str(FIXTURES / "gen-flux.jpg"), "--out", str(out), "--propagator", PROPAGATOR]
    args += ["--propagate-id", "n1"]
    code, _, err = run(capsys, *args)
    assert code == ExitStatus.USAGE and "--overwrite" in err and out.read_bytes() == b"keep me"
    code, _, _ = run(capsys, *args, "--overwrite")
    assert code == ExitStatus.COMPLIANT and out.read_bytes() != b"keep me"


def test_cli_never_writes_the_input(capsys, tmp_path):
    src = tmp_path / "a.jpg"
    src.write_bytes(fixture("gen-flux.jpg"))
    code, _, err = run(capsys, "mark", str(src), "--out", str(src), "--propagator", PROPAGATOR, "--propagate-id", "n")
    assert code == ExitStatus.USAGE and "never writes its input" in err and src.read_bytes() == fixture("gen-flux.jpg")


def test_cli_in_place_is_atomic(capsys, tmp_path, monkeypatch):
    src = tmp_path / "a.jpg"
    src.write_bytes(fixture("gen-flux.jpg"))
    os.chmod(src, 0o640)
    inode = src.stat().st_ino
    args = ["mark", str(src), "--in-place", "--propagator", PROPAGATOR, "--propagate-id", "n"]

    def broken_replace(a, b):
        raise OSError("disk on fire")

    monkeypatch.setattr(os, "replace", broken_replace)
    code, stdout, _ = run(capsys, *args)
    assert code == ExitStatus.UNREADABLE and "write-failed" in stdout
    assert src.read_bytes() == fixture("gen-flux.jpg")  # untouched
    assert [p.name for p in tmp_path.iterdir()] == ["a.jpg"]  # no temporary file left
    monkeypatch.undo()
    code, _, _ = run(capsys, *args)
    assert code == ExitStatus.COMPLIANT
    assert src.stat().st_ino != inode  # a new file renamed over the old one
    assert src.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["a.jpg"]
    the_label(Checker(), src.read_bytes())


def test_cli_out_dir_and_declarations(capsys, tmp_path):
    sidecar = tmp_path / "posts.csv"
    a, b = FIXTURES / "plain.jpg", FIXTURES / "gen-comfyui.png"
    sidecar.write_text(f"path,declared,post_id\n{a},ai,note-1\n{b},,note-2\n", encoding="utf-8")
    report = tmp_path / "report.jsonl"
    code, _, _ = run(
        capsys, "mark", str(a), str(b), str(FIXTURES / "plain.png"), "--out-dir", str(tmp_path / "out"),
        "--declarations", str(sidecar), "--propagator", PROPAGATOR, "--report", str(report),
    )  # fmt: skip
    records = [json.loads(line) for line in report.read_text(encoding="utf-8").splitlines()]
    assert [r["action"] for r in records] == ["marked", "marked", "copied-unchanged"]
    assert [r["label"] and r["label"]["PropagateID"] for r in records[:2]] == ["note-1", "note-2"]
    assert records[0]["label"]["Label"] == "2" and records[1]["label"]["Label"] == "3"
    assert code == ExitStatus.COMPLIANT
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["gen-comfyui.png", "plain.jpg", "plain.png"]


def test_cli_two_inputs_one_output_is_refused(capsys, tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "plain.jpg").write_bytes(fixture("plain.jpg"))
    code, _, err = run(
        capsys, "mark", str(FIXTURES / "plain.jpg"), str(tmp_path / "x" / "plain.jpg"), "--out-dir",
        str(tmp_path / "out"), "--propagator", PROPAGATOR, "--propagate-id", "{sha256}",
    )  # fmt: skip
    assert code == ExitStatus.USAGE and "both be written" in err and not (tmp_path / "out").exists()


def test_cli_c2pa_refused_exit_1(capsys, tmp_path):
    out = tmp_path / "o.jpg"
    code, stdout, _ = run(
        capsys, "mark", str(FIXTURES / "c2pa-ai-created.jpg"), "--out", str(out), "--propagator", PROPAGATOR,
        "--propagate-id", "n",
    )  # fmt: skip
    assert code == ExitStatus.VIOLATION and "c2pa-would-break" in stdout and not out.exists()


def test_cli_c2pa_resign_needs_the_module(capsys, tmp_path):
    pem = tmp_path / "k.pem"
    pem.write_text("x")
    try:
        import aigc_check.mark.c2pa_resign  # noqa: F401
    except ModuleNotFoundError:
        code, _, err = run(
            capsys, "mark", str(FIXTURES / "c2pa-ai-created.jpg"), "--out", str(tmp_path / "o.jpg"),
            "--propagator", PROPAGATOR, "--propagate-id", "n", "--c2pa-cert", str(pem), "--c2pa-key", str(pem),
        )  # fmt: skip
        assert code == ExitStatus.USAGE and "c2pa_resign" in err
    else:
        pytest.skip("C2PA re-signing is built in: its own tests cover it")


def test_library_mark(tmp_path):
    out = tmp_path / "o.png"
    result = mark(FIXTURES / "gen-comfyui.png", PROPAGATOR, "n-1", out=out)
    assert result.action is MarkAction.MARKED and out.read_bytes() == result.data
    with pytest.raises(UsageError):
        mark(FIXTURES / "gen-comfyui.png", PROPAGATOR, "n-1", out=out)  # exists
    in_memory = mark(fixture("gen-comfyui.png"), PROPAGATOR, "n-1")
    assert in_memory.data == result.data and in_memory.out is None


def test_corpus_images_mark_or_refuse(checker):
    """Every image and PDF of the shared corpus: refused, copied, or a file that reads back."""
    root = corpus_dir()
    if not root.exists():
        pytest.skip(f"no shared corpus at {root} (set AIGC_CORPUS)")
    suffixes = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".tif", ".tiff", ".avif", ".heic", ".heif", ".pdf"}
    seen = 0
    for path in sorted(root.rglob("*")):
        if path.suffix.lower() not in suffixes or path.stat().st_size > 8 * 1024 * 1024:
            continue
        seen += 1
        data = path.read_bytes()
        result = mark_bytes(checker, data, PROPAGATION, "ai", str(path))
        if result.action in (MarkAction.MARKED, MarkAction.UPDATED):
            the_label(checker, result.data)
            fmt = result.check.format
            if fmt in ("jpeg", "png", "webp", "gif", "avif", "heif", "heic"):
                assert non_metadata(fmt, result.data) == non_metadata(fmt, data), path
    assert seen


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_scan_mark_into_is_resumable(capsys, tmp_path, jobs):
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    for name in ("gen-flux.jpg", "plain.png", "c2pa-ai-created.jpg"):
        (folder / name).write_bytes(fixture(name))
    (folder / "sub" / "gb-png-xmp.png").write_bytes(fixture("gb-png-xmp.png"))
    sidecar = tmp_path / "posts.csv"
    sidecar.write_text("path,declared,post_id\ngen-flux.jpg,,p-1\nplain.png,ai,p-2\n", encoding="utf-8")
    out, into = tmp_path / "out", tmp_path / "marked"
    args = ["scan", str(folder), "--declarations", str(sidecar), "--out", str(out), "-j", jobs, "--progress", "none"]
    args += ["--no-html", "--mark-into", str(into), "--propagator", PROPAGATOR, "--propagate-id", "{post_id}{sha256}"]
    assert main(args) == ExitStatus.VIOLATION
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["mark"]["files"] == {"marked": 2, "updated": 1, "refused": 1}
    assert sorted(str(p.relative_to(into)) for p in into.rglob("*") if p.is_file()) == [
        "gen-flux.jpg", "plain.png", os.path.join("sub", "gb-png-xmp.png"),
    ]  # fmt: skip
    records = {json.loads(line)["path"]: json.loads(line) for line in (out / "mark.jsonl").open(encoding="utf-8")}
    assert records[str(folder / "gen-flux.jpg")]["label"]["PropagateID"].startswith("p-1")
    read, _ = the_label(Checker(), (into / "plain.png").read_bytes())
    assert read["Label"] == "2"
    # A second run resumes: the files recorded already are not marked again.
    assert main([*args[:-6], "--resume", *args[-6:]]) == ExitStatus.VIOLATION
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["mark"]["files"] == {"resumed": 4}
    assert len((out / "mark.jsonl").read_text(encoding="utf-8").splitlines()) == 4
    capsys.readouterr()


def test_scan_mark_into_needs_a_propagator(capsys, tmp_path):
    code = main(["scan", str(FIXTURES / "plain.jpg"), "--out", str(tmp_path / "o"), "--mark-into", str(tmp_path / "m")])
    assert code == ExitStatus.USAGE and not (tmp_path / "o").exists()


def _reads_back_or_writes_nothing(checker: Checker, data: bytes, declared: str) -> MarkResult:
    result = mark_bytes(checker, data, PROPAGATION, declared)
    if result.action in (MarkAction.MARKED, MarkAction.UPDATED):
        read, _ = the_label(checker, result.data)
        assert read["ContentPropagator"] == PROPAGATOR
    elif result.action is MarkAction.COPIED:
        assert result.data is not None
    else:
        assert result.data is None and result.reason
    return result


def test_every_fixture_marks_or_writes_nothing(checker):
    """Every committed fixture (truncated, malformed, hostile-shaped ones included), both ways."""
    for path in sorted(FIXTURES.iterdir()):
        for declared in ("none", "ai"):
            _reads_back_or_writes_nothing(checker, path.read_bytes(), declared)


def test_hostile_files_mark_or_write_nothing(checker):
    sys.path.insert(0, str(ROOT / "fixtures"))
    from make_hostile import CASES

    bounded = Checker(CheckOptions(time_limit=10))
    for case in CASES:
        data = case.make()
        if len(data) > 16 * 1024 * 1024:
            continue
        result = _reads_back_or_writes_nothing(bounded, data, "ai")
        assert result.action in MarkAction, case.name


def test_a_cut_file_with_a_label_is_not_rewritten(checker):
    """AI evidence read from the part that is there does not make a cut file safe to rewrite."""
    data = fixture("gb-jpeg-xmp-element.jpg")
    cut = data[: len(data) - 40]
    before = checker.check(cut)
    assert any(e.fatal for e in before.errors) and before.verdict.value != "unreadable"
    result = mark_bytes(checker, cut, PROPAGATION, "ai")
    assert result.action is MarkAction.ERROR and result.reason == "unreadable" and result.data is None
