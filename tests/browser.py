"""Headless Chromium for the browser tests (the service page, the audit report, both languages):
Debian's chromium and chromium-driver, driven by selenium from the test extra."""

from __future__ import annotations

import shutil
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)
MISSING = "Debian's chromium and chromium-driver are not installed (apt-get install chromium chromium-driver)"
requires_chromium = pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER), reason=MISSING)


def start_chromium(profile: str, *flags: str, prefs: dict[str, Any] | None = None) -> Any:
    """A headless Chromium under selenium with its own profile folder, ``flags`` added to ``FLAGS``."""
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (test extra)")
    from selenium.webdriver.chrome.service import Service

    if not (CHROMIUM and CHROMEDRIVER):
        pytest.skip(MISSING)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, *flags):
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    if prefs:
        options.add_experimental_option("prefs", prefs)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(30)
    return driver
