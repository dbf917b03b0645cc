"""The eu family's label wording per case, and the EU pack's finding for AI content that carries
no marking at all (only generator traces found it)."""

from __future__ import annotations

import pytest
from conftest import FIXTURES

from aigc_check import Checker, CheckOptions

TIER_2 = FIXTURES / "gb-png-label2.png"  # the file's own GB 45438 label says "possibly AI" (Label 2)
TRACES = FIXTURES / "gen-a1111-parameters.png"  # generator traces, no marking of any kind
PLAIN = FIXTURES / "plain.jpg"
EU_FAMILY = ["eu", "ca", "in", "kr"]


@pytest.fixture(scope="module")
def checkers():
    return {p: Checker(CheckOptions(policy=p)) for p in EU_FAMILY}


@pytest.mark.parametrize("pack", EU_FAMILY)
def test_a_files_own_label_2_is_not_said_to_be_the_creators_declaration(checkers, pack):
    result = checkers[pack].check(TIER_2, "none")
    assert result.label == "possibly-ai"
    for text in result.decision.label_text.values():
        assert not any(word in text for word in ("eclared", "isclosed", "声明", "披露")), text
    assert "Marked in the file" in result.decision.label_text["en"]


@pytest.mark.parametrize("pack", EU_FAMILY)
def test_a_declaration_alone_is_labelled_as_the_creators(checkers, pack):
    result = checkers[pack].check(PLAIN, "ai")
    assert result.label == "declared-ai" and result.verdict.value == "compliant"
    assert any(w in result.decision.label_text["en"] for w in ("eclared", "isclosed"))


def test_eu_flags_ai_content_found_only_by_traces(checkers):
    result = checkers["eu"].check(TRACES, "none")
    finding = next(f for f in result.findings if f.code == "marking-absent")
    assert finding.severity == "warning" and "Art. 50(2)" in finding.message and "provenance data" in finding.message
    assert "marking-absent" not in {f.code for f in checkers["eu"].check(TIER_2, "none").findings}  # marked
    assert "marking-absent" not in {f.code for f in checkers["eu"].check(PLAIN, "none").findings}  # not AI


@pytest.mark.parametrize("pack", ["ca", "in", "kr"])
def test_the_eu_finding_is_not_inherited_where_the_pack_has_its_own(checkers, pack):
    codes = {f.code for f in checkers[pack].check(TRACES, "none").findings}
    assert "marking-absent" not in codes
    assert codes & {"latent-disclosure-missing", "synthetic-metadata-missing", "ai-marking-not-found"}


def test_the_packs_own_findings_speak_the_text_reports_language(checkers):
    from aigc_check.report import to_text

    policy = checkers["ca"].policy
    result = checkers["ca"].check(TRACES, "none")
    assert "AI content without provenance data" in next(f.message for f in result.findings)  # the contract: en
    zh = to_text(result, policy, "zh")
    assert "latent-disclosure-missing: 人工智能内容缺少来源数据：没有潜在披露" in zh
    assert "AI content without" not in zh
    signed = checkers["ca"].check(FIXTURES / "c2pa-ai-created.jpg", "none")
    assert "潜在披露缺少时间" in to_text(signed, policy, "zh")
    assert "the latent disclosure lacks time" in to_text(signed, policy, "en")
