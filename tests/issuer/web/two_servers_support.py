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

    def test_something(pair):                          # module fixture: servers A and B, A's URL the base URL
        web = Browser(pair.a.url)                      # one cookie jar
        web.post(pair.b.url, "/admin/login", {...}, token=web.token(pair.a.url, "/admin/login"))
        pair.api(pair.a.url, "POST", "/api/v1/awards", json={...})     # with an API token
"""
from __future__ import annotations

import re
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from sqlalchemy import func, select
from werkzeug.serving import BaseWSGIServer, make_server

from issuer.access.tokens import create_token
from issuer.config import Settings, load_settings
from issuer.db.models import Achievement, Issuer, OutboxMessage
from issuer.instance import SECRET_KEY_ENV
from issuer.web import create_app
from tests.admin_support import PASSWORD, add_staff
from tests.db_fixtures import throwaway_database
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


# ------------------------------------------------------------------ the pair of servers (module fixtures)
#
# A test module imports both fixtures, ``database`` and ``pair`` (with a noqa comment for F401: pytest uses them).

GOOD = (b"email,name,achievement,external_id\r\n"
        b"ana@example.com,Ana Lopez,teamwork,two-1\r\n"
        b"ben@example.com,Ben Okafor,teamwork,two-2\r\n"
        b"cho@example.com,Cho Park,teamwork,two-3\r\n")
DEADLINE = 120


@dataclass
class Pair:
    a: Served
    b: Served
    stranger: Flask             # the same database and base URL, another secret key (not served)
    secret: str
    token: str                  # an API token of scope "issue"
    root: Path
    database_url: str

    def api(self, server: str, method: str, path: str, **kwargs) -> requests.Response:
        """A REST API request with the token to the server at ``server`` (a URL)."""
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        return requests.request(method, server + path, headers=headers, timeout=30, **kwargs)

    def count(self, model, *where) -> int:
        with self.a.app.extensions["microcred"].sessions() as session:
            return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


@pytest.fixture(scope="module")
def database(postgres_url) -> Iterator[str]:
    """A database of this module's own on the session's PostgreSQL server."""
    with throwaway_database(postgres_url, "microcred_two") as url:
        yield url


@pytest.fixture(scope="module")
def pair(database, tmp_path_factory) -> Iterator[Pair]:
    """Server A (initialises the issuer), then server B; the base URL is A's address."""
    root = tmp_path_factory.mktemp("two-servers")
    keys, secret = root / "keys", secrets.token_urlsafe(48)

    def first(url: str) -> Flask:
        app = app_with_secret(server_settings(root / "a", database, url, keys), secret)
        app.extensions["microcred"].use.setup.init(name="Example Corp")
        add_achievement(app)
        for username in ("hana", "omar"):
            add_staff(app, username, "issuer", name=username.title())
        add_staff(app, "ada", "admin", name="Ada")
        return app

    a = serve(first)
    b = serve(lambda _url: app_with_secret(server_settings(root / "b", database, a.url, keys), secret))
    stranger = app_with_secret(server_settings(root / "c", database, a.url, keys), secrets.token_urlsafe(48))
    with a.app.extensions["microcred"].sessions.begin() as session:
        token = create_token(session, scope="issue", name="two servers")[1]
    try:
        yield Pair(a, b, stranger, secret, token, root, database)
    finally:
        for served in (a, b):
            assert served.app.extensions["microcred"].use.bulk.jobs.wait_all(DEADLINE)
            served.stop()
        stranger.extensions["microcred"].engine.dispose()


def signed_in(pair: Pair, username: str = "hana", *, form_from: Served | None = None,
              post_to: Served | None = None) -> Browser:
    """A browser signed in to the console: the form from one server, sent to the other."""
    web = Browser(pair.a.url)
    token = web.token((form_from or pair.b).url, "/admin/login")
    answer = web.post((post_to or pair.a).url, "/admin/login", {"username": username, "password": PASSWORD},
                      token=token)
    assert answer.status_code == 303 and answer.headers["Location"] == "/admin/", answer.text
    return web


def page_text(response: requests.Response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.text))


def upload(web: Browser, server: str, data: bytes, filename: str = "awards.csv") -> str:
    """Upload a CSV on the console of the server at ``server`` (a URL); the new job's id."""
    answer = web.post(server, "/admin/bulk", token=web.token(server, "/admin/bulk"),
                      files={"file": (filename, data, "text/csv")})
    assert answer.status_code == 303, page_text(answer)
    match = re.fullmatch(r"/admin/bulk/([0-9a-f-]{36})", answer.headers["Location"])
    assert match, answer.headers["Location"]
    return match.group(1)


def confirm(web: Browser, server: str, job_id: str) -> str:
    """Press "Issue" on ``server``; the message the job's page then shows (on the same server)."""
    path = f"/admin/bulk/{job_id}"
    answer = web.post(server, f"{path}/confirm", token=web.token(server, path))
    assert answer.status_code == 303 and answer.headers["Location"] == path
    return page_text(web.get(server, path))


def wait_done(web: Browser, server: str, job_id: str) -> dict:
    deadline = time.monotonic() + DEADLINE
    while True:
        progress = web.get(server, f"/admin/bulk/{job_id}/progress").json()
        if progress["state"] in ("done", "failed") or time.monotonic() > deadline:
            return progress
        time.sleep(0.1)


STARTED, NOT_STARTED = "Issuing has started", "This job was not started"


def signed_by(credential: dict) -> str:
    """The key (verification method) a credential's proof names."""
    proof = credential["proof"]
    return (proof if isinstance(proof, dict) else proof[0])["verificationMethod"]


def verdict(server: str, credential: dict) -> str:
    """The outcome the mounted verifier of ``server`` gives ``credential`` (its headline when not verified)."""
    report = requests.post(f"{server}/verify/api/verify", json={"credential": credential}, timeout=60).json()
    return report["outcome"] if report["outcome"] == "verified" else report["headline"]


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
