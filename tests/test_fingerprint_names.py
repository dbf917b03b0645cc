"""Generator fingerprints by name: C2PA claim generators, software agents and signers, and GB 45438
``ContentProducer`` codes, each mapped to its generator by the shipped table."""

from __future__ import annotations

import pytest
from fingerprint_run import TABLE

C2PA_NAMES = [
    (["DALL·E"], "openai"),
    (["gpt-image"], "openai"),
    (["OpenAI Media Service API"], "openai"),
    (["", "", "ChatGPT", "OpenAI", "Truepic Lens CLI in Sora"], "openai"),
    (["GPT-4o"], "openai"),
    (["Azure OpenAI ImageGen"], "microsoft"),
    (["Azure OpenAI DALL-E"], "microsoft"),
    (["Image Creator from Designer", "AI Generated Image", "Microsoft_Responsible_AI/1.0"], "microsoft"),
    (["Adobe Firefly"], "adobe-firefly"),
    (["Adobe_Firefly adobe_c2pa/0.5.0 c2pa-rs/0.20.0"], "adobe-firefly"),
    (["", "Created by Google Generative AI.", "Google C2PA Core Generator Library 851316892:851316892"], "google"),
    (["Google Photos"], "google-photos"),
    (["Veo 3"], "veo"),
    (["Sora"], "sora"),
    (["Dreamina/7.5.0"], "dreamina"),
    (["volcengine"], "volcengine"),
    (["Samsung Galaxy AI"], "samsung"),
    (["Stability AI"], "stability"),
    (["FLUX.1 Kontext [pro]"], "flux"),
    (["Black Forest Labs"], "flux"),
    (["Runway Gen-4"], "runway"),
    (["Suno, Inc."], "suno"),
    (["Eleven Labs"], "elevenlabs"),
    (["Topaz Labs Image API"], "topaz"),
    (["Midjourney"], "midjourney"),
    (["Ideogram"], "ideogram"),
    (["NovelAI"], "novelai"),
    (["Luma AI"], "luma"),
]


@pytest.mark.parametrize("names,expected", C2PA_NAMES, ids=[c[1] + ":" + "|".join(c[0]) for c in C2PA_NAMES])
def test_c2pa_names_map_to_generator(names, expected):
    g = TABLE.for_c2pa(names)
    assert g is not None and g.id == expected


def test_every_c2pa_generator_has_a_case():
    assert {g.id for g in TABLE.generators if g.c2pa_names} - {c[1] for c in C2PA_NAMES} == set()


@pytest.mark.parametrize(
    "names",
    [
        ["Truepic_Lens_SDK_libc2pa/2.5.1"],
        ["Truepic", "Truepic Lens SDK v1.1.3 in Vision Camera v3.1.5"],
        ["Adobe_Photoshop/26.9.0 adobe_c2pa/0.14.2 c2pa-rs/0.43.0", "Adobe Inc.", "Adobe C2PA"],
        ["make_test_images/0.33.1 c2pa-rs/0.33.1", "C2PA Test Signing Cert"],
        ["Nikon_Z_9_Sample_for_Adobe_MAX_2022 c2pa-rs/0.14.0", "NIKON CORPORATION"],
        ["GIMP 3.0.6"],
        ["Pixel Camera", "Google LLC"],
        [""],
        [],
    ],
)
def test_c2pa_non_generators_are_not_mapped(names):
    assert TABLE.for_c2pa(names) is None


PRODUCERS = [
    ("001191110102MACQD9K64018705", "doubao"),
    ("doubao", "doubao"),
    ("00119144030008867405X2ABCDE", "jimeng"),
    ("001191110108335469089CABCDE", "kling"),
    ("001191440101MA9Y9T4H7AABCDE", "qwen"),
    ("001191440300708461136T1XGW3", "tencent"),
    ("001191110000802100433BABCDE", "baidu"),
    ("001191110105MACJ6K1C8AABCDE", "liblibai"),
    ("001191340100MAEB4N8H76ABCDE", "runninghub"),
    ("RunningHub", "runninghub"),
    ("Minimax Agent AI", "minimax"),
]


@pytest.mark.parametrize("producer,expected", PRODUCERS, ids=[c[1] + ":" + c[0] for c in PRODUCERS])
def test_aigc_producers_map_to_generator(producer, expected):
    g = TABLE.for_producer(producer)
    assert g is not None and g.id == expected


def test_every_producer_generator_has_a_case_and_unknown_codes_do_not_map():
    assert {g.id for g in TABLE.generators if g.aigc_producers} - {c[1] for c in PRODUCERS} == set()
    assert TABLE.for_producer("001191110000000000000X00000") is None
    assert TABLE.for_producer("doubao-fan-club") is None
    assert TABLE.for_producer("") is None
