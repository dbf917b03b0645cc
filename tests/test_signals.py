"""The signals of issue 12: IPTC DigitalSourceType as the NewsCodes scheme defines it, generator
traces in every container's free-text fields, traces as tools really write them (A1111 without its
newlines, legacy InvokeAI chunks on their own, Midjourney flags), and edits (img2img, inpaint)
read as ai-modified; plus the fingerprint file's field groups and edit traces."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import FIXTURES, corpus_dir

from aigc_check import Checker
from aigc_check.errors import DataFileError
from aigc_check.model import C2paSummary, Container, Field, Indicates, Strength
from aigc_check.options import CheckOptions
from aigc_check.signatures import SignalView, iptc
from aigc_check.signatures.fingerprints import FingerprintTable, collect, parse_generators
from aigc_check.signatures.iptc import read_source_type

TABLE = FingerprintTable.load()
DST = "http://cv.iptc.org/newscodes/digitalsourcetype/"
A1111 = (
    "a lighthouse on a cliff at dusk\nNegative prompt: blurry, lowres\n"
    "Steps: 20, Sampler: Euler a, Schedule type: Automatic, CFG scale: 7, Seed: 1234567890, Size: 512x512, "
    "Model hash: 45a21ea00a, Model: sdxl_base, Version: v1.10.1"
)


def F(name: str, value) -> Field:
    family, _, key = name.partition("/")
    return Field(family, key, value, "test")


def view(*fields: Field) -> SignalView:
    return SignalView(list(fields), Container("png", "image/png"), C2paSummary(), CheckOptions(), TABLE)


def traces(*fields: Field) -> list:
    v = view(*fields)
    collect(v)
    return v.evidence


def strong(*fields: Field) -> dict[str, Indicates]:
    return {e.generator: e.indicates for e in traces(*fields) if e.strength is Strength.STRONG}


# --------------------------------------------------------------------------- IPTC DigitalSourceType

CANONICAL_EQUIVALENT = [
    DST + "trainedAlgorithmicMedia",
    "https://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia",
    "HTTP://CV.IPTC.ORG/newscodes/digitalsourcetype/trainedAlgorithmicMedia",
    "https://Cv.Iptc.Org/newscodes/digitalsourcetype/trainedAlgorithmicMedia",
]
NONCANONICAL = [  # (value, what the finding names)
    ("trainedAlgorithmicMedia", "bare code"),
    (DST + "trainedAlgorithmicMedia/", "trailing slash"),
    ("https://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia/", "trailing slash"),
    ("digsrctype:trainedAlgorithmicMedia", "QCode"),
    ("dst:trainedAlgorithmicMedia", "unknown scheme alias"),
    (DST + "trainedalgorithmicmedia", "the scheme spells it 'trainedAlgorithmicMedia'"),
    (DST + "TRAINEDALGORITHMICMEDIA", "the scheme spells it"),
    ("TrainedAlgorithmicMedia", "the scheme spells it"),
    ("http://cv.iptc.org/NewsCodes/DigitalSourceType/trainedAlgorithmicMedia", "path"),
    ("cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia", "no URI scheme"),
    (" " + DST + "trainedAlgorithmicMedia\n", "white space"),
]


@pytest.mark.parametrize("value", CANONICAL_EQUIVALENT)
def test_scheme_and_host_case_and_https_are_canonical(value):
    found = read_source_type(value)
    assert found is not None and found.term == "trainedAlgorithmicMedia" and found.canonical


@pytest.mark.parametrize("value,departure", NONCANONICAL, ids=[v for v, _ in NONCANONICAL])
def test_other_forms_are_read_and_named(value, departure):
    found = read_source_type(value)
    assert found is not None and found.term == "trainedAlgorithmicMedia"
    assert any(departure in d for d in found.departures), found.departures


@pytest.mark.parametrize(
    "value",
    [
        "algorithmicMediaX",
        "trainedAlgorithmic",
        DST,
        DST + "x/trainedAlgorithmicMedia",
        "http://example.com/newscodes/digitalsourcetype/trainedAlgorithmicMedia",
        DST + "trainedAlgorithmicMedia?x=1",
        "ftp://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia",
        "",
        "x" * 10_000,
    ],
)
def test_no_substring_or_foreign_uri_is_a_term(value):
    assert read_source_type(value) is None


def test_algorithmic_media_is_never_ai_in_any_form():
    for value in ("algorithmicMedia", DST + "algorithmicmedia/", "digsrctype:algorithmicMedia"):
        assert read_source_type(value).entry["indicates"] == "info"


def test_c2pa_vocabulary_and_the_c2pa_reader_share_the_reading():
    assert iptc.source_type("http://c2pa.org/digitalsourcetype/trainedAlgorithmicData")[0] == "trainedAlgorithmicData"
    assert iptc.source_type("https://c2pa.org/digitalsourcetype/empty/")[0] == "empty"
    assert iptc.source_type("nonsense") == (None, None)


def test_the_signature_reports_a_noncanonical_value_and_still_decides():
    v = view(F("xmp/Iptc4xmpExt:DigitalSourceType", "trainedalgorithmicmedia"))
    iptc.collect(v)
    (evidence,) = v.evidence
    assert evidence.indicates is Indicates.AI_GENERATED and evidence.strength is Strength.STRONG
    (finding,) = v.findings
    assert finding.code == "iptc-source-type-noncanonical" and "trainedAlgorithmicMedia" in finding.message
    v = view(F("xmp/Iptc4xmpExt:DigitalSourceType", DST + "trainedAlgorithmicMedia"))
    iptc.collect(v)
    assert len(v.evidence) == 1 and v.findings == []


def test_the_property_is_matched_under_any_namespace():
    v = view(F("xmp/{http://iptc.org/std/Iptc4xmpExt/2008-02-29}DigitalSourceType", DST + "compositeSynthetic"))
    iptc.collect(v)
    assert [e.indicates for e in v.evidence] == [Indicates.AI_MODIFIED]
    assert "not in the IPTC Extension namespace" in v.findings[0].message
    v = view(F("xmp/Iptc4xmpExt:ArtworkOrObject/Iptc4xmpExt:DigitalSourceType", DST + "trainedAlgorithmicMedia"))
    iptc.collect(v)
    assert v.evidence == []  # a struct member is not the property


# --------------------------------------------------------------------------- the fingerprint file's groups


def test_field_groups_are_data_and_expand_in_conditions():
    groups = TABLE.field_groups
    assert {"free-text", "parameters"} <= set(groups)
    for name in ("mp4/©cmt", "mp4/desc", "mp4/©des", "id3/COMM", "riff/ICMT", "riff/ISBJ", "vorbis/description"):
        assert TABLE.in_group("free-text", name), name
    for name in ("mkv/DESCRIPTION", "asf/Description", "exif/XPComment", "text/Description", "pdf/Keywords"):
        assert TABLE.in_group("free-text", name), name
    assert not TABLE.in_group("free-text", "mp4/©too") and not TABLE.in_group("no-such-group", "mp4/©cmt")
    raw = json.loads((Path(__file__).resolve().parents[1] / "aigc_check/data/generators.json").read_text("utf-8"))
    uses = [c["field"] for g in raw["generators"] for r in g.get("rules", []) for c in r["when"]]
    assert sum("@free-text" in (u if isinstance(u, list) else [u]) for u in uses) > 20


def test_a_user_file_may_use_the_shipped_groups_and_add_its_own(tmp_path):
    user = {
        "field_groups": {"captions": ["text/Caption"]},
        "generators": [
            {
                "id": "house",
                "name": "House tool",
                "rules": [{"when": [{"field": ["@free-text", "@captions"], "pattern": "house-tool"}]}],
                "description": "test",
            }
        ],
    }
    path = tmp_path / "g.json"
    path.write_text(json.dumps(user), encoding="utf-8")
    table = FingerprintTable.load(str(path))
    assert table.in_group("free-text", "mp4/©cmt") and table.in_group("captions", "text/Caption")
    assert [g.id for g, _ in table.matches([F("mp4/©cmt", "made by house-tool")])] == ["house"]
    assert [g.id for g, _ in table.matches([F("text/Caption", "house-tool")])] == ["house"]


@pytest.mark.parametrize(
    "data,message",
    [
        ({"generators": [{"id": "x", "name": "x", "rules": [{"when": [{"field": "@nope"}]}]}]}, "unknown field group"),
        ({"field_groups": {"g": ["@free-text"]}, "generators": []}, "no group references"),
        ({"field_groups": {"g": "text/a"}, "generators": []}, "must be a list"),
        ({"generators": [{"id": "x", "name": "x", "modified_when": ["nope"]}]}, "unknown edit traces"),
        ({"edit_traces": {"t": {"pattern": "("}}, "generators": []}, "bad regular expression"),
        ({"edit_traces": {"t": {}}, "generators": []}, "pattern"),
    ],
)
def test_bad_groups_and_edit_traces_are_refused(data, message):
    with pytest.raises(DataFileError, match=message):
        parse_generators(data)


# --------------------------------------------------------------------------- traces in free-text fields


@pytest.mark.parametrize(
    "name", ["mp4/©cmt", "mp4/©des", "mkv/DESCRIPTION", "riff/ISBJ", "asf/Description", "pdf/Subject", "aiff/ANNO"]
)
def test_generator_traces_in_every_free_text_field(name):
    assert strong(F(name, A1111)) == {"a1111": Indicates.AI_GENERATED}
    assert strong(F(name, json.dumps({"3": {"inputs": {}, "class_type": "KSampler"}}))) == {
        "comfyui": Indicates.AI_GENERATED
    }
    assert "kling" in strong(F(name, "Created with Kling 2.1"))
    assert "midjourney" in strong(F(name, "a castle --ar 16:9 --v 6 --style raw"))


def test_a1111_parameters_whose_newlines_were_lost():
    for text in (A1111.replace("\n", ""), A1111.replace("\n", " "), A1111.replace("\n", ", ")):
        assert strong(F("text/parameters", text)) == {"a1111": Indicates.AI_GENERATED}
        assert strong(F("exif/UserComment", text)) == {"a1111": Indicates.AI_GENERATED}
        assert strong(F("mp4/©cmt", text)) == {"a1111": Indicates.AI_GENERATED}
    forge = A1111.replace("Version: v1.10.1", "Version: f2.0.1v1.10.1-previous-669-gdfdcbab6").replace("\n", " ")
    assert strong(F("exif/UserComment", forge)) == {"forge": Indicates.AI_GENERATED}
    assert strong(F("mkv/COMMENT", forge)) == {"forge": Indicates.AI_GENERATED}


def test_settings_look_alikes_in_free_text_are_not_a1111():
    assert traces(F("text/Description", "Steps: 20, Sampler: none, Seed: 1")) == []
    assert traces(F("mp4/©cmt", "Steps: 3, then rest; Seed: 4")) == []


MJ_POSITIVE = [
    "a lighthouse --ar 16:9 --v 6 --style raw",
    "portrait, soft light --v 6.1 --stylize 250",
    "--niji 6 --ar 2:3 anime girl",
    "castle in the clouds --chaos 20 --ar 3:2",
    "a fox Job ID: 5e1f7c2a-9b3d-4c8e-a6f0-1d2b3c4e5f60",
]
MJ_NEGATIVE = [
    "cropped --ar 3:2 for print",
    "ffmpeg -i in.mov -vf scale=640:-1 out.mp4",
    "see --version for details",
    "a long--arm lamp and --v-neck sweater",
]


@pytest.mark.parametrize("text", MJ_POSITIVE)
@pytest.mark.parametrize(
    "name", ["exif/ImageDescription", "exif/UserComment", "xmp/dc:description", "text/Description"]
)
def test_midjourney_prompt_flags(name, text):
    assert strong(F(name, text)) == {"midjourney": Indicates.AI_GENERATED}


@pytest.mark.parametrize("text", MJ_NEGATIVE)
def test_flag_look_alikes_are_not_midjourney(text):
    assert "midjourney" not in strong(F("exif/ImageDescription", text))


def test_a1111_parameters_mentioning_midjourney_flags_stay_a1111():
    text = A1111.replace("a lighthouse on a cliff at dusk", "a lighthouse --ar 16:9 --v 6")
    assert strong(F("exif/UserComment", text)) == {"a1111": Indicates.AI_GENERATED}


# --------------------------------------------------------------------------- legacy InvokeAI

SD_METADATA = {
    "model": "stable diffusion",
    "model_weights": "deliberate",
    "app_id": "invoke-ai/InvokeAI",
    "app_version": "2.3.0",
    "image": {"prompt": [{"prompt": "a cat", "weight": 1.0}], "steps": 50, "sampler": "k_lms", "type": "txt2img"},
}


def test_legacy_invokeai_chunks_on_their_own():
    assert strong(F("text/sd-metadata", json.dumps(SD_METADATA))) == {"invokeai": Indicates.AI_GENERATED}
    lstein = {**SD_METADATA, "app_id": "lstein/stable-diffusion", "app_version": "1.15"}
    assert strong(F("text/sd-metadata", json.dumps(lstein))) == {"invokeai": Indicates.AI_GENERATED}
    no_app = {k: v for k, v in SD_METADATA.items() if not k.startswith("app_")}
    assert strong(F("text/sd-metadata", json.dumps(no_app))) == {"invokeai": Indicates.AI_GENERATED}
    for dream in (
        '"a cat" -s 50 -S 42 -W 512 -H 512',
        '"a cat" -s50 -W512 -H512 -C7.5 -Ak_lms',
        '"a cat" -S 7 -A ddim',
    ):
        assert strong(F("text/Dream", dream)) == {"invokeai": Indicates.AI_GENERATED}, dream
    assert strong(F("text/sd-metadata", '{"model": "x"}')) == {}
    assert strong(F("text/Dream", "a dream I had")) == {}


def test_corpus_legacy_invokeai_chunks_each_alone():
    root = corpus_dir() / "sd-parsers"
    if not (root / "invokeai_sdmeta1.png").exists():
        pytest.skip(f"sample corpus not found at {root}")
    from PIL import Image

    with Image.open(root / "invokeai_sdmeta1.png") as im:
        info = dict(im.info)
    assert strong(F("text/sd-metadata", info["sd-metadata"])) == {"invokeai": Indicates.AI_GENERATED}
    assert strong(F("text/Dream", info["Dream"])) == {"invokeai": Indicates.AI_GENERATED}


# --------------------------------------------------------------------------- edits are ai-modified


def test_a1111_img2img_and_inpaint_are_ai_modified():
    img2img = A1111.replace("Version:", "Denoising strength: 0.75, Version:")
    assert strong(F("text/parameters", img2img)) == {"a1111": Indicates.AI_MODIFIED}
    inpaint = A1111.replace("Version:", "Denoising strength: 0.75, Mask blur: 4, Inpaint area: Only masked, Version:")
    assert strong(F("exif/UserComment", inpaint)) == {"a1111": Indicates.AI_MODIFIED}
    one_line = img2img.replace("\n", " ")
    assert strong(F("text/parameters", one_line)) == {"a1111": Indicates.AI_MODIFIED}
    forge = img2img.replace("Version: v1.10.1", "Version: f2.0.1v1.10.1-previous-669-gdfdcbab6")
    assert strong(F("text/parameters", forge)) == {"forge": Indicates.AI_MODIFIED}
    (evidence,) = traces(F("text/parameters", img2img))
    assert "img2img" in evidence.explanation and "AI-modified" in evidence.explanation


def test_hires_fix_and_adetailer_are_not_img2img():
    hires = A1111.replace("Version:", "Denoising strength: 0.7, Hires upscale: 2, Hires upscaler: Latent, Version:")
    assert strong(F("text/parameters", hires)) == {"a1111": Indicates.AI_GENERATED}
    adetailer = A1111.replace(
        "Version:",
        "ADetailer model: face_yolov8n.pt, ADetailer denoising strength: 0.4, ADetailer mask blur: 4, Version:",
    )
    assert strong(F("text/parameters", adetailer)) == {"a1111": Indicates.AI_GENERATED}


def comfy(*nodes: tuple[str, dict]) -> str:
    return json.dumps({str(i): {"inputs": inputs, "class_type": kind} for i, (kind, inputs) in enumerate(nodes, 1)})


def test_comfyui_graphs_that_load_and_encode_an_image_are_ai_modified():
    base = [("CheckpointLoaderSimple", {"ckpt_name": "sd15.safetensors"}), ("KSampler", {"denoise": 0.8})]
    img2img = comfy(*base, ("LoadImage", {"image": "in.png"}), ("VAEEncode", {"pixels": ["3", 0]}))
    inpaint = comfy(*base, ("LoadImage", {"image": "in.png"}), ("VAEEncodeForInpaint", {"grow_mask_by": 6}))
    outpaint = comfy(
        *base,
        ("LoadImage", {"image": "in.png"}),
        ("ImagePadForOutpaint", {"left": 64}),
        ("InpaintModelConditioning", {}),
    )
    for graph in (img2img, inpaint, outpaint):
        assert strong(F("text/prompt", graph)) == {"comfyui": Indicates.AI_MODIFIED}
    txt2img = comfy(*base, ("EmptyLatentImage", {"width": 512}), ("VAEDecode", {}))
    assert strong(F("text/prompt", txt2img)) == {"comfyui": Indicates.AI_GENERATED}
    unclip = comfy(*base, ("LoadImage", {"image": "in.png"}), ("CLIPVisionEncode", {}), ("EmptyLatentImage", {}))
    assert strong(F("text/prompt", unclip)) == {"comfyui": Indicates.AI_GENERATED}  # an image prompt, not an edit
    workflow = json.dumps(
        {"last_node_id": 3, "nodes": [{"id": 1, "type": "LoadImage"}, {"id": 2, "type": "VAEEncode"}], "links": []}
    )
    assert strong(F("text/workflow", workflow)) == {"comfyui": Indicates.AI_MODIFIED}


def test_other_edit_traces():
    assert strong(
        F("text/sd-metadata", json.dumps({**SD_METADATA, "image": {**SD_METADATA["image"], "type": "img2img"}}))
    ) == {"invokeai": Indicates.AI_MODIFIED}
    assert strong(F("text/Dream", '"a cat" -s 50 -S 42 -I init.png -f 0.7')) == {"invokeai": Indicates.AI_MODIFIED}
    meta = json.dumps({"generation_mode": "sdxl_inpaint", "positive_prompt": "a cat"})
    assert strong(F("text/invokeai_metadata", meta)) == {"invokeai": Indicates.AI_MODIFIED}
    assert strong(F("exif/Software", "AI generated;img2img;flux")) == {"flux": Indicates.AI_MODIFIED}
    assert strong(F("exif/Software", "AI generated;txt2img;flux")) == {"flux": Indicates.AI_GENERATED}
    swarm = json.dumps({"sui_image_params": {"prompt": "a cat", "initimagecreativity": 0.6}})
    assert strong(F("text/parameters", swarm)) == {"swarmui": Indicates.AI_MODIFIED}


def test_corpus_comfyui_img2img_is_ai_modified_and_the_unclip_two_pass_is_not():
    root = corpus_dir() / "sd-parsers"
    if not (root / "comfyui_img2img_cropped.png").exists():
        pytest.skip(f"sample corpus not found at {root}")
    checker = Checker()
    assert checker.check(root / "comfyui_img2img_cropped.png").status.value == "ai-modified"
    for name in ("comfyui_unclip_2pass_cropped.png", "comfyui_night_evening_day_morning_cropped.png"):
        assert checker.check(root / name).status.value == "ai-generated", name


def test_an_edit_trace_does_not_outrank_a_label():
    label = '{"Label":"1","ContentProducer":"001191110102MACQD9K64010000","ProduceID":"x"}'
    img2img = A1111.replace("Version:", "Denoising strength: 0.75, Version:")
    import zlib

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return len(payload).to_bytes(4, "big") + kind + payload + zlib.crc32(kind + payload).to_bytes(4, "big")

    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", (1).to_bytes(4, "big") * 2 + b"\x08\x00\x00\x00\x00")
        + chunk(b"tEXt", b"parameters\x00" + img2img.encode())
        + chunk(b"tEXt", b"AIGC\x00" + label.encode())
        + chunk(b"IDAT", zlib.compress(b"\x00\x00"))
        + chunk(b"IEND", b"")
    )
    result = Checker().check(png)
    assert result.status.value == "ai-generated" and result.classification.aigc_label == "1"


# --------------------------------------------------------------------------- PDF text fields by exiftool


@pytest.mark.skipif(shutil.which("exiftool") is None, reason="exiftool is not installed")
def test_a_label_exiftool_writes_into_pdf_subject_and_keywords_is_found(tmp_path):
    label = '{"AIGC":{"Label":"1","ContentProducer":"001191110102MACQD9K64010000","ProduceID":"x"}}'
    for tag in ("Subject", "Keywords"):
        path = tmp_path / f"{tag}.pdf"
        path.write_bytes((FIXTURES / "doc-plain.pdf").read_bytes())
        subprocess.run(["exiftool", "-q", "-overwrite_original", f"-PDF:{tag}={label}", str(path)], check=True)
        result = Checker().check(path)
        assert result.status.value == "ai-generated" and result.classification.aigc_label == "1", tag
        assert [e.key for e in result.evidence] == [f"pdf/{tag}"]
