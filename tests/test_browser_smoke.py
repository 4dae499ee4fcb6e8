"""The browser fixture itself works: Debian's Chromium renders a loopback page."""
from __future__ import annotations

from tests.browser_fixtures import artifacts_dir, browser, page  # noqa: F401


def test_chromium_renders_a_loopback_page(page, http_server, artifacts_dir):
    http_server.set("/hello", b"<!doctype html><html lang=en><title>Hi</title><h1>Hello</h1></html>",
                    content_type="text/html")
    page.goto(http_server.url("/hello"))
    assert page.locator("h1").inner_text() == "Hello"
    page.screenshot(path=str(artifacts_dir / "browser-smoke.png"))
