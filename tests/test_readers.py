"""Readers and signatures on hand-made byte strings: encodings, hostile XML, label validation."""

from __future__ import annotations

import struct
import zlib

import pytest

from aigc_check import check
from aigc_check.model import Block, Field
from aigc_check.readers import PartialRead
from aigc_check.readers.exif import decode_user_comment
from aigc_check.readers.xmp import XmpReader
from aigc_check.signatures.aigc_label import parse

NS = "http://www.tc260.org.cn/ns/AIGC/1.0/"
LABEL = (
    '{"Label":"1","ContentProducer":"001191110102MACQD9K64010000","ProduceID":"x1","ReservedCode1":"",'
    '"ContentPropagator":"","PropagateID":"","ReservedCode2":""}'
)


def xmp(body: str, ns: str = "") -> bytes:
    return (
        f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f'<rdf:Description rdf:about="" {ns}>{body}</rdf:Description></rdf:RDF></x:xmpmeta>'
    ).encode()


def read_xmp(data: bytes) -> dict:
    return {f.key: f.value for f in XmpReader().read_block(Block("xmp", "test", data))}


def test_xmp_namespace_not_prefix_decides():
    fields = read_xmp(xmp(f"<zz:AIGC>{LABEL.replace(chr(34), '&quot;')}</zz:AIGC>", f'xmlns:zz="{NS}"'))
    assert fields["TC260:AIGC"] == LABEL


def test_xmp_attribute_form_and_iptc_resource():
    data = xmp(
        '<Iptc4xmpExt:DigitalSourceType rdf:resource="https://cv.iptc.org/newscodes/digitalsourcetype/'
        'trainedAlgorithmicMedia"/>',
        f'xmlns:t="{NS}" xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" '
        f't:AIGC="{LABEL.replace(chr(34), "&quot;")}"',
    )
    fields = read_xmp(data)
    assert fields["TC260:AIGC"] == LABEL
    assert fields["Iptc4xmpExt:DigitalSourceType"].endswith("/trainedAlgorithmicMedia")


def test_billion_laughs_and_xxe_are_refused():
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
        b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]><x:xmpmeta xmlns:x="adobe:ns:meta/">&c;</x:xmpmeta>'
    )
    xxe = (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/">&e;</x:xmpmeta>'
    )
    for data in (laughs, xxe):
        with pytest.raises(Exception) as info:
            read_xmp(data)
        assert "passwd" not in str(info.value)


def test_broken_xmp_still_yields_the_label():
    data = xmp(f"<TC260:AIGC>{LABEL}</TC260:AIGC><unclosed>", f'xmlns:TC260="{NS}"')
    with pytest.raises(PartialRead) as info:
        read_xmp(data)
    assert info.value.fields[0].key == "TC260:AIGC"


@pytest.mark.parametrize(
    "raw,text",
    [
        (b"ASCII\x00\x00\x00hello", "hello"),
        (b"UNICODE\x00" + "Steps: 20".encode("utf-16-be"), "Steps: 20"),
        (b"UNICODE\x00" + "Steps: 20".encode("utf-16-le"), "Steps: 20"),
        (b"UNICODE\x00" + "提示词".encode("utf-16-be"), "提示词"),
        (b"\x00" * 8 + b"plain", "plain"),
    ],
)
def test_user_comment_encodings(raw, text):
    assert decode_user_comment(raw) == text


def field(value, key="AIGC", family="text"):
    return Field(family, key, value, "test")


@pytest.mark.parametrize(
    "value,problem",
    [
        (LABEL, None),
        ('{"AIGC":' + LABEL + "}", None),
        (LABEL.replace('"Label":"1"', '"Label":1'), "must be a string"),
        (LABEL.replace('"Label":"1"', '"Label":"AIGC"'), "Annex E allows"),
        (LABEL.replace('"ProduceID":"x1",', ""), "ProduceID is missing"),
        (LABEL.replace("001191110102MACQD9K64010000", "豆包"), "outside the Annex E set"),
        ("{not json", "not valid JSON"),
        ("{'ServiceProvider': 'liblibai.com'}", "not valid JSON"),
    ],
)
def test_gb45438_label_validation(value, problem):
    parsed = parse(field(value))
    assert parsed is not None
    if problem is None:
        assert parsed.problems == [] and parsed.label == "1"
    else:
        assert any(problem in p for p in parsed.problems), parsed.problems


def test_aigc_mentioned_in_free_text_is_not_a_label():
    assert parse(field('{"AIGC": {"ServiceProvider": "x"}}', "UserComment", "exif")) is None
    assert parse(field('{"AIGC":' + LABEL + "}", "UserComment", "exif")).label == "1"


def png(*chunks: tuple[bytes, bytes]) -> bytes:
    out = b"\x89PNG\r\n\x1a\n"
    for ctype, data in (b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)), *chunks, (b"IEND", b""):
        out += struct.pack(">I", len(data)) + ctype + data + struct.pack(">I", zlib.crc32(ctype + data))
    return out


def test_ztxt_bomb_is_refused_but_file_still_reported():
    bomb = b"AIGC\x00\x00" + zlib.compress(b" " * (64 * 1024 * 1024), 9)
    result = check(png((b"zTXt", bomb), (b"tEXt", b"parameters\x00a cat\nSteps: 20, Sampler: Euler, Seed: 1")))
    assert result.status.value == "ai-generated"  # the other chunk is still read
    assert any("decompression bomb" in e.message or "expands past" in e.message for e in result.errors)


def test_png_text_after_image_data_is_read():
    idat = (b"IDAT", zlib.compress(b"\x00\x00\x00\x00"))
    result = check(png(idat, (b"tEXt", b"AIGC\x00" + LABEL.encode())))
    assert result.status.value == "ai-generated" and result.evidence[0].source == "gb45438"
