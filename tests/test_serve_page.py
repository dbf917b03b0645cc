"""The check-your-file page in headless Chromium (Debian's ``chromium`` + ``chromium-driver``):
upload a fixture, read the verdict off the page, keep a screenshot."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from conftest import FIXTURES
from serve_helpers import ServerProcess, expected_answer

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (test extra)")

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason="Debian's chromium and chromium-driver are not installed (apt-get install chromium chromium-driver)",
)
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1000,1400",
)


@pytest.fixture(scope="module")
def server():
    with ServerProcess(["--workers", "1"]) as s:
        yield s


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def check_on_page(browser, server, path: Path, declared: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(server.url + "/")
    browser.find_element(By.ID, "file-input").send_keys(str(path))
    browser.find_element(By.CSS_SELECTOR, f"input[name=declared][value={declared}]").click()
    browser.find_element(By.ID, "check-button").click()
    WebDriverWait(browser, 20).until(
        lambda d: (
            d.find_element(By.ID, "verdict").get_attribute("data-verdict")
            or "error" in d.find_element(By.ID, "status").get_attribute("class")
        )
    )


def test_upload_a_fixture_and_read_the_verdict(browser, server, tmp_path):
    from selenium.webdriver.common.by import By

    path = FIXTURES / "gb-jpeg-xmp-element.jpg"
    expected = expected_answer(path, "none")
    check_on_page(browser, server, path, "none")

    verdict = browser.find_element(By.ID, "verdict")
    assert verdict.get_attribute("data-verdict") == expected["verdict"]
    assert verdict.text == "Unlabelled AI content"
    assert browser.find_element(By.ID, "label-zh").text == expected["label_text"]["zh"]
    assert expected["label_text"]["en"] in browser.find_element(By.ID, "label-en").text
    assert expected["advice"] == browser.find_element(By.ID, "advice").text
    evidence = browser.find_elements(By.CSS_SELECTOR, "#evidence li")
    assert len(evidence) == len(expected["evidence"])
    assert expected["evidence"][0]["location"] in evidence[0].text

    screenshot = Path(os.environ.get("AIGC_SCREENSHOT_DIR", tmp_path)) / "serve-page-verdict.png"
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    assert browser.save_screenshot(str(screenshot))
    print(f"screenshot: {screenshot}")
    from PIL import Image

    with Image.open(screenshot) as image:
        gray = image.convert("L")
        low, high = gray.getextrema()
        assert high - low > 100, "the screenshot is blank"
        assert len(gray.getcolors(maxcolors=1 << 16) or range(1 << 16)) > 16, "the screenshot is nearly blank"


def test_declaring_changes_the_verdict_and_the_label(browser, server):
    from selenium.webdriver.common.by import By

    path = FIXTURES / "camera-canon.jpg"
    expected = expected_answer(path, "ai")
    check_on_page(browser, server, path, "ai")
    assert browser.find_element(By.ID, "verdict").get_attribute("data-verdict") == expected["verdict"]
    assert browser.find_element(By.ID, "label-box").get_attribute("data-label") == expected["label"]


def test_file_names_and_metadata_are_shown_as_text_not_markup(browser, server, tmp_path):
    from selenium.webdriver.common.by import By

    hostile = tmp_path / "<img src=x onerror=document.title='owned'>.jpg"
    hostile.write_bytes((FIXTURES / "gb-jpeg-xmp-element.jpg").read_bytes())
    check_on_page(browser, server, hostile, "none")
    summary = browser.find_element(By.ID, "summary")
    assert hostile.name in summary.text
    assert summary.find_elements(By.TAG_NAME, "img") == []
    assert browser.title != "owned"
