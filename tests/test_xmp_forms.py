"""XMP read per ISO 16684-1 and the XMP specification: every RDF form of a property gives the same
field and evidence, packets in UTF-8/16/32, JPEG Extended XMP, packets that do not parse, SVG
metadata, and hostile packets.  The ``xmp-*`` fixtures come from fixtures/makers/xmp_forms.py."""

from __future__ import annotations

import hashlib
import json
import struct
import time
import zlib

import pytest
from conftest import FIXTURES, expected_fixtures

from aigc_check import Checker, CheckOptions
from aigc_check.formats import jpeg as jpeg_format
from aigc_check.model import Block
from aigc_check.readers import LABEL_UNREADABLE, PartialRead
from aigc_check.readers.xmp import XmpReader, packet_encoding, utf8_packet

TC260 = "http://www.tc260.org.cn/ns/AIGC/1.0/"
IPTC = "http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
DST_AI = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
# The label every xmp-* fixture carries (fixtures/makers/common.py AIGC_LABEL, compact JSON).
LABEL = json.dumps(
    {
        "Label": "1",
        "ContentProducer": "001191110102MACQD9K64010000",
        "ProduceID": "test-0001",
        "ReservedCode1": "",
        "ContentPropagator": "",
        "PropagateID": "",
        "ReservedCode2": "",
    },
    separators=(",", ":"),
)
ESCAPED = LABEL.replace('"', "&quot;")
XMP_ID = b"http://ns.adobe.com/xap/1.0/\x00"
EXT_ID = b"http://ns.adobe.com/xmp/extension/\x00"

CASES = {c["file"]: c for c in expected_fixtures()}
# Every fixture holding the label and the term cleanly, in whatever form or place.
CLEAN = sorted(
    name
    for name, case in CASES.items()
    if name.startswith("xmp-") and set(case["signals"]) == {"gb45438", "iptc"} and not case["findings"]
)


def read(data: bytes) -> list[tuple[str, str]]:
    return [(f.key, f.value) for f in XmpReader().read_block(Block("xmp", "test", data))]


def packet(body: str, ns: str = "", wrapper: bool = True) -> str:
    rdf = f'<rdf:RDF xmlns:rdf="{RDF}"><rdf:Description rdf:about="" {ns}>{body}</rdf:Description></rdf:RDF>'
    return f'<x:xmpmeta xmlns:x="adobe:ns:meta/">{rdf}</x:xmpmeta>' if wrapper else rdf


def jpeg(*segments: bytes) -> bytes:
    """A minimal baseline JPEG (SOI, the segments, a scan, EOI): enough for the walker."""
    return b"\xff\xd8" + b"".join(segments) + b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00\x00\x00\xff\xd9"


def app1(payload: bytes) -> bytes:
    return b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload


def signal(result, source: str) -> list[dict]:
    """The evidence of one source without its location (which differs by carrier)."""
    return [{k: v for k, v in e.to_dict().items() if k != "location"} for e in result.evidence if e.source == source]


# --------------------------------------------------------------------------- every form, one label


def test_the_form_fixtures_are_there():
    assert len(CLEAN) >= 25, CLEAN


@pytest.mark.parametrize("name", CLEAN)
def test_every_form_gives_the_same_label_field_and_evidence(name, checker):
    reference = checker.check(FIXTURES / "xmp-form-element.jpg")
    result = checker.check(FIXTURES / name)
    assert [(e.key, e.value) for e in result.evidence if e.source == "gb45438"] == [("xmp/TC260:AIGC", LABEL)]
    assert [(e.key, e.value) for e in result.evidence if e.source == "iptc"] == [
        ("xmp/Iptc4xmpExt:DigitalSourceType", DST_AI)
    ]
    assert signal(result, "gb45438") == signal(reference, "gb45438")
    assert signal(result, "iptc") == signal(reference, "iptc")
    assert result.status.value == "ai-generated" and result.classification.aigc_label == "1"
    assert not result.errors and not result.findings, [e.message for e in result.errors]


@pytest.mark.parametrize(
    "body,ns",
    [
        (f'<t:AIGC rdf:value="{ESCAPED}" q:x="1"/>', ""),
        (f'<t:AIGC rdf:parseType="Resource"><rdf:value>{ESCAPED}</rdf:value><q:x>1</q:x></t:AIGC>', ""),
        (f'<t:AIGC><rdf:Description q:x="1"><rdf:value>{ESCAPED}</rdf:value></rdf:Description></t:AIGC>', ""),
        (f'<t:AIGC><rdf:Alt><rdf:li xml:lang="x-default">{ESCAPED}</rdf:li></rdf:Alt></t:AIGC>', ""),
        (
            f'<t:AIGC><rdf:Bag><rdf:li rdf:parseType="Resource"><rdf:value>{ESCAPED}</rdf:value>'
            "</rdf:li></rdf:Bag></t:AIGC>",
            "",
        ),
        (f"<t:AIGC><![CDATA[{LABEL}]]></t:AIGC>", ""),
        ("", f't:AIGC="{ESCAPED}"'),
    ],
    ids=["value-attribute", "parsetype-resource", "nested-description", "alt", "bag-item-value", "cdata", "attribute"],
)
def test_reader_forms(body, ns):
    fields = read(packet(body, f'xmlns:t="{TC260}" xmlns:q="urn:q" {ns}').encode())
    assert ("TC260:AIGC", LABEL) in fields
    assert [k for k, _ in fields if k == "TC260:AIGC"] == ["TC260:AIGC"]


def test_qualifiers_and_struct_fields_use_xmp_paths():
    fields = read(
        packet(
            f'<t:AIGC rdf:parseType="Resource"><rdf:value>{ESCAPED}</rdf:value><xmp:Writer>w</xmp:Writer></t:AIGC>'
            '<xmpMM:History><rdf:Seq><rdf:li rdf:parseType="Resource"><stEvt:action>saved</stEvt:action>'
            '</rdf:li><rdf:li><rdf:Description stEvt:action="edited"/></rdf:li></rdf:Seq></xmpMM:History>',
            f'xmlns:t="{TC260}" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/" '
            'xmlns:stEvt="http://ns.adobe.com/xap/1.0/sType/ResourceEvent#"',
        ).encode()
    )
    assert ("TC260:AIGC/?xmp:Writer", "w") in fields
    actions = [(k, v) for k, v in fields if k.endswith("}action")]
    assert [v for _, v in actions] == ["saved", "edited"]
    assert all(k.startswith("xmpMM:History/") for k, _ in actions), "a nested node is read once, in its struct"


def test_typed_node_and_several_descriptions():
    data = (
        f'<rdf:RDF xmlns:rdf="{RDF}" xmlns:cc="http://creativecommons.org/ns#" xmlns:t="{TC260}" '
        f'xmlns:I="{IPTC}"><cc:Work rdf:about=""><t:AIGC>{ESCAPED}</t:AIGC></cc:Work>'
        f'<rdf:Description I:DigitalSourceType="{DST_AI}"/></rdf:RDF>'
    )
    assert read(data.encode()) == [("TC260:AIGC", LABEL), ("Iptc4xmpExt:DigitalSourceType", DST_AI)]


def test_a_label_inside_a_struct_is_still_found(checker):
    body = f'<ns:Box rdf:parseType="Resource"><t:AIGC>{ESCAPED}</t:AIGC></ns:Box>'
    fields = read(packet(body, f'xmlns:t="{TC260}" xmlns:ns="urn:box"').encode())
    assert fields == [("{urn:box}Box/TC260:AIGC", LABEL)]
    result = checker.check(jpeg(app1(XMP_ID + packet(body, f'xmlns:t="{TC260}" xmlns:ns="urn:box"').encode())))
    assert result.status.value == "ai-generated"


def test_namespace_uri_decides_not_prefix():
    other = read(packet(f"<TC260:AIGC>{ESCAPED}</TC260:AIGC>", 'xmlns:TC260="urn:not-tc260"').encode())
    assert other == [("{urn:not-tc260}AIGC", LABEL)]
    renamed = read(
        f'<m:xmpmeta xmlns:m="adobe:ns:meta/"><r:RDF xmlns:r="{RDF}"><r:Description xmlns:a="{TC260}">'
        f"<a:AIGC>{ESCAPED}</a:AIGC></r:Description></r:RDF></m:xmpmeta>".encode()
    )
    assert renamed == [("TC260:AIGC", LABEL)]


# --------------------------------------------------------------------------- encodings

CODECS = ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"]
BOMS = {
    "utf-16-le": b"\xff\xfe",
    "utf-16-be": b"\xfe\xff",
    "utf-32-le": b"\xff\xfe\x00\x00",
    "utf-32-be": b"\x00\x00\xfe\xff",
}


@pytest.mark.parametrize("codec", CODECS)
@pytest.mark.parametrize("bom", [True, False], ids=["bom", "no-bom"])
@pytest.mark.parametrize("wrapper", ["xpacket", "xmpmeta", "rdf"])
def test_encodings(codec, bom, wrapper):
    xml = packet(f"<t:AIGC>{ESCAPED}</t:AIGC>", f'xmlns:t="{TC260}"', wrapper=wrapper != "rdf")
    if wrapper == "xpacket":
        xml = f'<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>{xml}<?xpacket end="w"?>'
    data = (BOMS[codec] if bom else b"") + xml.encode(codec)
    assert packet_encoding(data)[0] == codec
    assert read(data) == [("TC260:AIGC", LABEL)]
    assert read(data + b"\x00" * 7) == [("TC260:AIGC", LABEL)], "padding, and a cut inside a character"


def test_utf8_is_decided_at_once_and_kept():
    data = b"\x00\x00" + packet(f"<t:AIGC>{ESCAPED}</t:AIGC>", f'xmlns:t="{TC260}"').encode()
    assert packet_encoding(data) == ("utf-8", 0)
    assert utf8_packet(data) is data
    assert read(b"\xef\xbb\xbf" + data[2:]) == [("TC260:AIGC", LABEL)]


@pytest.mark.parametrize("codec", CODECS)
def test_a_broken_utf16_or_utf32_packet_is_still_scanned(codec):
    data = packet(f"<t:AIGC>{ESCAPED}</t:AIGC><unclosed>", f'xmlns:t="{TC260}"').encode(codec)
    with pytest.raises(PartialRead) as info:
        read(data)
    assert [(f.key, f.value) for f in info.value.fields] == [("TC260:AIGC", LABEL)]


def test_an_entity_declaration_in_utf16_is_refused():
    laughs = (
        '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">&b;</x:xmpmeta>'
    ).encode("utf-16")
    with pytest.raises(PartialRead) as info:
        read(laughs)
    assert info.value.code == "limit-exceeded" and info.value.fatal


# --------------------------------------------------------------------------- JPEG Extended XMP


def extended(label_packet: bytes, guid: str | None = None, portion: int = 40_000, named: str | None = None):
    """(main APP1, extended APP1 segments in offset order) for ``label_packet`` as the extension."""
    digest = hashlib.md5(label_packet).hexdigest().upper()
    guid = guid or digest
    main = packet(
        f"<I:DigitalSourceType>{DST_AI}</I:DigitalSourceType>",
        f'xmlns:I="{IPTC}" xmlns:xmpNote="http://ns.adobe.com/xmp/note/" xmpNote:HasExtendedXMP="{named or guid}"',
    )
    parts = [
        app1(EXT_ID + guid.encode() + struct.pack(">II", len(label_packet), at) + label_packet[at : at + portion])
        for at in range(0, len(label_packet), portion)
    ]
    return app1(XMP_ID + main.encode()), parts


EXTENSION = packet(
    f'<t:AIGC>{ESCAPED}</t:AIGC><dc:description><rdf:Alt><rdf:li xml:lang="x-default">{"pad " * 25000}'
    "</rdf:li></rdf:Alt></dc:description>",
    f'xmlns:t="{TC260}" xmlns:dc="http://purl.org/dc/elements/1.1/"',
).encode()


def sources(result) -> set[str]:
    return {e.source for e in result.evidence}


def test_extended_xmp_in_any_order(checker):
    main, parts = extended(EXTENSION)
    assert len(parts) == 3
    for order in ([main, *parts], [parts[2], parts[0], main, parts[1]], [*reversed(parts), main]):
        result = checker.check(jpeg(*order))
        assert sources(result) == {"gb45438", "iptc"} and not result.errors, [e.message for e in result.errors]
        (label,) = [e for e in result.evidence if e.source == "gb45438"]
        assert label.value == LABEL and "extended XMP" in label.location


def test_extended_xmp_bad_md5_is_reported_not_trusted_silently(checker):
    main, parts = extended(EXTENSION, guid="0" * 32)
    result = checker.check(jpeg(main, *parts))
    assert [e.code for e in result.errors] == ["crc-mismatch"] and "MD5" in result.errors[0].message
    assert "metadata-unreadable" in {f.code for f in result.findings}
    assert result.status.value == "ai-generated"  # a label in it is still a label
    assert any(e.source == "gb45438" and e.strength.value == "strong" for e in result.evidence)
    fixture = checker.check(FIXTURES / "xmp-extended-bad-md5.jpg")
    assert [e.code for e in fixture.errors] == ["crc-mismatch"]


def test_extended_xmp_incomplete_unnamed_and_missing(checker):
    main, parts = extended(EXTENSION)
    incomplete = checker.check(jpeg(main, parts[0], parts[2]))
    assert any("incomplete" in e.message for e in incomplete.errors)
    assert "gb45438" in sources(incomplete), "the portion holding the label is still scanned"

    unnamed_main, _ = extended(EXTENSION, named="F" * 32)
    unnamed = checker.check(jpeg(unnamed_main, *parts))
    assert any("not the main XMP's extension" in e.message for e in unnamed.errors)
    assert any("holds none" in e.message for e in unnamed.errors)
    assert "gb45438" in sources(unnamed)

    missing = checker.check(jpeg(main))
    assert [e.code for e in missing.errors] == ["metadata-unreadable"] and "missing" in missing.errors[0].message


def test_extended_xmp_written_by_exiftool_checks_out():
    """exiftool's own split (GUID, lengths, offsets, MD5) passes every check: an independent writer."""
    from aigc_check.formats import identify
    from aigc_check.model import Container
    from aigc_check.source import ByteSource

    with ByteSource.open(FIXTURES / "xmp-extended-exiftool.jpg", "x") as src:
        handler = identify(src.head)
        c = Container(handler.name, handler.media_type)
        handler.walk(src, c)
    extension = [b for b in c.blocks if "extended XMP" in b.location]
    assert len(extension) == 1 and not c.errors
    assert any(f.key == "dc:description" for f in XmpReader().read_block(extension[0]))


def test_extended_xmp_is_bounded(checker, monkeypatch):
    monkeypatch.setattr(jpeg_format, "MAX_METADATA_BLOCK", 100_000)
    main, parts = extended(EXTENSION * 2, portion=60_000)
    result = checker.check(jpeg(main, *parts))
    assert result.verdict.value in ("unreadable", "unlabelled-ai")
    assert any(e.code == "limit-exceeded" and e.fatal for e in result.errors)


# --------------------------------------------------------------------------- packets that do not parse


def test_unparseable_but_recovered(checker):
    result = checker.check(FIXTURES / "xmp-unparseable-recovered.jpg")
    assert result.status.value == "ai-generated"
    label = [e for e in result.evidence if e.source == "gb45438"]
    assert label and label[0].strength.value == "strong" and label[0].value == LABEL
    (finding,) = [f for f in result.findings if f.code == "metadata-unreadable"]
    assert "not well-formed" in finding.message and "recovered" in finding.message


@pytest.mark.parametrize("policy,declared", [("cn", "none"), ("cn", "ai"), ("cn", "not-ai"), ("eu", "none")])
def test_unparseable_unrecovered_is_never_compliant_without_action(policy, declared):
    result = Checker(CheckOptions(policy=policy)).check(FIXTURES / "xmp-unparseable-unrecovered.jpg", declared)
    assert not (result.verdict.value == "compliant" and result.action == "none")
    assert "review" in result.measures
    (finding,) = [f for f in result.findings if f.code == LABEL_UNREADABLE]
    assert finding.severity == "error" and "TC260" in finding.message
    assert [e.code for e in result.errors] == [LABEL_UNREADABLE]


@pytest.mark.parametrize(
    "broken",
    [
        f"<t:AIGC>{ESCAPED}</t:AIGC><oops>",
        f'<t:AIGC rdf:parseType="Resource"><rdf:value>{ESCAPED}</rdf:value></t:AIGC><oops>',
        f'<t:AIGC><rdf:Alt><rdf:li xml:lang="x-default">{ESCAPED}</rdf:li></rdf:Alt></t:AIGC><oops>',
        f"<t:AIGC><rdf:Description><rdf:value>{ESCAPED}</rdf:value></rdf:Description></t:AIGC><oops>",
        f"<t:AIGC><![CDATA[{LABEL}]]></t:AIGC><oops>",
        f'<t:AIGC rdf:value="{ESCAPED}"/><oops>',
    ],
    ids=["element", "parsetype", "alt", "nested", "cdata", "value-attribute"],
)
def test_the_text_scan_recovers_each_form(broken):
    with pytest.raises(PartialRead) as info:
        read(packet(broken, f'xmlns:t="{TC260}"').encode())
    assert [(f.key, f.value) for f in info.value.fields] == [("TC260:AIGC", LABEL)]
    assert info.value.code == "metadata-unreadable" and not info.value.fatal


def test_the_text_scan_recovers_the_other_fields_the_signatures_use():
    broken = packet(
        f'<I:DigitalSourceType rdf:resource="{DST_AI}"/><xmp:CreatorTool>Midjourney</xmp:CreatorTool>'
        "<dcterms:provenance>self#jumbf=/c2pa</dcterms:provenance><dc:subject><rdf:Bag><rdf:li>a</rdf:li>"
        "<rdf:li>b</rdf:li></rdf:Bag></dc:subject><oops>",
        f'xmlns:I="{IPTC}" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" I:AISystemUsed="Some Model"',
    )
    with pytest.raises(PartialRead) as info:
        read(broken.encode())
    assert [(f.key, f.value) for f in info.value.fields] == [
        ("Iptc4xmpExt:AISystemUsed", "Some Model"),
        ("Iptc4xmpExt:DigitalSourceType", DST_AI),
        ("xmp:CreatorTool", "Midjourney"),
        ("dcterms:provenance", "self#jumbf=/c2pa"),
        ("dc:subject", "a"),
        ("dc:subject", "b"),
    ]


def test_the_text_scan_keeps_to_the_namespace():
    with pytest.raises(Exception) as info:
        read(packet(f"<t:AIGC>{ESCAPED}</t:AIGC><oops>", 'xmlns:t="urn:other"').encode())
    assert not getattr(info.value, "fields", [])
    assert getattr(info.value, "code", "") == LABEL_UNREADABLE, "it mentions AIGC, so it is not cleared"


def test_damage_without_a_label_mention_is_only_a_warning(checker):
    broken = packet("<dc:title>Fish & Chips</dc:title>", 'xmlns:dc="http://purl.org/dc/elements/1.1/"')
    result = checker.check(jpeg(app1(XMP_ID + broken.encode())))
    assert result.verdict.value == "compliant" and result.action == "none"
    assert [f.code for f in result.findings] == ["metadata-unreadable"]


# --------------------------------------------------------------------------- SVG


def test_svg_fixtures(checker):
    for name in ("xmp-svg-metadata-at-end.svg", "xmp-svg-bare-rdf.svg"):
        result = checker.check(FIXTURES / name)
        assert sources(result) == {"gb45438", "iptc"} and not result.errors, name
    assert (FIXTURES / "xmp-svg-metadata-at-end.svg").stat().st_size > 256 * 1024


def svg(metadata: str, pad: int = 0, root_ns: str = "") -> bytes:
    return (
        f'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" {root_ns}>\n'
        + '<path d="M0 0 L1 1"/>\n' * pad
        + metadata
        + "\n</svg>\n"
    ).encode()


def test_svg_metadata_after_megabytes_and_with_prefixed_elements(checker):
    meta = (
        f'<svg:metadata xmlns:svg="http://www.w3.org/2000/svg"><rdf:RDF><rdf:Description t:AIGC="{ESCAPED}"/>'
        "</rdf:RDF></svg:metadata>"
    )
    data = svg(meta, pad=120_000, root_ns=f'xmlns:rdf="{RDF}" xmlns:t="{TC260}"')
    assert len(data) > 2 * 1024 * 1024
    result = checker.check(data)
    assert [(e.key, e.value) for e in result.evidence] == [("xmp/TC260:AIGC", LABEL)]
    assert result.to_dict()["bytes_read"] < 2 * len(data), "the document is read once"


def test_svg_without_metadata_is_unchanged(checker):
    result = checker.check(svg("", pad=10))
    assert result.verdict.value == "compliant" and not result.errors and not result.evidence


def test_svg_entities_are_never_expanded(checker):
    laughs = (
        '<?xml version="1.0"?>\n<!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
        '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg"><metadata><rdf:RDF xmlns:rdf="{RDF}">'
        '<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>&c;</dc:title></rdf:Description>'
        "</rdf:RDF></metadata></svg>\n"
    ).encode()
    result = checker.check(laughs)
    assert "aaaaaaaaaa" not in json.dumps(result.to_dict())
    assert result.errors and result.errors[0].code == "metadata-unreadable"


# --------------------------------------------------------------------------- other places, hostile packets


def pdf(metadata: bytes, filters: bytes = b"") -> bytes:
    """A PDF whose catalog names a metadata stream of these bytes (the walker scans, it needs no xref)."""
    return (
        b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Metadata 2 0 R >>\nendobj\n2 0 obj\n"
        b"<< /Type /Metadata /Subtype /XML "
        + filters
        + b"/Length %d >>\nstream\n" % len(metadata)
        + metadata
        + b"\nendstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
    )


def test_pdf_metadata_streams_compressed_or_without_wrapper(checker):
    result = checker.check(FIXTURES / "xmp-pdf-flate-metadata.pdf")
    assert sources(result) == {"gb45438", "iptc"} and not result.errors
    bare = packet(f"<t:AIGC>{ESCAPED}</t:AIGC>", f'xmlns:t="{TC260}"', wrapper=False).encode()
    for data in (pdf(bare), pdf(zlib.compress(bare), b"/Filter /FlateDecode "), pdf(bare.decode().encode("utf-16"))):
        assert [e.key for e in checker.check(data).evidence] == ["xmp/TC260:AIGC"]
    wrapped = packet(f"<t:AIGC>{ESCAPED}</t:AIGC>", f'xmlns:t="{TC260}"').encode()
    assert len(checker.check(pdf(wrapped)).evidence) == 1, "an uncompressed packet is read once"
    bomb = pdf(zlib.compress(b" " * (20 << 20)), b"/Filter /FlateDecode ")
    assert any(e.code == "limit-exceeded" and e.fatal for e in checker.check(bomb).errors)


def test_a_huge_packet_is_read_within_bounds(checker, monkeypatch):
    props = "".join(f"<dc:p{i}>value {i}</dc:p{i}>" for i in range(300_000))
    data = packet(f"<t:AIGC>{ESCAPED}</t:AIGC>" + props, f'xmlns:t="{TC260}" xmlns:dc="urn:dc"')
    assert len(data) > 8 << 20
    started = time.perf_counter()
    result = checker.check(svg(f"<metadata>{data}</metadata>"))
    assert time.perf_counter() - started < 20
    assert result.status.value == "ai-generated"
    assert any(e.code == "limit-exceeded" and e.fatal for e in result.errors), "more fields than MAX_FIELDS"

    from aigc_check.formats import svg as svg_format

    monkeypatch.setattr(svg_format, "MAX_METADATA_BLOCK", 1 << 20)
    over = checker.check(svg(f"<metadata>{data}</metadata>"))
    assert over.verdict.value == "unreadable" and any(e.code == "limit-exceeded" for e in over.errors)


def test_a_huge_broken_packet_scans_in_linear_time():
    hostile = b'<x:xmpmeta xmlns:t="' + TC260.encode() + b'">' + b"<t:AIGC>" * 500_000 + b'<t:AIGC t:AIGC="' * 200_000
    started = time.perf_counter()
    with pytest.raises(PartialRead):
        read(hostile)
    assert time.perf_counter() - started < 10


def test_deep_nesting_is_cut_at_the_depth_limit_and_said(checker):
    deep = "<rdf:Bag><rdf:li>" * 500 + ESCAPED + "</rdf:li></rdf:Bag>" * 500
    data = packet(
        f"<t:AIGC>{deep}</t:AIGC><I:DigitalSourceType>{DST_AI}</I:DigitalSourceType>",
        f'xmlns:t="{TC260}" xmlns:I="{IPTC}"',
    ).encode()
    with pytest.raises(PartialRead) as info:
        read(data)
    assert info.value.code == "limit-exceeded" and info.value.fatal
    assert [(f.key, f.value) for f in info.value.fields] == [("Iptc4xmpExt:DigitalSourceType", DST_AI)]
    result = checker.check(jpeg(app1(XMP_ID + data)))
    assert result.status.value == "ai-generated" and any(e.code == "limit-exceeded" for e in result.errors)
    label_only = packet(f"<t:AIGC>{deep}</t:AIGC>", f'xmlns:t="{TC260}"').encode()
    assert checker.check(jpeg(app1(XMP_ID + label_only))).verdict.value == "unreadable"


def test_billion_laughs_stays_refused(checker):
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + b"".join(
            f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode() for i in range(1, 10)
        )
        + b"]>"
        + packet("<dc:title>&lol9;</dc:title>", 'xmlns:dc="http://purl.org/dc/elements/1.1/"').encode()
    )
    result = checker.check(jpeg(app1(XMP_ID + laughs)))
    assert result.verdict.value == "unreadable" and [e.code for e in result.errors] == ["limit-exceeded"]


@pytest.mark.parametrize("codec", CODECS)
def test_encoding_of_a_packet_that_starts_with_white_space(codec):
    data = ("\n  " + packet(f"<t:AIGC>{ESCAPED}</t:AIGC>", f'xmlns:t="{TC260}"')).encode(codec)
    assert packet_encoding(data)[0] == codec
    assert read(data) == [("TC260:AIGC", LABEL)]
