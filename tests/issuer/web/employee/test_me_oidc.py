"""Employees sign in with the company's identity provider, end to end: the real issuer app served on
loopback with the demo awards, a real OpenID Connect provider (panva's oidc-provider on node) on
loopback, and ``requests`` as the browser (it follows the "Sign in with" button, signs in and
consents at the provider, and comes back to the callback).

What must hold: the button is on /me/sign-in (and not without a provider: test_me_data.py), the
person lands on My badges signed in as the address the provider verified (whatever its case), the
session is the one a link opens (a row in ``employee_sessions``, ended by signing out), an
address with no badges gets the sign-in page saying so and no session, an unverified address is
refused, and the data download works for the session (their own data only).
"""
from __future__ import annotations

import html
import re

import pytest
import requests
from sqlalchemy import select

from issuer.db.models_employee import EmployeeSession
from tests.issuer.employees.support import ALEX, SOFIA
from tests.oidc_provider import console_with_provider

ACCOUNTS = {
    "alex": {"email": "Alex.Morgan@Example.com", "email_verified": True, "name": "Alex Morgan"},
    "nobody": {"email": "nobody@example.com", "email_verified": True},
    "sneaky": {"email": SOFIA, "email_verified": False},
}
COOKIE = "microcred_me"          # plain http on loopback: not the __Host- name


def _prepare(app) -> None:
    app.config["OIDC_RATE_LIMIT"] = "1000/minute"     # every request comes from 127.0.0.1
    app.extensions["microcred"].use.setup.seed_demo()


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    with console_with_provider(tmp_path_factory.mktemp("me-oidc"), ACCOUNTS, _prepare, name="Example SSO") as found:
        yield found


@pytest.fixture
def browser():
    with requests.Session() as session:
        yield session


def text(response: requests.Response) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.text))).strip()


def sessions_of(app, email: str) -> list[EmployeeSession]:
    with app.extensions["microcred"].sessions() as session:
        return list(session.scalars(select(EmployeeSession).where(EmployeeSession.email == email)))


def through_the_provider(live, browser: requests.Session, login: str) -> requests.Response:
    """Press "Sign in with Example SSO" on /me/sign-in, sign in at the provider as ``login``; the callback's answer."""
    app, base, provider = live
    page = browser.get(f"{base}/me/sign-in", timeout=30)
    button = re.search(r'<a class="me-button me-button-quiet" id="provider-sign-in" href="([^"]+)">'
                       r"Sign in with Example SSO</a>", page.text)
    assert button, "no provider button on /me/sign-in"
    assert html.unescape(button.group(1)) == "/oidc/start?for=employee"
    start = browser.get(base + html.unescape(button.group(1)), allow_redirects=False, timeout=30)
    assert start.status_code == 302 and start.headers["Location"].startswith(provider.issuer + "/auth?")
    callback = provider.sign_in(browser, start.headers["Location"], login)
    return browser.get(callback, allow_redirects=False, timeout=30, headers={"Accept": "text/html"})


def test_an_employee_signs_in_with_the_provider_and_sees_my_badges(live, browser):
    app, base, _provider = live
    before = len(sessions_of(app, ALEX))
    answer = through_the_provider(live, browser, "alex")
    assert answer.status_code == 303 and answer.headers["Location"] == "/me/"
    assert browser.cookies.get(COOKIE)
    page = browser.get(f"{base}/me/", allow_redirects=False, timeout=30)
    assert page.status_code == 200
    assert f"Signed in as {ALEX}" in text(page)                 # the verified address, lower-cased
    assert "Team Leadership" in text(page) and "Coaching and Feedback" in text(page)
    assert SOFIA not in page.text
    assert len(sessions_of(app, ALEX)) == before + 1             # the same kind of session a link opens

    data = browser.get(f"{base}/me/data.json", allow_redirects=False, timeout=30)
    assert data.status_code == 200 and data.json()["email"] == ALEX
    assert {a["achievement"]["name"] for a in data.json()["awards"]} == {"Team Leadership", "Coaching and Feedback"}

    form = re.search(r'action="/me/sign-out">\s*<input type="hidden" name="csrf_token" value="([^"]+)"', page.text)
    assert form, "no sign-out form"
    out = browser.post(f"{base}/me/sign-out", data={"csrf_token": form.group(1)}, allow_redirects=False, timeout=30)
    assert out.status_code == 303
    assert all(s.ended_at is not None for s in sessions_of(app, ALEX))
    assert browser.get(f"{base}/me/", allow_redirects=False, timeout=30).status_code == 302


def test_an_address_without_badges_is_told_so_and_gets_no_session(live, browser):
    app, base, _provider = live
    answer = through_the_provider(live, browser, "nobody")
    assert answer.status_code == 303 and answer.headers["Location"] == "/me/sign-in"
    assert COOKIE not in browser.cookies
    page = browser.get(f"{base}/me/sign-in", timeout=30)
    assert "You signed in as nobody@example.com, but no badges have been given to that address here." in text(page)
    assert sessions_of(app, "nobody@example.com") == []
    assert browser.get(f"{base}/me/", allow_redirects=False, timeout=30).status_code == 302


def test_an_unverified_address_is_refused_even_when_it_holds_badges(live, browser):
    app, base, _provider = live
    answer = through_the_provider(live, browser, "sneaky")
    assert answer.status_code == 403 and "has not verified the address" in text(answer)
    assert COOKIE not in browser.cookies
    assert sessions_of(app, SOFIA) == []
