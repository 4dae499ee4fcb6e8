"""Sign-in with the company's provider in a real browser (Chromium): the console's sign-in page
with its "Sign in with ..." button on a phone and a desktop screen (axe: no serious or critical
problems; no CSP errors), then the whole sign-in through the real provider's pages, and a refusal
as the person sees it. Screenshots: ``test-artifacts/oidc-*.png``."""
from __future__ import annotations

import re

import pytest
from flask import Flask

from tests.admin_support import add_staff
from tests.browser_fixtures import artifacts_dir, browser  # noqa: F401  (fixtures; one browser per module)
from tests.oidc_provider import console_with_provider

SCREENS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}
SERIOUS = ("serious", "critical")
ACCOUNTS = {"hana": {"email": "hana@example.com", "email_verified": True},
            "stranger": {"email": "stranger@example.com", "email_verified": True}}


def _prepare(app: Flask) -> None:
    add_staff(app, "hana@example.com", "admin", name="Hana HR")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with console_with_provider(tmp_path_factory.mktemp("oidc-browser"), ACCOUNTS, _prepare) as running:
        yield running


def _provider_sign_in(page, login: str) -> None:
    """oidc-provider's development login and consent pages, filled in as a person would."""
    page.locator('input[name="login"]').fill(login)
    page.locator('input[name="password"]').fill("any password")
    page.get_by_role("button", name="Sign-in").click()
    page.get_by_role("button", name="Continue").click()


@pytest.mark.parametrize("screen", list(SCREENS))
def test_staff_sign_in_with_the_provider_in_a_browser(site, browser, artifacts_dir, screen):  # noqa: F811
    from axe_playwright_python.sync_playwright import Axe

    app, base, provider = site
    context = browser.new_context(viewport=SCREENS[screen])
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda message: message.type == "error" and message.location.get("url", "").startswith(base)
            and problems.append(message.text))
    page.goto(f"{base}/admin/awards")
    page.wait_for_url(re.compile(r".*/admin/login\?next=.*"))
    button = page.get_by_role("link", name="Sign in with Example SSO")
    assert button.is_visible()
    page.screenshot(path=str(artifacts_dir / f"oidc-console-sign-in-{screen}.png"), full_page=True)
    violations = [(v["id"], v["impact"]) for v in Axe().run(page).response["violations"] if v["impact"] in SERIOUS]
    assert violations == []
    assert page.evaluate("document.documentElement.scrollWidth") <= SCREENS[screen]["width"]
    button.click()
    page.wait_for_url(re.compile(re.escape(provider.issuer) + r"/interaction/.*"))
    _provider_sign_in(page, "hana")
    page.wait_for_url(f"{base}/admin/awards")
    assert "Hana HR" in page.locator(".who").inner_text()
    page.screenshot(path=str(artifacts_dir / f"oidc-signed-in-{screen}.png"), full_page=True)
    assert problems == []
    context.close()


def test_a_refusal_reads_plainly_in_a_browser(site, browser, artifacts_dir):  # noqa: F811
    from axe_playwright_python.sync_playwright import Axe

    app, base, provider = site
    context = browser.new_context(viewport=SCREENS["phone"])
    page = context.new_page()
    page.goto(f"{base}/admin/login")
    page.get_by_role("link", name="Sign in with Example SSO").click()
    page.wait_for_url(re.compile(re.escape(provider.issuer) + r"/interaction/.*"))
    _provider_sign_in(page, "stranger")
    page.wait_for_url(re.compile(r".*/admin/login.*"))
    notice = page.locator(".notice-bad")
    assert "There is no console account for stranger@example.com" in notice.inner_text()
    page.screenshot(path=str(artifacts_dir / "oidc-refused-phone.png"), full_page=True)
    assert [v["id"] for v in Axe().run(page).response["violations"] if v["impact"] in SERIOUS] == []
    assert page.locator(".who").count() == 0
    context.close()
