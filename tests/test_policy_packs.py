"""Rule packs: extends (RFC 7396 merge), the pack sections' validation, the per-pack table, the
disclosure object on real C2PA files and GB-labelled fixtures, California's missing-element
findings, the policy commands and ``check --lang``."""

from __future__ import annotations

import json

import pack_table
import pytest
from conftest import FIXTURES, TEST_ROOT_CA
from policy_helpers import write_policy
from scan_helpers import copy_fixtures, results

from aigc_check import Checker, CheckOptions, PolicyError, load_policy, shipped_policies
from aigc_check.cli import ExitStatus, main
from aigc_check.interface_text import languages as interface_languages
from aigc_check.interface_text import words
from aigc_check.policy_packs import merge_patch

PACKS = ("cn", "xiaohongshu", "douyin", "eu", "ca", "in", "kr")


def test_merge_patch_merges_objects_replaces_lists_and_null_removes():
    base = {"a": {"x": 1, "y": [1, 2]}, "b": 1, "keep": True}
    patch = {"a": {"y": [3], "z": 2}, "b": None}
    assert merge_patch(base, patch) == {"a": {"x": 1, "y": [3], "z": 2}, "keep": True}
    assert base == {"a": {"x": 1, "y": [1, 2]}, "b": 1, "keep": True}  # unchanged


def test_every_pack_ships_and_loads():
    assert set(PACKS) <= set(shipped_policies())
    for pid in PACKS:
        policy = load_policy(pid)
        assert policy.data.get("sources"), f"{pid} names no sources"
        for sid, source in policy.data["sources"].items():
            assert source["url"].startswith("https://"), (pid, sid)
    assert load_policy("xiaohongshu").extends == ("cn",)
    assert load_policy("ca").extends == ("eu",)
    # null in ca.json removed eu's own sources and rules; only California's remain.
    assert not set(load_policy("ca").data["sources"]) & set(load_policy("eu").data["sources"])
    assert "marking-not-signed" not in load_policy("ca").data["disclosure_rules"]


def test_platform_texts_are_sourced_and_unconfirmed_ones_marked():
    for pid in ("xiaohongshu", "douyin"):
        p = load_policy(pid)
        for label in p.data["label_text"]:
            entry = p.data["text_sources"][f"label_text.{label}"]
            assert entry["source"] in p.data["sources"]
            assert entry["verified"] is False  # secondary sources only: never presented as official


def test_a_user_pack_extends_a_shipped_one(tmp_path):
    path = write_policy(
        tmp_path,
        {"extends": "cn", "id": "mine", "label_text": {"suspected-ai": {"zh": "疑似AI", "en": "Maybe AI"}}},
    )
    policy = load_policy(str(path))
    assert policy.extends == ("cn",)
    assert policy.data["measures"] == load_policy("cn").data["measures"]  # inherited
    r = Checker(CheckOptions(policy=str(path))).check(FIXTURES / "gen-a1111-parameters.png")
    assert (r.policy, r.label, r.label_text) == ("mine", "suspected-ai", {"zh": "疑似AI", "en": "Maybe AI"})


def test_extends_a_relative_path_and_chains(tmp_path):
    write_policy(tmp_path, {"extends": "cn", "id": "base", "measures": {"unlabelled-ai": ["add-label"]}})
    child = write_policy(tmp_path, {"extends": "base.json", "id": "child"})
    policy = load_policy(str(child))
    assert policy.extends == ("base", "cn")
    assert policy.data["measures"]["unlabelled-ai"] == ["add-label"]


@pytest.mark.parametrize(
    "child, message",
    [
        ({"extends": "cn", "id": "x", "labeltext": {}}, r"x\.json \(extends cn\): unknown key labeltext"),
        ({"extends": "cn", "id": "x", "languages": ["zh", "en", "ja"]}, r"x\.json \(extends cn\): .* lacks ja"),
        ({"extends": "nope", "id": "x"}, r"x\.json: extends 'nope': no policy named 'nope'"),
        ({"extends": "", "id": "x"}, r"extends must name"),
        (
            {
                "extends": "cn",
                "id": "x",
                "kind": "platform",
                "sources": {},
                "declaration_text": {"ai": {"zh": "a", "en": "a"}},
            },
            r"label_text\.ai-generated has no entry in text_sources",
        ),
        (
            {
                "extends": "cn",
                "id": "x",
                "text_sources": {"label_text.possibly-ai": {"source": "gb45438", "verified": True}},
            },
            r"marked verified but its source gb45438 is not",
        ),
        (
            {
                "extends": "cn",
                "id": "x",
                "text_sources": {"label_text.nothing": {"source": "gb45438", "verified": False}},
            },
            r"text_sources\.label_text\.nothing names no text",
        ),
        (
            {
                "extends": "ca",
                "id": "x",
                "disclosure_rules": {"latent-disclosure-incomplete": {"elements": ["colour"]}},
            },
            r"disclosure_rules\.latent-disclosure-incomplete\.elements must list",
        ),
        ({"extends": "cn", "id": "x", "obligations": {"cn-6-verify": {"checked": "maybe"}}}, r"checked must be one of"),
        ({"extends": "cn", "id": "x", "sources": {"s": {"title": "t", "url": "u", "date": "2026"}}}, r"date must be"),
    ],
)
def test_a_bad_pack_is_refused_naming_file_and_key(tmp_path, child, message):
    with pytest.raises(PolicyError, match=message):
        load_policy(str(write_policy(tmp_path, child)))


def test_an_extends_cycle_is_refused(tmp_path):
    write_policy(tmp_path, {"extends": "b.json", "id": "a"})
    write_policy(tmp_path, {"extends": "a.json", "id": "b"})
    with pytest.raises(PolicyError, match="cycle"):
        load_policy(str(tmp_path / "a.json"))


def test_the_pack_table_and_its_readme_section_are_current():
    table = pack_table.rows()
    assert table == json.loads(pack_table.TABLE.read_text(encoding="utf-8")), "python tests/pack_table.py --write"
    readme = pack_table.README.read_text(encoding="utf-8")
    assert pack_table.sync_readme(readme, table) == readme, "python tests/pack_table.py --write"


def _row(pack, file, declared):
    return next(
        r
        for r in json.loads(pack_table.TABLE.read_text(encoding="utf-8"))
        if (r["pack"], r["file"], r["declared"]) == (pack, file, declared)
    )


def test_the_table_says_what_each_pack_publishes():
    # Xiaohongshu: detected AI content gets the observed notice, and its distribution is restricted.
    r = _row("xiaohongshu", "gen-a1111-parameters.png", "none")
    assert r["label_text"]["zh"] == "内容可能使用AI技术生成" and "restrict-exposure" in r["measures"]
    # Douyin labels, but states no distribution limit.
    r = _row("douyin", "gen-a1111-parameters.png", "none")
    assert r["label_text"]["zh"] == "疑似使用了AI生成技术，请谨慎甄别" and r["measures"] == ["add-label"]
    assert _row("douyin", "gb-png-text.png", "ai")["label_text"]["zh"] == "作品含AI生成内容"
    # Every pack: a file with nothing in it, declared not AI, is compliant and needs no label.
    for pack in PACKS:
        r = _row(pack, "plain.jpg", "not-ai")
        assert (r["verdict"], r["label"], r["pack_findings"]) == ("compliant", None, [])
    # The Code of Practice: a trusted C2PA manifest without a signing time is not time-stamped.
    assert _row("eu", "c2pa-ai-created.jpg", "ai")["pack_findings"] == ["marking-not-timestamped"]
    assert _row("eu", "gb-png-text.png", "ai")["pack_findings"] == ["marking-not-signed"]


@pytest.fixture(scope="module")
def ca_checker():
    return Checker(CheckOptions(policy="ca", trust_anchor_files=(str(TEST_ROOT_CA),)))


def test_california_missing_elements_are_findings(ca_checker):
    r = ca_checker.check(FIXTURES / "gb-png-text.png")
    d = r.disclosure
    assert d.provenance == ("gb45438",) and d.provider == "001191110102MACQD9K64010000"
    assert d.identifier == "test-0001" and "ProduceID" in d.identifier_at
    assert d.latent_missing == ("system", "version", "time")
    (finding,) = [f for f in r.findings if f.code == "latent-disclosure-incomplete"]
    assert "system, version, time" in finding.message and finding.severity == "warning"
    r = ca_checker.check(FIXTURES / "gen-a1111-parameters.png")
    assert [f.code for f in r.findings if f.code.startswith("latent")] == ["latent-disclosure-missing"]
    r = ca_checker.check(FIXTURES / "camera-canon.jpg")  # not AI: owes no AI disclosure
    assert not [f for f in r.findings if f.code.startswith("latent")]
    assert r.disclosure.capture_device == "Canon EOS R5"


def test_disclosure_on_real_c2pa_files(corpus, ca_checker):
    def disclosure(name):
        return ca_checker.check(corpus / name).disclosure

    adobe = disclosure("c2pa-rs/ocsp.jpg")  # Photoshop generative edit with Firefly
    assert (adobe.provider, adobe.system, adobe.version) == ("Adobe Inc.", "Adobe Firefly", None)
    assert adobe.time == "2025-08-13T16:30:55+00:00" and adobe.signature_valid is True
    openai = disclosure("huminify-c2pa-detector/ChatGPT_Image.png")
    assert (openai.provider, openai.system) == ("OpenAI", "ChatGPT") and openai.latent_missing == ("version", "time")
    assert openai.signer == "OpenAI / Truepic Lens CLI in Sora"
    google = disclosure("huminify-c2pa-detector/lady.png")
    assert google.provider == "Google LLC" and google.signature_trusted and google.latent_missing == ()
    truepic = disclosure("c2pa-public-testfiles/truepic-20230212-camera.jpg")
    assert truepic.capture_device == "Google Pixel 5" and "stds.exif" in truepic.capture_device_at
    assert truepic.signature_valid is False  # the corpus copy's hash no longer matches
    nikon = disclosure("c2pa-public-testfiles/nikon-20221019-building.jpeg")
    assert nikon.capture_device == "NIKON CORPORATION NIKON Z 9" and nikon.provider == "NIKON CORPORATION"
    cawg = disclosure("c2pa-rs/adobe_connected_identities.jpg")
    assert cawg.identity == ("behance: testuser23 (cawg.ica.did_unavailable)",)
    assert cawg.signer == "Adobe Inc. / Adobe C2PA Stage"  # the tool that signed, apart from who stands behind it
    assert "action c2pa.watermarked" in cawg.watermark and "soft-binding com.adobe.trustmark.P" in cawg.watermark
    x509 = disclosure("c2pa-rs/C_with_CAWG_data.jpg")
    assert x509.identity == ("cawg.x509.cose: C2PA Test Signing Cert / C2PA Signer (cawg.x509.credential.untrusted)",)
    nothing = disclosure("pillow/hopper.jpg")
    assert not nothing.provenance_available and not nothing.signature_present


def test_disclosure_is_in_the_json_and_null_safe(ca_checker):
    d = ca_checker.check(FIXTURES / "broken-empty.jpg").to_dict()
    assert list(d)[-1] == "disclosure" and d["disclosure"]["provenance_available"] is False
    d = ca_checker.check(FIXTURES / "c2pa-ai-created.jpg").to_dict()["disclosure"]
    assert d["signature_trusted"] is True and d["system"] == "Test Diffusion" and d["version"] == "1.0"


def test_policies_command_lists_every_pack(capsys):
    assert main(["policies", "--format", "json"]) == ExitStatus.COMPLIANT
    packs = {p["id"]: p for p in json.loads(capsys.readouterr().out)}
    assert set(PACKS) <= set(packs)
    assert packs["douyin"]["extends"] == ["cn"] and packs["douyin"]["kind"] == "platform"
    assert all(s["url"] and s["date"] for p in packs.values() for s in p["sources"])
    assert main(["policies"]) == ExitStatus.COMPLIANT
    assert "UNVERIFIED" in capsys.readouterr().out


def test_policy_show_and_check(tmp_path, capsys):
    assert main(["policy", "show", "douyin"]) == ExitStatus.COMPLIANT
    shown = json.loads(capsys.readouterr().out)
    assert shown["extends"] == ["cn"] and shown["label_rules"] == load_policy("cn").data["label_rules"]
    good = write_policy(tmp_path, {"extends": "douyin", "id": "mine"})
    assert main(["policy", "check", str(good)]) == ExitStatus.COMPLIANT
    assert "id mine, extends douyin > cn" in capsys.readouterr().out
    bad = write_policy(tmp_path, {"extends": "cn", "id": "bad", "verdict_text": {"compliant": {"fr": "Conforme"}}})
    assert main(["policy", "check", str(bad)]) == ExitStatus.USAGE
    assert "bad.json (extends cn): verdict_text.compliant.fr is not a declared language" in capsys.readouterr().err


def test_check_lang_zh_speaks_chinese_throughout(capsys):
    assert main(["check", "--lang", "zh", "--policy", "xiaohongshu", str(FIXTURES / "gen-a1111-parameters.png")]) == 1
    out = capsys.readouterr().out
    for word in (
        "未标识的AI内容",
        "声明 未声明",
        "来源:",
        "标识:",
        "处置:  平台添加标识；内容的传播受到限制",
        "建议:",
        "笔记含AI合成内容",
    ):
        assert word in out
    for english in ("Status:", "Label:", "Action:", "What to do:", "declared", "restrict-exposure"):
        assert english not in out
    assert main(["check", "--lang", "en", "--policy", "cn", str(FIXTURES / "gen-a1111-parameters.png")]) == 1
    out = capsys.readouterr().out
    assert (
        "What to do:" in out and "建议" not in out and "来源:" not in out
    )  # cn quotes the Chinese label in its English advice


def test_check_lang_needs_a_language_the_policy_declares(tmp_path, capsys):
    from policy_helpers import english_only

    assert main(["check", "--lang", "zh", "--policy", str(english_only(tmp_path)), str(FIXTURES / "plain.png")]) == 2
    assert "declares en" in capsys.readouterr().err


def test_every_interface_language_gives_every_word():
    langs = interface_languages()
    assert {"zh", "en"} <= set(langs)
    keys = {lang: set(words(lang)) for lang in langs}
    assert all(k == keys["en"] for k in keys.values())
    for table in ("declared_values", "certainty_values", "measure_values", "element_values", "report", "page"):
        assert all(set(words(lang)[table]) == set(words("en")[table]) for lang in langs)
    for table in ("action_values", "strength_values"):
        assert all(set(words(lang)["page"][table]) == set(words("en")["page"][table]) for lang in langs)
    assert set(load_policy("cn").data["measure_order"]) <= set(words("zh")["page"]["action_values"])
    measures = set(load_policy("cn").data["measure_order"])
    assert measures <= set(words("zh")["measure_values"])


def test_a_user_pack_works_in_a_scan(tmp_path):
    path = write_policy(tmp_path, {"extends": "douyin", "id": "my-douyin", "measures": {"unlabelled-ai": ["warn"]}})
    folder = tmp_path / "in"
    copy_fixtures(folder, ["gen-a1111-parameters.png", "plain.jpg"])
    out = tmp_path / "out"
    code = main(["scan", str(folder), "--out", str(out), "--policy", str(path), "-j", "1", "--progress", "none"])
    assert code == ExitStatus.VIOLATION
    by_name = {r["path"].rsplit("/", 1)[-1]: r for r in results(out)}
    ai = by_name["gen-a1111-parameters.png"]
    assert (ai["policy"], ai["measures"]) == ("my-douyin", ["warn"])
    assert ai["label_text"]["zh"] == "疑似使用了AI生成技术，请谨慎甄别"


def test_missing_latent_elements_are_said_where_the_policy_asks_for_them():
    """The text report names the missing latent-disclosure elements under a policy with disclosure
    rules (California's), and elsewhere only with -v: a creator under cn is not told of a duty it has not."""
    from aigc_check import check
    from aigc_check.report import to_text

    path = FIXTURES / "gb-jpeg-xmp-element.jpg"
    cn, ca = check(path), check(path, policy="ca")
    assert "latent disclosure lacks" not in to_text(cn)
    assert "latent disclosure lacks" in to_text(cn, verbose=True)
    assert "latent disclosure lacks" in to_text(ca)
