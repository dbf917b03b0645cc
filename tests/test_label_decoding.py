"""Tolerant GB 45438 label decoding (issue 12): every departure from Annex E that still leaves one
Label value is read and named; a label whose value is lost is reported as unreadable; nothing is
decoded past the size and depth bounds, and no text makes the decoder raise."""

from __future__ import annotations

import base64
import html
import json
import urllib.parse

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aigc_check.model import C2paSummary, Container, Field, Strength
from aigc_check.options import CheckOptions
from aigc_check.signatures import SignalView, aigc_label
from aigc_check.signatures.fingerprints import FingerprintTable
from aigc_check.signatures.label_decoding import (
    MAX_LABEL_DEPTH,
    MAX_LABEL_TEXT,
    decode,
    find_in_text,
)

LABEL = {
    "Label": "1",
    "ContentProducer": "001191110102MACQD9K64010000",
    "ProduceID": "test-0001",
    "ReservedCode1": "",
    "ContentPropagator": "",
    "PropagateID": "",
    "ReservedCode2": "",
}
BARE = json.dumps(LABEL, separators=(",", ":"))
WRAPPED = json.dumps({"AIGC": LABEL}, separators=(",", ":"))

# (case, text, a word the defect must contain)
RECOVERABLE = [
    ("json in a json string", json.dumps(BARE), "JSON string"),
    ("wrapper holds a string", json.dumps({"AIGC": BARE}), "wrapper holds a string"),
    ("base64", base64.b64encode(BARE.encode()).decode(), "base64"),
    ("url-safe base64 without padding", base64.urlsafe_b64encode(WRAPPED.encode()).decode().rstrip("="), "base64"),
    ("url-encoded", urllib.parse.quote(WRAPPED, safe=""), "URL-encoded"),
    ("html entities", html.escape(BARE), "entities"),
    ("entities twice", html.escape(html.escape(BARE)), "entities"),
    ("byte-order mark", "\ufeff" + BARE, "byte-order mark"),
    ("utf-8 bom read as latin-1", "\u00ef\u00bb\u00bf" + BARE, "byte-order mark"),
    ("stray white space", "\r\n  " + BARE + "\t ", "white space"),
    ("lower-case label", BARE.replace('"Label"', '"label"'), "another case"),
    ("upper-case names", json.dumps({k.upper(): v for k, v in LABEL.items()}), "another case"),
    ("upper-case wrapper", json.dumps({"aigc": LABEL}), "wrapper is named"),
    ("single quotes", str(LABEL), "single-quoted"),
    ("python dict wrapped", str({"AIGC": LABEL}), "single-quoted"),
    ("unquoted names", "{Label:1,ContentProducer:001191110102MACQD9K64010000,ProduceID:x}", "unquoted"),
    ("name=value pairs", ";".join(f"{k}={v}" for k, v in LABEL.items()), "name=value"),
    ("name: value lines", "Label: '1'\nContentProducer: '0011'\nProduceID: 'x'", "not an object"),
    ("truncated in a value", BARE[:50], "cut short"),
    ("truncated after the label", BARE[:13], "cut short"),
    ("wrapped and truncated", WRAPPED[:40], "cut short"),
    ("text after the json", BARE + "}}garbage", "text after the JSON"),
    ("AIGC{...} blob", "AIGC" + BARE, "follows the name AIGC"),
    ("array around the object", "[" + BARE + "]", "array"),
    ("white space in the value", BARE.replace('"Label":"1"', '"Label":" 1 "'), "white space inside"),
    ("a repeated other element", BARE[:-1] + ',"ProduceID":""}', "more than once"),
]


@pytest.mark.parametrize("case,text,defect", RECOVERABLE, ids=[c[0] for c in RECOVERABLE])
def test_a_recoverable_label_gives_its_value_and_names_the_defect(case, text, defect):
    decoded = decode(text)
    assert decoded.label == "1" and decoded.has_elements and not decoded.ambiguous and not decoded.refused
    assert any(defect in d for d in decoded.defects), decoded.defects


def test_a_conformant_label_has_no_defects():
    for text in (BARE, WRAPPED, json.dumps(LABEL, indent=2)):
        decoded = decode(text)
        assert decoded.label == "1" and decoded.defects == [] and decoded.values == LABEL


def test_layers_are_peeled_one_after_another():
    # base64 of a URL-encoded wrapper whose value is a JSON string
    text = base64.b64encode(urllib.parse.quote(json.dumps({"AIGC": BARE})).encode()).decode()
    decoded = decode(text)
    assert decoded.label == "1"
    assert [d.split(" ")[0] for d in decoded.defects] == ["base64-encoded", "URL-encoded", "the"]


@pytest.mark.parametrize(
    "case,text,why",
    [
        ("two labels disagree", json.dumps({**LABEL, "label": "3"}), "different values"),
        ("same key twice", BARE[:-1] + ',"Label":"2"}', "different values"),
        ("pairs disagree", "Label=1;ContentProducer=x;ProduceID=y;LABEL=2", "different values"),
    ],
)
def test_an_ambiguous_label_gives_no_value(case, text, why):
    decoded = decode(text)
    assert decoded.label is None and decoded.ambiguous
    assert any(why in d for d in decoded.defects)


def test_a_label_cut_before_its_value_has_no_usable_value():
    decoded = decode('{"ContentProducer":"x","ProduceID":"y","Label":')
    assert decoded.has_elements and decoded.label in (None, "")


def test_nesting_is_refused_before_parsing():
    deep = '{"AIGC":' + "[" * 5000 + "]" * 5000 + "}"
    decoded = decode(deep)
    assert decoded.refused and not decoded.has_elements and decoded.label is None
    assert any("levels deep" in d for d in decoded.defects)
    # within the bound a nested value is still parsed
    ok = decode(json.dumps({**LABEL, "ReservedCode1": [[["x"]]]}))
    assert ok.label == "1" and not ok.refused
    assert MAX_LABEL_DEPTH >= 4


def test_deep_nesting_inside_strings_is_not_nesting():
    decoded = decode(json.dumps({**LABEL, "ReservedCode1": "[" * 10_000}))
    assert decoded.label == "1" and not decoded.refused


def test_size_is_bounded_before_decoding():
    decoded = decode('{"Label":"1","ReservedCode1":"' + "A" * (MAX_LABEL_TEXT + 1) + '"}')
    assert decoded.refused and decoded.label is None and "not decoded" in decoded.defects[-1]


def test_layers_are_bounded():
    text = BARE
    for _ in range(10):
        text = json.dumps(text)
    decoded = decode(text)
    assert decoded.label is None and any("encoding layers" in d for d in decoded.defects)


def test_text_that_only_mentions_the_names_is_not_a_label():
    assert not decode("AIGC art challenge").has_elements
    assert not decode('{"AIGC":{"ServiceProvider":"腾讯云","ServiceUser":"x"}}').has_elements


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.text(alphabet=st.sampled_from(list("{}[]\"':=;,& \n\\%AIGCLabel1ContentProducer\ufeff")), max_size=400))
def test_no_text_makes_the_decoder_raise(text):
    decoded = decode(text)
    assert isinstance(decoded.defects, list)
    find_in_text(text)


@settings(max_examples=100, deadline=None, derandomize=True)
@given(st.binary(max_size=300))
def test_no_bytes_make_the_decoder_raise(data):
    decode(data.decode("latin-1"))
    decode(base64.b64encode(data).decode())


# --------------------------------------------------------------------------- free text


def test_the_label_is_found_inside_free_text():
    assert find_in_text(f"Exported by Studio 3. {WRAPPED} Thanks!") == WRAPPED
    assert find_in_text(f"prompt {{style}} then {BARE}") == BARE
    assert find_in_text("x AIGC" + BARE + " y") == "AIGC" + BARE
    assert find_in_text("caption\nLabel=1;ContentProducer=x;ProduceID=y\nmore").startswith("Label=1;")
    assert find_in_text("a photo of a cat") is None


def field(name: str, value: str) -> Field:
    family, _, key = name.partition("/")
    return Field(family, key, value, "test")


def collect(*fields: Field) -> SignalView:
    view = SignalView(
        list(fields), Container("png", "image/png"), C2paSummary(), CheckOptions(), FingerprintTable.load()
    )
    aigc_label.collect(view)
    return view


@pytest.mark.parametrize(
    "name",
    [
        "mp4/©cmt",
        "mp4/desc",
        "mp4/©des",
        "id3/COMM",
        "id3/COMM:eng",
        "id3/TXXX:comment",
        "riff/ICMT",
        "riff/ISBJ",
        "vorbis/comment",
        "vorbis/description",
        "mkv/COMMENT",
        "mkv/DESCRIPTION",
        "asf/Description",
        "exif/ImageDescription",
        "exif/UserComment",
        "exif/XPComment",
        "text/Comment",
        "text/Description",
        "pdf/Subject",
        "pdf/Keywords",
        "xmp/dc:description",
        "comment/COM",
        "aiff/ANNO",
    ],
)
def test_every_free_text_field_carries_the_label(name):
    for value in (BARE, WRAPPED, f"made with Example 2 {WRAPPED}"):
        view = collect(field(name, value))
        (evidence,) = view.evidence
        assert evidence.aigc_label == "1" and evidence.strength is Strength.STRONG, (name, value)
        assert view.findings == []


def test_free_text_needs_a_telltale_name_and_an_annex_e_element():
    view = collect(
        field("mp4/©cmt", "AIGC art challenge 2025"),
        field("text/Comment", '{"AIGC": {"ServiceProvider": "x"}}'),
        field("exif/ImageDescription", '{"Label": "1"}'),  # no telltale: Label alone is too common a word
        field("text/parameters", BARE),  # not a free-text field
    )
    assert view.evidence == [] and view.findings == []


def test_a_malformed_label_is_strong_evidence_with_a_finding():
    view = collect(field("text/AIGC", str(LABEL)))
    (evidence,) = view.evidence
    assert evidence.aigc_label == "1" and evidence.strength is Strength.STRONG
    assert [f.code for f in view.findings] == ["aigc-label-malformed"]
    assert "single-quoted" in view.findings[0].message


def test_an_unreadable_label_is_weak_and_asks_for_review():
    for text in (json.dumps({**LABEL, "label": "2"}), '{"AIGC":' + "[" * 3000 + "]" * 3000 + "}", "%%%"):
        view = collect(field("text/AIGC", text))
        (evidence,) = view.evidence
        assert evidence.aigc_label is None and evidence.strength is Strength.WEAK
        assert {f.code for f in view.findings} == {"aigc-label-malformed", "aigc-label-unreadable"}


def test_the_free_text_group_is_the_fingerprint_tables():
    table = FingerprintTable.load()
    assert table.in_group("free-text", "mp4/©cmt") and not table.in_group("free-text", "mp4/©too")
    assert aigc_label.parse(field("mp4/©cmt", BARE), table).label == "1"
    assert aigc_label.parse(field("mp4/©too", BARE), table) is None


def test_the_labels_decoded_per_file_are_bounded():
    view = collect(*(field("text/AIGC", BARE) for _ in range(aigc_label.MAX_LABELS + 10)))
    assert len(view.evidence) == aigc_label.MAX_LABELS
    assert [f.code for f in view.findings].count("aigc-label-unreadable") == 1


@pytest.mark.parametrize(
    "text",
    [
        '{"Label":"1","ContentProducer":"\\ud800x","ProduceID":"a"}',
        '{"AIGC":{"Label":"1","ContentProducer":"ok","ProduceID":"\\udfff"}}',
        '"{\\"Label\\":\\"1\\",\\"ContentProducer\\":\\"\\\\udc00\\",\\"ProduceID\\":\\"a\\"}"',
    ],
)
def test_lone_surrogate_escapes_never_reach_the_report(text, tmp_path):
    """A JSON "\\ud800" escape decodes to a character no UTF-8 output can hold: it is read as U+FFFD and
    named as a defect, and every output of the check (text, JSON, CSV) still writes."""
    decoded = decode(text)
    assert decoded.label == "1"
    assert any("lone UTF-16 surrogate" in d for d in decoded.defects)
    assert not any(0xD800 <= ord(ch) <= 0xDFFF for v in decoded.values.values() for ch in str(v))
    from aigc_check import check
    from aigc_check.report import to_json_line, to_text
    from aigc_check.scan.outputs import csv_lines, csv_row

    packet = (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description xmlns:TC260="http://www.tc260.org.cn/ns/AIGC/1.0/"><TC260:AIGC>'
        + html.escape(text, quote=False)
        + "</TC260:AIGC></rdf:Description></rdf:RDF></x:xmpmeta>"
    )
    data = b"\xff\xd8" + b"\xff\xe1" + (len(packet) + 31).to_bytes(2, "big") + b"http://ns.adobe.com/xap/1.0/\x00"
    data += packet.encode() + b"\xff\xd9"
    result = check(data, name="surrogate.jpg")
    assert result.status == "ai-generated"
    for out in (to_text(result), to_json_line(result), csv_lines([csv_row(result.to_dict())])):
        out.encode("utf-8")  # strict: no lone surrogate left anywhere
