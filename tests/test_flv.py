"""FLV: the walker and its hand-written AMF0 decoder on ffmpeg's files and on hand-built hostile ones."""

from __future__ import annotations

import json
import struct
import sys
import time

import pytest
from conftest import FIXTURES, ROOT, exiftool_fixtures

from aigc_check import check
from aigc_check.errors import LimitExceededError, MediaError, TruncatedError
from aigc_check.formats import flv, identify
from aigc_check.limits import MAX_AMF_DEPTH, MAX_FLV_TAGS
from aigc_check.model import Container
from aigc_check.source import ByteSource

sys.path.insert(0, str(ROOT / "fixtures"))
from makers.flv import HEADER, amf_ecma, amf_key, amf_string, flv_file, flv_tag, on_metadata

LABEL = json.dumps({"Label": "1", "ContentProducer": "001191110108MA01TEST0X20001", "ProduceID": "p-1"})


def walk(data: bytes) -> Container:
    c = Container("flv", "video/x-flv")
    flv.walk(ByteSource.open(data, "t.flv"), c)
    return c


def fields(c: Container) -> dict[str, str]:
    return {f"{b.family}/{b.key}": b.text or "" for b in c.blocks}


def test_identified_by_signature() -> None:
    handler = identify((FIXTURES / "av-plain.flv").read_bytes()[:64])
    assert handler is not None and handler.name == "flv" and handler.media_type == "video/x-flv"
    other = identify(b"FLV\x02" + b"\x00" * 20)  # only version 1 exists
    assert other is None or other.name != "flv"


def test_ffmpeg_fixtures() -> None:
    label = check(FIXTURES / "av-gb-onmetadata.flv").to_dict()
    assert (label["format"], label["media_type"], label["status"]) == ("flv", "video/x-flv", "ai-generated")
    assert [e["key"] for e in label["evidence"]] == ["flv/AIGC"]
    kling = check(FIXTURES / "av-gen-kling-comment.flv").to_dict()
    assert kling["generator"] == "kling" and kling["evidence"][0]["key"] == "flv/comment"
    plain = check(FIXTURES / "av-plain.flv").to_dict()
    assert plain["status"] == "unknown" and not plain["errors"]
    cut = check(FIXTURES / "av-broken-truncated.flv").to_dict()
    assert [e["code"] for e in cut["errors"]] == ["truncated"]


def test_every_string_value_is_a_tag_by_key_path() -> None:
    props = {
        "AIGC": amf_string(LABEL),
        "duration": b"\x00" + struct.pack(">d", 1.5),
        "stereo": b"\x01\x01",
        "encoder": amf_string("Lavf59.27.100"),
        "description": b"\x0c" + struct.pack(">I", 5) + b"hello",  # long string
        "when": b"\x0b" + b"\x00" * 10,
        "nothing": b"\x05",
        "undef": b"\x06",
        "inner": b"\x03" + amf_key("comment") + amf_string("made with Kling") + b"\x00\x00\x09",
        "list": b"\x0a" + struct.pack(">I", 2) + amf_string("a") + b"\x00" + b"\x00" * 8,
    }
    c = walk(flv_file(on_metadata(props), flv_tag(flv.VIDEO, b"\x22" * 30)))
    assert fields(c) == {
        "flv/AIGC": LABEL,
        "flv/encoder": "Lavf59.27.100",
        "flv/description": "hello",
        "flv/inner/comment": "made with Kling",
        "flv/list/0": "a",
    }
    assert c.format == "flv" and c.media_type == "video/x-flv"
    result = check(flv_file(on_metadata({"AIGC": amf_string(LABEL)}))).to_dict()
    assert result["status"] == "ai-generated" and result["evidence"][0]["key"] == "flv/AIGC"


def test_only_the_first_onmetadata_tag_is_read() -> None:
    other = flv_tag(flv.SCRIPT, amf_string("onCuePoint") + amf_ecma({"comment": amf_string("cue")}))
    second = on_metadata({"comment": amf_string("second")})
    c = walk(flv_file(other, on_metadata({"comment": amf_string("first")}), second))
    assert fields(c) == {"flv/comment": "first"}


def test_a_cut_tag_is_truncated_and_keeps_what_came_before() -> None:
    whole = flv_file(on_metadata({"AIGC": amf_string(LABEL)}), flv_tag(flv.VIDEO, b"\x22" * 100))
    c = Container("flv", "video/x-flv")
    with pytest.raises(TruncatedError):
        flv.walk(ByteSource.open(whole[:-50], "t.flv"), c)
    assert fields(c) == {"flv/AIGC": LABEL}
    for cut in (whole[:-2], whole[: len(whole) - 4 - 111 + 5]):  # inside the last size, inside a tag header
        with pytest.raises(TruncatedError):
            walk(cut)
    assert walk(whole[:-4]).blocks  # the last previous-tag-size left out is no cut


def test_bad_header() -> None:
    with pytest.raises(MediaError):
        walk(b"FLV\x01\x01" + struct.pack(">I", 3) + b"\x00" * 8)
    with pytest.raises(TruncatedError):
        walk(b"FLV\x01\x01")


def test_deep_amf0_nesting_is_a_limit() -> None:
    depth = 10_000
    body = amf_string("onMetaData") + (b"\x03" + amf_key("a")) * depth + amf_string("x") + b"\x00\x00\x09" * depth
    with pytest.raises(LimitExceededError):
        walk(flv_file(flv_tag(flv.SCRIPT, body)))
    shallow = MAX_AMF_DEPTH - 1
    body = amf_string("onMetaData") + (b"\x03" + amf_key("a")) * shallow + amf_string("x") + b"\x00\x00\x09" * shallow
    assert list(fields(walk(flv_file(flv_tag(flv.SCRIPT, body))))) == ["flv/" + "/".join(["a"] * shallow)]
    result = check(flv_file(flv_tag(flv.SCRIPT, amf_string("onMetaData") + b"\x0a\x00\x00\x00\x01" * 5000)))
    assert [e.code for e in result.errors] == ["limit-exceeded"]


def test_huge_lengths_are_malformed_not_allocated() -> None:
    for value in (b"\x0c\xff\xff\xff\xff", b"\x02\xff\xff", b"\x0a\xff\xff\xff\xff"):
        with pytest.raises(MediaError):
            walk(flv_file(on_metadata({"AIGC": value})))
    big = b"\x12" + b"\xff\xff\xff" + b"\x00" * 7  # a script tag claiming 16 MiB in a small file
    with pytest.raises(TruncatedError):
        walk(HEADER + big + b"\x00" * 20)
    result = check(flv_file(on_metadata({"AIGC": b"\x0c\xff\xff\xff\xff"})))
    assert result.errors and result.errors[0].fatal


def test_the_strings_before_a_broken_value_are_kept() -> None:
    c = Container("flv", "video/x-flv")
    data = flv_file(on_metadata({"AIGC": amf_string(LABEL), "bad": b"\x63"}))
    with pytest.raises(MediaError):
        flv.walk(ByteSource.open(data, "t.flv"), c)
    assert fields(c) == {"flv/AIGC": LABEL}


def test_many_tags_are_bounded_and_quick() -> None:
    many = flv_file(on_metadata({"comment": amf_string("x")}), *[flv_tag(flv.AUDIO, b"")] * 100_000)
    started = time.perf_counter()
    assert fields(walk(many)) == {"flv/comment": "x"}
    assert time.perf_counter() - started < 5
    too_many = HEADER + flv_tag(flv.AUDIO, b"") * (MAX_FLV_TAGS + 1)
    assert [e.code for e in check(too_many).errors] == ["limit-exceeded"]


def test_exiftool_agrees() -> None:
    names = ["av-gb-onmetadata.flv", "av-gen-kling-comment.flv", "av-plain.flv"]
    seen = exiftool_fixtures(*names)
    for name in names:
        ours = fields(walk((FIXTURES / name).read_bytes()))
        theirs = {k.split(":", 1)[1].lower(): v for k, v in seen[name].items() if k.startswith("Flash:")}
        for key in ("aigc", "comment", "description", "encoder"):
            mine = {k.lower(): v for k, v in ours.items()}.get(f"flv/{key}")
            assert mine == theirs.get(key), (name, key)
    assert json.loads(seen["av-gb-onmetadata.flv"]["Flash:AIGC"])["Label"] == "1"
