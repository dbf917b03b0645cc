"""The text report and the scan's report.html speak the policy's languages, in its order, and any
policy (one language, a user's file, one this process never loaded) renders without crashing."""

from __future__ import annotations

import csv
import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import FIXTURES
from policy_helpers import english_only
from scan_helpers import copy_fixtures, similar_scan, summary

from aigc_check import Checker, CheckOptions, load_policy
from aigc_check.cli import main
from aigc_check.interface_text import words
from aigc_check.report import to_text
from aigc_check.scan.html_report import write_report

CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
REPORT_NAMES = ["gb-jpeg-xmp-element.jpg", "gen-a1111-parameters.png", "broken-empty.jpg", "plain.png"]


def text_for(name: str, declared: str = "none", policy: str = "cn") -> str:
    result = Checker(CheckOptions(policy=policy)).check(FIXTURES / name, declared)
    return to_text(result)


def line(report: str, start: str) -> str:
    return next(x for x in report.splitlines() if x.lstrip().startswith(start))


def test_text_report_cn_reads_chinese_first():
    report = text_for("gb-jpeg-xmp-element.jpg")
    first = report.splitlines()[0]
    assert first.endswith(": 未标识的AI内容 / UNLABELLED AI CONTENT  (jpeg, declared none, policy cn)")
    assert line(report, "Status:") == "  Status:  人工智能生成 / AI-generated, certainty strong, generator doubao"
    assert line(report, "Label:") == "  Label:   该内容为人工智能生成合成内容 / AI-generated content  [ai-generated]"
    advice = report.split("  What to do: ", 1)[1].splitlines()
    assert advice[0].startswith("文件显示为人工智能生成内容，但发布时未作声明。")
    assert advice[1].strip().startswith("The file shows AI-generated content but nothing was declared.")


def test_text_report_eu_reads_english_first():
    report = text_for("gb-jpeg-xmp-element.jpg", "not-ai", "eu")
    assert ": MISLABELLED AI CONTENT / 标识错误的AI内容  (" in report.splitlines()[0]
    assert line(report, "Label:") == "  Label:   AI-generated or manipulated / 人工智能生成或篡改  [ai-generated]"
    advice = report.split("  What to do: ", 1)[1].splitlines()
    result = Checker(CheckOptions(policy="eu")).check(FIXTURES / "gb-jpeg-xmp-element.jpg", "not-ai")
    assert advice[0] == result.advice  # exactly the contract's string
    assert (
        advice[1].strip()
        == "文件显示为人工智能生成内容，但被声明为非人工智能生成。请更正披露；平台将显示“人工智能生成或篡改”。"
    )


def test_text_report_status_words_come_from_the_policy():
    assert "Status:  来源不明 / unknown-origin" in text_for("plain.png")
    assert "UNREADABLE FILE" in text_for("broken-empty.jpg")


def test_text_report_of_a_policy_in_english_only(tmp_path):
    policy = str(english_only(tmp_path))
    for name in ("gen-a1111-parameters.png", "plain.png", "broken-empty.jpg"):
        for declared in ("none", "ai", "not-ai"):
            report = text_for(name, declared, policy)
            assert not CJK.search(report), report
    report = text_for("gen-a1111-parameters.png", "none", policy)
    assert line(report, "Label:") == "  Label:   Suspected AI-generated content  [suspected-ai]"
    assert report.count("What to do:") == 1 and len(report.split("What to do: ", 1)[1].splitlines()) == 1


def test_text_report_without_its_policy_shows_the_codes():
    result = Checker().check(FIXTURES / "gb-jpeg-xmp-element.jpg", "none")
    result.decision.policy = "a-file-this-process-never-loaded"
    report = to_text(result)
    assert "UNLABELLED-AI" in report.splitlines()[0]
    assert line(report, "Label:") == "  Label:   该内容为人工智能生成合成内容 / AI-generated content  [ai-generated]"
    assert line(report, "What to do:") == f"  What to do: {result.advice}"


def test_text_report_with_an_explicit_policy():
    result = Checker().check(FIXTURES / "gb-jpeg-xmp-element.jpg", "none")
    eu_words = to_text(result, load_policy("eu")).splitlines()[0]
    assert ": UNLABELLED AI CONTENT / 未标识的AI内容  (" in eu_words


# -- report.html -------------------------------------------------------------------------------------


def scan(tmp_path, policy: str) -> str:
    folder = tmp_path / "files"
    copy_fixtures(folder, REPORT_NAMES)
    out = tmp_path / "out"
    code = main(["scan", str(folder), "--out", str(out), "--progress", "none", "--policy", policy])
    assert code in (0, 1, 3), code
    return rendered(tmp_path, out / "report.html")


def rendered(tmp_path, page) -> str:
    """The page as Chromium shows it: the table's rows are drawn by its script from the rows' JSON."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium): cannot render report.html")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
    run = subprocess.run(
        [chromium, *flags, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", Path(page).as_uri()],
        capture_output=True,
        timeout=90,
    )
    dom = run.stdout.decode("utf-8")
    assert "data-ready-ms" in dom, "the page's script did not run"
    return dom


def test_html_report_cn_shows_both_languages_chinese_first(tmp_path):
    page = scan(tmp_path, "cn")
    badge = (
        '<span class="v ml" style="background:#c0392b">'
        '<span data-l="zh" lang="zh">未标识的AI内容</span>'
        '<span data-l="en" lang="en">Unlabelled AI content</span></span>'
    )
    assert badge in page
    assert (
        '<span data-l="zh" lang="zh">该内容为人工智能生成合成内容</span>'
        '<span data-l="en" lang="en">AI-generated content</span>' in page
    )
    assert '<option value="unlabelled-ai">未标识的AI内容 (' in page  # the shown language's words (its count)
    assert "未标识的AI内容 / Unlabelled AI content<title>" in page  # the verdict chart
    assert "人工智能生成 / AI-generated<title>" in page  # the status chart
    assert re.search(
        r'<b>\d+\.\d%</b><span data-l="zh" lang="zh">AI内容占比</span><span data-l="en" lang="en">AI share', page
    )
    assert '<html lang="zh" data-show="zh"' in page  # Chinese shown first; the switch offers English


def test_html_report_of_a_policy_in_english_only(tmp_path):
    page = scan(tmp_path, str(english_only(tmp_path)))
    assert 'lang="zh"' not in page
    assert '<span data-l="en" lang="en">Unlabelled AI content</span>' in page
    assert '<span data-l="en" lang="en">Suspected AI-generated content</span>' in page
    assert 'id="lang-switch"' not in page  # one language: no switch
    # Chinese only where a file put it (the GB 45438 label's own words in the evidence)
    assert all("属于" in hit or "Label" in hit for hit in re.findall(r"<li>[^<]*[\u4e00-\u9fff][^<]*</li>", page))


def minimal_report(tmp_path, policy=None) -> str:
    summary = {
        "policy": {"id": "a-file-this-process-never-loaded", "name": "lost", "repeat_offenders": None},
        "scanned": {"paths": ["x"], "from_list": None},
        "started": "2026-01-01T00:00:00+00:00",
        "files": {"checked": 1, "skipped": {}, "elapsed_s": 0.1},
        "interrupted": False,
        "violations": 1,
        "verdicts": {"unlabelled-ai": 1},
        "statuses": {"ai-generated": 1},
        "generators": {},
        "formats": {"png": 1},
        "findings": {},
        "walk_problems": {"examples": []},
    }
    issues = tmp_path / "issues.jsonl"
    issues.write_text(
        '{"path": "a.png", "verdict": "unlabelled-ai", "status": "ai-generated", "declared": "none",'
        ' "label": "suspected-ai", "action": "add-label", "format": "png", "findings": [], "errors": [],'
        ' "evidence": []}\n',
        encoding="utf-8",
    )
    path = write_report(str(tmp_path), summary, [], str(issues), None, 0, policy=policy)
    return rendered(tmp_path, path)


def test_html_report_without_its_policy_shows_the_codes(tmp_path):
    page = minimal_report(tmp_path)
    assert '<span class="v ml" style="background:#c0392b">unlabelled-ai</span>' in page
    assert '<b>n/a</b><span data-l="en" lang="en">AI share</span>' in page
    assert '<span class="muted">suspected-ai</span>' in page


@pytest.mark.parametrize("policy", ["cn", "eu"])
def test_html_report_with_an_explicit_policy(tmp_path, policy):
    rules = load_policy(policy)
    page = minimal_report(tmp_path, rules)
    words = "".join(
        f'<span data-l="{lang}" lang="{lang}">{text}</span>'
        for lang, text in rules.verdict_text("unlabelled-ai").items()
    )
    assert f'<span class="v ml" style="background:#c0392b">{words}</span>' in page
    assert next(iter(rules.verdict_text("unlabelled-ai"))) == rules.languages[0]
    assert re.search(r'<b>100\.0%</b>(<span data-l="\w+" lang="\w+">[^<]+</span>)+</div>', page)


# -- report.html's --similar sections: clusters and account signals ------------------------------------


def similar_sections(page: str) -> str:
    """The clusters and account-signals sections of a written report.html (thumbnails left out)."""
    section = page[page.index('<h2 id="clusters-h">') : page.index('<h2 id="files-h">')]
    return re.sub(r'src="data:[^"]*"', 'src=""', section)


def both(key: str, **fields: str) -> str:
    zh, en = words("zh")["report"][key], words("en")["report"][key]
    return (
        f'<span data-l="zh" lang="zh">{html.escape(zh.format(**fields))}</span>'
        f'<span data-l="en" lang="en">{html.escape(en.format(**fields))}</span>'
    )


def test_html_report_similar_sections_speak_chinese_first_then_english(tmp_path, corpus):
    pytest.importorskip("pdqhash", reason="the similar extra: pip install 'aigc-check[similar]'")
    out = similar_scan(tmp_path, corpus)
    section = similar_sections((out / "report.html").read_text(encoding="utf-8"))
    assert f'<h2 id="clusters-h">{both("clusters heading", n="1")}</h2>' in section
    assert f'<h2 id="signals-h">{both("signals heading", n="1")}</h2>' in section
    for key in ("account", "posts", "grades", "suggested action", "signals", "reasons"):
        assert f"<th>{both(key)}</th>" in section
    assert both("member labelled") in section and both("member inherits", name="lady.png") in section
    cluster_line = both("cluster line", size="3", accounts="1", names="botacct", ai="1", labelled="1", inherited="2")
    assert cluster_line in section
    warn = '<span data-l="zh" lang="zh">警告</span><span data-l="en" lang="en">warn</span>'
    assert f'<td class="act-warn">{warn}</td>' in section

    # The reasons in every language the policy declares, in summary.json and in the page; the
    # advice language's (English under cn) stays in reasons, as before, and in accounts.csv.
    (bot,) = [a for a in summary(out)["accounts"]["top"] if a["account"] == "botacct"]
    assert list(bot["reasons_text"]) == ["zh", "en"] and bot["reasons"] == bot["reasons_text"]["en"]
    assert CJK.search(bot["reasons_text"]["zh"]) and not CJK.search(bot["reasons_text"]["en"])
    reasons = "".join(f'<span data-l="{k}" lang="{k}">{html.escape(v)}</span>' for k, v in bot["reasons_text"].items())
    assert f"<td>{reasons}</td>" in section
    with open(out / "accounts.csv", encoding="utf-8") as f:
        assert next(r for r in csv.DictReader(f) if r["account"] == "botacct")["reasons"] == bot["reasons"]

    # Outside the language spans only what the files, the sidecar and the policy's basis say is left:
    # names, ids, numbers and codes, no interface word in one language alone.
    basis = html.escape(load_policy("cn").data["accounts"]["basis"])
    rest = re.sub(r'<span data-l="\w+" lang="\w+">[^<]*</span>', "", section).replace(basis, "")
    rest = re.sub(r"<[^>]*>", " ", re.sub(r"<style>.*?</style>", "", rest))
    for line in (out / "clusters.jsonl").read_text(encoding="utf-8").splitlines():
        rest = rest.replace(json.loads(line)["id"], "")
    data_words = {"lady", "png", "repost", "jpg", "botacct", "ai_posts"}
    assert not [w for w in re.findall(r"[A-Za-z_]{2,}", rest) if w not in data_words]
    assert not CJK.search(rest)


def test_html_report_similar_sections_of_a_policy_in_english_only(tmp_path, corpus):
    pytest.importorskip("pdqhash", reason="the similar extra: pip install 'aigc-check[similar]'")
    out = similar_scan(tmp_path, corpus, "--policy", str(english_only(tmp_path)))
    section = similar_sections((out / "report.html").read_text(encoding="utf-8"))
    assert 'lang="zh"' not in section and not CJK.search(section)
    assert '<span data-l="en" lang="en">Near-duplicate clusters (1)</span>' in section
    (bot,) = [a for a in summary(out)["accounts"]["top"] if a["account"] == "botacct"]
    assert list(bot["reasons_text"]) == ["en"] and bot["reasons"] == bot["reasons_text"]["en"]


def test_the_gradings_rule_is_in_the_summary_and_the_report_in_each_language(tmp_path, corpus):
    """The policy's basis of the account gradings, one text a language (``basis_text``): summary.json
    keeps the one text it had and adds them; report.html shows each in its language's span."""
    pytest.importorskip("pdqhash", reason="the similar extra: pip install 'aigc-check[similar]'")
    out = similar_scan(tmp_path, corpus)
    data = load_policy("cn").data
    policy = summary(out)["policy"]
    assert policy["repeat_offenders"] == data["repeat_offenders"]["basis"]
    assert policy["repeat_offenders_text"] == data["repeat_offenders"]["basis_text"]
    assert policy["accounts"] == data["accounts"]["basis"]
    assert policy["accounts_text"] == data["accounts"]["basis_text"]
    page = (out / "report.html").read_text(encoding="utf-8")
    zh, en = words("zh")["report"], words("en")["report"]
    rule = data["repeat_offenders"]["basis_text"]
    assert (
        f'<span data-l="zh" lang="zh">{html.escape(zh["suggested account actions"].format(basis=rule["zh"]))}</span>'
        f'<span data-l="en" lang="en">{html.escape(en["suggested account actions"].format(basis=rule["en"]))}</span>'
    ) in page
    signals = data["accounts"]["basis_text"]
    assert (
        f'<span data-l="zh" lang="zh">{html.escape(signals["zh"])}</span>'
        f'<span data-l="en" lang="en">{html.escape(signals["en"])}</span>'
    ) in similar_sections(page)
