"""Helpers for the console (/admin) tests: an app with an issuer, staff accounts, a signed-in
test client that sends CSRF tokens like the browser's forms do, and a live loopback server.

    from tests.admin_support import console_app, Console, add_staff, PASSWORD

    app = console_app(tmp_path, db_url)
    add_staff(app, "hana", "issuer")
    hr = Console(app).login("hana")
    page = hr.get("/admin/awards")                   # a signed-in GET
    hr.post("/admin/keys/rotate", {"confirm": "yes"})  # csrf_token added from the session
"""
from __future__ import annotations

import html
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from unittest.mock import patch

from flask import Flask
from werkzeug.security import generate_password_hash as _generate_password_hash
from werkzeug.serving import make_server

from issuer.access import staff as staff_module
from issuer.access.staff import create_user
from issuer.config import load_settings
from issuer.web import create_app

BASE = "https://hr.example.com"
PASSWORD = "correct horse battery staple"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


class Clock:
    """A settable clock for the app."""

    def __init__(self) -> None:
        self.now: datetime | None = None

    def __call__(self) -> datetime:
        return self.now or datetime.now(UTC)


def console_app(tmp_path: Path, db_url: str, base_url: str = BASE, clock: Clock | None = None, *,
                demo: bool = False, issuer_name: str = "Example Corp") -> Flask:
    """The issuer app with an initialized issuer (and the demo data when ``demo``)."""
    settings = load_settings({}, instance=tmp_path / "instance", keys_dir=tmp_path / "keys", database_url=db_url,
                             base_url=base_url)
    app = create_app(settings, clock=clock)
    state = app.extensions["microcred"]
    if demo:
        state.use.setup.seed_demo()
    else:
        state.use.setup.init(name=issuer_name)
    return app


_HASHES: dict[tuple[str, str], str] = {}


def _hash_once(password: str, method: str = "scrypt") -> str:
    """The production hash of ``password`` (``issuer.access.staff.HASH_METHOD``, full cost), computed once
    per test process: fixture accounts share their salt, so setting up a test costs no scrypt run.
    Sign-ins still check the password with scrypt; ``create_user`` called directly salts anew."""
    key = (password, method)
    if key not in _HASHES:
        _HASHES[key] = _generate_password_hash(password, method=method)
    return _HASHES[key]


def add_staff(app: Flask, username: str, role: str = "issuer", password: str = PASSWORD,
              name: str | None = None) -> str:
    """Create a staff account (with :func:`issuer.access.staff.create_user`); returns its id."""
    with app.extensions["microcred"].sessions.begin() as session, \
            patch.object(staff_module, "generate_password_hash", _hash_once):
        return create_user(session, username, password, role, name=name).id


def page_text(response) -> str:
    """The visible text of an HTML response, whitespace collapsed, entities decoded."""
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", response.get_data(as_text=True), flags=re.S)
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text))).strip()


class Console:
    """A Flask test client acting as one signed-in member of staff."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.client = app.test_client()

    def csrf_token(self, path: str = "/admin/login") -> str:
        response = self.client.get(path, follow_redirects=True)
        match = CSRF_FIELD.search(response.get_data(as_text=True))
        assert match, f"no csrf_token field on {path} ({response.status_code})"
        return match.group(1)

    def login(self, username: str, password: str = PASSWORD) -> Console:
        response = self.client.post("/admin/login", data={"username": username, "password": password,
                                                          "csrf_token": self.csrf_token()})
        assert response.status_code == 303, page_text(response)
        return self

    def get(self, path: str, **kwargs):
        return self.client.get(path, **kwargs)

    def post(self, path: str, data: dict | None = None, *, token_from: str = "/admin/", **kwargs):
        """POST a form with a valid CSRF token (from any console page of this session)."""
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf_token(token_from))
        return self.client.post(path, data=data, **kwargs)


@contextmanager
def live_console(app_factory) -> Iterator[tuple[Flask, str]]:
    """Serve ``app_factory(base_url)`` with werkzeug on 127.0.0.1 (threads); yields (app, base URL)."""
    holder: dict = {}
    server = make_server("127.0.0.1", 0, lambda environ, start: holder["app"](environ, start), threaded=True)
    base_url = f"http://127.0.0.1:{server.server_port}"
    holder["app"] = app_factory(base_url)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield holder["app"], base_url
    finally:
        server.shutdown()
        server.server_close()
        holder["app"].extensions["microcred"].engine.dispose()


def browser_login(page, base_url: str, username: str, password: str = PASSWORD) -> None:
    """Sign in through the real form in a Playwright page."""
    page.goto(f"{base_url}/admin/login")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/admin/(?!login).*"))
