"""The audio and video label writers (issue 15): MP4/MOV/M4A, Matroska/WebM, WAV/AVI, MP3, FLAC/Ogg/Opus
and FLV.  Each input is a fixture made by ffmpeg (``fixtures/makers/av.py``, ``flv.py``) or one made at
test time by ``fixtures/makers/mark_inputs_av.py``.

For each: ``check`` reads back exactly the label written (one label, no duplicate finding), writing it
again changes nothing, an independent reader (ffprobe, mutagen) reads it too, the decoded frames and
samples are identical (ffmpeg framemd5), and the bytes outside the metadata are the same bytes.
"""

from __future__ import annotations

import io
import json
import struct
import subprocess

import pytest
from mark_helpers_av import (
    EXPECTED,
    assert_one_label,
    decoded_md5,
    ffprobe_tags,
    fixture,
    labels_read,
    made,
    refuses,
    round_trip,
    write,
)

from aigc_check.mark.writers import WriteError

# (input, checker format id, holds a label already)
FIXTURE_INPUTS = [
    ("av-plain.mp4", "mp4", False),
    ("av-gb-keys.mp4", "mp4", True),
    ("av-c2pa-ai.mp4", "mp4", False),
    ("av-plain.mov", "mov", False),
    ("av-gb-keys.mov", "mov", True),
    ("av-gen-sora-encoder.mov", "mov", False),
    ("av-plain.m4a", "m4a", False),
    ("av-gb-keys.m4a", "m4a", True),
    ("av-plain.mkv", "mkv", False),
    ("av-gb-simpletag.mkv", "mkv", True),
    ("av-gen-kling.mkv", "mkv", False),
    ("av-plain.webm", "webm", False),
    ("av-gb-simpletag.webm", "webm", True),
    ("av-plain.wav", "wav", False),
    ("av-gb-chunk.wav", "wav", True),
    ("av-gen-elevenlabs-isft.wav", "wav", False),
    ("av-plain.avi", "avi", False),
    ("av-gb-info.avi", "avi", True),
    ("av-gen-runway-isft.avi", "avi", False),
    ("av-plain.mp3", "mp3", False),
    ("av-gb-txxx.mp3", "mp3", True),
    ("av-id3-v22.mp3", "mp3", True),
    ("av-id3-v23.mp3", "mp3", True),
    ("av-id3-v24.mp3", "mp3", True),
    ("av-id3-unsync-v23.mp3", "mp3", True),
    ("av-id3-enc-utf16.mp3", "mp3", True),
    ("av-id3v1-only-comment.mp3", "mp3", False),
    ("av-plain.flac", "flac", False),
    ("av-gb-vorbis.flac", "flac", True),
    ("av-plain.ogg", "ogg", False),
    ("av-gb-vorbis.ogg", "ogg", True),
    ("av-plain.opus", "opus", False),
    ("av-gb-lowercase-key.opus", "opus", True),
    ("av-plain.flv", "flv", False),
    ("av-gb-onmetadata.flv", "flv", True),
]
MADE_INPUTS = [
    ("faststart-label.mp4", "mp4", True),
    ("faststart-plain.mp4", "mp4", False),
    ("two-freeform.m4a", "m4a", True),
    ("two-mdta-keys.mp4", "mp4", True),
    ("file-and-track-label.mkv", "mkv", True),
    ("streamed.mkv", "mkv", False),
    ("streamed-label.mkv", "mkv", True),
    ("streamed.webm", "webm", False),
    ("keyframe-index.flv", "flv", False),
    ("two-txxx.mp3", "mp3", True),
    ("two-comments.flac", "flac", True),
    ("two-comments.ogg", "ogg", True),
    ("chunk-and-info.wav", "wav", True),
]
SUFFIX = {"mov": "mov", "m4a": "m4a", "mkv": "mkv", "webm": "webm", "opus": "opus"}
FFPROBE_READS = {"mp4", "mov", "m4a", "mkv", "webm", "avi", "flv"}


def _input(name: str) -> bytes:
    return made(name) if name in {n for n, _, _ in MADE_INPUTS} else fixture(name)


ALL = FIXTURE_INPUTS + MADE_INPUTS


@pytest.mark.parametrize(("name", "fmt", "labelled"), ALL, ids=[n for n, _, _ in ALL])
def test_round_trip(name: str, fmt: str, labelled: bool) -> None:
    data = _input(name)
    before, _ = labels_read(data)
    assert bool(before) == labelled
    out = round_trip(data, fmt)
    assert out.updated_existing == labelled
    assert out.location


@pytest.mark.parametrize(("name", "fmt", "labelled"), ALL, ids=[n for n, _, _ in ALL])
def test_streams_decode_the_same(name: str, fmt: str, labelled: bool) -> None:
    data = _input(name)
    suffix = SUFFIX.get(fmt, fmt)
    out = write(data, fmt).data
    assert decoded_md5(out, suffix) == decoded_md5(data, suffix)


@pytest.mark.parametrize(
    ("name", "fmt"), [(n, f) for n, f, _ in ALL if f in FFPROBE_READS], ids=[n for n, f, _ in ALL if f in FFPROBE_READS]
)
def test_ffprobe_reads_the_label(name: str, fmt: str) -> None:
    out = write(_input(name), fmt).data
    tags = ffprobe_tags(out, SUFFIX.get(fmt, fmt))
    assert json.loads(tags["AIGC"]) == EXPECTED


@pytest.mark.parametrize(
    ("name", "fmt"),
    [(n, f) for n, f, _ in ALL if f in ("mp3", "flac", "ogg", "opus")],
)
def test_mutagen_reads_the_label(name: str, fmt: str) -> None:
    import mutagen

    out = write(_input(name), fmt).data
    audio = mutagen.File(io.BytesIO(out))
    if fmt == "mp3":
        frames = audio.tags.getall("TXXX")
        values = [f.text[0] for f in frames if f.desc.upper() == "AIGC"]
    else:
        values = audio.tags["AIGC"]  # Vorbis comment names are case-insensitive
    assert [json.loads(v) for v in values] == [EXPECTED]


# ---------------------------------------------------------------- bytes outside the metadata


def _boxes(data: bytes) -> dict[bytes, bytes]:
    out, pos = {}, 0
    while pos + 8 <= len(data):
        size, kind = struct.unpack_from(">I4s", data, pos)
        size = size or len(data) - pos
        out.setdefault(kind, data[pos + 8 : pos + size])
        pos += size
    return out


@pytest.mark.parametrize("name", ["av-plain.mp4", "av-gb-keys.mov", "av-plain.m4a", "faststart-plain.mp4"])
def test_mp4_media_data_untouched(name: str) -> None:
    data = _input(name)
    out = write(data, "mov" if name.endswith("mov") else "mp4").data
    assert _boxes(out)[b"mdat"] == _boxes(data)[b"mdat"]
    assert out.startswith(data[: data.index(b"moov") - 4])  # ftyp and what precedes moov


def _ebml_clusters(data: bytes) -> list[tuple[int, bytes]]:
    """(offset from the segment's data, bytes) of each known-size Cluster, by a scan of the segment."""

    def vint(pos: int) -> tuple[int, int]:
        length = 9 - data[pos].bit_length()
        return int.from_bytes(data[pos : pos + length], "big") & ((1 << (7 * length)) - 1), pos + length

    seg = data.index(b"\x18\x53\x80\x67")
    _, body = vint(seg + 4)
    out, pos = [], body
    while pos < len(data):
        eid = data[pos : pos + 4]
        idlen = 9 - data[pos].bit_length()
        size, start = vint(pos + idlen)
        if eid == b"\x1f\x43\xb6\x75":
            out.append((pos - body, data[pos : start + size]))
        if size == (1 << (7 * (start - pos - idlen))) - 1:  # unknown size: its children follow
            pos = start
            continue
        pos = start + size
    return out


@pytest.mark.parametrize("name", ["av-plain.mkv", "av-gb-simpletag.webm", "file-and-track-label.mkv"])
def test_matroska_clusters_stay_where_they_were(name: str) -> None:
    data = _input(name)
    out = write(data, "webm" if name.endswith("webm") else "mkv").data
    assert _ebml_clusters(out) == _ebml_clusters(data)
    assert _ebml_clusters(data)


def _riff(data: bytes, fourcc: bytes) -> tuple[int, bytes]:
    pos = 12
    while pos + 8 <= len(data):
        kind, size = struct.unpack_from("<4sI", data, pos)
        if kind == fourcc or (kind == b"LIST" and data[pos + 8 : pos + 12] == fourcc):
            return pos, data[pos : pos + 8 + size]
        pos += 8 + size + (size & 1)
    raise AssertionError(f"no {fourcc!r}")


def test_wav_samples_untouched() -> None:
    data = fixture("av-gb-chunk.wav")
    out = write(data, "wav").data
    assert _riff(out, b"data")[1] == _riff(data, b"data")[1]


@pytest.mark.parametrize("name", ["av-plain.avi", "av-gb-info.avi"])
def test_avi_frames_and_index_do_not_move(name: str) -> None:
    data = fixture(name)
    out = write(data, "avi").data
    assert _riff(out, b"movi") == _riff(data, b"movi")  # same offset, same bytes
    assert _riff(out, b"idx1") == _riff(data, b"idx1")
    assert _riff(out, b"hdrl") == _riff(data, b"hdrl")


def _id3_end(data: bytes) -> int:
    if not data.startswith(b"ID3"):
        return 0
    size = 0
    for b in data[6:10]:
        size = size << 7 | b
    return 10 + size + (10 if data[5] & 0x10 else 0)


@pytest.mark.parametrize("name", ["av-plain.mp3", "av-gb-txxx.mp3", "av-id3-v23.mp3", "av-id3v1-only-comment.mp3"])
def test_mp3_audio_frames_untouched(name: str) -> None:
    data = fixture(name)
    out = write(data, "mp3").data
    assert out[_id3_end(out) :] == data[_id3_end(data) :]


def _flac_frames(data: bytes) -> bytes:
    pos = 4
    while True:
        last, size = data[pos] & 0x80, int.from_bytes(data[pos + 1 : pos + 4], "big")
        pos += 4 + size
        if last:
            return data[pos:]


@pytest.mark.parametrize("name", ["av-plain.flac", "av-gb-vorbis.flac"])
def test_flac_frames_untouched(name: str) -> None:
    data = fixture(name)
    assert _flac_frames(write(data, "flac").data) == _flac_frames(data)


def _flv_after_metadata(data: bytes) -> bytes:
    pos = 13
    size = int.from_bytes(data[pos + 1 : pos + 4], "big")
    assert data[pos] == 18
    return data[pos + 11 + size + 4 :]


@pytest.mark.parametrize("name", ["av-plain.flv", "av-gb-onmetadata.flv"])
def test_flv_other_tags_untouched(name: str) -> None:
    data = fixture(name)
    assert _flv_after_metadata(write(data, "flv").data) == _flv_after_metadata(data)


def test_flv_file_positions_follow_the_grown_tag() -> None:
    data = made("keyframe-index.flv")
    out = write(data, "flv").data
    delta = len(out) - len(data)
    assert delta > 0

    def first_keyframe(d: bytes) -> int:
        # keyframes/filepositions: a strict array (0x0a, count), its first value a number (0x00, double)
        at = d.index(b"filepositions\x0a") + len(b"filepositions\x0a") + 4
        assert d[at] == 0
        return int(struct.unpack(">d", d[at + 1 : at + 9])[0])

    assert first_keyframe(out) == first_keyframe(data) + delta
    assert out[first_keyframe(out) :] == data[first_keyframe(data) :]  # the keyframe tag, where it says
    assert out[first_keyframe(out)] & 0x1F == 9  # a video tag
    filesize = b"filesize\x00"
    assert struct.unpack(">d", out[out.index(filesize) + 9 : out.index(filesize) + 17])[0] == len(out)


def test_faststart_chunk_offsets_moved() -> None:
    data = made("faststart-plain.mp4")
    assert data.index(b"moov") < data.index(b"mdat")
    out = write(data, "mp4")
    assert any("chunk offsets" in n for n in out.notes)

    # Every chunk offset still points into mdat, at the same bytes as before.
    def first_chunk(d: bytes) -> bytes:
        at = d.index(b"stco") + 12
        offset = int.from_bytes(d[at : at + 4], "big")
        return d[offset : offset + 16]

    assert first_chunk(out.data) == first_chunk(data)


# ---------------------------------------------------------------- duplicates, placement


@pytest.mark.parametrize(
    ("name", "fmt"),
    [(n, f) for n, f, labelled in MADE_INPUTS if n.startswith(("two-", "file-and-", "chunk-and-"))],
)
def test_duplicates_resolved_and_reported(name: str, fmt: str) -> None:
    data = made(name)
    values, _ = labels_read(data)
    # Two copies (the checker's duplicate finding compares locations, and two comments of one Vorbis
    # comment block share theirs, so the count is what is asserted here).
    assert len(values) == 2
    out = write(data, fmt)
    assert out.updated_existing
    assert any("removed 1 other AIGC label" in n for n in out.notes), out.notes
    assert_one_label(out.data)


def test_existing_mp4_label_updated_where_it_stands() -> None:
    data = fixture("av-gb-keys.mp4")
    out = write(data, "mp4")
    assert out.data.count(b"AIGC") == data.count(b"AIGC") == 1  # the same key, no new one
    assert out.data.index(b"mdta") == data.index(b"mdta")


def test_existing_vorbis_comment_keeps_its_name_and_place() -> None:
    import mutagen

    data = fixture("av-gb-lowercase-key.opus")
    before = [k for k, _ in mutagen.File(io.BytesIO(data)).tags]
    after = [k for k, _ in mutagen.File(io.BytesIO(write(data, "opus").data)).tags]
    assert before == after and "aigc" in after


def test_id3_version_kept() -> None:
    for name, major in (("av-id3-v23.mp3", 3), ("av-id3-v24.mp3", 4), ("av-id3-v22.mp3", 3)):
        assert write(fixture(name), "mp3").data[3] == major


def test_matroska_streamed_segment_keeps_unknown_size() -> None:
    data = made("streamed.mkv")
    out = write(data, "mkv").data
    seg = data.index(b"\x18\x53\x80\x67")
    assert out[seg + 4 : seg + 12] == data[seg + 4 : seg + 12] == b"\x01\xff\xff\xff\xff\xff\xff\xff"


# ---------------------------------------------------------------- refusals


BROKEN = [
    ("av-broken-truncated.mp4", "mp4"),
    ("av-broken-moov-size.mp4", "mp4"),
    ("av-broken-truncated.mov", "mov"),
    ("av-broken-truncated.m4a", "m4a"),
    ("av-broken-truncated.mkv", "mkv"),
    ("av-broken-ebml-size.mkv", "mkv"),
    ("av-broken-truncated.webm", "webm"),
    ("av-broken-truncated.wav", "wav"),
    ("av-broken-truncated.avi", "avi"),
    ("av-broken-truncated.mp3", "mp3"),
    ("av-broken-id3-size.mp3", "mp3"),
    ("av-broken-truncated.flac", "flac"),
    ("av-broken-block-type.flac", "flac"),
    ("av-broken-truncated.ogg", "ogg"),
    ("av-broken-lost-sync.ogg", "ogg"),
    ("av-broken-truncated.opus", "opus"),
    ("av-broken-truncated.flv", "flv"),
]


@pytest.mark.parametrize(("name", "fmt"), BROKEN, ids=[n for n, _ in BROKEN])
def test_broken_inputs_refused(name: str, fmt: str) -> None:
    refuses(fixture(name), fmt)


@pytest.mark.parametrize(("name", "fmt", "labelled"), FIXTURE_INPUTS, ids=[n for n, _, _ in FIXTURE_INPUTS])
def test_cut_inputs_refused_or_labelled(name: str, fmt: str, labelled: bool) -> None:
    """Each input cut at each eighth: the writer refuses it, or (a cut the format cannot tell, such as an
    MP3 without a length header) writes a file whose label reads back -- never a crash."""
    from aigc_check.mark.writers import WriteError

    data = fixture(name)
    for n in range(1, 8):
        cut = data[: len(data) * n // 8]
        try:
            out = write(cut, fmt)
        except WriteError:
            continue
        values, _ = labels_read(out.data)
        assert EXPECTED in values, (n, values)


@pytest.mark.parametrize(
    ("data", "fmt"),
    [
        (b"", "mp4"),
        (b"\x00\x00\x00\x08ftyp", "mp4"),
        (b"\x1a\x45\xdf\xa3\x80", "mkv"),
        (b"RIFF\x04\x00\x00\x00WAVE", "wav"),
        (b"RIFF\x04\x00\x00\x00AVI ", "avi"),
        (b"RF64\xff\xff\xff\xffWAVE", "wav"),
        (b"ID3\x04\x00\x00\x00\x00\x00\x00", "mp3"),
        (b"fLaC", "flac"),
        (b"FLV\x01\x01\x00\x00\x00\x09", "flv"),
        (b"not media at all", "ogg"),
    ],
)
def test_garbage_refused(data: bytes, fmt: str) -> None:
    refuses(data, fmt)


def test_label_in_xmp_refused() -> None:
    """A label these writers do not edit (in an XMP item of moov/meta here) is never left beside a new one."""
    with pytest.raises(WriteError, match=r"file offset|another label"):
        write(fixture("av-moov-meta-xmp.mp4"), "mp4")


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("sig-gb-comment.mp4", "mp4"),
        ("sig-gb-comment.mkv", "mkv"),
        ("sig-gb-icmt.wav", "wav"),
        ("sig-gb-icmt.avi", "avi"),
        ("sig-gb-comm.mp3", "mp3"),
        ("sig-gb-comment.flac", "flac"),
        ("sig-gb-description.ogg", "ogg"),
        ("sig-gb-comment.opus", "opus"),
        ("sig-gb-description.webm", "webm"),
        ("sig-gb-description.mp4", "mp4"),
    ],
)
def test_comment_holding_the_label_is_removed_as_a_copy(name: str, fmt: str) -> None:
    data = fixture(name)
    assert labels_read(data)[0]
    out = write(data, fmt)
    assert any("removed 1 other AIGC label" in n for n in out.notes), out.notes
    assert_one_label(out.data)


@pytest.mark.parametrize(
    ("name", "fmt"), [("sig-gb-comment-after-text.mp4", "mp4"), ("sig-gbbad-single-quotes-comment.mkv", "mkv")]
)
def test_label_inside_longer_text_refused(name: str, fmt: str) -> None:
    with pytest.raises(WriteError, match="another label would remain"):
        write(fixture(name), fmt)


def test_wrong_format_refused() -> None:
    refuses(fixture("av-plain.flac"), "mp4")
    refuses(fixture("av-plain.mp4"), "mkv")
    refuses(fixture("av-plain.wav"), "flv")


@pytest.mark.parametrize(
    ("name", "fmt"), [("av-c2pa-ai.mp4", "mp4"), ("av-c2pa-ai.wav", "wav"), ("av-c2pa-ai.flac", "flac")]
)
def test_broken_c2pa_binding_reported(name: str, fmt: str) -> None:
    out = write(fixture(name), fmt)
    assert any("C2PA manifest no longer matches" in n for n in out.notes), out.notes


def test_no_c2pa_note_without_a_manifest() -> None:
    assert not any("C2PA" in n for n in write(fixture("av-plain.mp4"), "mp4").notes)


# ---------------------------------------------------------------- the shared corpus

AV_FORMATS = {"mp4", "mov", "m4a", "mkv", "webm", "avi", "wav", "mp3", "flac", "ogg", "opus", "flv"}


def test_corpus_files(corpus) -> None:  # type: ignore[no-untyped-def]
    """Every corpus file in these formats (real files from c2pa-rs, tinytag ..., hostile ones among
    them: a RIFF bomb, 1000 nested moov boxes, a cut WAV): refused, or rewritten with exactly the label
    and the same stream packets (compared without decoding: the files are up to 1.4 MB)."""
    from conftest import corpus_rows

    import aigc_check
    from aigc_check.mark.writers import WriteError

    written = 0
    for row in corpus_rows():
        if not row["media_type"].startswith(("audio/", "video/")):
            continue
        path = corpus / row["file"]
        fmt = aigc_check.check(str(path)).format
        if fmt not in AV_FORMATS:
            continue
        data = path.read_bytes()
        try:
            out = write(data, fmt)
        except WriteError:
            continue
        written += 1
        assert_one_label(out.data)
        suffix = SUFFIX.get(fmt, fmt)
        try:
            before = decoded_md5(data, suffix, packets=True)
        except (subprocess.CalledProcessError, AssertionError):
            continue  # ffmpeg cannot decode the original either (a hostile sample without audio)
        assert decoded_md5(out.data, suffix, packets=True) == before, row["file"]
    assert written
