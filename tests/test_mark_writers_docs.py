"""The document label writers (issue 15): OOXML custom properties, ODF user-defined metadata, EPUB OPF
meta, Markdown front matter and bare label text.  Inputs: the fixtures made by
``fixtures/makers/office.py`` and ``markdown.py``, and duplicates made by
``fixtures/makers/mark_inputs_av.py``.
"""

from __future__ import annotations

import io
import json
import shutil
import struct
import subprocess
import tempfile
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from mark_helpers_av import EXPECTED, assert_one_label, fixture, labels_read, made, refuses, round_trip, write

import aigc_check
from aigc_check.mark.writers import WriteError
from aigc_check.mark.writers.office import ODF_FORMATS

# (input, checker format id, holds a label already)
FIXTURE_INPUTS = [
    ("office-plain.docx", "docx", False),
    ("office-gb-custom.docx", "docx", True),
    ("office-description-chatgpt.docx", "docx", False),
    ("office-c2pa-ai.docx", "docx", False),
    ("office-gb-custom.xlsx", "xlsx", True),
    ("office-gb-custom.pptx", "pptx", True),
    ("office-plain.dotx", "dotx", False),
    ("office-plain.odt", "odt", False),
    ("office-gb-user-defined.odt", "odt", True),
    ("office-plain.epub", "epub", False),
    ("office-gb-meta.epub", "epub", True),
    ("office-c2pa-ai.epub", "epub", False),
    ("md-plain.md", "markdown", False),
    ("md-front-matter-plain.md", "markdown", False),
    ("md-front-matter-generator.md", "markdown", False),
    ("md-front-matter-label.md", "markdown", True),
    ("md-front-matter-label-json.md", "markdown", True),
    ("text-bare-label.txt", "text", True),
    # written by python-docx, openpyxl and python-pptx; LibreOffice's member order; macro and template forms
    ("office-python-docx-plain.docx", "docx", False),
    ("office-python-docx-minimax.docx", "docx", False),
    ("office-openpyxl-gb-custom.xlsx", "xlsx", True),
    ("office-python-pptx-plain.pptx", "pptx", False),
    ("office-libreoffice-order-gb.docx", "docx", True),
    ("office-gb-custom.docm", "docm", True),
    ("office-gb-user-defined.ott", "ott", True),
]
MADE_INPUTS = [
    ("two-properties.docx", "docx"),
    ("two-properties.odt", "odt"),
    ("two-metas.epub", "epub"),
    ("two-keys.md", "markdown"),
]
ZIPPED = [(n, f) for n, f, _ in FIXTURE_INPUTS if f not in ("markdown", "text")]


@pytest.mark.parametrize(("name", "fmt", "labelled"), FIXTURE_INPUTS, ids=[n for n, _, _ in FIXTURE_INPUTS])
def test_round_trip(name: str, fmt: str, labelled: bool) -> None:
    data = fixture(name)
    assert bool(labels_read(data)[0]) == labelled
    out = round_trip(data, fmt)
    assert out.updated_existing == labelled


@pytest.mark.parametrize(("name", "fmt"), MADE_INPUTS)
def test_duplicates_resolved_and_reported(name: str, fmt: str) -> None:
    data = made(name)
    values, codes = labels_read(data)
    assert len(values) == 2 and "aigc-label-duplicate" in codes
    out = write(data, fmt)
    assert out.updated_existing
    assert any("removed 1 other AIGC label" in n for n in out.notes), out.notes
    assert_one_label(out.data)


# ---------------------------------------------------------------- ZIP packages


def _raw_members(data: bytes) -> dict[str, bytes]:
    """Each member's local header and stored (compressed) bytes, as they are in the archive."""
    z = zipfile.ZipFile(io.BytesIO(data))
    out = {}
    for info in z.infolist():
        n, m = struct.unpack_from("<HH", data, info.header_offset + 26)
        start = info.header_offset + 30 + n + m
        out[info.filename] = (
            data[info.header_offset + 4 : info.header_offset + 14] + data[start : start + info.compress_size]
        )
    return out


CHANGED = {
    "docx": {"docProps/custom.xml", "[Content_Types].xml", "_rels/.rels"},
    "odt": {"meta.xml"},
    "epub": {"OEBPS/content.opf"},
}


@pytest.mark.parametrize(("name", "fmt"), ZIPPED, ids=[n for n, _ in ZIPPED])
def test_other_members_copied_byte_for_byte(name: str, fmt: str) -> None:
    data = fixture(name)
    out = write(data, fmt).data
    before, after = _raw_members(data), _raw_members(out)
    changed = CHANGED.get(fmt) or CHANGED["odt" if fmt in ODF_FORMATS else "docx"]
    assert set(before) <= set(after) and set(after) - set(before) <= changed
    for member, raw in before.items():
        if member not in changed:
            assert after[member] == raw, member
    assert zipfile.ZipFile(io.BytesIO(out)).testzip() is None  # every CRC right
    names = [i.filename for i in zipfile.ZipFile(io.BytesIO(data)).infolist()]
    assert [i.filename for i in zipfile.ZipFile(io.BytesIO(out)).infolist()][: len(names)] == names


@pytest.mark.parametrize(
    "name", ["office-plain.odt", "office-gb-user-defined.odt", "office-plain.epub", "two-metas.epub"]
)
def test_mimetype_first_and_stored(name: str) -> None:
    data = made(name) if name.startswith("two-") else fixture(name)
    out = write(data, "epub" if name.endswith("epub") else "odt").data
    first = zipfile.ZipFile(io.BytesIO(out)).infolist()[0]
    assert first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED
    assert out[30:38] == b"mimetype"


def _exiftool(data: bytes, suffix: str) -> dict:
    if not shutil.which("exiftool"):
        pytest.skip("exiftool not installed")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"in.{suffix}"
        path.write_bytes(data)
        run = subprocess.run(["exiftool", "-j", str(path)], capture_output=True, text=True, check=True)
    return json.loads(run.stdout)[0]


@pytest.mark.parametrize(("name", "fmt"), [(n, f) for n, f in ZIPPED if f in ("docx", "xlsx", "pptx", "dotx")])
def test_exiftool_reads_the_custom_property(name: str, fmt: str) -> None:
    out = write(fixture(name), fmt).data
    assert json.loads(_exiftool(out, fmt)["AIGC"]) == EXPECTED


def test_new_custom_part_is_declared() -> None:
    out = write(fixture("office-plain.docx"), "docx")
    z = zipfile.ZipFile(io.BytesIO(out.data))
    types = ET.fromstring(z.read("[Content_Types].xml"))
    assert any(
        o.get("PartName") == "/docProps/custom.xml"
        and o.get("ContentType") == "application/vnd.openxmlformats-officedocument.custom-properties+xml"
        for o in types
    )
    rels = ET.fromstring(z.read("_rels/.rels"))
    assert any(
        r.get("Target") == "docProps/custom.xml" and r.get("Type", "").endswith("/custom-properties") for r in rels
    )
    assert len({r.get("Id") for r in rels}) == len(list(rels))
    assert b'xmlns="http://schemas.openxmlformats.org/package/2006/relationships"' in z.read("_rels/.rels")
    assert any("added docProps/custom.xml" in n for n in out.notes)


def test_odf_meta_keeps_the_rest() -> None:
    out = write(fixture("office-gb-user-defined.odt"), "odt").data
    meta = ET.fromstring(zipfile.ZipFile(io.BytesIO(out)).read("meta.xml"))
    ns = {
        "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
        "meta": "urn:oasis:names:tc:opendocument:xmlns:meta:1.0",
    }
    assert meta.find("office:meta/meta:generator", ns).text.startswith("LibreOffice")  # type: ignore[union-attr]
    defined = meta.findall("office:meta/meta:user-defined", ns)
    assert [json.loads(e.text or "") for e in defined] == [EXPECTED]
    assert meta.get("{urn:oasis:names:tc:opendocument:xmlns:office:1.0}version") == "1.3"


def test_epub_opf_meta_read_by_elementtree() -> None:
    out = write(fixture("office-plain.epub"), "epub").data
    opf = ET.fromstring(zipfile.ZipFile(io.BytesIO(out)).read("OEBPS/content.opf"))
    metas = [m for m in opf.iter("{http://www.idpf.org/2007/opf}meta") if m.get("name") == "AIGC"]
    assert [json.loads(m.get("content", "")) for m in metas] == [EXPECTED]
    assert opf.get("version") == "3.0"


# ---------------------------------------------------------------- Markdown and text


def test_markdown_rest_of_file_identical() -> None:
    data = fixture("md-front-matter-label.md")
    out = write(data, "markdown").data
    close = data.index(b"\n---\n")
    assert out.endswith(data[close:])
    assert out.startswith(b"---\ntitle: Lighthouses\nAIGC:\n")


def test_markdown_inserted_front_matter() -> None:
    data = fixture("md-plain.md")
    out = write(data, "markdown")
    assert out.data.endswith(data) and out.data.startswith(b"---\nAIGC:\n")
    assert any("added YAML front matter" in n for n in out.notes)


def test_markdown_crlf_kept() -> None:
    out = write(made("two-keys.md"), "markdown").data
    assert b"\r\n" in out and b"\n" not in out.replace(b"\r\n", b"")
    assert out.endswith(b"---\r\n\r\n# Notes\r\n")
    assert b"tags: [a, b]\r\n" in out


def test_markdown_bom_kept() -> None:
    data = fixture("md-front-matter-label-json.md")
    out = write(data, "markdown").data
    assert out.startswith(b"\xef\xbb\xbf---")


def test_bare_label_keeps_its_form_and_the_text_after() -> None:
    data = fixture("text-bare-label.txt")
    out = write(data, "text").data
    wrapped = json.loads(data.decode("utf-8").strip().split("\n")[0]) if data.strip().startswith(b"{") else None
    assert wrapped is None or ("AIGC" in wrapped) == out.lstrip().startswith(b'{"AIGC"')


# ---------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("name", "fmt"), [("office-truncated.docx", "docx"), ("md-front-matter-truncated.md", "markdown")]
)
def test_broken_inputs_refused(name: str, fmt: str) -> None:
    refuses(fixture(name), fmt)


@pytest.mark.parametrize(("name", "fmt", "labelled"), FIXTURE_INPUTS, ids=[n for n, _, _ in FIXTURE_INPUTS])
def test_cut_inputs_refused_or_labelled(name: str, fmt: str, labelled: bool) -> None:
    data = fixture(name)
    for n in range(1, 8):
        try:
            out = write(data[: len(data) * n // 8], fmt)
        except WriteError:
            continue
        assert EXPECTED in labels_read(out.data)[0]


@pytest.mark.parametrize(
    ("data", "fmt"),
    [
        (b"", "markdown"),
        (b"\x00\x01binary", "markdown"),
        (b"\xff\xfe not utf-8", "text"),
        (b"PK\x03\x04 not a zip", "docx"),
        (b"PK\x05\x06" + b"\x00" * 18, "docx"),
    ],
)
def test_garbage_refused(data: bytes, fmt: str) -> None:
    refuses(data, fmt)


def test_zip_that_is_no_document_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("readme.txt", "hello")
    refuses(buffer.getvalue(), "docx")


def test_named_plain_text_gains_front_matter_and_reads_as_markdown():
    """Plain text is judged as text when named; its label goes into new YAML front matter (the
    normative place for a text file), after which it reads as Markdown: mark accepts that change."""
    from aigc_check.mark.core import mark

    prose = b"A paragraph a model wrote.\r\nAnd a second line.\r\n"
    result = mark(prose, "001191110102MA01ABCDE22XHS1", "p-1", declared="ai")
    assert result.action == "marked", result
    assert result.data.endswith(prose) and result.data.startswith(b"---\r\nAIGC:\r\n")
    after = aigc_check.check(result.data)
    assert after.format == "markdown" and after.label == "possibly-ai"
    (read,) = labels_read(result.data)[0]
    assert read["PropagateID"] == "p-1" and read["Label"] == "2"
