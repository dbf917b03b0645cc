"""report.html opened in headless Chromium: charts and tables render, the page works offline."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import FIXTURES
from scan_helpers import copy_fixtures, results

from aigc_check.cli import main
from aigc_check.scan.outputs import is_issue

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]
VERDICT_RED = (0xC0, 0x39, 0x2B)  # html_report.VERDICT_COLOURS["unlabelled-ai"]
BAR_BLUE = (0x3B, 0x6E, 0xA8)


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium): cannot render report.html")
    return found


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
    accounts = ["alice", "bob", "<b>carol</b>"]
    rows = ["path,declared,account,post_id"]
    rows += [f"{name},{'not-ai' if i % 7 == 0 else 'none'},{accounts[i % 3]},{i}" for i, name in enumerate(names)]
    rows.append("deleted.jpg,ai,bob,999")
    sidecar = tmp / "posts.csv"
    sidecar.write_text("\n".join(rows) + "\n", encoding="utf-8")
    out = tmp / "out"
    main(["scan", str(folder), "--declarations", str(sidecar), "--out", str(out), "--progress", "none"])
    return out


def test_report_renders_charts_and_tables_in_chromium(report, tmp_path):
    page = report / "report.html"
    dom = run_chromium(tmp_path, "--dump-dom", page.as_uri()).stdout.decode("utf-8")
    assert "</html>" in dom, "chromium produced no DOM"
    issues = [r for r in results(report) if is_issue(r)]

    charts = re.findall(r'<figure class="chart" id="(chart-[a-z]+)">.*?</figure>', dom, re.S)
    assert charts == ["chart-verdicts", "chart-statuses", "chart-generators", "chart-formats", "chart-findings"]
    for chart in charts:
        block = re.search(rf'id="{chart}">(.*?)</figure>', dom, re.S).group(1)
        assert "<svg" in block and len(re.findall(r'<rect class="bar"', block)) >= 1, chart

    account_rows = re.search(r'<table id="accounts">.*?<tbody>(.*?)</tbody>', dom, re.S).group(1)
    assert account_rows.count("<tr>") == 3
    assert "&lt;b&gt;carol&lt;/b&gt;" in account_rows and "<b>carol</b>" not in account_rows
    issue_rows = re.search(r'<table id="issues">.*?<tbody>(.*?)</tbody>', dom, re.S).group(1)
    assert issue_rows.count("<tr ") == len(issues) > 10
    assert issue_rows.count('class="thumb"') >= 5  # image violations carry a thumbnail
    # The filter script ran: it wrote how many rows are shown.
    assert re.search(r'<span id="shown">(\d+)</span>', dom).group(1) == str(len(issues))
    assert "Declared but not found (1)" in dom and "deleted.jpg" in dom
    # Nothing is fetched: no external URL in any src or href.
    assert not re.search(r'(src|href)="(https?:)?//', dom)


def test_report_screenshot_is_not_blank(report, tmp_path):
    from PIL import Image

    shot = tmp_path / "report.png"
    run_chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,1600", (report / "report.html").as_uri())
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
