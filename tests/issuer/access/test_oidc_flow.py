"""Sign-in with an OpenID Connect provider, end to end: the real issuer app served on loopback,
a real certified provider (panva's oidc-provider on node) on loopback, and ``requests`` as the
browser submitting the provider's login and consent forms.

Attacks named: a tampered ``state`` (login CSRF), a replayed callback (the same answer twice), a
replayed code in another sign-in (refused by the provider and reported), an unverified address
that names a staff account, a verified address without an account (never created).
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
import requests
from flask import Flask, Response, redirect

from tests.admin_support import add_staff
from tests.oidc_provider import OidcProvider, console_with_provider

ACCOUNTS = {
    "hana": {"email": "Hana@Example.com", "email_verified": True, "name": "Hana HR"},
    "stranger": {"email": "stranger@example.com", "email_verified": True},
    "unverified": {"email": "hana@example.com", "email_verified": False},
    "dora": {"email": "dora@example.com", "email_verified": True},
    "emp": {"email": "emp@example.com", "email_verified": True},
}


@dataclass
class Live:
    app: Flask
    base: str
    provider: OidcProvider

    def start(self, browser: requests.Session, purpose: str = "staff", **args: str) -> str:
        """GET /oidc/start; the provider URL it redirects to."""
        response = browser.get(f"{self.base}/oidc/start", params={"for": purpose, **args}, allow_redirects=False,
                               timeout=30)
        assert response.status_code == 302, response.text[:500]
        location = response.headers["Location"]
        assert location.startswith(self.provider.issuer + "/auth?")
        return location

    def text(self, response: requests.Response) -> str:
        return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.text)))


def _prepare(app: Flask) -> None:
    app.config["OIDC_RATE_LIMIT"] = "1000/minute"     # every test's requests come from 127.0.0.1
    add_staff(app, "hana@example.com", "issuer", name="Hana HR")
    add_staff(app, "dora@example.com", "issuer")
    app.extensions["microcred"].use.access.set_active("dora@example.com", False)


@pytest.fixture(scope="module")
def live(tmp_path_factory) -> Live:
    with console_with_provider(tmp_path_factory.mktemp("oidc"), ACCOUNTS, _prepare) as (app, base, provider):
        yield Live(app, base, provider)


@pytest.fixture
def browser() -> requests.Session:
    with requests.Session() as session:
        yield session


def signed_in_as(live: Live, browser: requests.Session) -> str | None:
    """The name the console shows as signed in, or None when it sends the browser to sign in."""
    page = browser.get(f"{live.base}/admin/awards", allow_redirects=False, timeout=30)
    if page.status_code != 200:
        return None
    match = re.search(r'<span class="who">([^<]+)<', page.text)
    return match.group(1).strip() if match else None


def test_the_authorization_request_carries_state_nonce_and_a_pkce_s256_challenge(live, browser):
    query = parse_qs(urlsplit(live.start(browser)).query)
    assert query["response_type"] == ["code"]
    assert query["client_id"] == [live.provider.client_id]
    assert query["redirect_uri"] == [live.base + "/oidc/callback"]
    assert set(query["scope"][0].split()) >= {"openid", "email"}
    assert query["code_challenge_method"] == ["S256"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", query["code_challenge"][0])
    assert len(query["state"][0]) >= 40 and len(query["nonce"][0]) >= 40
    again = parse_qs(urlsplit(live.start(browser)).query)
    assert again["state"] != query["state"] and again["nonce"] != query["nonce"]
    assert again["code_challenge"] != query["code_challenge"]


def test_staff_sign_in_through_the_provider_opens_the_console(live, browser):
    assert signed_in_as(live, browser) is None
    callback = live.provider.sign_in(browser, live.start(browser, next="/admin/awards"), "hana")
    assert parse_qs(urlsplit(callback).query)["iss"] == [live.provider.issuer]
    response = browser.get(callback, allow_redirects=False, timeout=30)
    assert response.status_code == 303, live.text(response)
    assert response.headers["Location"] == "/admin/awards", _refused(live, browser, response)
    assert response.headers["Cache-Control"] == "no-store"
    assert signed_in_as(live, browser) == "Hana HR"
    # the session is the console's own: signing out ends it
    token = re.search(r'name="csrf_token" value="([^"]+)"', browser.get(f"{live.base}/admin/awards").text).group(1)
    out = browser.post(f"{live.base}/admin/logout", data={"csrf_token": token}, allow_redirects=False,
                       headers={"Origin": live.base}, timeout=30)
    assert out.status_code == 303
    assert signed_in_as(live, browser) is None


def _refused(live: Live, browser: requests.Session, response: requests.Response) -> str:
    assert response.status_code == 303, live.text(response)
    assert urlsplit(response.headers["Location"]).path == "/admin/login"
    page = browser.get(live.base + response.headers["Location"], timeout=30)
    assert page.status_code == 200
    match = re.search(r'<div class="notice notice-bad" role="status">([^<]+)</div>', page.text)
    assert match, "no reason on the sign-in page"
    return html.unescape(match.group(1))


def test_a_verified_address_without_a_console_account_is_refused_and_no_account_is_made(live, browser):
    callback = live.provider.sign_in(browser, live.start(browser), "stranger")
    reason = _refused(live, browser, browser.get(callback, allow_redirects=False, timeout=30))
    assert "There is no console account for stranger@example.com" in reason
    assert signed_in_as(live, browser) is None
    names = [user.username for user in live.app.extensions["microcred"].use.access.list_users()]
    assert "stranger@example.com" not in names


def test_an_unverified_address_is_refused_even_when_it_names_an_account(live, browser):
    callback = live.provider.sign_in(browser, live.start(browser), "unverified")
    reason = _refused(live, browser, browser.get(callback, allow_redirects=False, timeout=30))
    assert "has not verified the address hana@example.com" in reason
    assert signed_in_as(live, browser) is None


def test_a_disabled_account_is_refused(live, browser):
    callback = live.provider.sign_in(browser, live.start(browser), "dora")
    reason = _refused(live, browser, browser.get(callback, allow_redirects=False, timeout=30))
    assert "disabled" in reason
    assert signed_in_as(live, browser) is None


def _with(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query.update(changes)
    return urlunsplit(parts._replace(query=urlencode(query)))


def test_a_tampered_state_is_refused_and_burns_the_pending_sign_in(live, browser):
    callback = live.provider.sign_in(browser, live.start(browser), "hana")
    state = parse_qs(urlsplit(callback).query)["state"][0]
    tampered = _with(callback, state=state[:-2] + ("AA" if not state.endswith("AA") else "BB"))
    reason = _refused(live, browser, browser.get(tampered, allow_redirects=False, timeout=30))
    assert "does not belong to the sign-in started in this browser" in reason
    assert signed_in_as(live, browser) is None
    # the genuine answer, after the forged one, finds nothing pending: an answer is tried once
    again = browser.get(callback, allow_redirects=False, timeout=30)
    assert again.status_code == 403
    assert "already used" in live.text(again)
    assert signed_in_as(live, browser) is None


def test_a_callback_from_another_browser_is_refused(live, browser):
    """Login CSRF: an attacker's own code and state, sent to the victim's browser, sign nobody in."""
    callback = live.provider.sign_in(browser, live.start(browser), "hana")
    with requests.Session() as victim:
        response = victim.get(callback, allow_redirects=False, timeout=30, headers={"Accept": "text/html"})
        assert response.status_code == 403
        assert "already used, or was started in another browser" in live.text(response)
        assert signed_in_as(live, victim) is None


def test_a_replayed_callback_and_a_replayed_code_are_refused(live, browser):
    callback = live.provider.sign_in(browser, live.start(browser), "hana")
    assert browser.get(callback, allow_redirects=False, timeout=30).status_code == 303
    assert signed_in_as(live, browser) == "Hana HR"
    replay = browser.get(callback, allow_redirects=False, timeout=30, headers={"Accept": "text/html"})
    assert replay.status_code == 403 and "already used" in live.text(replay)
    # the used code inside a fresh sign-in of another browser (its own state): the provider refuses it
    with requests.Session() as other:
        fresh = parse_qs(urlsplit(live.start(other)).query)["state"][0]
        response = other.get(_with(callback, state=fresh), allow_redirects=False, timeout=30)
        reason = _refused(live, other, response)
        assert "refused this sign-in's code" in reason
        assert signed_in_as(live, other) is None


def test_cancelling_at_the_provider_says_so(live, browser):
    callback = live.provider.sign_in(browser, live.start(browser), "hana", cancel=True)
    assert parse_qs(urlsplit(callback).query)["error"] == ["access_denied"]
    reason = _refused(live, browser, browser.get(callback, allow_redirects=False, timeout=30))
    assert "cancelled at the identity provider" in reason


def test_an_answer_from_another_provider_is_refused(live, browser):
    """Mix-up: the RFC 9207 ``iss`` of the answer must be the configured provider."""
    callback = live.provider.sign_in(browser, live.start(browser), "hana")
    reason = _refused(live, browser, browser.get(_with(callback, iss="https://evil.example"),
                                                 allow_redirects=False, timeout=30))
    assert "came from another identity provider" in reason


def test_the_console_sign_in_page_offers_the_provider(live, browser):
    page = browser.get(f"{live.base}/admin/login", params={"next": "/admin/awards"}, timeout=30)
    link = re.search(r'<a class="button secondary" href="([^"]+)">Sign in with Example SSO</a>', page.text)
    assert link, "no provider button on the sign-in page"
    assert link.group(1) == "/oidc/start?for=staff&amp;next=/admin/awards"


def test_the_next_page_is_kept_inside_the_console(live, browser):
    callback = live.provider.sign_in(browser, live.start(browser, next="https://evil.example/"), "hana")
    response = browser.get(callback, allow_redirects=False, timeout=30)
    assert response.status_code == 303 and response.headers["Location"] == "/admin/"


@pytest.fixture
def employee_space(live):
    """A small, real employee sign-in: records the address and starts a (cookie) session."""
    seen: list[str] = []

    def start_employee_session(email: str) -> Response:
        seen.append(email)
        response = redirect("/me", 303)
        response.set_cookie("employee_test_session", email, httponly=True, samesite="Lax")
        return response

    registered = live.app.extensions.get("microcred_employee_sign_in")     # the employee space's own
    live.app.extensions["microcred_employee_sign_in"] = start_employee_session
    yield seen
    live.app.extensions["microcred_employee_sign_in"] = registered


def test_employee_sign_in_hands_the_verified_address_to_the_employee_space(live, browser, employee_space):
    callback = live.provider.sign_in(browser, live.start(browser, "employee"), "emp")
    response = browser.get(callback, allow_redirects=False, timeout=30)
    assert response.status_code == 303 and response.headers["Location"] == "/me"
    assert employee_space == ["emp@example.com"]
    assert browser.cookies.get("employee_test_session") == "emp@example.com"
    assert signed_in_as(live, browser) is None          # an employee is not signed into the console


def test_employee_sign_in_refuses_an_unverified_address(live, browser, employee_space):
    callback = live.provider.sign_in(browser, live.start(browser, "employee"), "unverified")
    response = browser.get(callback, allow_redirects=False, timeout=30, headers={"Accept": "text/html"})
    assert response.status_code == 403 and "has not verified the address" in live.text(response)
    assert employee_space == []


def test_employee_sign_in_is_not_there_without_an_employee_space(live, browser):
    registered = live.app.extensions.pop("microcred_employee_sign_in")     # the app's own: /me takes them
    try:
        response = browser.get(f"{live.base}/oidc/start", params={"for": "employee"}, allow_redirects=False,
                               timeout=30)
    finally:
        live.app.extensions["microcred_employee_sign_in"] = registered
    assert response.status_code == 404
    assert browser.get(f"{live.base}/oidc/start", params={"for": "root"}, allow_redirects=False,
                       timeout=30).status_code == 404


def test_sign_in_starts_and_callbacks_are_limited_per_address(live, browser):
    live.app.config["OIDC_RATE_LIMIT"] = "3/hour"           # a window of its own: earlier requests do not count
    try:
        answers = [browser.get(f"{live.base}/oidc/start", params={"for": "staff"}, allow_redirects=False,
                               timeout=30).status_code for _ in range(3)]
        assert answers == [302, 302, 302]
        over = browser.get(f"{live.base}/oidc/callback", params={"code": "x", "state": "y"}, allow_redirects=False,
                           timeout=30, headers={"Accept": "text/html"})
        assert over.status_code == 429 and "Too many sign-in attempts" in live.text(over)
    finally:
        live.app.config["OIDC_RATE_LIMIT"] = "1000/minute"
