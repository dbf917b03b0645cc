"""The creator page and the audit report in Chinese and in English, in headless Chromium (Debian's
``chromium`` + ``chromium-driver``): the page's language comes from the browser's Accept-Language
(and ``?lang=``), the report's from the policy (its first language) with a switch; every interface
text follows the switch.  Screenshots of each are kept (``AIGC_SCREENSHOT_DIR``, else the test's
tmp dir) and checked to show Chinese as glyphs, not as missing-glyph boxes ("tofu")."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from browser import requires_chromium, start_chromium
from conftest import FIXTURES, ROOT
from scan_helpers import copy_fixtures, similar_scan
from serve_helpers import request

from aigc_check.cli import main
from aigc_check.interface_text import FONT_STACK, words
from aigc_check.service.launch import ServerProcess

pytestmark = requires_chromium
ACCEPT = {"zh": "zh-CN,zh", "en": "en-US,en"}
CJK = re.compile(r"[\u4e00-\u9fff]")
ZH, EN = words("zh"), words("en")

# Draws two different Chinese characters and a private-use character (which no font has: it is
# what a missing glyph looks like) in the element's own font, and returns their alpha masks.
GLYPHS_JS = """
const font = getComputedStyle(arguments[0]).fontFamily;
function mask(ch) {
  const c = document.createElement('canvas'); c.width = 64; c.height = 64;
  const x = c.getContext('2d'); x.font = '40px ' + font; x.textBaseline = 'top'; x.fillStyle = '#000';
  x.fillText(ch, 8, 8);
  const d = x.getImageData(0, 0, 64, 64).data; let out = '';
  for (let i = 3; i < d.length; i += 4) out += d[i] > 127 ? '1' : '0';
  return out;
}
return {font: font, a: mask('\u6838'), b: mask('\u9a8c'), c: mask('\u6807'), missing: mask('\ue000')};
"""


def make_browser(tmp_path_factory, lang: str):
    profile = str(tmp_path_factory.mktemp(f"chromium-{lang}"))
    return start_chromium(profile, prefs={"intl.accept_languages": ACCEPT[lang]})


@pytest.fixture(scope="module")
def browsers(tmp_path_factory):
    made = {lang: make_browser(tmp_path_factory, lang) for lang in ACCEPT}
    yield made
    for driver in made.values():
        driver.quit()


@pytest.fixture(scope="module")
def server():
    with ServerProcess(["--workers", "1"]) as s:
        yield s


def by_id(browser, element_id: str):
    from selenium.webdriver.common.by import By

    return browser.find_element(By.ID, element_id)


def shot(browser, tmp_path: Path, name: str) -> Path:
    path = Path(os.environ.get("AIGC_SCREENSHOT_DIR", tmp_path)) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    assert browser.save_screenshot(str(path))
    print(f"screenshot: {path}")
    return path


def assert_chinese_is_drawn(browser, element) -> None:
    """Chinese characters in the element's font are real glyphs: each has ink, they differ from one
    another, and none is the missing-glyph box."""
    g = browser.execute_script(GLYPHS_JS, element)
    assert "Noto Sans CJK SC" in g["font"] or "PingFang SC" in g["font"], g["font"]
    for ch in ("a", "b", "c"):
        assert g[ch].count("1") > 40, f"{ch}: no ink"
        assert g[ch] != g["missing"], "a Chinese character renders as the missing-glyph box (no CJK font)"
    assert len({g["a"], g["b"], g["c"]}) == 3, "different Chinese characters render alike (tofu)"


def assert_shot_has_text(path: Path, box: dict) -> None:
    """The screenshot holds dark text where the heading is (the page is not blank there)."""
    from PIL import Image

    with Image.open(path) as image:
        crop = image.convert("L").crop((box["x"], box["y"], box["x"] + box["width"], box["y"] + box["height"]))
        dark = sum(crop.histogram()[:100])
    assert dark > 150, f"the heading area of {path.name} holds almost no text pixels ({dark})"


# --- the page ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "lang"),
    [
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh"),
        ("en-GB,en;q=0.9", "en"),
        ("fr-FR, en;q=0.5, zh;q=0.4", "en"),
        ("de", "zh"),
        (None, "zh"),
    ],
)
def test_the_page_is_served_in_the_language_accept_language_prefers(server, header, lang):
    answer = request(server.url, "GET", "/", headers={"Accept-Language": header} if header else {})
    assert answer.status == 200 and answer.headers["vary"] == "Accept-Language"
    assert f'<html lang="{lang}">'.encode() in answer.body  # no preference met: cn's first language, Chinese
    assert b'<script type="application/json" id="page-text">' in answer.body
    assert request(server.url, "GET", "/?lang=en", headers={"Accept-Language": "zh"}).body.count(b'<html lang="en">')


def upload(browser, server, path: Path, declared: str = "none") -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(server.url + "/")
    browser.find_element(By.ID, "file-input").send_keys(str(path))
    browser.find_element(By.CSS_SELECTOR, f"input[name=declared][value={declared}]").click()
    browser.find_element(By.ID, "check-button").click()
    WebDriverWait(browser, 30).until(lambda d: d.find_element(By.ID, "verdict").get_attribute("data-verdict"))


def page_words_shown(browser, lang: str) -> None:
    page = words(lang)["page"]
    assert browser.execute_script("return document.documentElement.lang") == lang
    assert by_id(browser, "check-button").text == page["check"]
    for heading, key in (("h1", "heading"),):
        assert browser.find_element("css selector", heading).text == page[key]
    legend = browser.find_element("css selector", "legend").text
    assert legend == page["declare question"]
    assert by_id(browser, "drop-hint").text == page["drop hint"]
    assert browser.title == page["title"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_page_speaks_the_browsers_language_and_switches(browsers, server, tmp_path, lang):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser = browsers[lang]
    browser.get(server.url + "/")
    browser.execute_script("localStorage.clear()")
    upload(browser, server, FIXTURES / "gb-jpeg-xmp-element.jpg")
    page_words_shown(browser, lang)
    summary = by_id(browser, "summary").text
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "status").text)
    status = by_id(browser, "status").text
    action = by_id(browser, "action").text
    tags = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#evidence .tag")]
    if lang == "zh":
        assert "声明：未声明" in summary and status.startswith("检查用时")
        assert action == ZH["page"]["action_values"]["add-label"] or CJK.search(action), action
        assert tags and all(t in ZH["page"]["strength_values"].values() for t in tags)
    else:
        assert "declared none" in summary and status.startswith("Checked in")
        assert not CJK.search(action) and all(t in EN["page"]["strength_values"].values() for t in tags)
    # The policy's own texts are in all its languages whatever the interface speaks (cn: Chinese first).
    assert [e.get_attribute("lang") for e in browser.find_elements(By.CSS_SELECTOR, "#verdict span")] == ["zh", "en"]
    path = shot(browser, tmp_path, f"page-{lang}.png")
    heading = browser.find_element(By.CSS_SELECTOR, "h1")
    assert_shot_has_text(path, heading.rect)
    assert_chinese_is_drawn(browser, heading)

    # The switch: the other language, the answer re-rendered in it, and remembered on reload.
    other = "en" if lang == "zh" else "zh"
    browser.find_element(By.CSS_SELECTOR, f"#lang-switch button[data-lang={other}]").click()
    page_words_shown(browser, other)
    assert ("声明：" in by_id(browser, "summary").text) == (other == "zh")
    assert by_id(browser, "verdict").get_attribute("data-verdict")  # the result is still shown
    shot(browser, tmp_path, f"page-{lang}-switched-to-{other}.png")
    browser.get(server.url + "/")
    page_words_shown(browser, other)
    browser.execute_script("localStorage.clear()")


def test_the_page_and_report_name_one_cjk_font_stack():
    css = (ROOT / "aigc_check" / "service" / "static" / "page.css").read_text(encoding="utf-8")
    assert f"font-family: {FONT_STACK};" in css
    for face in ("Microsoft YaHei", "PingFang SC", "Noto Sans CJK SC", "WenQuanYi Micro Hei"):
        assert face in FONT_STACK


# --- the report -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("report-languages")
    folder = tmp / "files"
    names = ["gb-jpeg-xmp-element.jpg", "gen-a1111-parameters.png", "plain.jpg", "c2pa-ai-tampered.jpg"]
    copy_fixtures(folder, names)
    sidecar = tmp / "posts.csv"
    sidecar.write_text(
        "path,declared,account,post_id\n" + "".join(f"{n},none,alice,{i}\n" for i, n in enumerate(names)),
        encoding="utf-8",
    )
    out = tmp / "out"
    main(["scan", str(folder), "--declarations", str(sidecar), "--out", str(out), "--progress", "none"])
    return out / "report.html"


def visible_heading(browser) -> str:
    return browser.find_element("css selector", "h1").text


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_report_in_each_language_with_a_switch(browsers, report, tmp_path, lang):
    from selenium.webdriver.common.by import By

    browser = browsers["en"]  # the report's language is the policy's and the switch's, not the browser's
    browser.get(report.as_uri() + f"#lang={lang}")
    table = words(lang)["report"]
    assert visible_heading(browser) == table["heading"]
    headers = [th.text for th in browser.find_elements(By.CSS_SELECTOR, "#issues thead th")][1:]
    keys = (
        "file",
        "verdict",
        "status / generator",
        "declared",
        "label",
        "action and why",
        "account / post",
        "evidence",
    )
    assert headers == [table[k] for k in keys]
    assert browser.find_element(By.ID, "q").get_attribute("placeholder") == table["search placeholder"]
    option = browser.find_element(By.CSS_SELECTOR, "#f-verdict option[value=tampered]").text
    assert option == table["integrity errors"]
    # The verdict badges follow the switch too: one language shown.
    badge = browser.find_element(By.CSS_SELECTOR, "#issues span.v").text
    assert bool(CJK.search(badge)) == (lang == "zh") and "\n" not in badge
    shown = browser.find_element(By.ID, "shown").text
    assert int(shown) >= 2  # the filter script still runs beside the switch
    path = shot(browser, tmp_path, f"report-{lang}.png")
    assert_shot_has_text(path, browser.find_element(By.CSS_SELECTOR, "h1").rect)
    assert_chinese_is_drawn(browser, browser.find_element(By.CSS_SELECTOR, "h1"))

    browser.find_element(By.CSS_SELECTOR, "#lang-switch button[data-set=all]").click()
    assert visible_heading(browser).split("\n") == [ZH["report"]["heading"], EN["report"]["heading"]]
    other = "en" if lang == "zh" else "zh"
    browser.find_element(By.CSS_SELECTOR, f"#lang-switch button[data-set={other}]").click()
    assert visible_heading(browser) == words(other)["report"]["heading"]


def test_the_report_opens_in_the_policys_first_language(browsers, report):
    browser = browsers["en"]
    browser.get(report.as_uri())
    browser.execute_script("localStorage.clear()")
    browser.get(report.as_uri())
    assert visible_heading(browser) == ZH["report"]["heading"]  # cn: Chinese first


# --- the report's --similar sections: clusters and account signals ------------------------------------


@pytest.fixture(scope="module")
def similar_report(tmp_path_factory, corpus) -> Path:
    pytest.importorskip("pdqhash", reason="the similar extra: pip install 'aigc-check[similar]'")
    return similar_scan(tmp_path_factory.mktemp("similar-report"), corpus) / "report.html"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_reports_clusters_and_account_signals_follow_the_switch(browsers, similar_report, tmp_path, lang):
    from selenium.webdriver.common.by import By

    browser = browsers["en"]
    browser.get("about:blank")  # a new load of the report: a change of its #lang alone would not reload it
    browser.get(similar_report.as_uri() + f"#lang={lang}")
    table = words(lang)["report"]
    assert by_id(browser, "clusters-h").text == table["clusters heading"].format(n="1")
    assert by_id(browser, "signals-h").text == table["signals heading"].format(n="1")
    headers = [th.text for th in browser.find_elements(By.CSS_SELECTOR, "#signals thead th")]
    assert headers == [table[k] for k in ("account", "posts", "grades", "suggested action", "signals", "reasons")]
    captions = [e.text for e in browser.find_elements(By.CSS_SELECTOR, ".cl figcaption")]
    assert any(c.startswith(table["member inherits"].format(name="lady.png")) for c in captions), captions
    assert any(c.startswith(table["member labelled"]) for c in captions), captions
    cells = browser.find_elements(By.CSS_SELECTOR, "#signals tbody td")
    action, reasons = cells[3].text, cells[5].text
    assert action == words(lang)["measure_values"]["warn"]
    assert reasons and bool(CJK.search(reasons)) == (lang == "zh") and "\n" not in reasons
    heading = by_id(browser, "clusters-h")
    browser.execute_script("arguments[0].scrollIntoView()", heading)
    path = shot(browser, tmp_path, f"report-similar-{lang}.png")
    assert_shot_has_text(path, browser.execute_script("const r = arguments[0].getBoundingClientRect(); "
                         "return {x: r.x, y: r.y, width: r.width, height: r.height};", heading))  # fmt: skip
    if lang == "zh":
        assert_chinese_is_drawn(browser, heading)

    browser.find_element(By.CSS_SELECTOR, "#lang-switch button[data-set=all]").click()
    assert by_id(browser, "clusters-h").text.split("\n") == [
        words(x)["report"]["clusters heading"].format(n="1") for x in ("zh", "en")
    ]
    browser.execute_script("localStorage.clear()")
