"""IPTC IIM: the Photoshop IRB (JPEG APP13, TIFF tag 34377), TIFF tag 33723 and the datasets.

The fixtures (fixtures/makers/iim.py) are written by exiftool, and exiftool's own reading of each
is the reference for the fields (skipped when exiftool is absent); hand-made byte strings cover
the encodings, the damage and the bounds."""

from __future__ import annotations

import io
import json
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from conftest import FIXTURES
from PIL import Image

from aigc_check.data import load
from aigc_check.formats import jpeg as jpeg_format
from aigc_check.formats import tiff as tiff_format
from aigc_check.formats.irb import unpack_irb
from aigc_check.limits import MAX_IIM_DATASETS, MAX_IRB_RESOURCES
from aigc_check.model import Block, Container, Field
from aigc_check.readers import PartialRead
from aigc_check.readers.iim import IimReader, decode
from aigc_check.source import ByteSource

EXIFTOOL = shutil.which("exiftool")
needs_exiftool = pytest.mark.skipif(EXIFTOOL is None, reason="exiftool is not installed")
WHOLE = [
    "iim-google-credit-utf8.jpg",
    "iim-latin1-midjourney-caption.jpg",
    "iim-keywords-midjourney.jpg",
    "iim-drawthings-program.tif",
    "iim-irb-tag-34377.tif",
    "iim-irb-resources.jpg",
    "iim-irb-two-segments.jpg",
]
# exiftool rewrites dates and times (2011:07:30) even with -n; these are compared as stored.
REFORMATTED = re.compile(r"Date|Time")


def ds(record: int, number: int, value: bytes) -> bytes:
    return struct.pack(">BBBH", 0x1C, record, number, len(value)) + value


def resource(rid: int, data: bytes, name: bytes = b"", signature: bytes = b"8BIM") -> bytes:
    pname = bytes([len(name)]) + name
    pname += b"\x00" * (len(pname) & 1)
    return signature + struct.pack(">H", rid) + pname + struct.pack(">I", len(data)) + data + b"\x00" * (len(data) & 1)


def read(data: bytes) -> list[Field]:
    return list(IimReader().read_block(Block("iim", "test", data)))


def values(fields: list[Field], key: str) -> list:
    return [f.value for f in fields if f.key == key]


def walk(data: bytes, walker=jpeg_format) -> Container:
    c = Container("test", "image/test")
    with ByteSource.open(data, "test") as src:
        walker.walk(src, c)
    return c


def walk_fields(path: Path) -> tuple[Container, list[Field]]:
    c = walk(path.read_bytes(), tiff_format if path.suffix == ".tif" else jpeg_format)
    fields: list[Field] = []
    for block in c.blocks:
        if block.kind == "iim":
            try:
                fields.extend(IimReader().read_block(block))
            except PartialRead as partial:
                fields.extend(partial.fields)
    return c, fields


def exiftool_iptc(path: Path) -> dict[str, list]:
    """exiftool's IPTC tags of ``path``, group numbers dropped, each as a list of values."""
    run = subprocess.run([EXIFTOOL, "-j", "-G1", "-IPTC:all", str(path)], capture_output=True, text=True, check=True)
    out: dict[str, list] = {}
    for key, value in json.loads(run.stdout)[0].items():
        if key != "SourceFile":
            out.setdefault(key.split(":", 1)[1], []).extend(value if isinstance(value, list) else [value])
    return out


def same(ours: object, theirs: object) -> bool:
    """exiftool's JSON turns numeric-looking text into numbers (Keywords 2006, ProgramVersion 2.5)."""
    if isinstance(theirs, (int, float)) and not isinstance(ours, int):
        try:
            return float(str(ours)) == theirs
        except ValueError:
            return False
    return ours == theirs


# ----------------------------------------------------------------------------- the fixtures


@needs_exiftool
@pytest.mark.parametrize("name", WHOLE)
def test_fields_are_exiftools(name):
    """Every dataset exiftool reads (less 1:00, which carries nothing), with its name, value and order."""
    path = FIXTURES / name
    _, fields = walk_fields(path)
    theirs = exiftool_iptc(path)
    theirs.pop("EnvelopeRecordVersion", None)
    ours: dict[str, list] = {}
    for f in fields:
        ours.setdefault(f.key, []).append(f.value)
    assert sorted(ours) == sorted(theirs), name
    for key, expected in theirs.items():
        assert len(ours[key]) == len(expected) and all(map(same, ours[key], expected)), (key, ours[key], expected)


@needs_exiftool
def test_corpus_files_read_as_exiftool_reads_them(corpus):
    """Real files with IIM (Pillow's iptc.jpg with seven Keywords, c2pa-rs and c2pa-c camera JPEGs,
    a TIFF with IPTC in both tags): the same datasets and values as exiftool's."""
    seen = 0
    for path in sorted(corpus.rglob("*")):
        if path.suffix.lower() not in (".jpg", ".jpeg", ".tif", ".tiff") or path.stat().st_size > 8 << 20:
            continue
        walker = tiff_format if path.suffix.lower().startswith(".tif") else jpeg_format
        try:
            c = walk(path.read_bytes(), walker)
        except Exception:
            continue  # not this test's business: test_corpus.py checks every file
        fields = [f for b in c.blocks if b.kind == "iim" for f in IimReader().read_block(b)]
        if not fields:
            continue
        seen += 1
        theirs = exiftool_iptc(path)
        theirs.pop("EnvelopeRecordVersion", None)
        ours = {(f.key, str(f.value)) for f in fields if not REFORMATTED.search(f.key)}
        expected = {(k, str(v)) for k, vs in theirs.items() if not REFORMATTED.search(k) for v in vs}
        assert ours == expected, path
    assert seen >= 3


@pytest.mark.parametrize(
    "name,key,generator",
    [
        ("iim-google-credit-utf8.jpg", "iim/Credit", "google"),
        ("iim-latin1-midjourney-caption.jpg", "iim/Caption-Abstract", "midjourney"),
        ("iim-keywords-midjourney.jpg", "iim/Keywords", "midjourney-mention"),
        ("iim-drawthings-program.tif", "iim/OriginatingProgram", "drawthings"),
        ("iim-irb-tag-34377.tif", "iim/Credit", "google"),
        ("iim-irb-resources.jpg", "iim/Credit", "apple-cleanup"),
        ("iim-irb-two-segments.jpg", "iim/Credit", "google"),
        ("iim-broken-overrun.jpg", "iim/Caption-Abstract", "midjourney"),
    ],
)
def test_generator_evidence_from_iim_only(checker, name, key, generator):
    path = FIXTURES / name
    c, _ = walk_fields(path)
    assert {b.kind for b in c.blocks} <= {"iim", "exif"}, "the fixture must carry IIM only"
    result = checker.check(path)
    hits = [e for e in result.evidence if e.generator == generator]
    assert hits and hits[0].key == key and "dataset 2:" in hits[0].location, result.evidence


def test_utf8_and_latin1_texts():
    _, utf8 = walk_fields(FIXTURES / "iim-google-credit-utf8.jpg")
    assert values(utf8, "CodedCharacterSet") == ["UTF8"]
    assert values(utf8, "Caption-Abstract") == ["Ein Leuchtturm auf der Klippe – 夕暮れの灯台"]
    assert values(utf8, "By-line") == ["Zoë Ångström", "Gemini"]
    assert values(utf8, "Keywords") == ["lighthouse", "dusk", "灯塔"]
    _, latin1 = walk_fields(FIXTURES / "iim-latin1-midjourney-caption.jpg")
    assert not values(latin1, "CodedCharacterSet")
    assert values(latin1, "By-line") == ["José Müller"]
    assert values(latin1, "Keywords") == ["phare", "crépuscule"]


def test_broken_dataset_keeps_the_others(checker):
    path = FIXTURES / "iim-broken-overrun.jpg"
    c = walk(path.read_bytes())
    (block,) = [b for b in c.blocks if b.kind == "iim"]
    with pytest.raises(PartialRead) as info:
        IimReader().read_block(block)
    fields = {f.key: f.value for f in info.value.fields}
    assert "2:116" in str(info.value) and not info.value.fatal
    assert fields["Credit"] == "Example Press"  # before the broken dataset
    assert fields["Writer-Editor"] == "Renée" and "Job ID" in fields["Caption-Abstract"]  # after it
    assert "CopyrightNotice" not in fields
    result = checker.check(path)
    assert result.verdict != "unreadable" and result.generator == "midjourney"
    assert [e.code for e in result.errors] == ["metadata-unreadable"] and "2:116" in result.errors[0].message


def test_two_segments_are_one_irb():
    data = (FIXTURES / "iim-irb-two-segments.jpg").read_bytes()
    assert data.count(b"Photoshop 3.0\x00") == 2
    c = walk(data)
    (block,) = [b for b in c.blocks if b.kind == "iim"]
    assert "2 segments" in block.location and not c.errors
    assert values(read(block.data), "Credit") == ["Made with Google AI"]


# ----------------------------------------------------------------------------- datasets


def test_repeated_extended_and_numeric_datasets():
    big = b"x" * 40_000
    data = (
        ds(1, 90, b"\x1b%G")
        + ds(2, 0, b"\x00\x04")
        + ds(2, 25, b"one")
        + ds(2, 25, "zwei – 二".encode())
        + struct.pack(">BBBHI", 0x1C, 2, 120, 0x8004, len(big))
        + big
        + ds(2, 202, b"\xff\xd8 preview")
        + ds(2, 199, b"custom")
    )
    fields = read(data)
    assert values(fields, "ApplicationRecordVersion") == [4]
    assert values(fields, "Keywords") == ["one", "zwei – 二"]
    assert values(fields, "Caption-Abstract") == [big.decode()]
    assert values(fields, "ApplicationRecord199") == ["custom"]
    assert not values(fields, "ObjectPreviewData")  # a picture, not text
    assert all(f.location.startswith("test, dataset ") for f in fields)


@pytest.mark.parametrize(
    "raw,charset,text",
    [
        ("Café 灯塔".encode(), b"\x1b%G", "Café 灯塔"),
        (b"Caf\xe9 \x80", b"\x1b%G", "Café €"),  # declared UTF-8, not valid: Windows Latin-1
        ("Café 灯塔".encode(), None, "Café 灯塔"),  # undeclared UTF-8
        (b"Caf\xe9 \x80", None, "Café €"),  # undeclared Windows Latin-1
        (b"Caf\xe9 \x80", b"\x1b.A", "Café \x80"),  # ISO 8859-1 declared
        (b"Caf\xe9 \x81", None, "Café \x81"),  # a byte cp1252 leaves undefined
        (b"Credit\x00\x00", None, "Credit"),  # NUL-terminated by some writers
    ],
)
def test_text_encodings(raw, charset, text):
    assert decode(raw, charset) == text


def test_character_set_applies_wherever_it_stands():
    fields = read(ds(2, 110, b"Caf\xc3\xa9") + ds(1, 90, b"\x1b%G"))
    assert values(fields, "Credit") == ["Café"]
    latin = read(ds(1, 90, b"\x1b-A") + ds(2, 110, b"Caf\xc3\xa9"))
    assert values(latin, "Credit") == ["CafÃ©"]


def test_padding_is_not_damage():
    assert values(read(ds(2, 110, b"Made with Google AI") + b"\x00" * 3), "Credit") == ["Made with Google AI"]


@pytest.mark.parametrize(
    "broken,message",
    [
        (struct.pack(">BBBH", 0x1C, 2, 116, 500) + b"short", "claims 500 bytes"),
        (struct.pack(">BBBHI", 0x1C, 2, 116, 0x8004, 0xFFFFFFFF) + b"short", "claims 4294967295 bytes"),
        (struct.pack(">BBBH", 0x1C, 2, 116, 0x8009) + bytes(9), "extended length of 9 octets"),
        (struct.pack(">BBBH", 0x1C, 2, 116, 0x8000), "extended length of 0 octets"),
        (b"\x07garbage", "no dataset marker"),
    ],
)
def test_damaged_dataset_is_one_error_and_the_rest_is_read(broken, message):
    data = ds(2, 110, b"before") + broken + ds(2, 120, b"after") + ds(2, 25, b"k")
    with pytest.raises(PartialRead) as info:
        read(data)
    assert message in str(info.value) and not info.value.fatal
    got = {f.key: f.value for f in info.value.fields}
    assert got["Credit"] == "before"
    if not message.startswith("claims"):
        assert got["Caption-Abstract"] == "after" and got["Keywords"] == "k"


def test_a_cut_dataset_keeps_what_came_before():
    data = ds(2, 110, b"before") + ds(2, 120, b"a caption cut short")[:-5]
    with pytest.raises(PartialRead) as info:
        read(data)
    assert [f.value for f in info.value.fields] == ["before"]


def test_dataset_count_is_bounded():
    data = ds(2, 25, b"k") * (MAX_IIM_DATASETS + 5)
    with pytest.raises(PartialRead) as info:
        read(data)
    assert info.value.code == "limit-exceeded" and info.value.fatal
    assert len(info.value.fields) == MAX_IIM_DATASETS


def test_resync_is_bounded():
    """A block of 0x1C bytes that never form datasets: a few restarts, then the block is given up."""
    data = ds(2, 110, b"x") + struct.pack(">BBBH", 0x1C, 2, 120, 0xFFFF) + b"\x1c\x02\x19\xff\xff" * 20_000
    with pytest.raises(PartialRead) as info:
        read(data)
    assert [f.value for f in info.value.fields] == ["x"]


# ----------------------------------------------------------------------------- Photoshop IRB


def irb_blocks(irb: bytes) -> Container:
    c = Container("test", "image/test")
    unpack_irb(c, irb, "IRB")
    return c


def test_resource_names_are_padded_to_even():
    iim = ds(2, 110, b"Made with Google AI")
    irb = b"".join(resource(0x0410 + i, b"d" * i, b"n" * i) for i in range(6)) + resource(0x0404, iim, b"IPTC")
    c = irb_blocks(irb)
    assert not c.errors
    assert [b.data for b in c.blocks] == [iim] and "resource 0x0404 'IPTC'" in c.blocks[0].location


def test_irb_damage_keeps_what_was_read():
    iim = ds(2, 110, b"kept")
    c = irb_blocks(resource(0x0404, iim) + b"XXXX" + bytes(20))
    assert [b.data for b in c.blocks] == [iim] and "no resource signature" in c.errors[0].message
    assert not c.errors[0].fatal
    cut = irb_blocks(resource(0x03ED, bytes(16)) + resource(0x0404, iim + ds(2, 120, b"caption"))[:-4])
    assert "claims" in cut.errors[0].message and "cut short" in cut.blocks[0].location
    with pytest.raises(PartialRead) as info:  # the reader's own error, for the caption cut short
        read(cut.blocks[0].data)
    assert values(info.value.fields, "Credit") == ["kept"]
    assert not irb_blocks(resource(0x0404, iim) + bytes(7)).errors  # zero padding after the last resource


def test_other_signatures_and_resources_are_skipped():
    c = irb_blocks(resource(0x0404, b"not this", signature=b"MeSa") + resource(0x0424, b"<x:xmpmeta/>"))
    assert not c.blocks and not c.errors


def test_resource_count_is_bounded():
    c = irb_blocks(resource(0x03F3, b"") * (MAX_IRB_RESOURCES + 1) + resource(0x0404, ds(2, 110, b"x")))
    assert [e.code for e in c.errors] == ["limit-exceeded"] and c.errors[0].fatal


def jpeg_bytes(*segments: bytes) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 20, 30)).save(buf, "JPEG")
    data = buf.getvalue()
    return data[:2] + b"".join(segments) + data[2:]


def app13(payload: bytes) -> bytes:
    return b"\xff\xed" + struct.pack(">H", len(payload) + 2) + payload


def test_separate_app13_segments_are_separate_irbs():
    one = b"Photoshop 3.0\x00" + resource(0x0404, ds(2, 110, b"first"))
    two = b"Photoshop 3.0\x00" + resource(0x0404, ds(2, 110, b"second"))
    com = b"\xff\xfe\x00\x04hi"
    c = walk(jpeg_bytes(app13(one), com, app13(two)))
    iim = [b for b in c.blocks if b.kind == "iim"]
    assert [values(read(b.data), "Credit") for b in iim] == [["first"], ["second"]]
    assert [b.kind for b in c.blocks] == ["iim", "comment", "iim"] and not c.errors


def test_other_app13_segments_are_left_to_the_segment_reader():
    c = walk(jpeg_bytes(app13(b'Adobe_CM\x00AIGC{"Label":"1"}')))
    assert [b.kind for b in c.blocks] == ["comment"]


# ----------------------------------------------------------------------------- TIFF


def tiff_bytes(**tags: bytes) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 20, 30)).save(buf, "TIFF", tiffinfo={int(k[1:]): v for k, v in tags.items()})
    return buf.getvalue()


def test_tiff_tag_33723_undefined_and_the_irb_copy_dropped():
    iim = ds(1, 90, b"\x1b%G") + ds(2, 110, "Made with Google AI – ✓".encode())
    c = walk(tiff_bytes(t33723=iim, t34377=resource(0x0404, iim)), tiff_format)
    (block,) = [b for b in c.blocks if b.kind == "iim"]
    assert "tag 33723" in block.location and block.data.rstrip(b"\x00") == iim
    exif = next(b for b in c.blocks if b.kind == "exif")
    assert exif.entries is not None and 33723 not in exif.entries["0th"] and 34377 not in exif.entries["0th"]
    other = ds(2, 110, b"other")
    c = walk(tiff_bytes(t33723=iim, t34377=resource(0x0404, other)), tiff_format)
    assert [b.data.rstrip(b"\x00") for b in c.blocks if b.kind == "iim"] == [iim, other]


# ----------------------------------------------------------------------------- the fingerprints

# XMP property -> the IIM dataset that carries the same IPTC field (IPTC Photo Metadata mapping).
IIM_EQUIVALENT = {
    "xmp/photoshop:Credit": "iim/Credit",
    "xmp/photoshop:Source": "iim/Source",
    "xmp/dc:description": "iim/Caption-Abstract",
    "xmp/dc:title": "iim/ObjectName",
    "xmp/dc:subject": "iim/Keywords",
    "xmp/xmp:CreatorTool": "iim/OriginatingProgram",
}


def test_every_fingerprint_on_an_iptc_xmp_field_reads_its_iim_dataset_too():
    """A generator trace in IIM is found as it is in XMP: a rule naming the XMP property names the
    IIM dataset too (add it beside any new one)."""
    for entry in load("generators.json")["generators"]:
        for rule in entry.get("rules", []):
            for cond in rule["when"]:
                names = [cond["field"]] if isinstance(cond["field"], str) else cond["field"]
                for xmp, iim in IIM_EQUIVALENT.items():
                    if xmp in names:
                        assert iim in names, f"{entry['id']}: {xmp} without {iim}"
