"""PDF: labels in the information dictionary (plain and inside compressed object streams),
PDF string decoding, and the structures a hostile PDF uses."""

from __future__ import annotations

import json
import zlib

from conftest import FIXTURES

from aigc_check import check
from aigc_check.formats.pdf import pdf_string

LABEL = json.dumps({"Label": "2", "ContentProducer": "001191110108MA01TEST0X20001", "ProduceID": "p-9"})


def pdf(*parts: bytes) -> bytes:
    return b"%PDF-1.7\n" + b"\n".join(parts) + b"\n%%EOF\n"


def test_label_inside_a_compressed_object_stream():
    objects = b"7 0 << /Producer (Writer) /AIGC (" + LABEL.encode() + b") >>"
    stream = zlib.compress(objects)
    data = pdf(
        b"5 0 obj << /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length %d >>\nstream\n" % len(stream)
        + stream
        + b"\nendstream endobj"
    )
    result = check(data)
    assert result.status.value == "ai-generated" and result.label == "possibly-ai"
    assert any(e.key == "pdf/AIGC" and "object stream" in e.location for e in result.evidence)


def test_pdf_strings():
    assert pdf_string(rb"(a \(b\) c\\d\nend)") == "a (b) c\\d\nend"
    assert pdf_string(rb"(caf\351)") == "café"
    assert pdf_string(b"(line \\\ncontinued)") == "line continued"
    assert pdf_string(b"<FEFF004100490047>") == "AIG"
    assert pdf_string(b"<4 1 4>") == "A@"  # whitespace ignored, an odd digit count padded with 0


def test_cut_pdf_and_object_stream_bomb():
    assert check(b"%PDF-1.7\n1 0 obj << >> endobj\n").errors[0].code == "truncated"
    bomb = zlib.compress(b"\x00" * (64 << 20))
    data = pdf(b"5 0 obj << /Type /ObjStm /Filter /FlateDecode >>\nstream\n" + bomb + b"\nendstream endobj")
    result = check(data)
    assert result.verdict == "unreadable" and result.errors[0].code == "limit-exceeded"


def test_tc260_namespace_uri_in_xmp_is_not_an_information_key(checker):
    """``.../ns/AIGC/1.0/`` inside the XMP stream is a URI, not a ``/AIGC`` key: one label, no duplicate."""
    result = checker.check(str(FIXTURES / "doc-gb-xmp.pdf")).to_dict()
    assert [e["key"] for e in result["evidence"] if e["source"] == "gb45438"] == ["xmp/TC260:AIGC"]
    assert "aigc-label-duplicate" not in {f["code"] for f in result["findings"]}
