"""The employee's journey in a real browser (Chromium through Playwright), at phone and desktop widths.

The app is served by werkzeug on 127.0.0.1 over a real SQLite database seeded with the demo
awards. The employee asks for a sign-in link, the outbox sends it (to ``.eml`` files: no SMTP
server is configured), the test reads the link from the delivered email, and the browser opens
it, signs in, shows and hides their name on a badge and sees the public badge page change,
publishes their profile and opens it, downloads the badge's PDF certificate from My badges (one
page naming the badge and its address, read with pypdf), follows the badge to its public page
and shares it (the copy-link button puts the badge's address on the clipboard; LinkedIn's
add-to-profile link carries it), then signs out: issue 14's whole employee journey. Every page
is checked with axe (no serious or critical violations), for sideways scrolling, and for console
errors (CSP violations show there). Screenshots: ``test-artifacts/me-*.png`` (the download and
share steps ``me-journey-*.png``).
"""
from __future__ import annotations

import io
from urllib.parse import parse_qs, urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect
from pypdf import PdfReader

from issuer.awards.lifecycle import change_status
from tests.admin_support import Clock, live_console
from tests.browser_fixtures import artifacts_dir, browser, page  # noqa: F401  (fixtures)
from tests.issuer.employees.support import ALEX, award_ids, employee_app, sign_in_mails, wait_for_link

SERIOUS = ("serious", "critical")
WIDTHS = {"phone": (390, 844), "desktop": (1280, 900)}


def serious_violations(page) -> list[tuple[str, str, int]]:
    violations = Axe().run(page).response["violations"]
    return [(v["id"], v["impact"], len(v["nodes"])) for v in violations if v["impact"] in SERIOUS]


def check_page(page, artifacts_dir, name: str) -> None:
    """Accessible, no sideways scrolling, and a full-page screenshot."""
    assert serious_violations(page) == [], name
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), name
    page.screenshot(path=str(artifacts_dir / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("width", list(WIDTHS))
def test_an_employee_signs_in_by_link_makes_their_choices_downloads_and_shares(db_url, tmp_path, page,
                                                                                artifacts_dir, width):
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.set_viewport_size(dict(zip(("width", "height"), WIDTHS[width], strict=True)))
    with live_console(lambda base_url: employee_app(tmp_path, db_url, Clock(), base_url=base_url)) as (app, base):
        ids = award_ids(app)
        leadership, coaching = ids[(ALEX, "Team Leadership")], ids[(ALEX, "Coaching and Feedback")]
        state = app.extensions["microcred"]
        change_status(state.sessions, state.settings, coaching, "revoke", reason="Assessment was not completed",
                      actor="test")

        # asking for a link
        page.goto(f"{base}/me/")
        assert page.url == f"{base}/me/sign-in"
        check_page(page, artifacts_dir, f"me-sign-in-{width}")
        page.get_by_label("Email address").fill("Alex.Morgan@example.com")
        page.get_by_role("button", name="Email me a sign-in link").click()
        assert "If this address has badges here, we've sent a sign-in link." in page.locator("#sent").inner_text()
        check_page(page, artifacts_dir, f"me-link-sent-{width}")

        # the link from the email as delivered (the outbox keeps only its hash once sent): a button signs in
        url, _token = wait_for_link(app, ALEX)
        assert len(sign_in_mails(app, ALEX)) == 1
        assert url.startswith(f"{base}/me/sign-in/")
        page.goto(url)
        check_page(page, artifacts_dir, f"me-link-{width}")
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{base}/me/")
        assert page.locator("h1").inner_text() == "Your badges"
        assert page.locator(".me-state").all_inner_texts() == ["Active", "Revoked"]
        revoked = page.locator(f"#badge-{coaching}")
        assert "Reason given: Assessment was not completed" in revoked.inner_text()
        assert revoked.get_by_role("link").count() == 0 and revoked.get_by_role("button").count() == 0
        badge = page.locator(f"#badge-{leadership}")
        badge.locator("summary").click()
        assert badge.get_by_role("link", name="Certificate (PDF)").get_attribute("href") == \
            f"{base}/credentials/{leadership}/certificate.pdf"
        check_page(page, artifacts_dir, f"me-badges-{width}")

        # the name on the badge's public page: shown, then hidden again
        page.get_by_role("button", name="Show my name on Team Leadership").click()
        assert "Your name is now shown on the public page" in page.get_by_role("status").inner_text()
        assert "Your name is shown on its public page." in page.locator(f"#badge-{leadership}").inner_text()
        page.get_by_role("link", name="Open its public page: Team Leadership").click()
        assert page.url == f"{base}/credentials/{leadership}"
        assert "Awarded to Alex Morgan" in page.locator(".awarded-to").inner_text()
        check_page(page, artifacts_dir, f"me-public-badge-named-{width}")
        page.go_back()
        page.get_by_role("button", name="Hide my name on Team Leadership").click()
        page.goto(f"{base}/credentials/{leadership}")
        assert "Alex" not in page.locator("main").inner_text()

        # the skill profile, published with the name
        page.goto(f"{base}/me/")
        page.get_by_label("Profile address (optional)").fill("alex-morgan")
        page.get_by_label("Show my name on my profile").check()
        page.get_by_role("button", name="Publish my skill profile").click()
        assert f"Your skill profile is published at {base}/profiles/alex-morgan." in \
            page.get_by_role("status").inner_text()
        check_page(page, artifacts_dir, f"me-badges-published-{width}")
        page.locator("#profile-link").click()
        assert page.url == f"{base}/profiles/alex-morgan"
        assert page.locator("h1").inner_text() == "Alex Morgan"
        assert page.locator(".badge-item").count() == 1                 # the revoked badge is not listed
        check_page(page, artifacts_dir, f"me-profile-{width}")

        # the certificate from My badges: a PDF of one page naming the badge and its address
        badge_url = f"{base}/credentials/{leadership}"
        page.goto(f"{base}/me/")
        badge = page.locator(f"#badge-{leadership}")
        badge.locator("summary").click()
        check_page(page, artifacts_dir, f"me-journey-downloads-{width}")
        with page.expect_download() as info:
            badge.get_by_role("link", name="Certificate (PDF)").click()
        assert info.value.suggested_filename == "team-leadership.pdf"
        saved = tmp_path / f"certificate-{width}.pdf"
        info.value.save_as(str(saved))
        pdf = saved.read_bytes()
        assert pdf.startswith(b"%PDF-")
        reader = PdfReader(io.BytesIO(pdf))
        assert len(reader.pages) == 1
        certificate = " ".join(reader.pages[0].extract_text().split())
        assert "Team Leadership" in certificate and badge_url in certificate

        # from My badges to the badge's public page, and its share kit
        page.get_by_role("link", name="Open its public page: Team Leadership").click()
        page.wait_for_url(badge_url)
        kit = page.locator("#share-kit")
        if width == "phone":                                             # near the top: no scrolling to find it
            profile_link = page.get_by_role("link", name="Add to LinkedIn profile").bounding_box()
            assert profile_link is not None and profile_link["y"] + profile_link["height"] <= WIDTHS[width][1]
        page.context.grant_permissions(["clipboard-read", "clipboard-write"])
        kit.get_by_role("button", name="Copy link").click()
        expect(page.locator("#copy-status")).to_have_text("Link copied.")
        assert page.evaluate("navigator.clipboard.readText()") == badge_url
        linkedin = urlsplit(kit.get_by_role("link", name="Add to LinkedIn profile").get_attribute("href") or "")
        params = {key: values[0] for key, values in parse_qs(linkedin.query).items()}
        assert (linkedin.scheme, linkedin.hostname) == ("https", "www.linkedin.com")
        assert params["certUrl"] == badge_url and params["name"] == "Team Leadership"
        assert params["startTask"] == "CERTIFICATION_NAME"
        mail = urlsplit(kit.get_by_role("link", name="Email", exact=True).get_attribute("href") or "")
        assert mail.scheme == "mailto" and badge_url in parse_qs(mail.query)["body"][0]
        check_page(page, artifacts_dir, f"me-journey-share-{width}")

        # signing out
        page.goto(f"{base}/me/")
        page.get_by_role("button", name="Sign out").click()
        assert page.url == f"{base}/me/sign-in" and "You are signed out." in page.locator("main").inner_text()
        page.goto(f"{base}/me/")
        assert page.url == f"{base}/me/sign-in"
    assert errors == []
