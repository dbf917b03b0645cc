"""The check-your-file page in headless Chromium (Debian's ``chromium`` + ``chromium-driver``):
upload a fixture, read the verdict off the page, keep a screenshot.  The page shows the serving
policy's texts in every language it declares, in its order (``GET /v1/policy``), and still works
without that route (the codes, the label in the answer's languages, the answer's advice)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from browser import requires_chromium, start_chromium
from conftest import FIXTURES
from policy_helpers import english_only
from policy_page_server import PolicyServer
from serve_helpers import expected_answer, without_timing

from aigc_check import Checker, CheckOptions, load_policy

pytestmark = requires_chromium


@pytest.fixture(scope="module")
def server():
    with PolicyServer(["--workers", "1"]) as s:
        yield s


def answer_for(path: Path, declared: str, policy: str) -> dict:
    return without_timing(Checker(CheckOptions(policy=policy)).check(path, declared, name=path.name).to_dict())


def in_languages(browser, selector: str) -> list[tuple[str, str]]:
    from selenium.webdriver.common.by import By

    return [(e.get_attribute("lang"), e.text) for e in browser.find_elements(By.CSS_SELECTOR, selector)]


def assert_page_speaks(browser, answer: dict, policy_arg: str) -> None:
    """Verdict, label and advice in every language of the policy, in its order."""
    policy = load_policy(policy_arg)
    languages = list(policy.languages)
    verdict = in_languages(browser, "#verdict span")
    assert verdict == list(policy.verdict_text(answer["verdict"]).items())
    assert [lang for lang, _ in verdict] == languages
    labels = in_languages(browser, "#label-texts p")
    assert labels == [(lang, answer["label_text"][lang]) for lang in languages]
    advice = in_languages(browser, "#advice p")
    assert [lang for lang, _ in advice] == languages
    assert dict(advice)[policy.advice_language] == answer["advice"]
    codes = [f["code"] for f in answer["findings"]]
    assert dict(advice) == policy.advice_texts(answer["verdict"], answer["status"], answer["label"], codes)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    driver = start_chromium(str(tmp_path_factory.mktemp("chromium-profile")))
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
    # cn: Chinese first, then English, from the policy's data.
    assert in_languages(browser, "#verdict span") == [("zh", "未标识的AI内容"), ("en", "Unlabelled AI content")]
    assert in_languages(browser, "#label-texts p") == [
        ("zh", expected["label_text"]["zh"]),
        ("en", expected["label_text"]["en"]),
    ]
    assert browser.find_element(By.ID, "label-code").text == f"[{expected['label']}]"
    assert_page_speaks(browser, expected, "cn")
    assert "人工智能生成 / AI-generated" in browser.find_element(By.ID, "summary").text
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


def test_policy_route_serves_the_texts(server):
    from serve_helpers import request

    answer = request(server.url, "GET", "/v1/policy")
    assert answer.status == 200 and answer.headers["content-type"].startswith("application/json")
    assert answer.json == load_policy("cn").page_data()
    advice = request(server.url, "GET", "/v1/policy/advice?verdict=compliant&status=unknown&label=possibly-ai")
    assert advice.status == 200
    assert (
        advice.json["advice"]["en"] == 'Nothing to change; the platform must show "This content may be AI-generated".'
    )
    assert advice.json["advice"]["zh"] == "无需修改；平台须显示“该内容可能为人工智能生成合成内容”。"
    for bad, code in (("verdict=fine&status=unknown", "bad-verdict"), ("verdict=compliant&status=x", "bad-status")):
        answer = request(server.url, "GET", f"/v1/policy/advice?{bad}")
        assert answer.status == 400 and answer.json["error"]["code"] == code


@pytest.mark.parametrize("policy", ["eu", "english-only"])
def test_the_page_speaks_the_policys_languages(browser, tmp_path_factory, policy):
    """eu: English first; a user's policy with only English shows no other language anywhere."""
    from selenium.webdriver.common.by import By

    policy_arg = str(english_only(tmp_path_factory.mktemp("policy"))) if policy == "english-only" else policy
    path = FIXTURES / "gb-jpeg-xmp-element.jpg"
    with PolicyServer(["--workers", "1", "--policy", policy_arg]) as server:
        check_on_page(browser, server, path, "not-ai")
        answer = answer_for(path, "not-ai", policy_arg)
        assert browser.find_element(By.ID, "verdict").get_attribute("data-verdict") == answer["verdict"]
        assert_page_speaks(browser, answer, policy_arg)
        if policy == "english-only":
            assert browser.find_elements(By.CSS_SELECTOR, "#result [lang=zh]") == []
            assert in_languages(browser, "#verdict span") == [("en", "Mislabelled AI content")]


def test_the_page_works_without_the_policy_route(browser):
    """An older server: the verdict code, the label in the answer's own order, the answer's advice."""
    from selenium.webdriver.common.by import By

    path = FIXTURES / "gb-jpeg-xmp-element.jpg"
    with PolicyServer(["--workers", "1"], policy_routes=False) as server:
        check_on_page(browser, server, path, "none")
        expected = expected_answer(path, "none")
        assert browser.find_element(By.ID, "verdict").text == expected["verdict"]
        assert in_languages(browser, "#label-texts p") == list(expected["label_text"].items())
        assert [text for _, text in in_languages(browser, "#advice p")] == [expected["advice"]]
