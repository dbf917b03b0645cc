"""ZIP-based documents (formats/office.py, formats/_zip.py): OOXML, ODF and EPUB read by content,
their labels and traces, agreement with exiftool, and the ZIP bounds against hostile archives."""

from __future__ import annotations

import io
import json
import sys
import zipfile

import pytest
from conftest import FIXTURES, ROOT, exiftool_fixtures
from test_av_tags import fields_of

from aigc_check import formats
from aigc_check.formats._zip import MAX_ZIP_ENTRIES

sys.path.insert(0, str(ROOT / "fixtures"))
from makers.office import ooxml, patch_declared_size, zip_bytes

LABEL = json.dumps({"Label": "1", "ContentProducer": "001191110102MACQD9K64010000", "ProduceID": "x"})


def codes(result) -> set[str]:
    return {e.code for e in result.errors}


@pytest.mark.parametrize(
    ("name", "fmt", "key"),
    [
        ("office-gb-custom.docx", "docx", "ooxml/AIGC"),
        ("office-gb-custom.xlsx", "xlsx", "ooxml/AIGC"),
        ("office-gb-custom.pptx", "pptx", "ooxml/AIGC"),
        ("office-gb-user-defined.odt", "odt", "odf/AIGC"),
        ("office-gb-meta.epub", "epub", "epub/AIGC"),
    ],
)
def test_labelled_documents(checker, name, fmt, key):
    result = checker.check(FIXTURES / name)
    assert result.to_dict()["format"] == fmt
    assert result.status.value == "ai-generated" and not result.errors
    assert any(e.source == "gb45438" and e.key == key for e in result.evidence)


def test_templates_and_media_types(checker):
    for kind, media in [
        ("dotx", "application/vnd.openxmlformats-officedocument.wordprocessingml.template"),
        ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ]:
        d = checker.check(ooxml(kind)).to_dict()
        assert (d["format"], d["media_type"]) == (kind, media)


def test_description_is_free_text(checker):
    result = checker.check(FIXTURES / "office-description-chatgpt.docx")
    assert any(e.source == "generator" and e.key == "ooxml/description" for e in result.evidence)


def test_agrees_with_exiftool():
    """exiftool reads the same properties (custom AIGC, app Application, core creator; ODF generator
    and user-defined; EPUB dc:creator and the generator meta)."""
    names = ["office-gb-custom.docx", "office-gb-user-defined.odt", "office-plain.epub"]
    tool = exiftool_fixtures(*names)

    def fields(name: str) -> dict[str, str]:
        return {f.name: f.value for f in fields_of((FIXTURES / name).read_bytes())[0]}

    docx = fields(names[0])
    assert docx["ooxml/AIGC"] == tool[names[0]]["XML:AIGC"]
    assert docx["ooxml/Application"] == tool[names[0]]["XML:Application"]
    assert docx["ooxml/creator"] == tool[names[0]]["XMP-dc:Creator"]
    odt = fields(names[1])
    assert odt["odf/generator"] == tool[names[1]]["XMP-meta:Generator"]
    assert odt["odf/AIGC"] == tool[names[1]]["XMP-meta:User-defined"]
    epub = fields(names[2])
    assert epub["epub/creator"] == tool[names[2]]["XML-dc:Creator"]
    assert epub["epub/generator"] == tool[names[2]]["XML:MetaContent"]


def test_a_plain_zip_stays_unsupported(checker):
    plain = zip_bytes([("readme.txt", "hello"), ("data.bin", b"\0" * 10)])
    assert formats.identify(plain[:65536]) is None
    assert "unsupported-format" in codes(checker.check(plain))
    # An OPC package whose main part is no Office document: accepted by the head test, then refused.
    opc = zip_bytes([("[Content_Types].xml", '<Types xmlns="x"><Override PartName="/a" ContentType="b"/></Types>')])
    result = checker.check(opc)
    assert result.verdict == "unreadable" and "unsupported-format" in codes(result)


def test_truncated(checker):
    result = checker.check(FIXTURES / "office-truncated.docx")
    assert result.verdict == "unreadable" and "truncated" in codes(result)


def test_member_claiming_4_gib(checker):
    data = patch_declared_size(ooxml("docx", {"AIGC": LABEL}), "docProps/custom.xml", 0xFFFFFFF0)
    result = checker.check(data)
    assert "limit-exceeded" in codes(result) and result.verdict == "unreadable"


def test_zip_bomb_member(checker):
    """A member that honestly inflates to 64 MiB (64 KiB on disk) is refused by its declared size, and
    one whose header says 100 bytes is read only that far and fails its CRC."""
    bomb = b"<a>" + b" " * (64 * 1024 * 1024) + b"</a>"
    base = zipfile.ZipFile(io.BytesIO(ooxml("docx")))
    parts = [(i.filename, base.read(i)) for i in base.infolist()] + [("docProps/custom.xml", bomb)]
    honest = zip_bytes(parts)
    assert len(honest) < 1024 * 1024
    assert "limit-exceeded" in codes(checker.check(honest))
    lying = patch_declared_size(honest, "docProps/custom.xml", 100)
    result = checker.check(lying)
    assert result.errors and "limit-exceeded" not in codes(result)
    assert result.verdict == "unreadable"  # the part that holds the label could not be read


def test_only_a_broken_label_part_blocks_clearance(checker):
    """A broken app.xml (traces only) is reported and the file is still judged; a broken custom.xml
    (where the label lives) makes it unreadable, while a label's AI evidence elsewhere still counts."""
    broken_app = zip_bytes([(n, b"<Properties" if n == "docProps/app.xml" else d) for n, d in _members(ooxml("docx"))])
    result = checker.check(broken_app)
    assert result.errors and result.verdict == "compliant"
    broken_custom = zip_bytes(
        [(n, d[:-20] if n == "docProps/custom.xml" else d) for n, d in _members(ooxml("docx", {"AIGC": LABEL}))]
    )
    result = checker.check(broken_custom)
    assert result.errors and result.verdict == "unreadable"
    labelled_core = ooxml("docx", {"AIGC": "{"}, description=json.dumps({"AIGC": json.loads(LABEL)}))
    broken_with_evidence = zip_bytes(
        [(n, d[:-20] if n == "docProps/custom.xml" else d) for n, d in _members(labelled_core)]
    )
    result = checker.check(broken_with_evidence)
    assert result.errors and result.status.value == "ai-generated"


def _members(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return [(i.filename, z.read(i)) for i in z.infolist()]


@pytest.mark.parametrize("count", [MAX_ZIP_ENTRIES + 1, 100_000])
def test_too_many_entries(checker, count):
    base = zipfile.ZipFile(io.BytesIO(ooxml("docx")))
    parts: list[tuple[str, str | bytes]] = [(i.filename, base.read(i)) for i in base.infolist()]
    parts += [(f"f/{n}", b"") for n in range(count)]
    result = checker.check(zip_bytes(parts))
    assert result.verdict == "unreadable" and "limit-exceeded" in codes(result)


@pytest.mark.parametrize("name", ["office-c2pa-ai.docx", "office-c2pa-ai.epub"])
def test_c2pa_signed_document(checker, name):
    """c2pa-rs (c2pa-python 0.38) reads the manifest store from a stored ZIP's
    META-INF/content_credential.c2pa; the walker marks it, the C2PA reader validates it."""
    result = checker.check(FIXTURES / name)
    assert result.status.value == "ai-generated"
    assert any(e.source == "c2pa" for e in result.evidence)


@pytest.mark.parametrize(
    "data",
    [
        ooxml("docx", app="MiniMax Agent"),
        zip_bytes([(n, d) for n, d in _members(ooxml("docx"))]),  # control: Microsoft Office Word
    ],
)
def test_application_names_the_generator(checker, data):
    """docProps/app.xml Application is a software field like a video's encoder tag: a generator that
    writes documents under its own name is matched there (MiniMax's text products, signals.md)."""
    result = checker.check(data)
    named = b"MiniMax" in zipfile.ZipFile(io.BytesIO(data)).read("docProps/app.xml")
    assert (result.generator == "minimax") is named
