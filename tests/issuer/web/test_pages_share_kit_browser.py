"""The share kit, the certificate and withheld badges in a real browser (Debian's Chromium via Playwright).

The app runs on 127.0.0.1 with the demo data (the ``site`` fixture of test_pages_browser.py).
Phone (390 x 844) and desktop (1280 x 900); axe-core on each page; screenshots go to
``test-artifacts/badge-*.png`` and ``admin-settings-*.png``.
"""
from __future__ import annotations

import html
import io
import re
from urllib.parse import parse_qs, urlsplit

import pypdfium2
import pytest
import zxingcpp
from playwright.sync_api import expect
from pypdf import PdfReader

from issuer.awards.lifecycle import change_status
from issuer.sharing import embed_snippet
from tests.admin_support import add_staff, browser_login
from tests.browser_fixtures import artifacts_dir, page  # noqa: F401  (fixtures)
from tests.issuer.web.test_pages_browser import (  # noqa: F401  (fixtures)
    all_violations,
    browser,
    serious_violations,
    site,
    watch,
)

SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
PHONE = {"width": 390, "height": 844}
ALEX_LEAD = ("Alex Morgan", "Team Leadership")


def query(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def fully_visible(locator, viewport: dict) -> bool:
    """The element lies inside the viewport as the page first shows it (no scrolling)."""
    box = locator.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"] \
        and box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"]


@SQLITE_ONLY
def test_on_a_phone_the_share_kit_is_above_the_fold(site, page, artifacts_dir):
    seen = watch(page)
    page.goto(site.credential(*ALEX_LEAD))
    assert page.evaluate("window.scrollY") == 0
    for name in ("Add to LinkedIn profile", "Post on LinkedIn", "Email"):
        assert fully_visible(page.get_by_role("link", name=name), PHONE), name
    assert page.locator("#share-kit").bounding_box()["y"] < page.locator("#facts-title").evaluate(
        "h => h.parentElement.getBoundingClientRect().top")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")     # no sideways scroll
    page.screenshot(path=str(artifacts_dir / "badge-share-kit-phone.png"))                   # what the phone shows
    page.locator("#share-kit details summary").click()
    page.screenshot(path=str(artifacts_dir / "badge-share-kit-phone-full.png"), full_page=True)
    assert serious_violations(page) == []
    assert seen == {"errors": [], "dialogs": [], "failed": []}


@SQLITE_ONLY
def test_on_a_desktop_the_kit_and_downloads_are_clean(site, browser, artifacts_dir):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        seen = watch(page)
        page.goto(site.credential(*ALEX_LEAD))
        assert fully_visible(page.get_by_role("link", name="Add to LinkedIn profile"), {"width": 1280, "height": 900})
        page.locator("#share-kit details summary").click()
        page.screenshot(path=str(artifacts_dir / "badge-share-kit-desktop.png"), full_page=True)
        assert all_violations(page) == []
        assert seen == {"errors": [], "dialogs": [], "failed": []}
    finally:
        context.close()


@SQLITE_ONLY
def test_copy_link_and_copy_the_embed_html(site, page):
    seen = watch(page)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    url = site.credential(*ALEX_LEAD)
    page.goto(url)
    page.get_by_role("button", name="Copy link").click()
    expect(page.locator("#copy-status")).to_have_text("Link copied.")
    assert page.evaluate("navigator.clipboard.readText()") == url
    page.get_by_text("Embed on a website").click()
    snippet = page.get_by_label(re.compile("HTML to paste into a web page")).input_value()
    assert snippet == embed_snippet("Team Leadership", "Example Corp People Team", url, f"{url}/image.png")
    page.get_by_role("button", name="Copy HTML").click()
    expect(page.locator("#embed-status")).to_have_text("HTML copied.")
    assert page.evaluate("navigator.clipboard.readText()") == snippet
    # the snippet, pasted into a page, shows the badge image and links here
    page.set_content(f"<!doctype html><title>Host page</title><main>{snippet}</main>")
    image = page.get_by_role("img", name="Badge: Team Leadership")
    expect(image).to_be_visible()
    assert image.evaluate("img => img.complete && img.naturalWidth > 0")
    assert page.get_by_role("link", name="Team Leadership", exact=True).get_attribute("href") == url
    assert seen["errors"] == []


@SQLITE_ONLY
def test_without_script_the_link_and_snippet_stay_selectable(site, browser):
    context = browser.new_context(viewport=PHONE, java_script_enabled=False)
    try:
        page = context.new_page()
        url = site.credential(*ALEX_LEAD)
        page.goto(url)
        assert page.get_by_role("button", name="Copy link").is_hidden()        # no button that would do nothing
        field = page.get_by_label("Link to this badge")
        field.click()
        field.select_text()
        assert page.evaluate("getSelection().toString() || document.activeElement.value") == url
        assert page.locator("#share-url").evaluate("f => f.selectionEnd - f.selectionStart") == len(url)
        page.get_by_text("Embed on a website").click()
        assert url in page.locator("#embed-code").input_value()
    finally:
        context.close()


@SQLITE_ONLY
def test_the_certificate_downloads_as_one_page_whose_qr_opens_the_badge(site, page, tmp_path):
    url = site.credential(*ALEX_LEAD)
    page.goto(url)
    with page.expect_download() as info:
        page.get_by_role("link", name="Certificate (PDF)").click()
    download = info.value
    assert download.suggested_filename == "team-leadership.pdf"
    path = tmp_path / download.suggested_filename
    download.save_as(str(path))
    data = path.read_bytes()
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    assert "Team Leadership" in text and url in text
    document = pypdfium2.PdfDocument(data)
    try:
        image = document[0].render(scale=2).to_pil().convert("RGB")
    finally:
        document.close()
    [code] = zxingcpp.read_barcodes(image)
    assert code.text == url
    page.goto(code.text)                                          # the scanned link opens the badge page
    assert page.locator("h1").inner_text() == "Team Leadership"


@SQLITE_ONLY
def test_a_revoked_badge_shows_only_its_state(site, page, artifacts_dir):
    seen = watch(page)
    award_id = site.awards[ALEX_LEAD]
    state = site.app.extensions["microcred"]
    change_status(state.sessions, state.settings, award_id, "revoke", reason="test", actor="test")
    url = site.credential(*ALEX_LEAD)
    page.goto(url)
    verdict = page.locator("#verdict")
    assert verdict.locator("h2").inner_text().strip().endswith("Revoked")
    assert "This badge is revoked: it cannot be shared or downloaded." in verdict.inner_text()
    assert page.locator("#share-kit").count() == 0 and page.locator("a[download]").count() == 0
    assert page.locator("#qr").count() == 0 and page.locator("script").count() == 0
    page.screenshot(path=str(artifacts_dir / "badge-revoked-phone.png"), full_page=True)
    assert serious_violations(page) == []
    response = page.goto(url + "/certificate.pdf")
    assert response.status == 410
    assert "This badge was revoked by its issuer" in page.locator("main").inner_text()
    page.screenshot(path=str(artifacts_dir / "badge-revoked-download-phone.png"))
    assert serious_violations(page) == []
    assert seen["dialogs"] == []


@SQLITE_ONLY
def test_hr_sets_the_linkedin_id_in_the_console_and_the_logo_link_follows(site, page, artifacts_dir):
    add_staff(site.app, "ada", "admin")
    browser_login(page, site.base_url, "ada")
    page.goto(site.url("/admin/settings"))
    field = page.get_by_label("LinkedIn company id")
    field.fill("acme")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#e-linkedin_organization_id")).to_contain_text("number in your company page")
    page.screenshot(path=str(artifacts_dir / "admin-settings-error-phone.png"), full_page=True)
    assert serious_violations(page) == []
    page.get_by_label("LinkedIn company id").fill("1337")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").first).to_contain_text("company page 1337")
    page.screenshot(path=str(artifacts_dir / "admin-settings-phone.png"), full_page=True)
    page.goto(site.credential(*ALEX_LEAD))
    link = html.unescape(page.get_by_role("link", name="Add to LinkedIn profile").get_attribute("href"))
    params = query(link)
    assert params["organizationId"] == "1337" and "organizationName" not in params
