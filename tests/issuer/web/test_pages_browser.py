"""The badge page and the skill profile in a real browser (Debian's Chromium through Playwright).

The app is served by werkzeug on 127.0.0.1 (base URL = that address), seeded with the demo
data. Screenshots go to ``test-artifacts/`` (phone and desktop).
"""
from __future__ import annotations

import io
import threading
from datetime import UTC, datetime, timedelta

import pytest
import zxingcpp
from axe_playwright_python.sync_playwright import Axe
from PIL import Image
from playwright.sync_api import expect
from werkzeug.serving import make_server

from issuer.awards.lifecycle import change_status
from tests import browser_fixtures
from tests.browser_fixtures import artifacts_dir, page  # noqa: F401  (fixtures)
from tests.issuer.web.test_sharing import Clock, issue_custom, make_app, seed, set_profile
from verifier import verify_credential
from verifier.baked import extract_baked
from verifier.fetcher import FetchPolicy, ResponseCache

SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
SERIOUS = ("serious", "critical")


@pytest.fixture(scope="module")
def browser():
    """Like tests.browser_fixtures.browser, but stopped at the end of this module.

    Playwright's sync API allows one running instance per process; a session-scoped browser
    per importing module would stay open and break the next module's.
    """
    from pathlib import Path

    from playwright.sync_api import sync_playwright

    if not Path(browser_fixtures.CHROMIUM).exists():
        browser_fixtures._unavailable("Chromium is not installed at /usr/bin/chromium")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=browser_fixtures.CHROMIUM,
                                              args=browser_fixtures.CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


class Site:
    def __init__(self, app, base_url: str, clock: Clock):
        self.app, self.base_url, self.clock = app, base_url, clock
        self.awards = seed(app)

    def url(self, path: str) -> str:
        return self.base_url + path

    def credential(self, recipient: str, achievement: str) -> str:
        return self.url(f"/credentials/{self.awards[(recipient, achievement)]}")


@pytest.fixture()
def site(db_url, tmp_path):
    holder, clock = {}, Clock()
    server = make_server("127.0.0.1", 0, lambda environ, start: holder["app"](environ, start), threaded=True)
    base_url = f"http://127.0.0.1:{server.server_port}"
    holder["app"] = make_app(tmp_path, db_url, base_url, clock)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Site(holder["app"], base_url, clock)
    finally:
        server.shutdown()
        server.server_close()
        holder["app"].extensions["microcred"].engine.dispose()


def watch(page) -> dict[str, list]:
    """Record console errors (CSP violations show up there), dialogs and failed requests."""
    seen: dict[str, list] = {"errors": [], "dialogs": [], "failed": []}
    page.on("console", lambda message: message.type == "error" and seen["errors"].append(message.text))
    page.on("pageerror", lambda error: seen["errors"].append(str(error)))
    page.on("dialog", lambda dialog: (seen["dialogs"].append(dialog.message), dialog.dismiss()))
    page.on("requestfailed", lambda request: seen["failed"].append(request.url))
    return seen


def serious_violations(page) -> list[tuple[str, str, int]]:
    results = Axe().run(page)
    violations = results.response["violations"]
    return [(v["id"], v["impact"], len(v["nodes"])) for v in violations if v["impact"] in SERIOUS]


def all_violations(page) -> list[str]:
    return [v["id"] for v in Axe().run(page).response["violations"]]


@SQLITE_ONLY
def test_the_badge_page_on_a_phone(site, page, artifacts_dir):
    seen = watch(page)
    url = site.credential("Alex Morgan", "Team Leadership")
    response = page.goto(url)
    assert response.status == 200 and response.headers["content-type"].startswith("text/html")
    assert page.locator("h1").inner_text() == "Team Leadership"
    verdict = page.locator("#verdict")
    assert verdict.locator("h2").inner_text().strip().endswith("Verified")
    assert "Genuine and current: signed by " in verdict.inner_text()
    assert f"— proven: {site.base_url[7:]}, unchanged since" in verdict.inner_text()
    assert "did:web" not in verdict.locator("p.verdict-summary").inner_text()
    verdict.locator("summary").click()
    signature = verdict.locator(".check", has_text="Signature")             # the checks, one by one, in words
    assert signature.get_attribute("class") == "check check-passed"
    assert "The signature matches the badge: nothing was changed after signing." in signature.inner_text()
    assert page.locator(".badge-art").evaluate("img => img.naturalWidth") > 0
    # the page fits the phone: nothing scrolls sideways
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(artifacts_dir / "badge-page-phone.png"), full_page=True)

    # the QR code, as the browser draws it, decodes to the credential URL
    qr = page.locator("#qr")
    qr.scroll_into_view_if_needed()
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")
    [code] = zxingcpp.read_barcodes(Image.open(io.BytesIO(qr.screenshot())))
    assert code.text == url

    assert serious_violations(page) == []
    assert seen == {"errors": [], "dialogs": [], "failed": []}


@SQLITE_ONLY
def test_the_download_links_work(site, page, tmp_path):
    url = site.credential("Alex Morgan", "Team Leadership")
    page.goto(url)
    links = page.locator(".downloads a")
    assert links.all_inner_texts() == ["Certificate (PDF)", "Badge image (PNG)", "Badge image (SVG)",
                                       "Credential (JSON)", "Credential (VC-JWT)"]
    policy = FetchPolicy(allow_hosts=frozenset({"127.0.0.1"}))
    for index in range(links.count()):
        with page.expect_download() as info:
            links.nth(index).click()
        download = info.value
        path = tmp_path / download.suggested_filename
        download.save_as(str(path))
        data = path.read_bytes()
        if path.suffix == ".pdf":                       # the certificate: checked in test_pages_share_kit*.py
            assert path.name == "team-leadership.pdf" and data.startswith(b"%PDF-")
            continue
        assert path.suffix in (".png", ".svg", ".json", ".jwt")
        if path.suffix in (".png", ".svg"):
            assert extract_baked(data).kind == "json"
        report = verify_credential(data, policy=policy, cache=ResponseCache())
        assert report.verified, (path.name, report.to_dict()["checks"])
        assert report.summary["credential_id"] == url


@SQLITE_ONLY
def test_copy_link_and_share_links(site, page):
    seen = watch(page)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    url = site.credential("Alex Morgan", "Team Leadership")
    page.goto(url)
    button = page.get_by_role("button", name="Copy link")
    assert button.is_visible()                          # the external script ran under the page's CSP
    button.click()
    expect(page.locator("#copy-status")).to_have_text("Link copied.")
    assert page.evaluate("navigator.clipboard.readText()") == url
    assert page.get_by_label("Link to this badge").input_value() == url
    linkedin = page.get_by_role("link", name="Add to LinkedIn").get_attribute("href")
    assert linkedin.startswith("https://www.linkedin.com/profile/add?startTask=CERTIFICATION_NAME&name=Team%20Leadership")
    verify = page.get_by_role("link", name="Verify with any verifier").get_attribute("href")
    assert verify.startswith(site.url("/verify?url=http%3A%2F%2F127.0.0.1%3A"))
    assert seen["errors"] == []


@SQLITE_ONLY
def test_the_badge_page_on_a_desktop_and_when_revoked(site, browser, artifacts_dir):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.goto(site.credential("Priya Natarajan", "Data-Driven Decision Making"))
        page.locator("#verdict details summary").click()    # show what was checked
        page.screenshot(path=str(artifacts_dir / "badge-page-desktop.png"), full_page=True)
        assert all_violations(page) == []

        state = site.app.extensions["microcred"]
        change_status(state.sessions, state.settings, site.awards[("Priya Natarajan", "Data-Driven Decision Making")],
                      "revoke", reason="test", actor="test")
        page.reload()
        verdict = page.locator("#verdict")
        assert verdict.locator("h2").inner_text().strip().endswith("Revoked")
        today = datetime.now(UTC)
        assert f"The issuer revoked this credential on {today.day} {today:%B %Y}." in verdict.inner_text()
        page.screenshot(path=str(artifacts_dir / "badge-page-revoked.png"), full_page=False)
        assert serious_violations(page) == []
    finally:
        context.close()


@SQLITE_ONLY
def test_an_achievement_named_like_a_script_renders_as_text(site, page, artifacts_dir):
    seen = watch(page)
    evil = "<script>alert(1)</script>"
    award_id = issue_custom(site.app, name=evil, email="mallory@example.com")
    page.goto(site.url(f"/credentials/{award_id}"))
    assert page.locator("h1").inner_text() == evil
    assert page.locator("script").count() == 1                # only copy.js
    assert page.title().startswith(evil)
    page.screenshot(path=str(artifacts_dir / "badge-page-xss.png"))
    assert seen["dialogs"] == [] and seen["errors"] == []


@SQLITE_ONLY
def test_the_skill_profile(site, page, artifacts_dir):
    seen = watch(page)
    slug = set_profile(site.app, "sofia.lindqvist@example.com", slug="sofia-lindqvist", show_name=True)
    site.clock.now = datetime.now(UTC) + timedelta(days=400)     # the 12-month badge has expired
    page.goto(site.url(f"/profiles/{slug}"))
    assert page.locator("h1").inner_text() == "Sofia Lindqvist"
    items = page.locator(".badge-item")
    assert items.count() == 2
    assert "Expired" not in items.nth(0).inner_text() and "Expired" in items.nth(1).inner_text()
    frameworks = page.locator(".framework-title").all_inner_texts()
    assert frameworks == ["ESCO (European Skills, Competences, Qualifications and Occupations)",
                          "O*NET Content Model (Skills)"]
    page.screenshot(path=str(artifacts_dir / "profile-phone.png"), full_page=True)
    assert serious_violations(page) == []
    page.get_by_role("link", name="Conflict Resolution").click()
    assert page.locator("h1").inner_text() == "Conflict Resolution"
    assert "Awarded to Sofia Lindqvist" in page.locator(".awarded-to").inner_text()
    assert seen == {"errors": [], "dialogs": [], "failed": []}


@SQLITE_ONLY
def test_an_unpublished_profile_and_an_unknown_credential_are_404_pages(site, page):
    response = page.goto(site.url("/profiles/nobody-here"))
    assert response.status == 404 and page.locator("h1").inner_text() == "Not Found"
    response = page.goto(site.url("/credentials/0b5e7f5c-1c1e-4d7a-9a55-3f1d2a0b9c11"))
    assert response.status == 404 and "There is no such credential." in page.locator("main").inner_text()
    assert serious_violations(page) == []
