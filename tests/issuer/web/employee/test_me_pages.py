"""The /me pages through Flask's test client: sign-in by link, My badges, privacy choices, and the door's
rules (CSRF, same-site, rate limits, cookies, headers). Real SQLite database, the demo awards, base URL
``https://hr.example.com``; the sign-in links are read from the outbox.
"""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from issuer.awards.issuance import AwardRequest, IssuerContext, issue_award
from issuer.awards.lifecycle import change_status
from issuer.db.models import Achievement
from issuer.db.models_employee import EmployeeSession
from issuer.employees.access import token_hash
from issuer.identity import load_issuer
from issuer.web import create_app
from issuer.web.employee import current_employee, employee_required
from tests.admin_support import PASSWORD, add_staff
from tests.issuer.employees.support import (  # noqa: F401 - app, clock, ids: shared fixtures
    ALEX,
    HTML,
    NOW,
    SOFIA,
    EmployeeClient,
    app,
    award_ids,
    clock,
    employee_app,
    ids,
    link_in,
    page_text,
    sign_in_mails,
    utc,
)

SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
pytestmark = SQLITE_ONLY
SENT = "If this address has badges here, we've sent a sign-in link. It works once, for 15 minutes."
BASE = "https://hr.example.com"


def cookie_header(response) -> str:
    [header] = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("__Host-microcred-me=")]
    return header


# ------------------------------------------------------------------ asking for a link

def test_the_answer_is_the_same_for_any_address_and_only_a_holder_gets_mail(app):
    person = EmployeeClient(app)
    form = person.get("/me/sign-in")
    assert form.status_code == 200 and "Email me a sign-in link" in page_text(form)
    assert "form-action 'self'" in form.headers["Content-Security-Policy"]
    assert form.headers["Cache-Control"] == "no-store"
    answers = [person.ask_link(email) for email in (ALEX, "nobody@example.com", "ALEX.morgan@example.com ")]
    assert {r.status_code for r in answers} == {200}
    texts = {page_text(r) for r in answers}
    assert len(texts) == 1 and SENT in texts.pop()
    assert [m.to_address for m in sign_in_mails(app)] == [ALEX, ALEX]


def test_a_malformed_address_gets_the_form_again_with_a_plain_error(app):
    response = EmployeeClient(app).ask_link("not an address")
    assert response.status_code == 422
    assert "Enter the email address your badges were sent to" in page_text(response)
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    assert sign_in_mails(app) == []


def test_asking_is_rate_limited_per_address_whether_or_not_it_has_badges(app):
    person = EmployeeClient(app)
    for email in (ALEX, "nobody@example.com"):
        statuses = [person.ask_link(email).status_code for _ in range(6)]
        assert statuses == [200] * 5 + [429]
    refused = person.ask_link("Nobody@Example.com")                    # the same address, normalised
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert "Too many sign-in links were asked for. Try again in" in page_text(refused)
    assert person.ask_link(SOFIA).status_code == 200                   # another address is not limited


def test_asking_is_rate_limited_per_client(app):
    app.config["ME_SIGN_IN_CLIENT_LIMIT"] = "3/hour"
    person = EmployeeClient(app)
    statuses = [person.ask_link(f"someone{n}@example.com").status_code for n in range(4)]
    assert statuses == [200, 200, 200, 429]
    other = person.post("/me/sign-in", {"email": ALEX}, environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert other.status_code == 200                                    # another client is not


def test_forms_need_the_csrf_token_and_this_site(app):
    person = EmployeeClient(app)
    assert person.client.post("/me/sign-in", data={"email": ALEX}, base_url=BASE).status_code == 400
    cross = person.post("/me/sign-in", {"email": ALEX}, headers={**HTML, "Origin": "https://evil.example"})
    assert cross.status_code == 403 and "sent from another site" in page_text(cross)
    fetch = person.post("/me/sign-in", {"email": ALEX}, headers={**HTML, "Sec-Fetch-Site": "cross-site"})
    assert fetch.status_code == 403
    assert sign_in_mails(app) == []


# ------------------------------------------------------------------ the link

def test_opening_the_link_does_not_use_it_and_the_button_does_once(app):
    person = EmployeeClient(app)
    person.ask_link(ALEX)
    url, token = link_in(sign_in_mails(app)[0])
    for _ in range(2):                                                 # a mail scanner fetching it first
        page = person.get(url[len(BASE):])
        assert page.status_code == 200 and "Sign in to My badges" in page_text(page)
    assert page.headers["Referrer-Policy"] == "same-origin"
    response = person.post(f"/me/sign-in/{token}", token_from=f"/me/sign-in/{token}")
    assert response.status_code == 303 and response.headers["Location"] == "/me/"
    header = cookie_header(response)
    assert "HttpOnly" in header and "Secure" in header and "SameSite=Lax" in header and "Path=/" in header
    assert "Domain" not in header
    cookie = header.split(";", 1)[0].split("=", 1)[1]
    with app.extensions["microcred"].sessions() as session:
        stored = session.scalars(select(EmployeeSession)).one()
        assert stored.token_hash == token_hash(cookie) and stored.email == ALEX
    again = EmployeeClient(app).post(f"/me/sign-in/{token}")          # a used link: no form, a sentence
    assert again.status_code == 410
    assert "This sign-in link no longer works" in page_text(again)
    assert 'href="/me/sign-in"' in again.get_data(as_text=True)
    assert person.get(f"/me/sign-in/{token}").status_code == 410


def test_an_expired_or_unknown_link_says_so_and_offers_a_new_one(app, clock):
    person = EmployeeClient(app)
    person.ask_link(ALEX)
    _url, token = link_in(sign_in_mails(app)[0])
    clock.now = NOW + timedelta(minutes=15)
    for path in (f"/me/sign-in/{token}", "/me/sign-in/unknown-token", "/me/sign-in/" + "a" * 300):
        response = person.get(path)
        assert response.status_code == 410 and "no longer works" in page_text(response)
        assert "Ask for a new link" in page_text(response)
    assert person.post(f"/me/sign-in/{token}", token_from="/me/sign-in").status_code == 410


def test_my_badges_needs_a_sign_in(app, ids):
    person = EmployeeClient(app)
    response = person.get("/me/")
    assert response.status_code == 302 and response.headers["Location"] == "/me/sign-in"
    refused = person.post(f"/me/badges/{ids[(ALEX, 'Team Leadership')]}/name", {"show": "yes"})
    assert refused.status_code == 401
    assert person.client.get("/me/", base_url=BASE, headers={"Cookie": "__Host-microcred-me=forged"}).status_code \
        == 302


def test_signing_out_ends_the_session_on_the_server(app):
    person = EmployeeClient(app).sign_in(ALEX)
    cookie = person.client.get_cookie("__Host-microcred-me", domain="hr.example.com").value
    assert person.get("/me/").status_code == 200
    response = person.post("/me/sign-out", token_from="/me/")
    assert response.status_code == 303 and response.headers["Location"] == "/me/sign-in"
    assert "__Host-microcred-me=;" in cookie_header(response)
    assert "You are signed out." in page_text(person.get("/me/sign-in"))
    thief = EmployeeClient(app)
    thief.client.set_cookie("__Host-microcred-me", cookie, domain="hr.example.com", secure=True)
    assert thief.get("/me/").status_code == 302                         # a copy of the cookie is useless now


def test_a_session_holds_across_app_servers_sharing_the_database(app, clock):
    person = EmployeeClient(app).sign_in(ALEX)
    cookie = person.client.get_cookie("__Host-microcred-me", domain="hr.example.com").value
    other_server = create_app(app.extensions["microcred"].settings, clock=clock)  # the same time on both
    try:
        visitor = EmployeeClient(other_server)
        visitor.client.set_cookie("__Host-microcred-me", cookie, domain="hr.example.com", secure=True)
        page = visitor.get("/me/")
        assert page.status_code == 200 and f"Signed in as {ALEX}" in page_text(page)
    finally:
        other_server.extensions["microcred"].engine.dispose()


# ------------------------------------------------------------------ my badges and choices

def test_my_badges_shows_states_and_downloads_in_plain_words(app, ids):
    state = app.extensions["microcred"]
    change_status(state.sessions, state.settings, ids[(ALEX, "Coaching and Feedback")], "revoke",
                  reason="Assessment was not completed", actor="test")
    page = EmployeeClient(app).sign_in(ALEX).get("/me/")
    html, text = page.get_data(as_text=True), page_text(page)
    assert page.status_code == 200 and "Your badges" in text and f"Signed in as {ALEX}" in text
    leadership, coaching = ids[(ALEX, "Team Leadership")], ids[(ALEX, "Coaching and Feedback")]
    start = html.index(f'<li class="card me-badge me-badge-active" id="badge-{leadership}">')
    active = html[start:html.index('<li class="card me-badge', start + 1)]
    for path in ("certificate.pdf", "badge.png", "badge.svg", "credential.json", "credential.jwt"):
        assert f'href="{BASE}/credentials/{leadership}/{path}"' in active
    assert f'href="{BASE}/credentials/{leadership}"' in active
    revoked = html[html.index(f'id="badge-{coaching}"'):]
    assert "me-badge-revoked" in html and "Revoked" in revoked
    assert "Your employer revoked this badge." in page_text_of(revoked)
    assert "Reason given: Assessment was not completed" in page_text_of(revoked)
    assert f"/credentials/{coaching}" not in revoked                      # no downloads, no sharing
    assert "Show my name" not in revoked
    for word in ("credential", "DID", "did:web", "Verifiable"):
        assert word not in text


def page_text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_showing_and_hiding_the_name_changes_the_public_badge_page_at_once(app, ids):
    person = EmployeeClient(app).sign_in(ALEX)
    leadership, coaching = ids[(ALEX, "Team Leadership")], ids[(ALEX, "Coaching and Feedback")]
    public = app.test_client()
    assert "Alex" not in page_text(public.get(f"/credentials/{leadership}", headers=HTML, base_url=BASE))
    response = person.post(f"/me/badges/{leadership}/name", {"show": "yes"}, token_from="/me/")
    assert response.status_code == 303 and response.headers["Location"] == f"/me/#badge-{leadership}"
    page = person.get("/me/")
    assert "Your name is now shown on the public page of “Team Leadership”." in page_text(page)
    assert "Awarded to Alex Morgan" in page_text(public.get(f"/credentials/{leadership}", headers=HTML,
                                                           base_url=BASE))
    assert "Alex" not in page_text(public.get(f"/credentials/{coaching}", headers=HTML, base_url=BASE))
    person.post(f"/me/badges/{leadership}/name", {"show": "no"}, token_from="/me/")
    assert "Alex" not in page_text(public.get(f"/credentials/{leadership}", headers=HTML, base_url=BASE))


def test_another_persons_badge_cannot_be_changed(app, ids):
    person = EmployeeClient(app).sign_in(ALEX)
    sofias = ids[(SOFIA, "Conflict Resolution")]
    response = person.post(f"/me/badges/{sofias}/name", {"show": "yes"}, token_from="/me/")
    assert response.status_code == 404 and "You have no such badge." in page_text(response)
    assert "Sofia" not in page_text(app.test_client().get(f"/credentials/{sofias}", headers=HTML, base_url=BASE))


def test_publishing_the_profile_and_choosing_its_badges(app, ids):
    person = EmployeeClient(app).sign_in(ALEX)
    response = person.post("/me/profile", {"slug": "alex-morgan"}, token_from="/me/")
    assert response.status_code == 303
    page = person.get("/me/")
    assert f"Your skill profile is published at {BASE}/profiles/alex-morgan." in page_text(page)
    public = app.test_client()
    profile = public.get("/profiles/alex-morgan", headers=HTML, base_url=BASE)
    assert profile.status_code == 200 and "Coaching and Feedback" in page_text(profile)
    assert "Alex" not in page_text(profile)                               # the name was not chosen
    coaching = ids[(ALEX, "Coaching and Feedback")]
    person.post(f"/me/badges/{coaching}/profile", {"listed": "no"}, token_from="/me/")
    assert "Coaching and Feedback" not in page_text(public.get("/profiles/alex-morgan", headers=HTML, base_url=BASE))
    assert "Team Leadership" in page_text(public.get("/profiles/alex-morgan", headers=HTML, base_url=BASE))
    person.post("/me/profile", {"slug": "alex-morgan", "show_name": "yes"}, token_from="/me/")
    assert "Alex Morgan" in page_text(public.get("/profiles/alex-morgan", headers=HTML, base_url=BASE))
    bad = person.post("/me/profile", {"slug": "No Spaces!"}, token_from="/me/", follow_redirects=True)
    assert "A profile address is 3 to 64 lower-case letters" in page_text(bad)
    person.post("/me/profile/unpublish", token_from="/me/")
    assert public.get("/profiles/alex-morgan", headers=HTML, base_url=BASE).status_code == 404
    assert "Your skill profile is not published." in page_text(person.get("/me/"))


def test_the_employee_space_leaves_a_console_sign_in_in_the_same_browser_alone(app):
    add_staff(app, "hana", "issuer")
    person = EmployeeClient(app)
    response = person.post("/admin/login", {"username": "hana", "password": PASSWORD}, token_from="/admin/login",
                           headers={**HTML, "Referer": f"{BASE}/admin/login"})     # the console checks it on https
    assert response.status_code == 303
    person.sign_in(ALEX)
    assert person.get("/admin/awards").status_code == 200             # still signed in to the console
    person.post("/me/sign-out", token_from="/me/")
    assert person.get("/admin/awards").status_code == 200
    assert person.get("/me/").status_code == 302


def test_badge_names_are_escaped_everywhere_on_my_badges(app):
    evil = '<script>alert(1)</script>" onmouseover="alert(2)'
    state = app.extensions["microcred"]
    with state.sessions.begin() as session:
        issuer = load_issuer(session, state.settings)
        session.add(Achievement(issuer_id=issuer.id, slug="evil", name=evil, description="About it",
                                criteria_narrative="Did it", validity_months=12))
        session.flush()
        issue_award(session, IssuerContext.load(session, state.settings, issuer), AwardRequest("evil", ALEX),
                    actor="test")
    html = EmployeeClient(app).sign_in(ALEX).get("/me/").get_data(as_text=True)
    assert "<script>alert(1)" not in html and '" onmouseover="' not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&#34; onmouseover=&#34;alert(2)" in html


def test_other_views_can_require_and_read_the_signed_in_employee(app):
    @employee_required
    def probe() -> str:
        return f"hello {current_employee().email}"

    app.add_url_rule("/probe", view_func=probe, methods=["GET", "POST"])
    person = EmployeeClient(app)
    response = person.get("/probe")
    assert response.status_code == 302 and response.headers["Location"] == "/me/sign-in"
    assert person.client.post("/probe", base_url=BASE).status_code == 401
    person.sign_in(SOFIA)
    assert person.get("/probe").get_data(as_text=True) == f"hello {SOFIA}"
