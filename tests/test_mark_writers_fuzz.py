"""Hypothesis fuzz of the audio, video and document label writers: on a damaged input (bytes overwritten,
cut, inserted or repeated) a writer raises ``WriteError`` or hands back a file that ``check`` reads the
label written from -- never another exception, never a file without the label."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mark_helpers_av import EXPECTED, fixture, labels_read, write

from aigc_check.mark.writers import WriteError

SEEDS = [
    ("av-gb-keys.mp4", "mp4"),
    ("av-plain.m4a", "m4a"),
    ("av-gb-simpletag.mkv", "mkv"),
    ("av-plain.webm", "webm"),
    ("av-gb-chunk.wav", "wav"),
    ("av-gb-info.avi", "avi"),
    ("av-gb-txxx.mp3", "mp3"),
    ("av-gb-vorbis.flac", "flac"),
    ("av-gb-vorbis.ogg", "ogg"),
    ("av-gb-onmetadata.flv", "flv"),
    ("office-gb-custom.docx", "docx"),
    ("office-gb-user-defined.odt", "odt"),
    ("office-gb-meta.epub", "epub"),
    ("md-front-matter-label.md", "markdown"),
]


@st.composite
def damaged(draw: st.DrawFn, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["overwrite", "cut", "insert", "repeat"]))
        at = draw(st.integers(0, max(0, len(out) - 1)))
        if kind == "overwrite":
            chunk = draw(st.binary(min_size=1, max_size=8))
            out[at : at + len(chunk)] = chunk
        elif kind == "cut":
            del out[at : at + draw(st.integers(1, 64))]
        elif kind == "insert":
            out[at:at] = draw(st.binary(min_size=1, max_size=16))
        else:
            n = draw(st.integers(1, 64))
            out[at:at] = out[at : at + n]
    return bytes(out)


@pytest.mark.parametrize(("name", "fmt"), SEEDS, ids=[n for n, _ in SEEDS])
def test_damaged_inputs(name: str, fmt: str) -> None:
    seed = fixture(name)

    @settings(
        max_examples=int(os.environ.get("AIGC_MARK_FUZZ_EXAMPLES", "40")),
        deadline=None,
        derandomize=os.environ.get("AIGC_MARK_FUZZ_EXAMPLES") is None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(damaged(seed))
    def run(data: bytes) -> None:
        try:
            out = write(data, fmt)
        except WriteError:
            return
        assert EXPECTED in labels_read(out.data)[0]

    run()
