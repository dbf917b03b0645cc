"""Markdown front matter and plain-text labels: the walker, its header test and its bounds."""

from __future__ import annotations

import json

import pytest

from aigc_check import check, formats
from aigc_check.formats import text
from aigc_check.formats.text import MAX_FRONT_MATTER, MAX_FRONT_MATTER_DEPTH
from aigc_check.model import Container
from aigc_check.scan.batch import sniff
from aigc_check.source import ByteSource

LABEL = {"Label": "1", "ContentProducer": "001191110102MACQD9K64010000", "ProduceID": "p-1"}


def _fields(data: bytes) -> dict[str, str]:
    """family/key -> text of the blocks the walker hands on."""
    container = Container("markdown", "text/markdown")
    src = ByteSource.open(data)
    try:
        text.walk(src, container)
    finally:
        src.close()
    return {f"{b.family}/{b.key}": b.text or "" for b in container.blocks}


def _name(data: bytes) -> str | None:
    handler = formats.identify(data)
    return handler.name if handler else None


@pytest.mark.parametrize(
    "data",
    [
        b"---\ntitle: x\n---\nbody\n",
        b"\xef\xbb\xbf---\r\ntitle: x\r\n...\r\n",
        b'{"AIGC": {"Label": "1"}}',
        b'  {"Label": "1", "ContentProducer": "x"}\n',
    ],
)
def test_front_matter_and_bare_labels_are_claimed(data):
    assert _name(data) == "markdown"


@pytest.mark.parametrize(
    "data",
    [
        b"# A heading\n\nplain markdown\n",
        b"hello world",
        b'{"name": "package", "version": "1.0"}',  # JSON that is not a label
        b'{"Label": "shipping"}',  # Label alone is not enough
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"></svg>',
        b"---\n\x00\x01\x02\x03binary" + bytes(range(256)) * 4,  # binary data that starts with ---
        b"---\n" + bytes(range(0x80, 0x100)) * 8,  # not UTF-8
        b"----- BEGIN\n",  # not a front matter opening line
    ],
)
def test_other_text_and_binary_are_not_claimed(data):
    assert _name(data) != "markdown"


def test_the_svg_walker_keeps_svg():
    assert _name(b'<svg xmlns="http://www.w3.org/2000/svg"/>') == "svg"


def test_mapping_label_and_fields():
    body = "".join(f"  {k}: '{v}'\n" for k, v in LABEL.items())
    doc = (
        f'---\ntitle: "Light\\u0020houses"  \nmeta:\n  tool: x  # a comment\n  tags: [a, b]\nAIGC:\n{body}---\n# Body\n'
    )
    result = check(doc.encode())
    assert result.format == "markdown" and result.media_type == "text/markdown"
    fields = _fields(doc.encode())
    assert json.loads(fields["md/AIGC"]) == LABEL
    assert fields["md/title"] == "Light houses"
    assert fields["md/meta.tool"] == "x"
    assert result.status == "ai-generated"


def test_label_as_json_string_and_flow_mapping():
    for value in (f"'{json.dumps(LABEL)}'", json.dumps(LABEL)):
        doc = f"---\nAIGC: {value}\n---\n".encode()
        assert json.loads(_fields(doc)["md/AIGC"]) == LABEL
        assert check(doc).status == "ai-generated"


def test_bare_label_text_file():
    result = check(json.dumps({"AIGC": LABEL}).encode())
    assert (result.format, result.media_type, result.status) == ("text", "text/plain", "ai-generated")


def test_generator_key_is_matched():
    result = check(b"---\ngenerator: MiniMax Agent\n---\n")
    assert result.status == "ai-generated" and result.generator == "minimax"


def test_front_matter_without_label_is_judged():
    result = check(b"---\ntitle: Notes\nauthor: me\n---\ntext\n")
    assert result.status == "unknown" and result.verdict != "unreadable" and not result.errors


def test_named_plain_text_is_judged_and_sniffed_plain_text_is_skipped(tmp_path):
    """Plain text the user names is judged as text with no metadata; found by sniffing, it is not media."""
    (tmp_path / "notes.md").write_bytes(b"# Notes\n\njust prose\n")
    (tmp_path / "fm.md").write_bytes(b"---\nt: 1\n---\n")
    result = check(tmp_path / "notes.md")
    assert (result.format, result.media_type, result.verdict) == ("text", "text/plain", "compliant")
    assert not result.errors and result.status == "unknown"
    declared = check(tmp_path / "notes.md", declared="ai")
    assert declared.verdict == "compliant" and declared.label == "possibly-ai"  # declared only: "may be"
    assert check("中文的文章，由人写成。\n".encode() * 50).format == "text"
    assert sniff(str(tmp_path / "notes.md")) == "not-media"
    assert sniff(str(tmp_path / "fm.md")) is None


@pytest.mark.parametrize("name", ["photo.jpg", "clip.MP4", "report.docx", "paper.pdf"])
def test_text_under_a_media_name_is_not_what_it_claims(name):
    result = check(b"This is a plain text file.\n", name=name)
    assert result.verdict == "unreadable" and result.errors[0].code == "unsupported-format"


@pytest.mark.parametrize(
    "data", [b"\x00\x01binary", "caf\xe9".encode("latin-1") * 20, b"text\x07\x08\x1b\x02" * 50, bytes(range(256))]
)
def test_binary_is_never_plain_text(data):
    assert check(data, name="x.txt").errors[0].code == "unsupported-format"


def test_truncated_front_matter():
    result = check(b"---\ntitle: x\nAIGC:\n  Label: '1'\n  ContentProducer: 'abc'\n")
    assert any(e.code == "truncated" for e in result.errors)


# --- hostile -----------------------------------------------------------------------------------


def test_deep_nesting_is_a_limit():
    lines = "".join(" " * i + f"k{i}:\n" for i in range(200)) + " " * 200 + "v: 1\n"
    result = check(f"---\n{lines}---\n".encode())
    assert result.verdict == "unreadable" and result.errors[0].code == "limit-exceeded"
    assert str(MAX_FRONT_MATTER_DEPTH) in result.errors[0].message


def test_alias_bomb_is_not_expanded():
    bomb = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
    )
    doc = f"---\n{bomb}AIGC: {json.dumps(LABEL)}\n---\n".encode()
    result = check(doc)
    assert any("anchors, aliases" in e.message for e in result.errors)
    fields = _fields(doc)
    assert all(len(v) < 1000 for v in fields.values())
    assert result.status == "ai-generated"  # the label beside the bomb is still read


def test_ten_megabyte_front_matter_is_a_limit():
    data = b"---\n" + b"k: " + b"x" * (10 * 1024 * 1024) + b"\n---\n"
    result = check(data)
    assert result.verdict == "unreadable" and result.errors[0].code == "limit-exceeded"
    assert str(MAX_FRONT_MATTER) in result.errors[0].message
    assert result.bytes_read < 200_000


def test_many_keys_are_bounded():
    keys = "".join(f"k{i}: v\n" for i in range(20_000))
    result = check(f"---\n{keys}---\n".encode())
    assert result.verdict == "unreadable" or result.errors  # the size or key bound, never a hang


@pytest.mark.parametrize(
    "doc",
    [
        '---\n"unclosed: x\n---\n',
        "---\nk: 'unclosed\n---\n",
        "---\n- a\n- b\n---\n",
        "---\nk: - a\n---\n",
        "---\n  k: 1\nj: 2\n    deep: 3\n---\n",
        "---\nk: |\n  line one\n  line two\n---\n",
        "---\n:\n: :\n---\n",
        "---\n\tk: 1\n---\n",
        "---\n[a, b]\n---\n",
    ],
)
def test_odd_front_matter_never_escapes(doc):
    result = check(doc.encode())
    assert result.format == "markdown"
    assert not any(e.code == "internal-error" for e in result.errors)
    assert not any("Error:" in e.message for e in result.errors)


def test_bare_label_followed_by_prose_and_cut():
    label = json.dumps({"AIGC": LABEL}).encode()
    assert check(label + b"\n\nThe article follows.\n").status == "ai-generated"
    for cut in (label[:-1], label[: len(label) // 2]):
        assert any(e.code == "truncated" for e in check(cut).errors)
