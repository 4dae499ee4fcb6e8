"""The badge page's share kit, the PDF certificate, withheld (revoked/suspended) badges, and HR's LinkedIn id.

Flask test client on a real database (``microcred demo``'s data; SQLite, and PostgreSQL where
the fixtures offer it), the console through real sign-in and CSRF, the CLI through click. The
certificate is read back with pypdf and rendered with PDFium for its QR code.
"""
from __future__ import annotations

import html as html_lib
import io
import json
import re
from urllib.parse import parse_qs, urlsplit

import pypdfium2
import pytest
import zxingcpp
from click.testing import CliRunner
from pypdf import PdfReader
from sqlalchemy import select

from issuer.awards.lifecycle import change_status
from issuer.cli import main
from issuer.db.models import AuditEntry
from issuer.errors import InvalidInput
from issuer.sharing import embed_snippet
from tests.admin_support import Console, add_staff
from tests.issuer.web.test_sharing import BASE, HTML, make_app, seed, set_profile, stored

SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
FILES = ("badge.png", "badge.svg", "credential.json", "credential.jwt", "qr.svg", "certificate.pdf")
ALEX_LEAD = ("Alex Morgan", "Team Leadership")


@pytest.fixture()
def app(db_url, tmp_path):
    app = make_app(tmp_path, db_url)
    yield app
    app.extensions["microcred"].engine.dispose()


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture()
def awards(app):
    return seed(app)


def page_html(client, award_id: str) -> str:
    response = client.get(f"/credentials/{award_id}", headers=HTML)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def href(html: str, element_id: str) -> str:
    match = re.search(rf'<a id="{element_id}" [^>]*href="([^"]+)"', html)
    assert match, f"no link #{element_id}"
    return html_lib.unescape(match.group(1))


def params(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def sharing(app):
    return app.extensions["microcred"].use.sharing


def change(app, award_id: str, action: str) -> None:
    state = app.extensions["microcred"]
    change_status(state.sessions, state.settings, award_id, action, reason="test", actor="test")


# ------------------------------------------------------------------ the kit

def test_the_kit_comes_before_the_details_with_every_way_to_share(client, awards):
    award_id = awards[ALEX_LEAD]
    html = page_html(client, award_id)
    url = f"{BASE}/credentials/{award_id}"
    kit, details, downloads = (html.index('id="share-kit"'), html.index('id="facts-title"'),
                               html.index('id="downloads-title"'))
    assert html.index('id="verdict"') < kit < details < downloads      # near the top, above the long details
    assert params(href(html, "linkedin"))["organizationName"] == "Example Corp People Team"
    feed = href(html, "linkedin-feed")
    assert urlsplit(feed).netloc == "www.linkedin.com" and params(feed) == {"url": url}
    email = href(html, "share-email")
    assert email.startswith("mailto:?subject=My%20badge%3A%20Team%20Leadership&body=") and url in html_lib.unescape(
        re.sub(r"%([0-9A-F]{2})", lambda m: chr(int(m.group(1), 16)), email))
    assert f'<input id="share-url" type="text" readonly value="{url}">' in html          # selectable without JS
    assert 'data-copy="share-url"' in html and 'data-copy-field="embed-code"' in html
    textarea = re.search(r'<textarea id="embed-code"[^>]*>(.*?)</textarea>', html, re.S).group(1)
    assert "<" not in textarea                                                    # shown as text, escaped
    assert html_lib.unescape(textarea) == embed_snippet("Team Leadership", "Example Corp People Team", url,
                                                        f"{url}/image.png")
    assert f'<a href="{url}/certificate.pdf" download>Certificate (PDF)</a>' in html


def test_the_linkedin_company_id_replaces_the_name_once_hr_sets_it(app, client, awards):
    award_id = awards[ALEX_LEAD]
    sharing(app).set_linkedin_organization(" 1337 ", actor="test")
    shown = params(href(page_html(client, award_id), "linkedin"))
    assert shown["organizationId"] == "1337" and "organizationName" not in shown
    assert shown["certUrl"] == f"{BASE}/credentials/{award_id}" and shown["certId"] == award_id
    sharing(app).set_linkedin_organization("", actor="test")
    assert "organizationId" not in params(href(page_html(client, award_id), "linkedin"))
    with pytest.raises(InvalidInput):
        sharing(app).set_linkedin_organization("linkedin.com/company/1337", actor="test")
    with app.extensions["microcred"].sessions() as session:
        audited = session.scalars(select(AuditEntry.details).where(AuditEntry.action == "sharing_settings")
                                  .order_by(AuditEntry.id)).all()
    assert audited == [{"linkedin_organization_id": "1337", "before": None},
                       {"linkedin_organization_id": None, "before": "1337"}]


# ------------------------------------------------------------------ the certificate

def read_pdf(data: bytes) -> tuple[int, str, list[str]]:
    reader = PdfReader(io.BytesIO(data))
    document = pypdfium2.PdfDocument(data)
    try:
        image = document[0].render(scale=2).to_pil().convert("RGB")
    finally:
        document.close()
    text = "\n".join(page.extract_text() for page in reader.pages)
    return len(reader.pages), text, [code.text for code in zxingcpp.read_barcodes(image)]


def test_the_certificate_is_one_page_with_the_name_url_and_a_qr_code_of_the_page(client, awards):
    award_id = awards[ALEX_LEAD]
    response = client.get(f"/credentials/{award_id}/certificate.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == "attachment; filename=team-leadership.pdf"
    pages, text, codes = read_pdf(response.data)
    url = f"{BASE}/credentials/{award_id}"
    assert pages == 1 and "Team Leadership" in text and url in text and "Example Corp People Team" in text
    assert codes == [url]
    assert "Alex Morgan" not in text and "awarded to" not in text          # the name is not shown by default


def test_the_certificate_prints_the_name_only_when_the_employee_shows_it(app, client, awards):
    award_id = awards[ALEX_LEAD]
    set_profile(app, "alex.morgan@example.com", show_name=True)
    _, text, _ = read_pdf(client.get(f"/credentials/{award_id}/certificate.pdf").data)
    assert "awarded to" in text and "Alex Morgan" in text
    set_profile(app, "alex.morgan@example.com", show_name=False)
    _, text, _ = read_pdf(client.get(f"/credentials/{award_id}/certificate.pdf").data)
    assert "Alex Morgan" not in text


def test_an_unknown_or_malformed_award_has_no_certificate(client, awards):
    assert client.get("/credentials/0b5e7f5c-1c1e-4d7a-9a55-3f1d2a0b9c11/certificate.pdf").status_code == 404
    assert client.get("/credentials/not-an-id/certificate.pdf").status_code == 404


# ------------------------------------------------------------------ revoked and suspended

@pytest.mark.parametrize("action", ["revoke", "suspend"])
def test_a_withheld_badge_shows_its_state_and_offers_no_kit_and_no_files(app, client, awards, action):
    award_id = awards[ALEX_LEAD]
    change(app, award_id, action)
    state = {"revoke": "revoked", "suspend": "suspended"}[action]
    html = page_html(client, award_id)
    assert f'class="verdict verdict-{state}"' in html
    assert f"This badge is {state}: it cannot be shared or downloaded" in html
    for absent in ('id="share-kit"', "linkedin.com", "mailto:", 'id="embed-code"', 'id="qr"', "download>",
                   "copy.js", "certificate.pdf"):
        assert absent not in html, absent
    for name in FILES:
        response = client.get(f"/credentials/{award_id}/{name}", headers=HTML)
        assert response.status_code == 410, name
        assert response.mimetype == "text/html" and f"This badge was {state} by its issuer" in \
            response.get_data(as_text=True), name
        problem = client.get(f"/credentials/{award_id}/{name}")
        assert problem.status_code == 410 and problem.json["code"] == f"badge_{state}", name
    # a verifier still gets the credential as issued (and learns from its status that it is withheld)
    award = stored(app, award_id)
    assert client.get(f"/credentials/{award_id}").data == award.credential.encode()
    assert client.get(f"/credentials/{award_id}.jwt").data == award.credential_jwt.encode()
    assert client.get(f"/credentials/{award_id}", headers={"Accept": "application/json"}).status_code == 200
    assert client.get(f"/credentials/{award_id}/image.png").status_code == 200        # embeds and previews


def test_lifting_a_suspension_brings_the_kit_and_files_back(app, client, awards):
    award_id = awards[ALEX_LEAD]
    change(app, award_id, "suspend")
    assert client.get(f"/credentials/{award_id}/badge.png").status_code == 410
    change(app, award_id, "unsuspend")
    assert 'id="share-kit"' in page_html(client, award_id)
    for name in FILES:
        assert client.get(f"/credentials/{award_id}/{name}").status_code == 200, name


def test_other_badges_of_the_same_person_stay_shareable(app, client, awards):
    change(app, awards[ALEX_LEAD], "revoke")
    other = awards[("Alex Morgan", "Coaching and Feedback")]
    assert 'id="share-kit"' in page_html(client, other)
    assert client.get(f"/credentials/{other}/certificate.pdf").status_code == 200


# ------------------------------------------------------------------ HR sets the LinkedIn id

@pytest.fixture()
def console(app):
    add_staff(app, "ada", "admin")
    add_staff(app, "ike", "issuer")
    return app


def test_an_admin_sets_and_clears_the_linkedin_id_in_the_console(console, client, awards):
    admin = Console(console).login("ada")
    form = admin.get("/admin/settings")
    assert form.status_code == 200 and 'name="linkedin_organization_id"' in form.get_data(as_text=True)
    saved = admin.post("/admin/settings", {"linkedin_organization_id": "1337"}, token_from="/admin/settings")
    assert saved.status_code == 303 and saved.headers["Location"].endswith("/admin/settings")
    assert 'value="1337"' in admin.get("/admin/settings").get_data(as_text=True)
    assert params(href(page_html(client, awards[ALEX_LEAD]), "linkedin"))["organizationId"] == "1337"
    admin.post("/admin/settings", {"linkedin_organization_id": ""}, token_from="/admin/settings")
    assert sharing(console).settings().linkedin_organization_id is None


def test_a_bad_id_is_shown_beside_the_field_and_nothing_changes(console, awards):
    sharing(console).set_linkedin_organization("42", actor="test")
    admin = Console(console).login("ada")
    response = admin.post("/admin/settings", {"linkedin_organization_id": "https://linkedin.com/company/x"},
                          token_from="/admin/settings")
    assert response.status_code == 422
    error = re.search(r'<p class="field-error" id="e-linkedin_organization_id">(.*?)</p>',
                      response.get_data(as_text=True), re.S).group(1)
    assert "number in your company page" in error
    assert sharing(console).settings().linkedin_organization_id == "42"


def test_only_admins_change_settings_and_only_with_the_form_token(console, awards):
    issuer = Console(console).login("ike")
    assert issuer.get("/admin/settings").status_code == 403
    admin = Console(console).login("ada")
    forged = admin.client.post("/admin/settings", data={"linkedin_organization_id": "666"})
    assert forged.status_code == 400
    assert sharing(console).settings().linkedin_organization_id is None


@SQLITE_ONLY
def test_the_cli_sets_shows_and_clears_the_linkedin_id(app, client, awards, monkeypatch):
    settings = app.extensions["microcred"].settings
    for name, value in (("MICROCRED_INSTANCE", str(settings.instance)), ("MICROCRED_KEYS", str(settings.keys_dir)),
                        ("MICROCRED_BASE_URL", settings.base_url), ("DATABASE_URL", settings.database_url)):
        monkeypatch.setenv(name, value)
    runner = CliRunner()
    result = runner.invoke(main, ["settings", "linkedin", "1337"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "LinkedIn company id set to 1337: badges link your company page."
    assert params(href(page_html(client, awards[ALEX_LEAD]), "linkedin"))["organizationId"] == "1337"
    assert "LinkedIn company id:  1337" in runner.invoke(main, ["settings", "show"]).output
    bad = runner.invoke(main, ["settings", "linkedin", "acme"])
    assert bad.exit_code == 2 and "number in your company page" in bad.output
    assert runner.invoke(main, ["settings", "linkedin"]).exit_code == 2                 # neither id nor --clear
    cleared = runner.invoke(main, ["settings", "linkedin", "--clear"])
    assert cleared.exit_code == 0 and 'badges name "Example Corp People Team"' in cleared.output
    assert sharing(app).settings().linkedin_organization_id is None


def test_the_page_json_link_is_untouched_by_the_kit(client, awards):
    award_id = awards[ALEX_LEAD]
    document = json.loads(client.get(f"/credentials/{award_id}").data)
    assert document["id"] == f"{BASE}/credentials/{award_id}"


@SQLITE_ONLY
def test_certificates_are_rate_limited_per_address_and_repeat_identically(app, client, awards):
    app.config["CERTIFICATE_RATE_LIMIT"] = "2/minute"
    award_id = awards[ALEX_LEAD]
    first, second = (client.get(f"/credentials/{award_id}/certificate.pdf") for _ in range(2))
    assert first.status_code == second.status_code == 200 and first.data == second.data
    refused = client.get(f"/credentials/{award_id}/certificate.pdf")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    other = client.get(f"/credentials/{award_id}/certificate.pdf", environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert other.status_code == 200
