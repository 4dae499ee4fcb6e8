"""A real headless browser for page tests: Playwright driving Debian's Chromium.

Usage in a test module (or conftest)::

    from tests.browser_fixtures import browser, page, artifacts_dir  # noqa: F401

    def test_page(page, artifacts_dir):
        page.goto(url)
        page.screenshot(path=str(artifacts_dir / "badge-page.png"), full_page=True)

The browser is /usr/bin/chromium (``apt-get install chromium``; `.ci/run` installs it). Where
it is absent the tests skip with that hint, except under CI=true, where they fail. Screenshots
go to ``test-artifacts/`` at the repository root (git-ignored).
"""
from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI must install it: see .ci/run)")
    pytest.skip(f"{reason}: install it (apt-get install chromium; pip install playwright) to run browser tests")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """One Playwright + Chromium per test module (a sync Playwright cannot outlive its module
    while another module starts its own)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed")
    if not Path(CHROMIUM).exists():
        _unavailable("Chromium is not installed at /usr/bin/chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture()
def page(browser) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 390, "height": 844})  # a phone screen by default
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
