"""Two app servers on one PostgreSQL database, and a browser whose requests land on either (issue 15 §2).

What a deployment with several app servers must give every one of them, as these helpers do:

* the same secret key, ``MICROCRED_SECRET_KEY`` (:func:`issuer.instance.load_secret_key`: without
  it each server makes its own ``<instance>/secret_key`` file, and a sign-in cookie, a form's CSRF
  token or a flashed message made by one server is refused by the other);
* the same database (``DATABASE_URL``, PostgreSQL): console and employee sessions, sign-in
  links, API tokens, idempotency keys and bulk jobs live there and nowhere else;
* the same keys folder (``MICROCRED_KEYS``): the signing keys are files there (the database names
  them), so every server must see the same files, including a key rotated through one of them;
* the same base URL (``MICROCRED_BASE_URL``: the address people use, the load balancer's);
* and, for limits, one shared rate-limit store (``MICROCRED_RATELIMIT_STORAGE_URI``).

Each server here has an instance folder of its own (as on separate machines).

    pair = start_pair(tmp, database_url, secret)       # two werkzeug servers, each with its own create_app
    web = Browser()                                    # one cookie jar
    web.get(pair.a, "/admin/login"); web.post(pair.b, "/admin/login", {...}, token_from=(pair.a, "/admin/login"))
"""
from __future__ import annotations

import re
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from sqlalchemy import select
from werkzeug.serving import BaseWSGIServer, make_server

from issuer.config import Settings, load_settings
from issuer.db.models import Achievement, Issuer, OutboxMessage
from issuer.instance import SECRET_KEY_ENV
from issuer.web import create_app
from tests.http_fixtures import unused_port
from tests.verifier.test_web_serve import wait_for

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
LINK = re.compile(r"/me/sign-in/([A-Za-z0-9_-]+)")
TIMEOUT = 30
START_TIMEOUT = 90          # seconds for a microcred serve to listen (a loaded CI machine starts gunicorn slowly)


def server_settings(folder: Path, database_url: str, base_url: str, keys: Path,
                    ratelimit_storage_uri: str = "memory://") -> Settings:
    """One server's settings: its own instance folder; the shared database, keys folder, base URL
    (and limits store)."""
    return load_settings({}, instance=folder / "instance", keys_dir=keys, database_url=database_url,
                         base_url=base_url, ratelimit_storage_uri=ratelimit_storage_uri)


def app_with_secret(settings: Settings, secret: str) -> Flask:
    """``create_app`` with ``$MICROCRED_SECRET_KEY`` set to ``secret``, as a server's environment would."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(SECRET_KEY_ENV, secret)
        return create_app(settings)


@dataclass
class Served:
    """One running server: its own app and its own loopback address."""

    app: Flask
    url: str
    server: BaseWSGIServer = field(repr=False)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.app.extensions["microcred"].engine.dispose()


def serve(make_app: Any) -> Served:
    """A threaded werkzeug server on 127.0.0.1 for ``make_app(its url)``."""
    holder: dict[str, Flask] = {}
    server = make_server("127.0.0.1", 0, lambda environ, start: holder["app"](environ, start), threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    try:
        holder["app"] = make_app(url)
    except BaseException:
        server.server_close()
        raise
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return Served(holder["app"], url, server)


def add_achievement(app: Flask, slug: str = "teamwork", name: str = "Teamwork") -> None:
    state = app.extensions["microcred"]
    with state.sessions.begin() as session:
        issuer = session.scalars(select(Issuer).where(Issuer.did == state.settings.did)).one()
        session.add(Achievement(issuer_id=issuer.id, slug=slug, name=name, description="Works well with others.",
                                criteria_narrative="Assessed in a team project.", validity_months=24))


def newest_sign_in_token(app: Flask, address: str) -> str:
    """The token of the newest sign-in link queued for ``address`` (the outbox is in the shared database)."""
    with app.extensions["microcred"].sessions() as session:
        body = session.scalars(select(OutboxMessage.body).where(
            OutboxMessage.key.like("sign-in:%"), OutboxMessage.to_address == address)
            .order_by(OutboxMessage.id.desc())).first()
    assert body is not None, f"no sign-in email for {address}"
    match = LINK.search(body)
    assert match, body
    return match.group(1)


class Browser:
    """One person's browser: one ``requests.Session`` (one cookie jar) sending each request to the
    server the test names, as a load balancer without sticky sessions may. Redirects are not
    followed (the test sees where each answer sends the browser). Forms carry the page's
    ``csrf_token`` and the ``Origin`` a browser sends (the public base URL)."""

    def __init__(self, origin: str) -> None:
        self.http = requests.Session()
        self.origin = origin

    def get(self, server: str, path: str, **kwargs: Any) -> requests.Response:
        return self.http.get(server + path, allow_redirects=False, timeout=TIMEOUT, **kwargs)

    def token(self, server: str, path: str) -> str:
        """The CSRF token of the form on ``path`` as ``server`` serves it to this browser."""
        page = self.get(server, path)
        match = CSRF_FIELD.search(page.text)
        assert match, f"no csrf_token on {path} ({page.status_code})"
        return match.group(1)

    def post(self, server: str, path: str, data: Mapping[str, Any] | None = None, *, token: str | None = None,
             **kwargs: Any) -> requests.Response:
        form = dict(data or {})
        if token is not None:
            form["csrf_token"] = token
        headers = {"Origin": self.origin, **kwargs.pop("headers", {})}
        return self.http.post(server + path, data=form, headers=headers, allow_redirects=False, timeout=TIMEOUT,
                              **kwargs)

    def cookies(self) -> dict[str, str]:
        return {cookie.name: cookie.value or "" for cookie in self.http.cookies}

    def with_cookies(self, cookies: Mapping[str, str]) -> Browser:
        """Another browser holding copies of ``cookies`` (a stolen or kept cookie)."""
        other = Browser(self.origin)
        for name, value in cookies.items():
            other.http.cookies.set(name, value, domain="127.0.0.1", path="/")
        return other


# ------------------------------------------------------------------ real `microcred serve` processes

@contextmanager
def microcred_serves(envs: list[Mapping[str, str]]) -> Iterator[list[str]]:
    """One real ``microcred serve`` process (gunicorn, one worker) for each environment in ``envs``;
    yields their URLs once each answers, and stops them afterwards."""
    ports = [unused_port() for _ in envs]
    processes = [subprocess.Popen([sys.executable, "-c", "from issuer.cli.serve import serve; serve()", "--port",
                                   str(port), "--workers", "1", "--threads", "4"],
                                  env=dict(env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                 for port, env in zip(ports, envs, strict=True)]
    outputs: list[str] = []
    try:
        try:
            for port, process in zip(ports, processes, strict=True):
                wait_for(port, process, START_TIMEOUT)
        except AssertionError:
            _stop(processes, outputs)
            raise AssertionError("a microcred serve did not start:\n" + "\n---\n".join(outputs)) from None
        yield [f"http://127.0.0.1:{port}" for port in ports]
    finally:
        _stop(processes, outputs)


def _stop(processes: list[subprocess.Popen[str]], outputs: list[str]) -> None:
    """Stop the processes still running; their output into ``outputs``."""
    for process in processes:
        if process.returncode is None:
            process.terminate()
    for process in processes:
        if process.returncode is not None and process.stdout is not None and process.stdout.closed:
            continue
        try:
            outputs.append(process.communicate(timeout=30)[0] or "")
        except subprocess.TimeoutExpired:
            process.kill()
            outputs.append(process.communicate()[0] or "")
