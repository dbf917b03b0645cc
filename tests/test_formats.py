"""Container walkers: identification by content, structural bounds, broken structures."""

from __future__ import annotations

import struct

import pytest
from conftest import FIXTURES, expected_fixtures

from aigc_check import check


@pytest.mark.parametrize(
    "name,fmt",
    [
        ("plain.jpg", "jpeg"),
        ("plain.png", "png"),
        ("plain.webp", "webp"),
        ("plain.gif", "gif"),
        ("plain.tif", "tiff"),
        ("c2pa-ai-created.avif", "avif"),
        ("c2pa-ai-created.heif", "heif"),
    ],
)
def test_identified_by_content_not_name(name, fmt, tmp_path):
    renamed = tmp_path / "upload.bin"
    renamed.write_bytes((FIXTURES / name).read_bytes())
    assert check(renamed).format == fmt


def test_every_signed_format_reaches_c2pa(checker):
    for case in expected_fixtures():
        if case["file"].startswith("c2pa-ai-created."):
            result = checker.check(FIXTURES / case["file"])
            assert result.c2pa.present and result.c2pa.validation_state == "Valid", case["file"]


def test_jpeg_with_too_many_segments_hits_the_bound():
    segment = b"\xff\xe5\x00\x04ab"
    data = b"\xff\xd8" + segment * 25_000 + b"\xff\xd9"
    result = check(data)
    assert result.verdict == "unreadable" and result.errors[0].code == "limit-exceeded"


def test_bmff_nesting_bound():
    box = b""
    for _ in range(40):
        box = struct.pack(">I", 8 + len(box)) + b"moov" + box
    data = struct.pack(">I", 16) + b"ftypavif" + b"\x00\x00\x00\x00" + box
    result = check(data)
    assert result.verdict == "unreadable" and "nested" in result.errors[0].message


def test_huge_claimed_chunk_in_small_file():
    data = b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 100_000_000) + b"tEXt" + b"x" * 1000
    result = check(data)
    assert result.verdict == "unreadable" and result.bytes_read < 70_000


def test_unsupported_files_and_text_named_as_media_are_unreadable():
    for data, name in ((b"hello world, not an image", "photo.jpg"), (b"PK\x03\x04 a zip, not media", None)):
        result = check(data, name=name)
        assert result.verdict == "unreadable" and result.errors[0].code == "unsupported-format"
    # Named plain text with no media name is judged as text (formats/text.py).
    assert check(b"hello world, not an image").format == "text"
    # A PDF header alone is a PDF cut short, not an unknown format.
    assert check(b"%PDF-1.7\n").errors[0].code == "truncated"


def test_headers_only_for_plain_files(checker):
    """No C2PA, no alpha: the checker reads only headers, not pixel data."""
    big = FIXTURES / "camera-canon.jpg"
    result = checker.check(big)
    assert result.bytes_read <= max(64 * 1024, result.size)
