"""Video and audio walkers and readers on built and damaged files: where each
label is found, what a hostile structure does, and how much is read."""

from __future__ import annotations

import json
import os
import struct

import pytest
from conftest import FIXTURES

from aigc_check import check
from aigc_check.errors import TruncatedError
from aigc_check.formats import matroska as matroska_walker
from aigc_check.model import Container
from aigc_check.source import ByteSource

# A producer code no generator entry names, so attribution comes from the other tags.
LABEL = json.dumps({"Label": "1", "ContentProducer": "001191110108MA01TEST0X20001", "ProduceID": "p-1"})


def riff(form: bytes, *chunks: bytes, magic: bytes = b"RIFF", size: int | None = None) -> bytes:
    body = form + b"".join(chunks)
    return magic + struct.pack("<I", len(body) if size is None else size) + body


def chunk(fourcc: bytes, payload: bytes) -> bytes:
    return fourcc + struct.pack("<I", len(payload)) + payload + b"\x00" * (len(payload) & 1)


FMT = chunk(b"fmt ", struct.pack("<HHIIHH", 1, 1, 8000, 8000, 1, 8))
DATA = chunk(b"data", b"\x80" * 64)


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def ebml_size(n: int) -> bytes:
    return bytes([0x01]) + n.to_bytes(7, "big")  # 8-byte size: always valid


def ebml(eid: int, payload: bytes) -> bytes:
    return eid.to_bytes((eid.bit_length() + 7) // 8, "big") + ebml_size(len(payload)) + payload


def matroska(*segment_children: bytes) -> bytes:
    header = ebml(0x1A45DFA3, ebml(0x4282, b"matroska"))
    return header + ebml(0x18538067, b"".join(segment_children))


def simple_tag(name: str, value: str, *nested: bytes) -> bytes:
    return ebml(0x67C8, ebml(0x45A3, name.encode()) + ebml(0x4487, value.encode()) + b"".join(nested))


def evidence_keys(result) -> set[str]:
    return {e.key for e in result.evidence}


# ------------------------------------------------------------------ RIFF


def test_wav_aigc_chunk_and_info_are_read():
    data = riff(
        b"WAVE", FMT, DATA, chunk(b"AIGC", LABEL.encode()), chunk(b"LIST", b"INFO" + chunk(b"ISFT", b"ElevenLabs\x00"))
    )
    result = check(data)
    assert result.status.value == "ai-generated" and result.generator == "elevenlabs"
    assert {"riff/AIGC", "riff/ISFT"} <= evidence_keys(result)


def test_wav_with_streamed_sizes_reads_to_the_end():
    """ffmpeg writing to a pipe leaves the RIFF and data sizes unknown (0xFFFFFFFF)."""
    data = riff(b"WAVE", FMT, b"data" + struct.pack("<I", 0xFFFFFFFF) + b"\x80" * 64, size=0xFFFFFFFF)
    result = check(data)
    assert result.verdict == "compliant" and not result.errors


def test_nested_list_bomb_is_not_descended():
    inner = b""
    for _ in range(5000):
        inner = chunk(b"LIST", b"adtl" + inner)
    result = check(riff(b"WAVE", FMT, DATA, inner))
    assert result.verdict == "compliant" and not result.errors


def test_info_subchunk_overrun_is_an_error_with_its_offset():
    bad_info = b"LIST" + struct.pack("<I", 16) + b"INFO" + b"ISFT" + struct.pack("<I", 500) + b"abcd"
    result = check(riff(b"WAVE", FMT, DATA, bad_info))
    assert result.verdict == "unreadable"
    assert "ISFT" in result.errors[0].message and result.errors[0].location


def test_wav_id3_chunk_label():
    id3 = (FIXTURES / "av-gb-txxx.mp3").read_bytes()
    tag_size = 10 + sum(b << (7 * (3 - i)) for i, b in enumerate(id3[6:10]))
    result = check(riff(b"WAVE", FMT, DATA, chunk(b"id3 ", id3[:tag_size])))
    assert "id3/TXXX:AIGC" in evidence_keys(result)


# ------------------------------------------------------------------ ISO BMFF


def test_mp4_item_list_with_keys_out_of_range_keeps_the_raw_name():
    keys = box(b"keys", b"\x00" * 4 + struct.pack(">I", 1) + struct.pack(">I", 12) + b"mdtaAIGC")

    def item(index: int, text: bytes) -> bytes:
        return box(struct.pack(">I", index), box(b"data", struct.pack(">II", 1, 0) + text))

    ilst = box(b"ilst", item(1, LABEL.encode()) + item(7, b"stray"))
    meta = box(b"meta", b"\x00" * 4 + box(b"hdlr", b"\x00" * 8 + b"mdta" + b"\x00" * 13) + keys + ilst)
    data = box(b"ftyp", b"isom\x00\x00\x02\x00isom") + box(b"moov", box(b"udta", meta))
    result = check(data)
    assert result.status.value == "ai-generated" and "mp4/AIGC" in evidence_keys(result)


def test_doubao_ios_variant_meta_under_moov_with_keyless_item_list():
    """Observed Doubao iOS exports: a bare ``meta`` directly under ``moov``, ``hdlr`` mdir, and an
    ``ilst`` item named AIGC with no ``keys`` box."""
    item = box(b"AIGC", box(b"data", struct.pack(">II", 1, 0) + LABEL.encode()))
    meta = box(b"meta", b"\x00" * 4 + box(b"hdlr", b"\x00" * 8 + b"mdir" + b"\x00" * 13) + box(b"ilst", item))
    result = check(box(b"ftyp", b"isom\x00\x00\x02\x00isom") + box(b"moov", meta))
    assert result.status.value == "ai-generated" and "mp4/AIGC" in evidence_keys(result)


def test_quicktime_udta_strings_and_xmp():
    text = b"Generated with OpenAI Sora"
    xmp = (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        b'<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" dc:title="x"/></rdf:RDF></x:xmpmeta>'
    )
    udta = box(b"udta", box(b"\xa9cmt", struct.pack(">HH", len(text), 0) + text) + box(b"XMP_", xmp))
    result = check(box(b"ftyp", b"qt  \x00\x00\x02\x00qt  ") + box(b"moov", udta))
    assert result.format == "mov" and result.generator == "sora"


def test_large_mp4_reads_only_its_boxes(tmp_path):
    small = (FIXTURES / "av-gb-keys.mp4").read_bytes()
    pos = 0
    while small[pos + 4 : pos + 8] != b"mdat":
        pos += struct.unpack(">I", small[pos : pos + 4])[0]
    size = struct.unpack(">I", small[pos : pos + 4])[0]
    grow = 256 * 1024 * 1024
    path = tmp_path / "big.mp4"
    with open(path, "wb") as f:  # mdat grown by 256 MiB of zeros, a hole on disk
        f.write(small[:pos] + struct.pack(">I", size + grow) + small[pos + 4 : pos + size])
        f.seek(grow, os.SEEK_CUR)
        f.write(small[pos + size :])
    result = check(path)
    assert result.status.value == "ai-generated"
    assert result.size > grow and result.bytes_read < 200_000


def test_mp4_without_moov_is_cut():
    result = check(box(b"ftyp", b"isom\x00\x00\x02\x00isom") + box(b"mdat", b"\x00" * 100))
    assert result.verdict == "unreadable" and "moov" in result.errors[0].message


# ------------------------------------------------------------------ Matroska


def test_matroska_simple_tags_nested_and_info():
    tags = ebml(
        0x1254C367,
        ebml(
            0x7373,
            ebml(0x63C0, b"")
            + simple_tag("AIGC", LABEL)
            + simple_tag("ENCODER", "Lavf", simple_tag("COMMENT", "Created with Kling 2.1")),
        ),
    )
    info = ebml(0x1549A966, ebml(0x4D80, b"Lavf61") + ebml(0x5741, b"Lavf61"))
    result = check(matroska(info, tags))
    assert result.status.value == "ai-generated" and result.generator == "kling"
    assert {"mkv/AIGC", "mkv/COMMENT"} <= evidence_keys(result)


def test_matroska_simple_tag_nesting_bound():
    tag = simple_tag("X", "y")
    for _ in range(40):
        tag = simple_tag("X", "y", tag)
    result = check(matroska(ebml(0x1254C367, ebml(0x7373, tag))))
    assert result.verdict == "unreadable" and result.errors[0].code == "limit-exceeded"


def test_matroska_tags_after_clusters_found_by_size_and_unknown_size_cluster_stops_cleanly():
    cluster = ebml(0x1F43B675, ebml(0xE7, b"\x00") + ebml(0xA3, b"\x00" * 500))
    tags = ebml(0x1254C367, ebml(0x7373, simple_tag("AIGC", LABEL)))
    assert check(matroska(cluster, tags)).status.value == "ai-generated"
    live = b"\x1f\x43\xb6\x75" + b"\x01\xff\xff\xff\xff\xff\xff\xff" + ebml(0xA3, b"\x00" * 50)
    header = ebml(0x1A45DFA3, ebml(0x4282, b"webm"))
    result = check(header + b"\x18\x53\x80\x67" + b"\x01\xff\xff\xff\xff\xff\xff\xff" + live)
    assert result.format == "webm" and result.verdict == "compliant" and not result.errors


# ------------------------------------------------------------------ Ogg, FLAC, MP3, ASF, AIFF


def test_vorbis_comment_with_a_lying_count_keeps_what_was_read():
    data = bytearray((FIXTURES / "av-gb-vorbis.flac").read_bytes())
    vendor_at = data.find(b"Lavf")  # the vendor string, after its 4-byte length; the count follows it
    (vendor_len,) = struct.unpack("<I", data[vendor_at - 4 : vendor_at])
    count_at = vendor_at + vendor_len
    data[count_at : count_at + 4] = struct.pack("<I", 1_000_000)
    result = check(bytes(data))
    assert result.status.value == "ai-generated"
    assert "metadata-unreadable" in {f.code for f in result.findings}


def test_flac_behind_an_id3_tag():
    id3 = (FIXTURES / "av-gb-txxx.mp3").read_bytes()
    tag_size = 10 + sum(b << (7 * (3 - i)) for i, b in enumerate(id3[6:10]))
    result = check(id3[:tag_size] + (FIXTURES / "av-plain.flac").read_bytes())
    assert result.format == "flac" and "id3/TXXX:AIGC" in evidence_keys(result)


def test_flac_with_too_many_metadata_blocks():
    padding = bytes([1, 0, 0, 0])  # type 1 (PADDING), not last, empty
    result = check(b"fLaC" + padding * 210_000)
    assert result.verdict == "unreadable" and result.errors[0].code == "limit-exceeded"


def test_mp3_with_a_run_of_id3_tags():
    tag = b"ID3\x04\x00\x00\x00\x00\x00\x00"
    result = check(tag * 20 + b"\xff\xfb\x90\x00" + b"\x00" * 500)
    assert result.verdict == "unreadable" and result.errors[0].code == "limit-exceeded"


def test_mp3_geob_c2pa_that_is_not_a_manifest_is_reported(tmp_path):
    from mutagen.id3 import GEOB, ID3

    path = tmp_path / "a.mp3"
    path.write_bytes((FIXTURES / "av-plain.mp3").read_bytes())
    tags = ID3(path)
    tags.add(
        GEOB(encoding=3, mime="application/c2pa", filename="c2pa", desc="c2pa manifest store", data=b"not jumbf" * 8)
    )
    tags.save(path)
    result = check(path)
    assert result.c2pa.present is True or any(e.code == "c2pa-unreadable" for e in result.errors)
    assert "c2pa-unreadable" in {e.code for e in result.errors}


def test_ogg_page_cut_is_found_from_the_tail():
    data = (FIXTURES / "av-gb-vorbis.ogg").read_bytes()
    result = check(data[:-3])
    assert result.verdict != "compliant" and result.errors[0].code == "truncated"


def test_asf_object_smaller_than_its_header():
    data = bytearray((FIXTURES / "av-plain.wma").read_bytes())
    data[30 + 16 : 30 + 24] = struct.pack("<Q", 4)
    result = check(bytes(data))
    assert result.verdict == "unreadable"


def test_aiff_form_size_past_the_end():
    data = bytearray((FIXTURES / "av-gb-xmp.aiff").read_bytes())
    data[4:8] = struct.pack(">I", len(data) * 2)
    result = check(bytes(data))
    assert result.status.value == "ai-generated" and result.errors[0].code == "truncated"


@pytest.mark.parametrize(
    "name,fmt",
    [
        ("av-plain.mp4", "mp4"),
        ("av-plain.mov", "mov"),
        ("av-plain.m4a", "m4a"),
        ("av-plain.mp3", "mp3"),
        ("av-plain.wav", "wav"),
        ("av-plain.aiff", "aiff"),
        ("av-plain.flac", "flac"),
        ("av-plain.ogg", "ogg"),
        ("av-plain.opus", "opus"),
        ("av-plain.mkv", "mkv"),
        ("av-plain.webm", "webm"),
        ("av-plain.avi", "avi"),
        ("av-plain.wma", "wma"),
    ],
)
def test_av_identified_by_content(name, fmt, tmp_path):
    renamed = tmp_path / "upload.bin"
    renamed.write_bytes((FIXTURES / name).read_bytes())
    assert check(renamed).format == fmt


@pytest.mark.parametrize("name", ["av-broken-truncated.mkv", "av-broken-truncated.webm"])
def test_cut_matroska_keeps_what_precedes_the_cut(checker, name):
    result = checker.check(str(FIXTURES / name)).to_dict()
    assert result["verdict"] == "unreadable" and result["errors"][0]["code"] == "truncated"
    assert result["format"] == name.rsplit(".", 1)[1]
    # The Info element before the cut is still read (exiftool shows it too).
    src = ByteSource.open(str(FIXTURES / name), name)
    container = Container("matroska", "video/x-matroska")
    with pytest.raises(TruncatedError):
        matroska_walker.walk(src, container)
    assert {b.key for b in container.blocks} >= {"MuxingApp", "WritingApp"}


@pytest.mark.parametrize(
    "text", [b"Generated with OpenAI Sora\x00", "\ufeffGenerated with OpenAI Sora".encode("utf-16-be") + b"\x00\x00"]
)
def test_3gpp_description_box_is_a_free_text_field(text):
    """TS 26.244 ``udta/dscp``: full box, packed language, then a UTF-8 or UTF-16 (BOM) string."""
    dscp = box(b"dscp", b"\x00\x00\x00\x00" + b"\x15\xc7" + text)
    mvhd = box(b"mvhd", b"\x00" * 100)
    data = box(b"ftyp", b"isom\x00\x00\x02\x00isommp41") + box(b"moov", mvhd + box(b"udta", dscp)) + box(b"mdat", b"")
    result = check(data, name="dscp.mp4").to_dict()
    assert result["generator"] == "sora", result["evidence"]
    assert any(e["key"] == "mp4/dscp" for e in result["evidence"])
