"""report.html's thumbnails: an image opened as the format the check found is the thumbnail
Pillow makes when it tells the format itself, and no other of Pillow's plugins is imported."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from scan_helpers import FIXTURES

from aigc_check import Checker
from aigc_check.scan.report_rows import THUMB_FORMATS, thumbnail

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def images() -> list[tuple[Path, str]]:
    checker = Checker()
    found = []
    for p in sorted(FIXTURES.iterdir()):
        fmt = checker.check(str(p)).format
        if fmt in THUMB_FORMATS:
            found.append((p, fmt))
    assert {fmt for _, fmt in found} == THUMB_FORMATS, "a fixture of every thumbnail format"
    return found


def test_the_format_named_gives_the_thumbnail_pillow_gives(images):
    made = 0
    for path, fmt in images:
        named = thumbnail(str(path), fmt)
        assert named == thumbnail(str(path)), path.name
        made += named is not None
    assert made > len(images) // 2  # most fixtures decode; the broken ones give None both ways


def test_a_file_not_of_the_format_named_gives_none(images):
    jpeg = next(p for p, fmt in images if fmt == "jpeg" and thumbnail(str(p)) is not None)
    assert thumbnail(str(jpeg), "png") is None
    assert thumbnail(str(FIXTURES / "av-plain.flac"), "jpeg") is None


@pytest.mark.parametrize("fmt", sorted(THUMB_FORMATS))
def test_only_the_plugin_of_the_format_is_imported(images, fmt):
    path = next(p for p, f in images if f == fmt and thumbnail(str(p)) is not None)
    code = (
        "import sys\n"
        "from aigc_check.scan.report_rows import thumbnail\n"
        f"assert thumbnail({str(path)!r}, {fmt!r}) is not None\n"
        "from PIL import Image\n"
        "plugins = sorted(m for m in sys.modules if m.startswith('PIL.') and m.endswith('ImagePlugin'))\n"
        "print(Image._initialized, len(plugins))\n"
    )
    answer = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()
    initialized, plugins = int(answer[0]), int(answer[1])
    assert initialized < 2, "Pillow did not load all its plugins"
    assert plugins <= 8  # the format's own, and the few Pillow preloads (BMP, GIF, JPEG, PPM, PNG, MPO)
