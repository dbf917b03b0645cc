"""Generator fingerprints on real generator outputs from the shared corpus (skipped, saying where it
was looked for, when it is absent): the fields are read from the files, then run through the
shipped table."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from fingerprint_run import ids, run

from aigc_check.model import Field, Strength

REPO = Path(__file__).resolve().parents[1]


def _corpus() -> Path:
    return Path(os.environ.get("AIGC_CORPUS") or REPO.parent / "shared" / "corpus")


def _png_fields(path: Path) -> list[Field]:
    from PIL import Image

    with Image.open(path) as im:
        im.load()  # text chunks after IDAT are only seen once the image is loaded
        return [Field("text", k, v, str(path)) for k, v in im.info.items() if isinstance(v, str)]


CORPUS_PNG = [
    ("sd-parsers/automatic1111_cropped.png", "a1111"),
    ("sd-parsers/comfyui_img2img_cropped.png", "comfyui"),
    ("sd-parsers/comfyui_night_evening_day_morning_cropped.png", "comfyui"),
    ("sd-parsers/comfyui_noisy_latents_3_subjects_cropped.png", "comfyui"),
    ("sd-parsers/comfyui_unclip_2pass_cropped.png", "comfyui"),
    ("sd-parsers/fooocus1_cropped.png", "fooocus"),
    ("sd-parsers/invokeai_dream1.png", "invokeai"),
    ("sd-parsers/invokeai_imeta1.png", "invokeai"),
    ("sd-parsers/invokeai_sdmeta1.png", "invokeai"),
    ("sd-parsers/novelai1_cropped.png", "novelai"),
    # The manifest calls this "no generator parameters", but it holds the A1111 duck
    # parameters in a zTXt chunk placed after IDAT.
    ("sd-parsers/text_after_idat.png", "a1111"),
]


def _need_corpus() -> Path:
    root = _corpus()
    if not (root / "sd-parsers").is_dir():
        pytest.skip(f"sample corpus not found at {root} (set AIGC_CORPUS to its path)")
    return root


@pytest.mark.parametrize("rel,expected", CORPUS_PNG, ids=[c[0] for c in CORPUS_PNG])
def test_corpus_png_text_chunks(rel, expected):
    root = _need_corpus()
    fields = _png_fields(root / rel)
    assert fields, "no text chunks read"
    assert ids(run(fields), Strength.STRONG) == {expected}


def test_corpus_a1111_jpeg_usercomment():
    import piexif
    import piexif.helper
    from PIL import Image

    root = _need_corpus()
    with Image.open(root / "sd-parsers/automatic1111_cropped.jpg") as im:
        exif = piexif.load(im.info["exif"])
    comment = piexif.helper.UserComment.load(exif["Exif"][piexif.ExifIFD.UserComment])
    assert ids(run([Field("exif", "UserComment", comment, "corpus")]), Strength.STRONG) == {"a1111"}


def test_corpus_a1111_stealth_alpha():
    from PIL import Image

    from aigc_check.readers.stealth import decode_alpha

    root = _need_corpus()
    with Image.open(root / "sd-parsers/automatic1111_stealth.png") as im:
        alpha = im.getchannel("A")
        text = decode_alpha(alpha.tobytes(), im.width, im.height)
    assert text
    assert ids(run([Field("stealth", "parameters", text, "corpus")]), Strength.STRONG) == {"a1111"}


def test_corpus_comfyui_screenshot_is_not_a_generator():
    import piexif
    import piexif.helper
    from PIL import Image

    root = _need_corpus()
    path = root / "sd-prompt-reader/comfyui_sdxl.png"
    if not path.exists():
        pytest.skip(f"{path} not in the corpus")
    fields = _png_fields(path)
    with Image.open(path) as im:
        exif = piexif.load(im.info["exif"])
    fields.append(
        Field("exif", "UserComment", piexif.helper.UserComment.load(exif["Exif"][piexif.ExifIFD.UserComment]), "corpus")
    )
    evidence = run(fields)
    assert ids(evidence, Strength.STRONG) == set()
    assert evidence == []
