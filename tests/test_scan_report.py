"""report.html in headless Chromium: it renders offline, and it is a tool (Debian's ``chromium`` +
``chromium-driver`` driven by selenium): sort, filter (verdict, account exactly, generator, format,
finding), click a chart bar, open an account, export the view as CSV; every action in words."""

from __future__ import annotations

import csv
import io
import re
import subprocess
import time
from pathlib import Path

import pytest
from browser import CHROMIUM, FLAGS, start_chromium
from conftest import FIXTURES
from scan_helpers import copy_fixtures, results

from aigc_check.cli import main
from aigc_check.scan.html_report import interface_text
from aigc_check.scan.outputs import canonical_format, digest, is_issue
from aigc_check.scan.report_rows import severity_rank

CHROMIUM_FLAGS = [*FLAGS, "--hide-scrollbars"]
VERDICT_RED = (0xC0, 0x39, 0x2B)  # html_report.VERDICT_COLOURS["unlabelled-ai"]
BAR_BLUE = (0x3B, 0x6E, 0xA8)
# "eve" is a prefix and a substring of the others: the account filter must match exactly.
ACCOUNTS = ["eve", "steve", "evelyn", "<b>carol</b>"]


def chromium() -> str:
    if not CHROMIUM:
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium): cannot render report.html")
    return CHROMIUM


def run_chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / "chromium-profile"
    return subprocess.run(
        [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args], capture_output=True, timeout=90
    )


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("report")
    names = sorted(p.name for p in FIXTURES.iterdir())
    folder = tmp / "uploads"
    copy_fixtures(folder, names)
    rows = ["path,declared,account,post_id"]
    rows += [f"{name},{'not-ai' if i % 7 == 0 else 'none'},{ACCOUNTS[i % 4]},{i}" for i, name in enumerate(names)]
    rows.append("deleted.jpg,ai,steve,999")
    sidecar = tmp / "posts.csv"
    sidecar.write_text("\n".join(rows) + "\n", encoding="utf-8")
    out = tmp / "out"
    main(["scan", str(folder), "--declarations", str(sidecar), "--out", str(out), "--progress", "none"])
    return out


@pytest.fixture(scope="module")
def issues(report) -> list[dict]:
    return [r for r in results(report) if is_issue(r)]


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    downloads = tmp_path_factory.mktemp("downloads")
    driver = start_chromium(
        str(tmp_path_factory.mktemp("chromium-profile")),
        "--hide-scrollbars",
        "--window-size=1400,1600",
        prefs={"download.default_directory": str(downloads)},
    )
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    driver.set_page_load_timeout(60)
    driver.downloads = downloads
    yield driver
    driver.quit()


@pytest.fixture
def page(browser, report):
    browser.get("about:blank")  # a new page each test: an address that differs only by its #hash is not reloaded
    browser.get((report / "report.html").as_uri() + "#lang=en")  # these tests read the English words
    browser.find_element("css selector", "body[data-ready-ms]")  # the script ran to its end
    return browser


def table_rows(page) -> list[dict]:
    """The rows the table shows now: path, verdict, account, action text."""
    return page.execute_script(
        "return [...document.querySelectorAll('#issues tbody tr')].map(tr => ({path: tr.cells[1].textContent,"
        " verdict: tr.dataset.verdict, account: tr.dataset.account || null, action: tr.cells[6].textContent,"
        " evidence: tr.cells[8].textContent, status: tr.cells[3].textContent}))"
    )


def shown(page) -> int:
    return int(page.find_element("id", "shown").text)


def choose(page, name: str, value: str) -> None:
    from selenium.webdriver.support.ui import Select

    Select(page.find_element("id", f"f-{name}")).select_by_value(value)


def all_pages(page) -> list[dict]:
    rows = table_rows(page)
    while page.find_element("id", "next-page").is_enabled():
        page.find_element("id", "next-page").click()
        rows += table_rows(page)
    return rows


def test_report_renders_charts_and_tables_in_chromium(report, issues, tmp_path):
    page = report / "report.html"
    dom = run_chromium(tmp_path, "--dump-dom", page.as_uri()).stdout.decode("utf-8")
    assert "</html>" in dom, "chromium produced no DOM"

    charts = re.findall(r'<figure class="chart" id="(chart-[a-z]+)">.*?</figure>', dom, re.S)
    assert charts == ["chart-verdicts", "chart-statuses", "chart-generators", "chart-formats", "chart-findings"]
    for chart in charts:
        block = re.search(rf'id="{chart}">(.*?)</figure>', dom, re.S).group(1)
        assert "<svg" in block and len(re.findall(r'<rect class="bar"', block)) >= 1, chart
        assert 'class="bar-link"' in block, f"{chart}: no bar filters the table"

    account_rows = re.search(r'<table id="accounts">.*?<tbody>(.*?)</tbody>', dom, re.S).group(1)
    assert account_rows.count("<tr>") == len(ACCOUNTS)
    assert "&lt;b&gt;carol&lt;/b&gt;" in account_rows and "<b>carol</b>" not in account_rows
    issue_rows = re.search(r'<table id="issues">.*?<tbody>(.*?)</tbody>', dom, re.S).group(1)
    assert issue_rows.count("<tr ") == min(100, len(issues)) > 10  # the first page
    assert issue_rows.count('class="thumb"') >= 5  # image violations carry a thumbnail
    assert re.search(r'<span id="shown">(\d+)</span>', dom).group(1) == str(len(issues))
    assert "Declared but not found (1)" in dom and "deleted.jpg" in dom
    # Nothing is fetched: no external URL in any src or href.
    assert not re.search(r'(src|href)="(https?:)?//', dom)


def test_default_order_is_most_severe_first(page, report, issues):
    rows = all_pages(page)
    assert len(rows) == len(issues)
    assert sorted(r["path"] for r in rows) == sorted(r["path"] for r in issues)
    rank = {r["path"]: severity_rank(digest(r), None) for r in issues}
    ranks = [rank[r["path"]] for r in rows]
    assert ranks == sorted(ranks) and ranks[0] == 0, "unlabelled AI first, then mislabelled, unreadable, review"
    assert {0, 1, 2}.issubset(ranks)


def test_sort_by_a_column_both_ways(page):
    header = page.find_element("css selector", '#issues th[data-sort="file"]')
    header.click()
    up = [r["path"] for r in table_rows(page)]
    assert up == sorted(up) and header.get_attribute("aria-sort") == "ascending"
    header.click()
    down = [r["path"] for r in table_rows(page)]
    assert down == sorted(down, reverse=True) and header.get_attribute("aria-sort") == "descending"
    assert down[0] > up[0]


def test_filters_verdict_account_exactly_generator_format_finding(page, issues):
    choose(page, "account", "eve")
    eve = [r for r in issues if r.get("account") == "eve"]
    assert shown(page) == len(eve) > 0
    assert {r["account"] for r in all_pages(page)} == {"eve"}  # not steve, not evelyn
    choose(page, "verdict", "unreadable")
    assert shown(page) == sum(r["verdict"] == "unreadable" for r in eve)
    page.find_element("id", "clear").click()
    assert shown(page) == len(issues)

    choose(page, "generator", "doubao")  # 豆包 is counted and filtered as doubao
    assert shown(page) == sum(r["generator"] in ("doubao", "豆包") for r in issues) > 1
    page.find_element("id", "clear").click()
    choose(page, "format", "mp3")  # the broken ID3 file (handler name mpeg-audio) is an mp3 too
    assert shown(page) == sum(canonical_format(r["format"]) == "mp3" for r in issues)
    assert any(r["format"] == "mpeg-audio" for r in issues)
    page.find_element("id", "clear").click()
    choose(page, "finding", "c2pa-hash-mismatch")
    tampered = [r for r in issues if any(f["code"] == "c2pa-hash-mismatch" for f in r["findings"])]
    assert shown(page) == len(tampered) > 0
    evidence = table_rows(page)[0]["evidence"]
    assert "the file was changed after it was signed" in evidence and "c2pa-hash-mismatch" in evidence


def test_clicking_a_chart_bar_filters_the_table(page, issues):
    bar = page.find_element("css selector", '#chart-formats g.bar-link[data-value="png"] rect')
    bar.click()
    assert page.find_element("id", "f-format").get_attribute("value") == "png"
    assert shown(page) == sum(r["format"] == "png" for r in issues)
    page.find_element("css selector", '#chart-verdicts g.bar-link[data-value="mislabelled"] rect').click()
    assert page.find_element("id", "f-verdict").get_attribute("value") == "mislabelled"
    assert shown(page) == sum(r["format"] == "png" and r["verdict"] == "mislabelled" for r in issues)


def test_opening_an_account_shows_its_section_and_files(page, issues):
    page.find_element("css selector", 'button.acct[data-account="<b>carol</b>"]').click()
    sections = page.find_elements("css selector", "section.account")
    visible = [s for s in sections if s.is_displayed()]
    assert len(visible) == 1 and visible[0].get_attribute("data-account") == "<b>carol</b>"
    carol = [r for r in issues if r.get("account") == "<b>carol</b>"]
    assert shown(page) == len(carol) > 0
    section = visible[0].text
    assert "Account <b>carol</b>" in section  # the name as text, not markup
    assert "Score" in section and "grading" in section and "suggested measure" in section
    assert "Signals among its listed files" in section and "verdict" in section
    files = visible[0].find_elements("css selector", ".acct-files li")
    assert len(files) == min(50, len(carol))
    # An account named in a file row opens the same way.
    page.find_element("id", "clear").click()
    page.find_element("css selector", '#issues tbody button.acct[data-account="steve"]').click()
    assert [s.get_attribute("data-account") for s in sections if s.is_displayed()] == ["steve"]


def test_every_action_is_explained_in_words(page, issues):
    text = interface_text()
    for row in all_pages(page):
        action = row["action"]
        if action.startswith("none"):
            continue
        assert "because" in action, action
    # A compliant file's warn comes from a finding: the row says which and why.
    warned = [r for r in issues if r["verdict"] == "compliant" and r["action"] == "warn"]
    assert warned, "the fixtures hold a compliant file with a stripped manifest"
    page.find_element("id", "q").send_keys(warned[0]["path"])
    row = next(r for r in table_rows(page) if r["path"] == warned[0]["path"])
    assert text["measures"]["warn"] in row["action"] and "c2pa-manifest-stripped" in row["action"]


def test_export_downloads_the_current_view_as_csv(page, issues):
    for old in page.downloads.glob("*"):
        old.unlink()
    choose(page, "verdict", "unlabelled-ai")
    page.find_element("css selector", '#issues th[data-sort="file"]').click()
    expected = all_pages(page)
    page.find_element("id", "export").click()
    deadline = time.monotonic() + 20
    target = page.downloads / "report-view.csv"
    while not target.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert target.exists(), "no CSV was downloaded"
    body = target.read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(body)))
    assert [r["path"] for r in rows] == [r["path"] for r in expected] == sorted(r["path"] for r in expected)
    assert len(rows) == sum(r["verdict"] == "unlabelled-ai" for r in issues)
    assert {r["verdict"] for r in rows} == {"unlabelled-ai"} and all(r["why"] for r in rows)


def test_report_screenshot_is_not_blank(report, tmp_path):
    from PIL import Image

    shot = tmp_path / "report.png"
    run_chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,2400", (report / "report.html").as_uri())
    assert shot.exists(), "chromium wrote no screenshot"
    with Image.open(shot) as img:
        rgb = img.convert("RGB")
        colours = rgb.getcolors(maxcolors=1 << 20) or []
    assert len(colours) > 50, "the screenshot is (nearly) one colour"

    def pixels_near(target, tolerance=12):
        return sum(n for n, c in colours if all(abs(a - b) <= tolerance for a, b in zip(c, target)))

    assert pixels_near(VERDICT_RED) > 200, "no unlabelled-AI bar or badge rendered"
    assert pixels_near(BAR_BLUE) > 500, "no chart bars rendered"
    print(f"screenshot kept at {shot}")


def test_hostile_names_stay_text_and_cannot_end_the_data_block(browser, report, tmp_path):
    """A file or account name holding ``</script>``, markup, a formula or an undecodable byte is
    shown as text; the page's JSON blocks are not ended early, and the script still runs."""
    import json

    from aigc_check.scan.html_report import write_report
    from aigc_check.scan.outputs import digest

    base = next(r for r in results(report) if r["verdict"] == "unlabelled-ai")
    names = [
        "a</script><script>document.title='owned'</script>.png",
        "<img src=x onerror=alert(1)>.png",
        "bad\udcff.png",
    ]
    issues = tmp_path / "issues.jsonl"
    with issues.open("w", encoding="utf-8", errors="surrogateescape") as f:
        for i, name in enumerate(names):
            r = dict(base, path=name, path_b64=None, account=["</script>", "=HYPERLINK()", "eve"][i], post_id=str(i))
            f.write(json.dumps(digest(r), ensure_ascii=False) + "\n")
    summary = json.loads((report / "summary.json").read_text(encoding="utf-8"))
    out = tmp_path / "out"
    out.mkdir()
    page = write_report(str(out), summary, [], str(issues), None, thumbnails=0)
    html = Path(page).read_text(encoding="utf-8")
    assert "</script><script>document.title" not in html and "<img src=x" not in html
    browser.get(Path(page).as_uri())
    browser.find_element("css selector", "body[data-ready-ms]")
    assert browser.title == "aigc-check 扫描报告 / aigc-check scan report"  # cn's languages, Chinese first
    assert not browser.find_elements("css selector", "#issues img:not(.thumb)")
    paths = sorted(r["path"] for r in table_rows(browser))
    assert paths == sorted([names[0], names[1], "bad\\udcff.png"])
    accounts = sorted(r["account"] for r in table_rows(browser))
    assert accounts == sorted(["</script>", "=HYPERLINK()", "eve"])
