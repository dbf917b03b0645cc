"""Generator fingerprints: the shipped data file, run through the real engine.

Field values below are modelled on the research catalogue and on real sample
files (``test_fingerprint_samples`` reads real generator outputs when the shared
corpus is present; ``test_fingerprint_names`` maps C2PA names and GB 45438
producer codes).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fingerprint_run import TABLE, F, ids, run

from aigc_check.model import Indicates, Strength
from aigc_check.signatures import fingerprints
from aigc_check.signatures.fingerprints import parse_generators

REPO = Path(__file__).resolve().parents[1]
DATA_FILE = REPO / "aigc_check" / "data" / "generators.json"
UUID = "a7421d2f-b262-44f9-977c-ac23e9c7d3e3"


# --------------------------------------------------------------------------- the data file


def test_data_file_parses_with_unique_ids_and_valid_references():
    raw = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    parsed = parse_generators(raw)
    assert len(parsed) == len(raw["generators"]) == len(TABLE.generators) > 40
    all_ids = [g.id for g in parsed]
    assert len(all_ids) == len(set(all_ids))
    for g in parsed:
        assert g.name and g.description, g.id
        assert g.rules or g.c2pa_names or g.aigc_producers, f"{g.id} can never match"
        assert g.id not in g.supersedes
        for s in g.supersedes:
            assert s in all_ids, f"{g.id} supersedes unknown id {s}"


def test_every_regex_compiles():
    raw = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    count = 0
    for entry in raw["generators"]:
        for rule in entry.get("rules", []):
            assert rule["when"], entry["id"]
            for cond in rule["when"]:
                if "pattern" in cond:
                    re.compile(cond["pattern"])
                    count += 1
        for p in entry.get("c2pa_names", []) + entry.get("aigc_producers", []):
            re.compile(p)
            count += 1
    assert count > 80


def test_bad_regex_is_rejected():
    bad = {"generators": [{"id": "x", "name": "x", "rules": [{"when": [{"field": "text/a", "pattern": "("}]}]}]}
    with pytest.raises(Exception, match="bad regular expression"):
        parse_generators(bad)


# --------------------------------------------------------------------------- positives

A1111_TEXT = (
    "1girl, solo, looking at viewer\nNegative prompt: lowres, bad anatomy\n"
    "Steps: 20, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 3782896554, "
    "Size: 1024x1024, Model hash: 45a21ea00a, Model: waiIllustriousSDXL_v160, Version: {version}"
)
COMFY_PROMPT = json.dumps(
    {
        "3": {
            "inputs": {
                "seed": 280823642470253,
                "steps": 20,
                "cfg": 8.0,
                "sampler_name": "euler",
                "model": ["4", 0],
                "positive": ["6", 0],
            },
            "class_type": "KSampler",
        },
        "4": {"inputs": {"ckpt_name": "v1-5-pruned-emaonly.ckpt"}, "class_type": "CheckpointLoaderSimple"},
        "6": {"inputs": {"text": "a cat", "clip": ["4", 1]}, "class_type": "CLIPTextEncode"},
    }
)
COMFY_WORKFLOW = json.dumps(
    {
        "last_node_id": 9,
        "last_link_id": 9,
        "nodes": [{"id": 3, "type": "KSampler", "pos": [863, 186], "widgets_values": [1, "randomize", 20]}],
        "links": [[1, 4, 0, 3, 0, "MODEL"]],
        "groups": [],
        "config": {},
        "extra": {},
        "version": 0.4,
    }
)
NOVELAI_COMMENT = json.dumps(
    {
        "prompt": "1girl",
        "steps": 28,
        "scale": 5.0,
        "seed": 1,
        "sampler": "k_euler_ancestral",
        "noise_schedule": "karras",
        "uncond_scale": 1.0,
        "v4_prompt": {"caption": {}},
    }
)
FOOOCUS_JSON = json.dumps(
    {
        "adm_guidance": "(1.5, 0.8, 0.3)",
        "base_model": "juggernautXL_v8Rundiffusion",
        "full_prompt": ["a smiling goldfish"],
        "guidance_scale": 4,
        "metadata_scheme": "fooocus",
        "prompt": "a smiling goldfish",
        "resolution": "(768, 1280)",
        "version": "Fooocus v2.4.3",
    }
)

# (generator id, case name, fields). Each generator that has rules needs at least one case.
POSITIVE = [
    ("a1111", "png parameters", [F("text/parameters", A1111_TEXT.format(version="v1.10.1"))]),
    (
        "a1111",
        "old, no version",
        [
            F(
                "text/parameters",
                "photo of a duck\nNegative prompt: monochrome\nSteps: 15, "
                "Sampler: UniPC, CFG scale: 5, Seed: 235284042, Size: 512x400",
            )
        ],
    ),
    ("a1111", "jpeg UserComment", [F("exif/UserComment", A1111_TEXT.format(version="v1.9.4"))]),
    ("a1111", "gif comment", [F("comment/Comment", A1111_TEXT.format(version="v1.10.1"))]),
    ("a1111", "stealth pnginfo", [F("stealth/parameters", A1111_TEXT.format(version="v1.9.4-169-ga30b19dd"))]),
    # Issue 12: the settings line wherever it starts, and A1111 text in other containers' comments.
    ("a1111", "newlines lost", [F("text/parameters", A1111_TEXT.format(version="v1.10.1").replace("\n", ""))]),
    ("a1111", "newlines as spaces", [F("exif/UserComment", A1111_TEXT.format(version="v1.10.1").replace("\n", " "))]),
    ("a1111", "mp4 comment", [F("mp4/©cmt", A1111_TEXT.format(version="v1.10.1"))]),
    ("a1111", "riff subject", [F("riff/ISBJ", A1111_TEXT.format(version="v1.10.1").replace("\n", " "))]),
    (
        "a1111",
        "img2img (ai-modified)",
        [
            F(
                "text/parameters",
                A1111_TEXT.format(version="v1.10.1").replace("Version:", "Denoising strength: 0.6, Version:"),
            )
        ],
    ),
    (
        "forge",
        "forge in a matroska comment",
        [F("mkv/COMMENT", A1111_TEXT.format(version="f2.0.1v1.10.1-previous-669-gdfdcbab6"))],
    ),
    ("forge", "forge", [F("text/parameters", A1111_TEXT.format(version="f2.0.1v1.10.1-previous-669-gdfdcbab6"))]),
    ("forge", "forge classic", [F("text/parameters", A1111_TEXT.format(version="classic"))]),
    ("forge", "forge neo", [F("exif/UserComment", A1111_TEXT.format(version="neo-2.28"))]),
    (
        "reforge",
        "reforge",
        [F("text/parameters", A1111_TEXT.format(version="f1.0.0v2-v1.10.1RC-latest-2498-g5120e679"))],
    ),
    (
        "reforge",
        "easy reforge",
        [F("text/parameters", A1111_TEXT.format(version="f1.3.0-v1.10.1RC-latest-1038-g19395bf9"))],
    ),
    (
        "sdnext",
        "sd.next",
        [
            F(
                "text/parameters",
                "a cat\nNegative prompt: low quality\nSteps: 20, Size: 1312x1408, "
                "Seed: 1561296656, CFG scale: 6, Model: hassakuXLIllustrious_v21fix, App: SD.Next, "
                "Version: 8b73cb6, Pipeline: StableDiffusionXLPipeline, Operations: txt2img",
            )
        ],
    ),
    (
        "comfy-image-saver",
        "a1111 text + comfy graph",
        [
            F(
                "text/parameters",
                "a cat\nNegative prompt: blurry\nSteps: 20, Sampler: euler_ancestral karras, "
                "CFG scale: 7.0, Seed: 1, Size: 512x512, Model hash: 6ce0161689, Model: v1-5, Version: ComfyUI",
            ),
            F("text/prompt", COMFY_PROMPT),
            F("text/workflow", COMFY_WORKFLOW),
        ],
    ),
    (
        "yodayo",
        "NGMS field",
        [
            F(
                "text/parameters",
                "a cat\nSteps: 28, Sampler: Euler a, CFG scale: 7, Seed: 12, Size: 512x768, NGMS: 0.5, Model: yodayo",
            )
        ],
    ),
    (
        "civitai",
        "resources list + uuid software",
        [
            F(
                "exif/UserComment",
                "a cat\nNegative prompt: bad\nSteps: 30, Sampler: DPM++ 2M Karras, CFG scale: 5, "
                "Seed: 1, Size: 832x1216, Clip skip: 2, Created Date: 2024-05-01T10:00:00.0000000Z, "
                'Civitai resources: [{"type":"checkpoint","modelVersionId":290640}], Civitai metadata: {}',
            ),
            F("exif/Software", "56c0ca36-7be1-4bce-a593-949f3ae4322e"),
            F("exif/Artist", "ai"),
        ],
    ),
    (
        "civitai",
        "uuid software + artist ai only",
        [F("exif/Software", "56c0ca36-7be1-4bce-a593-949f3ae4322e"), F("exif/Artist", "ai")],
    ),
    (
        "civitai",
        "comfy-like json with AIR urn",
        [
            F(
                "exif/UserComment",
                json.dumps(
                    {
                        "resource-stack": {
                            "class_type": "CheckpointLoaderSimple",
                            "inputs": {"ckpt_name": "urn:air:sdxl:checkpoint:civitai:101055@128078"},
                        },
                        "extraMetadata": "{}",
                    }
                ),
            )
        ],
    ),
    (
        "a1111-postprocessing",
        "extras upscale",
        [F("text/postprocessing", "Postprocess upscale by: 4, Postprocess upscaler: R-ESRGAN 4x+")],
    ),
    ("comfyui", "png prompt + workflow", [F("text/prompt", COMFY_PROMPT), F("text/workflow", COMFY_WORKFLOW)]),
    ("comfyui", "png workflow only", [F("text/workflow", COMFY_WORKFLOW)]),
    (
        "comfyui",
        "animated webp exif",
        [F("exif/Model", "prompt:" + COMFY_PROMPT), F("exif/Make", "workflow:" + COMFY_WORKFLOW)],
    ),
    (
        "comfyui",
        "save image extended",
        [F("exif/ImageDescription", "Workflow: " + COMFY_WORKFLOW), F("exif/Make", "Prompt: " + COMFY_PROMPT)],
    ),
    (
        "comfyui",
        "saveimageplus ifd0 usercomment",
        [
            F(
                "exif/UserComment",
                json.dumps({"prompt": json.loads(COMFY_PROMPT), "workflow": json.loads(COMFY_WORKFLOW)}),
            )
        ],
    ),
    ("comfyui", "flac vorbis", [F("vorbis/prompt", COMFY_PROMPT), F("vorbis/workflow", COMFY_WORKFLOW)]),
    ("comfyui", "mp3 txxx", [F("id3/TXXX:prompt", COMFY_PROMPT)]),
    ("comfyui", "mp4 keys", [F("mp4/prompt", COMFY_PROMPT), F("mp4/workflow", COMFY_WORKFLOW)]),
    ("comfyui", "mp4 comment", [F("mp4/comment", COMFY_PROMPT)]),
    ("comfyui", "webm simpletag", [F("mkv/PROMPT", COMFY_PROMPT)]),
    (
        "swarmui",
        "parameters json + comfy prompt",
        [
            F(
                "text/parameters",
                json.dumps(
                    {
                        "sui_image_params": {
                            "prompt": "a cat",
                            "model": "sd_xl_base_1.0",
                            "seed": 1,
                            "swarm_version": "0.9.7.4",
                        },
                        "sui_extra_data": {"date": "2025-01-01"},
                    }
                ),
            ),
            F("text/prompt", COMFY_PROMPT),
        ],
    ),
    (
        "tensorart",
        "generation_data + comfy prompt",
        [
            F(
                "text/generation_data",
                json.dumps({"prompt": "a cat", "negativePrompt": "", "baseModel": {"modelId": "600423083519508503"}}),
            ),
            F("text/prompt", COMFY_PROMPT.replace("CheckpointLoaderSimple", "ECHOCheckpointLoaderSimple")),
        ],
    ),
    (
        "stability-matrix",
        "smproj + parameters + prompt",
        [
            F("text/smproj", json.dumps({"Version": 2, "ProjectType": "TextToImage"})),
            F("text/parameters", A1111_TEXT.format(version="v1.10.1")),
            F("text/prompt", COMFY_PROMPT),
        ],
    ),
    (
        "invokeai",
        "invokeai_metadata",
        [
            F(
                "text/invokeai_metadata",
                json.dumps({"generation_mode": "sdxl_txt2img", "positive_prompt": "a cat", "app_version": "6.10.0"}),
            )
        ],
    ),
    (
        "invokeai",
        "legacy sd-metadata",
        [
            F(
                "text/sd-metadata",
                json.dumps({"model": "stable diffusion", "app_id": "invoke-ai/InvokeAI", "app_version": "2.3.0"}),
            )
        ],
    ),
    (
        "invokeai",
        "legacy Dream",
        [F("text/Dream", '"a photo of a cat [blurry]" -s 50 -S 2980747362 -W 512 -H 768 -C 5 -A k_lms')],
    ),
    ("fooocus", "json scheme", [F("text/parameters", FOOOCUS_JSON), F("text/fooocus_scheme", "fooocus")]),
    ("fooocus", "json without scheme chunk", [F("text/parameters", FOOOCUS_JSON)]),
    (
        "fooocus",
        "a1111 scheme",
        [F("text/parameters", A1111_TEXT.format(version="Fooocus v2.5.5")), F("text/fooocus_scheme", "a1111")],
    ),
    ("fooocus", "jpeg exif", [F("exif/Software", "Fooocus v2.5.5"), F("exif/MakerNote", "fooocus")]),
    (
        "ruinedfooocus",
        "parameters json",
        [
            F(
                "text/parameters",
                json.dumps(
                    {
                        "Prompt": "a cat",
                        "Negative": "",
                        "steps": 30,
                        "cfg": 8,
                        "base_model_name": "sd_xl_base_1.0.safetensors",
                        "software": "RuinedFooocus",
                    }
                ),
            )
        ],
    ),
    (
        "novelai",
        "png chunks (v4.5)",
        [
            F("text/Software", "NovelAI"),
            F("text/Source", "NovelAI Diffusion V4.5 C02D4F98"),
            F("text/Title", "NovelAI generated image"),
            F("text/Description", "1girl"),
            F("text/Comment", NOVELAI_COMMENT),
        ],
    ),
    ("novelai", "source only (old)", [F("text/Source", "Stable Diffusion 1D44365E")]),
    (
        "novelai",
        "webp exif",
        [
            F("exif/Software", "NovelAI Diffusion V4.5 C02D4F98"),
            F("exif/DocumentName", "NovelAI generated image"),
            F("exif/ImageDescription", "1girl"),
            F("exif/UserComment", json.dumps({"Comment": NOVELAI_COMMENT})),
        ],
    ),
    (
        "novelai",
        "stealth json",
        [
            F(
                "stealth/parameters",
                json.dumps(
                    {
                        "Title": "NovelAI generated image",
                        "Software": "NovelAI",
                        "Source": "NovelAI Diffusion V4.5 4BDE2A90",
                        "Comment": NOVELAI_COMMENT,
                    }
                ),
            )
        ],
    ),
    (
        "easydiffusion",
        "png per-field chunks",
        [
            F("text/prompt", "a cat"),
            F("text/negative_prompt", ""),
            F("text/use_stable_diffusion_model", "sd-v1-4"),
            F("text/num_inference_steps", "25"),
        ],
    ),
    (
        "easydiffusion",
        "jpeg json",
        [
            F(
                "exif/UserComment",
                json.dumps(
                    {"prompt": "a cat", "seed": 1, "use_stable_diffusion_model": "sd-v1-4", "num_inference_steps": 25}
                ),
            )
        ],
    ),
    (
        "drawthings",
        "xmp",
        [
            F("xmp/xmp:CreatorTool", "Draw Things"),
            F(
                "xmp/exif:UserComment",
                json.dumps({"c": "a cat", "uc": "", "model": "sd_xl", "seed": 1, "steps": 20, "size": "960x1280"}),
            ),
        ],
    ),
    (
        "hf-space",
        "diffusers demo json",
        [
            F(
                "text/parameters",
                json.dumps(
                    {
                        "prompt": "a cat",
                        "negative_prompt": "",
                        "resolution": "832 x 1216",
                        "guidance_scale": 7,
                        "num_inference_steps": 28,
                        "seed": 1,
                        "sampler": "Euler a",
                        "Model": "Animagine XL 3.1",
                        "Model hash": "e3c47aedb0",
                    }
                ),
            )
        ],
    ),
    ("huggingface", "hf-job-id", [F("text/hf-job-id", UUID)]),
    (
        "flux",
        "reference cli exif",
        [
            F("exif/Software", "AI generated;txt2img;flux"),
            F("exif/Make", "Black Forest Labs"),
            F("exif/Model", "flux-dev"),
            F("exif/ImageDescription", "a cat"),
        ],
    ),
    ("flux", "img2img software only", [F("exif/Software", "AI generated;img2img;flux")]),
    (
        "midjourney",
        "png description job id",
        [F("text/Author", "someuser"), F("text/Description", f"example --ar 2:1 --stylize 80 --v 6 Job ID: {UUID}")],
    ),
    ("midjourney", "exif description flags", [F("exif/ImageDescription", "a castle --ar 16:9 --v 6 --style raw")]),
    ("midjourney", "xmp description flags", [F("xmp/dc:description", "portrait --v 6.1 --stylize 250")]),
    ("midjourney", "usercomment job id", [F("exif/UserComment", f"a fox --niji 6 Job ID: {UUID}")]),
    ("ideogram", "exif make", [F("exif/Make", "Ideogram AI")]),
    ("reve", "exif software", [F("exif/Software", "reve.com")]),
    (
        "luma",
        "png chunks",
        [
            F("text/Software", "Uni-1"),
            F("text/Source", "Luma AI"),
            F("text/Comment", "Generated by Luma AI's Uni-1 model (https://lumalabs.ai)"),
        ],
    ),
    (
        "grok",
        "signature + uuid artist",
        [F("exif/ImageDescription", "Signature: " + "QUJD" * 22 + "=="), F("exif/Artist", UUID.upper())],
    ),
    ("google-photos", "magic editor credit", [F("xmp/photoshop:Credit", "Edited with Google AI")]),
    ("google-photos", "older credit", [F("xmp/photoshop:Credit", "AI-Generated with Google Photos")]),
    ("google", "gemini credit", [F("xmp/photoshop:Credit", "Made with Google AI")]),
    ("google", "pixel studio credit", [F("xmp/photoshop:Credit", "Made by Google AI")]),
    ("apple-cleanup", "clean up credit", [F("xmp/photoshop:Credit", "Apple Photos Clean Up")]),
    ("apple-image-playground", "software", [F("exif/Software", "Image Playground")]),
    (
        "dreamina",
        "app export json",
        [
            F(
                "exif/ImageDescription",
                json.dumps({"product": "dreamina", "exportType": "generation", "aigc_label_type": 1}),
            )
        ],
    ),
    (
        "bytedance-app",
        "aigc_info",
        [F("exif/UserComment", json.dumps({"aigc_info": {"aigc_type": 1, "product": "aweme"}}))],
    ),
    ("bytedance-app", "aigc_label_type", [F("exif/ImageDescription", '{"aigc_label_type": 2, "source": "app"}')]),
    (
        "tencent-cloud",
        "exif json",
        [
            F(
                "exif/ImageDescription",
                json.dumps(
                    {
                        "AIGC": {
                            "ServiceProvider": "example-provider",
                            "ServiceUser": "u1",
                            "Time": "1735689600",
                            "ContentId": "abc",
                        }
                    }
                ),
            )
        ],
    ),
    (
        "liblibai",
        "png AIGC python dict",
        [F("text/AIGC", "{'ServiceProvider': 'liblibai.com', 'ContentID': 'a1b2c3', 'Time': '2025-09-01 12:00:00'}")],
    ),
    ("sora", "mp4 encoder atom", [F("mp4/©too", "Sora 2")]),
    ("sora", "mkv comment", [F("mkv/COMMENT", "Generated with OpenAI Sora")]),
    ("veo", "quicktime software key", [F("mp4/com.apple.quicktime.software", "Google Veo 3")]),
    ("runway", "mp4 software", [F("mp4/©swr", "RunwayML Gen-4")]),
    ("kling", "mp4 description", [F("mp4/desc", "Created with Kling 2.1")]),
    ("kling", "chinese encoder", [F("mkv/ENCODER", "可灵AI")]),
    ("jimeng", "mp4 encoder", [F("mp4/©too", "Jimeng 3.0")]),
    ("dreamina", "mp4 encoder", [F("mp4/©too", "Dreamina")]),
    ("minimax", "hailuo encoder", [F("mp4/encoder", "Hailuo 02")]),
    ("luma", "dream machine encoder", [F("mp4/©too", "Dream Machine")]),
    ("pika", "mp4 encoder", [F("mp4/©too", "Pika Labs")]),
    ("vidu", "mp4 comment", [F("mp4/©cmt", "made with Vidu Q1")]),
    ("pixverse", "mp4 encoder", [F("mp4/©too", "PixVerse V5")]),
    ("suno", "ogg encoder", [F("vorbis/encoder", "Suno v4.5")]),
    ("elevenlabs", "wav software", [F("riff/ISFT", "ElevenLabs")]),
    ("suno", "id3 comment", [F("id3/COMM", f"made with suno; created=2025-05-01T12:00:00.000Z; id={UUID}")]),
    ("suno", "id3 woas", [F("id3/WOAS", f"https://suno.com/song/{UUID}")]),
    (
        "suno",
        "downloader tags",
        [F("id3/TXXX:SUNO_PROMPT", "a song about cats"), F("id3/TXXX:SUNO_MODEL", "chirp-crow")],
    ),
    ("udio", "txxx provider", [F("id3/TXXX:AI_PROVIDER", "Uncharted Labs, Inc.")]),
    ("topaz", "photo ai software", [F("exif/Software", "Topaz Photo AI 3.2.2 (Windows)")]),
    (
        "topaz",
        "gigapixel description",
        [
            F(
                "exif/ImageDescription",
                "Upscaled with Gigapixel v1.0.7. 1200x593 => 2400x1186 (2x) Model: High Compression",
            )
        ],
    ),
    (
        "topaz",
        "video ai tag",
        [F("mp4/videoai", "Enhanced using prob-3 with recover details at 43; Changed resolution to 1266x960")],
    ),
    ("midjourney-mention", "description", [F("xmp/dc:description", "made with Midjourney v6")]),
    ("openai-mention", "description", [F("exif/ImageDescription", "Generated with DALL-E 3")]),
    ("stable-diffusion-mention", "comment", [F("text/Comment", "rendered with Stable Diffusion XL")]),
    ("ai-mention", "jpeg comment", [F("comment/COM", "Created in Leonardo.ai")]),
]


def _case_id(case) -> str:
    return f"{case[0]}:{case[1]}"


@pytest.mark.parametrize("expected,case,fields", POSITIVE, ids=[_case_id(c) for c in POSITIVE])
def test_positive_fields_attribute_the_generator(expected, case, fields):
    by_id = {g.id: g for g in TABLE.generators}
    gen = by_id[expected]
    hit = gen.match(fingerprints.FieldIndex(fields))
    assert hit is not None, "the generator's own rules do not match"
    evidence = run(fields)
    mine = [e for e in evidence if e.generator == expected]
    assert len(mine) == 1
    # An edit trace in the matched field (img2img) makes an AI-generating tool's evidence AI-modified.
    edited = gen.indicates is Indicates.AI_GENERATED and gen.edit_in(hit) is not None
    assert mine[0].indicates is (Indicates.AI_MODIFIED if edited else gen.indicates)
    assert mine[0].strength is gen.strength
    if gen.strength is Strength.STRONG:
        # after supersedes, the expected generator is the only strong attribution
        assert ids(evidence, Strength.STRONG) == {expected}
    else:
        assert ids(evidence, Strength.STRONG) == set()


def test_every_generator_with_rules_has_a_positive_case():
    with_rules = {g.id for g in TABLE.generators if g.rules}
    assert with_rules - {c[0] for c in POSITIVE} == set()
    assert {c[0] for c in POSITIVE} - with_rules == set()


def test_strength_and_meaning_of_key_entries():
    by_id = {g.id: g for g in TABLE.generators}
    for gid in ("a1111", "comfyui", "novelai", "midjourney", "flux", "ideogram", "grok", "google", "liblibai", "suno"):
        assert by_id[gid].strength is Strength.STRONG, gid
    for gid in ("huggingface", "topaz", "udio", "midjourney-mention", "openai-mention", "stable-diffusion-mention"):
        assert by_id[gid].strength is Strength.WEAK, gid
    for gid in ("google-photos", "apple-cleanup", "topaz"):
        assert by_id[gid].indicates is Indicates.AI_MODIFIED, gid
    assert by_id["google"].indicates is Indicates.AI_GENERATED
    for gid in ("forge", "reforge", "sdnext", "comfy-image-saver", "fooocus", "civitai"):
        assert "a1111" in by_id[gid].supersedes, gid


def test_stealth_hit_is_reported_as_stealth_source():
    evidence = run([F("stealth/parameters", A1111_TEXT.format(version="v1.9.4"))])
    assert [(e.generator, e.source) for e in evidence] == [("a1111", "stealth-pnginfo")]


# --------------------------------------------------------------------------- negatives

CAMERA = [
    F("exif/Make", "Canon"),
    F("exif/Model", "Canon EOS REBEL T3"),
    F("exif/ExposureTime", (1, 125)),
    F("exif/FNumber", (56, 10)),
    F("exif/ISOSpeedRatings", 400),
    F("exif/DateTimeOriginal", "2011:10:28 12:00:00"),
    F("exif/Software", "Adobe Photoshop Lightroom 5.3 (Macintosh)"),
]

NEGATIVE = [
    ("empty", []),
    ("gimp software", [F("exif/Software", "GIMP 3.0.6"), F("text/Comment", "Created with GIMP")]),
    (
        "photoshop",
        [
            F("exif/Software", "Adobe Photoshop 25.0 (Windows)"),
            F("xmp/xmp:CreatorTool", "Adobe Photoshop 25.0 (Windows)"),
            F("comment/COM", "File written by Adobe Photoshop 4.0"),
        ],
    ),
    (
        "lightroom",
        [
            F("exif/Software", "Adobe Photoshop Lightroom Classic 13.0 (Windows)"),
            F("xmp/xmp:CreatorTool", "Adobe Lightroom"),
        ],
    ),
    ("camera exif", CAMERA),
    (
        "screenshot of comfyui",
        [
            F("exif/UserComment", "Screenshot"),
            F("xmp/exif:UserComment", "Screenshot"),
            F("text/Comment", "made in comfyui"),
            F("comment/COM", "ComfyUI screenshot"),
        ],
    ),
    (
        "algorithmicMedia",
        [
            F("xmp/Iptc4xmpExt:DigitalSourceType", "http://cv.iptc.org/newscodes/digitalsourcetype/algorithmicMedia"),
            F("xmp/dc:description", "algorithmicMedia"),
            F("text/Comment", "algorithmicMedia"),
        ],
    ),
    (
        "grok signature without uuid artist",
        [F("exif/ImageDescription", "Signature: " + "QUJD" * 22), F("exif/Artist", "Jane Doe")],
    ),
    ("uuid software without artist ai", [F("exif/Software", "56c0ca36-7be1-4bce-a593-949f3ae4322e")]),
    (
        "steps without sampler or seed",
        [F("comment/COM", "Steps: 3, then rest"), F("text/Description", "Steps: 20, Sampler: none, Seed: 1")],
    ),
    ("plain easy prompt key", [F("text/prompt", "a photo of my cat")]),
    ("bare Stable Diffusion source", [F("text/Source", "Stable Diffusion")]),
    ("plain Google credit", [F("xmp/photoshop:Credit", "Google")]),
    ("lavf encoder", [F("mp4/©too", "Lavf60.16.100"), F("id3/TSSE", "Lavf60.3.100")]),
    (
        "one command-line flag in a caption",
        [F("exif/ImageDescription", "harbour, cropped --ar 3:2 for print"), F("xmp/dc:description", "see --version")],
    ),
    (
        "a1111-like settings in a caption",
        [F("mp4/©cmt", "Steps: 20, Sampler: none, Seed: 1"), F("pdf/Subject", "Steps: 4, Seed: 2")],
    ),
    (
        "generator names inside other words or mid-sentence",
        [
            F("mp4/©too", "Lavf61.7.100 (soranik build)"),
            F("mp4/©cmt", "My trip to Sora island, shot on a Pixel"),
            F("mkv/COMMENT", "review of the Kling app"),
            F("id3/COMM", "not made with suno, recorded live"),
            F("mp4/©nam", "Runway walk"),
            F("riff/INAM", "Luma"),
        ],
    ),
]


@pytest.mark.parametrize("case,fields", NEGATIVE, ids=[c[0] for c in NEGATIVE])
def test_negative_fields_give_no_generator(case, fields):
    assert run(fields) == []
