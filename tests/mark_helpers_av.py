"""Shared by the mark writer tests: the label written, the round trip through ``check``, the inputs
made at test time (``fixtures/makers/mark_inputs_av.py``) and independent readers (ffprobe, ffmpeg)."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from functools import cache
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT

import aigc_check
from aigc_check.mark.label import LabelFields
from aigc_check.mark.writers import WriteError, WriteOutcome, writer_for

LABEL = LabelFields(
    Label="2",
    ContentProducer="001191110102MACQD9K64010000",
    ProduceID="p-1",
    ContentPropagator="0011911101020000000000000002",
    PropagateID="prop-'9'",
)
EXPECTED = LABEL.values()


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@cache
def made(name: str) -> bytes:
    """One input of ``fixtures/makers/mark_inputs_av.py`` (ffmpeg needed for the audio and video ones)."""
    import sys

    sys.path.insert(0, str(ROOT))
    from fixtures.makers.mark_inputs_av import INPUTS

    if not shutil.which("ffmpeg"):
        pytest.skip("ffmpeg is needed to make this input")
    return INPUTS[name][1]()


def write(data: bytes, format_id: str) -> WriteOutcome:
    writer = writer_for(format_id)
    assert writer is not None, format_id
    return writer(data, LABEL)


def labels_read(data: bytes, readable: bool = False) -> tuple[list[dict], list[str]]:
    """The GB 45438 labels ``check`` reads from ``data`` (as dicts) and its finding codes; ``readable``:
    the file must read without a fatal error."""
    result = aigc_check.check(data)
    if readable:
        assert not [e for e in result.errors if getattr(e, "fatal", False)], result.errors
    values = [json.loads(e.value) for e in result.evidence if e.source == "gb45438"]
    return values, [f.code for f in result.findings]


def assert_one_label(data: bytes) -> None:
    values, codes = labels_read(data, readable=True)
    assert values == [EXPECTED], values
    assert "aigc-label-duplicate" not in codes
    assert "aigc-label-malformed" not in codes


def round_trip(data: bytes, format_id: str) -> WriteOutcome:
    """Write, check it reads exactly the label written, write again: the same file (idempotent)."""
    out = write(data, format_id)
    assert_one_label(out.data)
    again = write(out.data, format_id)
    assert again.updated_existing
    assert again.data == out.data, "writing the same label twice changed the file"
    return out


def ffprobe_tags(data: bytes, suffix: str) -> dict[str, str]:
    """ffprobe's format tags (and the first stream's), an independent reader."""
    if not shutil.which("ffprobe"):
        pytest.skip("ffprobe not installed")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"in.{suffix}"
        path.write_bytes(data)
        run = subprocess.run(
            ["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", str(path)],
            capture_output=True,
            text=True,
            check=True,
        )
    info = json.loads(run.stdout)
    tags = dict(info.get("format", {}).get("tags", {}))
    for stream in info.get("streams", []):
        for k, v in stream.get("tags", {}).items():
            tags.setdefault(k, v)
    return tags


def decoded_md5(data: bytes, suffix: str, packets: bool = False) -> str:
    """ffmpeg's MD5 of every decoded frame and sample (framemd5), the streams' content; ``packets``:
    of every compressed packet instead (``-c copy``: no decoding, so cheap on long files; the same
    packets decode the same)."""
    if not shutil.which("ffmpeg"):
        pytest.skip("ffmpeg not installed")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"in.{suffix}"
        path.write_bytes(data)
        run = subprocess.run(
            [
                "ffmpeg",
                "-v",
                "error",
                "-i",
                str(path),
                *(["-map", "0", "-c", "copy"] if packets else []),
                "-f",
                "framemd5",
                "-",
            ],
            capture_output=True,
            check=True,
        )
    lines = [line for line in run.stdout.decode().splitlines() if line and not line.startswith("#")]
    if packets:  # packet side data carries the container's metadata (an Ogg comment header): not media
        lines = [line.split(", S=")[0] for line in lines]
    assert lines, "ffmpeg decoded nothing"
    return "\n".join(lines)


def refuses(data: bytes, format_id: str) -> None:
    with pytest.raises(WriteError):
        write(data, format_id)


__all__ = ["EXPECTED", "LABEL", "WriteError"]
