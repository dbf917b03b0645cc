"""ID3 in every version, place and text encoding (issue 12): the fixtures of fixtures/makers/av_tags.py
give the right fields and evidence, exiftool reads the same values where it reads the tag at all,
and hostile tag sizes and counts stay bounded."""

from __future__ import annotations

import functools
import sys
import time

import pytest
from conftest import FIXTURES, ROOT, exiftool_fixtures

from aigc_check import check, formats
from aigc_check.model import Container, Field
from aigc_check.options import DEFAULT_OPTIONS
from aigc_check.readers import ReadContext, all_readers
from aigc_check.source import ByteSource

sys.path.insert(0, str(ROOT / "fixtures"))
from makers.av_tags import (
    ape_tag,
    id3_tag,
    id3v1,
    label_frame,
    syncsafe,
    with_footer,
)
from makers.av_tags import mp3_audio as _mp3_audio
from makers.common import aigc_json

mp3_audio = functools.cache(_mp3_audio)  # ffmpeg once per run

LABEL = aigc_json()


def fields_of(data: bytes) -> tuple[list[Field], Container]:
    """The fields the readers find in ``data`` and the container walked, as the checker makes them."""
    with ByteSource.open(data) as src:
        handler = formats.identify(src.head)
        assert handler is not None
        c = Container(handler.name, handler.media_type)
        try:
            handler.walk(src, c)
        except Exception as exc:  # the checker turns these into errors; the test looks at what was found
            c.errors.append(exc)  # type: ignore[arg-type]
        ctx = ReadContext(src, c, DEFAULT_OPTIONS)
        for reader in all_readers():
            reader.read(ctx)
        return ctx.fields, c


def values(name: str) -> dict[str, list[str]]:
    fields, _ = fields_of((FIXTURES / name).read_bytes())
    out: dict[str, list[str]] = {}
    for f in fields:
        out.setdefault(f.name, []).append(f.value)
    return out


def located(name: str, key: str) -> list[str]:
    fields, _ = fields_of((FIXTURES / name).read_bytes())
    return [f.location for f in fields if f.name == key]


# ------------------------------------------------------------------ versions, places, encodings


@pytest.mark.parametrize(
    "name,version",
    [
        ("av-id3-v22.mp3", "ID3v2.2"),
        ("av-id3-v23.mp3", "ID3v2.3"),
        ("av-id3-v24.mp3", "ID3v2.4"),
        ("av-id3-unsync-v23.mp3", "ID3v2.3"),
        ("av-id3-unsync-v24.mp3", "ID3v2.4"),
        ("av-id3-enc-latin1.mp3", "ID3v2.4"),
        ("av-id3-enc-utf16.mp3", "ID3v2.4"),
        ("av-id3-enc-utf16be.mp3", "ID3v2.4"),
        ("av-id3-enc-utf8.mp3", "ID3v2.4"),
    ],
)
def test_label_in_each_version_and_encoding(name, version):
    assert values(name)["id3/TXXX:AIGC"] == [LABEL]
    assert all(version in where for where in located(name, "id3/TXXX:AIGC"))
    result = check(FIXTURES / name)
    assert result.status.value == "ai-generated" and result.classification.aigc_label == "1" and not result.errors


def test_v22_frames_are_named_as_v24():
    got = values("av-id3-v22.mp3")
    assert got["id3/TIT2"] == ["tone"]  # TT2 read as TIT2, TXX as TXXX (mutagen's translation)


def test_appended_tag_found_by_its_footer_before_id3v1():
    got = values("av-id3-appended-v1.mp3")
    assert got["id3/TXXX:AIGC"] == [LABEL] and got["id3/TSSE"] == ["Lavf60.16.100"]
    assert got["id3v1/title"] == ["tone"]
    (where,) = located("av-id3-appended-v1.mp3", "id3/TXXX:AIGC")
    assert "appended" in where


def test_appended_tag_found_behind_an_ape_tag():
    assert values("av-id3-appended-ape.mp3")["id3/TXXX:AIGC"] == [LABEL]


def test_two_head_tags_and_a_head_plus_appended_tag_are_all_read():
    two = values("av-id3-two-head-tags.mp3")
    assert two["id3/TSSE"] == ["Lavf60.16.100"] and two["id3/TXXX:AIGC"] == [LABEL]
    both = check(FIXTURES / "av-id3-head-and-appended.mp3")
    assert {(e.source, e.key) for e in both.evidence} == {("gb45438", "id3/TXXX:AIGC"), ("generator", "id3/COMM")}
    assert "suno" in {e.generator for e in both.evidence}


def test_id3v1_comment_title_and_artist_are_fields():
    got = values("av-id3v1-only-comment.mp3")
    assert got["id3v1/comment"] == ["made with suno"]
    assert got["id3v1/artist"] == ["Suno"] and got["id3v1/title"] == ["tone"]
    assert "id3v1/album" not in got  # empty fields are left out


def test_tsse_generator_trace():
    result = check(FIXTURES / "av-id3-tsse-suno.mp3")
    assert result.generator == "suno" and [e.key for e in result.evidence] == ["id3/TSSE"]


def test_footerless_tag_after_the_audio_is_found_by_the_stream_length():
    """An ID3v2.3 tag appended without a footer (no footer exists in 2.3): found where the Info
    frame says the audio ends."""
    audio = mp3_audio()
    data = id3_tag(label_frame(1), version=3, padding=0) + id3v1(title="tone")
    result = check(audio + data)
    assert result.classification.aigc_label == "1" and not result.errors
    assert "appended" in result.evidence[0].location


def test_a_cut_appended_tag_makes_the_file_truncated():
    whole = mp3_audio() + with_footer(id3_tag(label_frame(), padding=0))
    result = check(whole[:-20])
    assert result.verdict == "unreadable" and result.errors[0].code == "truncated"


# ------------------------------------------------------------------ bounds


def test_hostile_footer_size_is_an_error_not_a_read():
    audio = mp3_audio()
    footer = b"3DI\x04\x00\x10" + syncsafe(0x0FFFFFFF)
    start = time.perf_counter()
    result = check(audio + footer)
    assert time.perf_counter() - start < 2
    assert result.format == "mp3"
    assert any("footer claims" in e.message for e in result.errors)
    assert result.bytes_read < 4 * len(audio) + 1024


def test_footer_that_does_not_match_a_header_is_an_error():
    tag = bytearray(with_footer(id3_tag(label_frame(), padding=0)))
    tag[0:3] = b"XYZ"  # the header the footer points at is gone
    result = check(mp3_audio() + bytes(tag))
    assert any("does not match" in e.message for e in result.errors)


def test_ape_footer_claiming_more_than_the_file():
    ape = bytearray(ape_tag({"Title": "x"}))
    ape[-32 + 12 : -32 + 16] = (10**8).to_bytes(4, "little")
    result = check(mp3_audio() + bytes(ape))
    assert any("APE tag footer claims" in e.message for e in result.errors)


def test_thousands_of_tiny_appended_tags_are_bounded():
    tiny = with_footer(b"ID3\x04\x00\x00\x00\x00\x00\x00")
    data = mp3_audio() + tiny * 5000 + with_footer(id3_tag(label_frame(), padding=0))
    start = time.perf_counter()
    result = check(data)
    assert time.perf_counter() - start < 5
    assert result.classification.aigc_label == "1"  # the last tag, read before the bound
    assert any(e.code == "limit-exceeded" for e in result.errors) and result.verdict != "compliant"


def test_thousands_of_tiny_head_tags_are_bounded():
    tiny = b"ID3\x04\x00\x00\x00\x00\x00\x00"
    result = check(tiny * 5000 + mp3_audio())
    assert result.verdict == "unreadable" and result.errors[0].code == "limit-exceeded"


def test_head_tag_size_past_the_end_of_the_file():
    data = bytearray(id3_tag(label_frame()) + mp3_audio())
    data[6:10] = syncsafe(0x0FFFFFFF)
    result = check(bytes(data))
    assert result.verdict == "unreadable" and result.errors[0].code in ("truncated", "limit-exceeded")


# ------------------------------------------------------------------ exiftool agrees


HEAD_LABELLED = [
    ("av-id3-v22.mp3", "ID3v2_2"),
    ("av-id3-v23.mp3", "ID3v2_3"),
    ("av-id3-v24.mp3", "ID3v2_4"),
    ("av-id3-unsync-v23.mp3", "ID3v2_3"),
    ("av-id3-unsync-v24.mp3", "ID3v2_4"),
    ("av-id3-enc-latin1.mp3", "ID3v2_4"),
    ("av-id3-enc-utf16.mp3", "ID3v2_4"),
    ("av-id3-enc-utf16be.mp3", "ID3v2_4"),
    ("av-id3-enc-utf8.mp3", "ID3v2_4"),
    ("av-id3-head-and-appended.mp3", "ID3v2_4"),
]


def test_exiftool_reads_the_same_head_tag_labels():
    dumps = exiftool_fixtures(*(n for n, _ in HEAD_LABELLED))
    for name, group in HEAD_LABELLED:
        assert dumps[name][f"{group}:UserDefinedText"] == f"(AIGC) {values(name)['id3/TXXX:AIGC'][0]}", name


def test_exiftool_reads_the_same_id3v1_fields():
    dump = exiftool_fixtures("av-id3v1-only-comment.mp3")["av-id3v1-only-comment.mp3"]
    got = values("av-id3v1-only-comment.mp3")
    for key in ("comment", "artist", "title"):
        assert dump[f"ID3v1:{key.capitalize()}"] == got[f"id3v1/{key}"][0]


def test_exiftool_reads_only_the_first_head_tag_and_no_appended_one():
    """Where the two differ, aigc-check reads more: exiftool 12.57 stops after the first head tag
    and does not look for a footer, so these labels are invisible to it."""
    dumps = exiftool_fixtures("av-id3-two-head-tags.mp3", "av-id3-appended-v1.mp3", "av-id3-appended-ape.mp3")
    for name, dump in dumps.items():
        assert not any("UserDefinedText" in k for k in dump), name
        assert values(name)["id3/TXXX:AIGC"] == [LABEL], name
