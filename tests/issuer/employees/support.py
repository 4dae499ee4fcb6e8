"""Helpers for the employees' space tests: an app with the demo awards, a settable clock, the
sign-in links as the outbox holds them, and a test client that signs in the way a person does.

    app = employee_app(tmp_path, db_url, clock)
    ids = award_ids(app)                                   # {(email, achievement name): award id}
    me = EmployeeClient(app).sign_in(ALEX)                 # asks for a link, reads it from the outbox, uses it
    me.post("/me/badges/<id>/name", {"show": "yes"})       # csrf_token from the page, like the browser's form

The fixtures ``clock`` (at :data:`NOW`), ``app``, ``employees``, ``services`` and ``ids`` are shared
by the test modules that import them (``from tests.issuer.employees.support import app, clock  # noqa: F401``).
"""
from __future__ import annotations

import email
import email.policy
import html
import re
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from issuer.db.models import Achievement, Award, OutboxMessage, Recipient
from tests.admin_support import Clock, console_app

ALEX = "alex.morgan@example.com"            # Team Leadership, Coaching and Feedback (24 months each)
SOFIA = "sofia.lindqvist@example.com"       # Data-Driven Decision Making (12 months), Conflict Resolution (24)
LINK = re.compile(r"(https?://\S+/me/sign-in/([A-Za-z0-9_-]+))")
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def employee_app(tmp_path: Path, db_url: str, clock: Clock | None = None, base_url: str = "https://hr.example.com",
                 ) -> Flask:
    """The issuer app with the demo issuer, achievements and awards (issued at the clock's time)."""
    return console_app(tmp_path, db_url, base_url, clock=clock, demo=True)


def award_ids(app: Flask) -> dict[tuple[str, str], str]:
    with app.extensions["microcred"].sessions() as session:
        rows = session.execute(select(Recipient.email, Achievement.name, Award.id)
                               .join(Recipient, Award.recipient_id == Recipient.id)
                               .join(Achievement, Award.achievement_id == Achievement.id)).all()
    return {(email, name): award_id for email, name, award_id in rows}


def sign_in_mails(app: Flask, email: str | None = None) -> list[OutboxMessage]:
    """The sign-in emails in the outbox (to ``email``), oldest first."""
    with app.extensions["microcred"].sessions() as session:
        query = select(OutboxMessage).where(OutboxMessage.key.like("sign-in:%")).order_by(OutboxMessage.id)
        if email is not None:
            query = query.where(OutboxMessage.to_address == email)
        return list(session.scalars(query))


def link_in(message: OutboxMessage) -> tuple[str, str]:
    """(the sign-in URL, its token) from an email's text."""
    match = LINK.search(message.body)
    assert match, message.body
    return match.group(1), match.group(2)


def delivered_links(app: Flask, address: str) -> list[tuple[str, str]]:
    """(URL, token) of every sign-in email delivered to ``address``, oldest first, as the person received
    them: the ``.eml`` files the outbox writes to ``<instance>/outbox-mail/`` when no SMTP server is set."""
    folder = app.extensions["microcred"].settings.instance / "outbox-mail"
    links = []
    for path in sorted(folder.glob("*.eml"), key=lambda p: (p.stat().st_mtime_ns, p.name)):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        body = message.get_body(preferencelist=("plain",))
        match = LINK.search(body.get_content() if body is not None else "")
        if address in str(message["To"]) and match:
            links.append((match.group(1), match.group(2)))
    return links


def wait_for_link(app: Flask, address: str, seen: int = 0, patience: float = 20.0) -> tuple[str, str]:
    """The newest sign-in link delivered to ``address`` once more than ``seen`` were (the app sends after
    answering, so the email may arrive a moment after the page)."""
    deadline = time.monotonic() + patience
    while True:
        links = delivered_links(app, address)
        if len(links) > seen:
            return links[-1]
        assert time.monotonic() < deadline, f"no sign-in email reached {address}"
        time.sleep(0.05)


def page_text(response) -> str:
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", response.get_data(as_text=True), flags=re.S)
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text))).strip()


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


class EmployeeClient:
    """A Flask test client for one person: forms carry the CSRF token the page gave."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.client = app.test_client()
        self.base_url = app.extensions["microcred"].settings.base_url     # https: the cookies are Secure

    def csrf_token(self, path: str = "/me/sign-in") -> str:
        response = self.client.get(path, headers=HTML, base_url=self.base_url)
        match = CSRF_FIELD.search(response.get_data(as_text=True))
        assert match, f"no csrf_token on {path} ({response.status_code})"
        return match.group(1)

    def post(self, path: str, data: dict | None = None, *, token_from: str = "/me/sign-in", **kwargs):
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf_token(token_from))
        kwargs.setdefault("headers", HTML)
        return self.client.post(path, data=data, base_url=self.base_url, **kwargs)

    def get(self, path: str, **kwargs):
        kwargs.setdefault("headers", HTML)
        return self.client.get(path, base_url=self.base_url, **kwargs)

    def ask_link(self, email: str):
        return self.post("/me/sign-in", {"email": email})

    def sign_in(self, email: str) -> EmployeeClient:
        """Ask for a link, take the newest one from the outbox, open it and press "Sign in"."""
        response = self.ask_link(email)
        assert response.status_code == 200, page_text(response)
        _url, token = link_in(sign_in_mails(self.app, email.strip().lower())[-1])
        page = self.get(f"/me/sign-in/{token}")
        assert page.status_code == 200, page_text(page)
        response = self.post(f"/me/sign-in/{token}", token_from=f"/me/sign-in/{token}")
        assert response.status_code == 303 and response.headers["Location"].endswith("/me/"), page_text(response)
        return self


NOW = utc(2026, 12, 6, 9, 0)


@pytest.fixture()
def clock() -> Clock:
    """The app's clock, at :data:`NOW` (tests move it)."""
    clock = Clock()
    clock.now = NOW
    return clock


@pytest.fixture()
def app(db_url, tmp_path, clock):
    """The app with the demo awards on the test's database, at ``clock``."""
    app = employee_app(tmp_path, db_url, clock)
    yield app
    app.extensions["microcred"].engine.dispose()


@pytest.fixture()
def services(app):
    return app.extensions["microcred"].use


@pytest.fixture()
def employees(app):
    return app.extensions["microcred"].use.employees


@pytest.fixture()
def ids(app):
    return award_ids(app)
