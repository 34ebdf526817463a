"""Headless Chromium from Debian's packages, driven by selenium through chromium-driver.

No browser is downloaded: the test uses ``/usr/bin/chromium`` and ``/usr/bin/chromedriver``
(``.ci/run`` installs the ``chromium`` and ``chromium-driver`` packages when they are
missing). With ACTION_SERVER_REQUIRE_BROWSER set (CI), a missing browser fails the tests
instead of skipping them.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

REQUIRE_ENV = "ACTION_SERVER_REQUIRE_BROWSER"
VIEWS = ("actions", "chat", "flows")
WAIT_SECONDS = 15


def unavailable(reason: str) -> None:
    if os.environ.get(REQUIRE_ENV):
        pytest.fail(f"{reason} ({REQUIRE_ENV} is set)")
    pytest.skip(reason)


def start_chromium() -> Any:
    """A headless Chromium session; skips (or fails under REQUIRE_ENV) when one is missing."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        unavailable("selenium is not installed")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if chromium is None or driver is None:
        unavailable("chromium and chromium-driver (Debian packages) are not installed")
    options = webdriver.ChromeOptions()
    options.binary_location = str(chromium)
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1400,1000",
    ):
        options.add_argument(argument)
    return webdriver.Chrome(service=Service(executable_path=str(driver)), options=options)


def wait_for(driver: Any, condition: Callable[[Any], Any], what: str) -> Any:
    from selenium.common.exceptions import (
        NoSuchElementException,
        StaleElementReferenceException,
        TimeoutException,
    )
    from selenium.webdriver.support.ui import WebDriverWait

    # The page re-renders whole panels, so an element found a moment ago may be gone.
    ignored = (NoSuchElementException, StaleElementReferenceException)
    try:
        wait = WebDriverWait(driver, WAIT_SECONDS, poll_frequency=0.05, ignored_exceptions=ignored)
        return wait.until(condition)
    except TimeoutException:
        raise AssertionError(f"timed out after {WAIT_SECONDS} s waiting for {what}") from None


def save_screenshots(driver: Any, directory: Path) -> list[Path]:
    """The page as it failed, then each view of the inspector."""
    directory.mkdir(parents=True, exist_ok=True)
    saved = [directory / "failure.png"]
    driver.save_screenshot(str(saved[0]))
    for view in VIEWS:
        driver.execute_script("location.hash = arguments[0]", view)
        path = directory / f"{view}.png"
        driver.save_screenshot(str(path))
        saved.append(path)
    return saved
