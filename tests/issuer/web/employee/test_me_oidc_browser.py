"""Signing in to "My badges" with the company's identity provider in a real browser (Chromium through
Playwright), at phone and desktop widths.

The issuer app (demo awards) and a real OpenID Connect provider (panva's oidc-provider on node, its
own login and consent forms) both run on loopback. The employee opens /me/sign-in, presses
"Sign in with Example SSO", signs in and consents at the provider, lands on My badges, and downloads
everything about themselves. The sign-in page with the button and My badges are checked with axe (no
serious or critical violations) and for sideways scrolling; console errors on this site's pages (CSP)
fail the test.
Screenshots: ``test-artifacts/me-oidc-*.png``.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.browser_fixtures import artifacts_dir, browser, page  # noqa: F401  (fixtures)
from tests.issuer.employees.support import ALEX
from tests.issuer.web.employee.test_me_browser import WIDTHS, check_page
from tests.oidc_provider import console_with_provider

ACCOUNTS = {"alex": {"email": ALEX, "email_verified": True, "name": "Alex Morgan"}}


def _prepare(app) -> None:
    app.config["OIDC_RATE_LIMIT"] = "1000/minute"
    app.extensions["microcred"].use.setup.seed_demo()


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    with console_with_provider(tmp_path_factory.mktemp("me-oidc-browser"), ACCOUNTS, _prepare) as found:
        yield found


@pytest.mark.parametrize("width", list(WIDTHS))
def test_an_employee_signs_in_with_the_provider_in_a_browser(live, page, artifacts_dir, width):
    _app, base, provider = live
    errors: list[str] = []
    # errors on this site's pages only (the provider's own pages load fonts from the internet)
    page.on("console", lambda message: message.type == "error" and page.url.startswith(base)
            and errors.append(f"{page.url}: {message.text}"))
    page.on("pageerror", lambda error: page.url.startswith(base) and errors.append(str(error)))
    page.set_viewport_size(dict(zip(("width", "height"), WIDTHS[width], strict=True)))

    page.goto(f"{base}/me/")
    assert page.url == f"{base}/me/sign-in"
    button = page.get_by_role("link", name="Sign in with Example SSO")
    assert button.is_visible()
    check_page(page, artifacts_dir, f"me-oidc-sign-in-{width}")
    button.click()

    page.wait_for_url(f"{provider.issuer}/**")                # the provider's own login form
    page.fill("input[name=login]", "alex")
    page.fill("input[name=password]", "any password")
    page.locator("button[type=submit]").first.click()
    page.wait_for_load_state()
    if not page.url.startswith(base):                          # the provider asks to consent
        page.locator("button[type=submit]").first.click()
    page.wait_for_url(f"{base}/me/")
    assert page.locator("h1").inner_text() == "Your badges"
    assert f"Signed in as {ALEX}" in page.locator(".me-bar").inner_text()
    assert page.locator(".me-badge").count() == 2
    check_page(page, artifacts_dir, f"me-oidc-badges-{width}")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download everything about me").click()
    assert download.value.suggested_filename.startswith("my-badges-data-")
    document = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert document["email"] == ALEX and len(document["awards"]) == 2

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{base}/me/sign-in")
    assert errors == []
