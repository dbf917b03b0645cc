"""``mark`` on damaged and hostile inputs (hypothesis, as ``test_fuzz.py`` does for the check): it
refuses, reports an error, copies unchanged, or writes a file the check reads back with exactly the
label written; it never raises and never hands back a file that does not read back.

The seeds are the image and PDF fixtures a writer handles; each example applies a few of the
mutations of ``test_fuzz.py`` (size fields set to extremes, cuts, repeated regions, splices, bit
flips, deletions).  Each writer is also run directly on the damaged bytes: it returns a file or
raises ``MediaError`` (``WriteError``), nothing else.  ``AIGC_FUZZ_EXAMPLES`` runs longer, with fresh
random examples.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

import pytest
from conftest import FIXTURES
from fuzz_strategies import damaged
from hypothesis import HealthCheck, given, settings

from aigc_check import Checker
from aigc_check.errors import MediaError
from aigc_check.mark.core import MarkAction, Propagation, mark_bytes
from aigc_check.mark.label import LabelFields
from aigc_check.mark.writers import writer_for

EXAMPLES = int(os.environ.get("AIGC_FUZZ_EXAMPLES", "60"))
EXPLORE = "AIGC_FUZZ_EXAMPLES" in os.environ
FAILURES = Path(os.environ.get("AIGC_FUZZ_FAILURES", Path(tempfile.gettempdir()) / "aigc-fuzz-failures"))
PROPAGATION = Propagation("001191110102MA01ABCDE22XHS1", "fuzz-1")
SEED_NAMES = {
    "jpeg": [
        "gb-jpeg-xmp-element.jpg",
        "gb-duplicate-xmp-exif.jpg",
        "gen-flux.jpg",
        "sig-gb-jpeg-com.jpg",
        "xmp-extended-label.jpg",
    ],
    "png": ["gb-png-xmp.png", "gb-png-ztxt.png", "gen-comfyui.png", "png-exif-pillow.png"],
    "webp": ["gb-webp-xmp.webp", "gb-webp-exif.webp", "plain.webp"],
    "gif": ["gb-gif-xmp.gif", "gen-a1111-comment.gif"],
    "tiff": ["gb-tiff-xmp.tif", "xmp-utf16le.tif", "iim-drawthings-program.tif"],
    "heif": ["gb-avif-xmp.avif", "heif-xmp-idat.heic", "heif-xmp-two-extents.avif"],
    "pdf": ["doc-gb-info.pdf", "doc-gb-xmp.pdf", "doc-plain.pdf"],
}
SEEDS = {fmt: [(FIXTURES / n).read_bytes() for n in names] for fmt, names in SEED_NAMES.items()}
LABEL = LabelFields("2", ContentPropagator="001191110102MA01ABCDE22XHS1", PropagateID="fuzz-1")


@pytest.fixture(scope="module")
def checker() -> Checker:
    return Checker()


def _saved(name: str, data: bytes) -> Path:
    path = FAILURES / f"mark-{name}-{hashlib.sha256(data).hexdigest()[:16]}.bin"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("fmt", sorted(SEEDS))
def test_mark_damaged(fmt, checker):
    writer = writer_for(fmt)
    assert writer is not None

    @settings(
        max_examples=max(10, EXAMPLES // 3),
        deadline=None,
        database=None,
        derandomize=not EXPLORE,
        suppress_health_check=list(HealthCheck),
    )
    @given(damaged(SEEDS[fmt], steps=(1, 5), repeat_bytes=128, repeat_times=20, splice_bytes=256))
    def run(data: bytes) -> None:
        try:
            try:
                writer(bytes(data), LABEL)  # the writer alone: a file, or a MediaError
            except MediaError:
                pass
            result = mark_bytes(checker, bytes(data), PROPAGATION, "ai")
        except Exception as exc:
            raise AssertionError(f"{fmt}: {type(exc).__name__}: {exc} (input saved to {_saved(fmt, data)})") from exc
        if result.action in (MarkAction.MARKED, MarkAction.UPDATED):
            labels = [e for e in checker.check(result.data, "ai").evidence if e.source == "gb45438"]
            assert len(labels) == 1, _saved(fmt, data)
            assert json.loads(labels[0].value)["ContentPropagator"] == PROPAGATION.propagator
        elif result.action is MarkAction.COPIED:
            assert result.data == bytes(data) or result.notes
        else:
            assert result.data is None and result.reason

    run()
