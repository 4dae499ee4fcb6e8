"""Rate limits shared by several app servers through a real Redis (issue 15 §2).

Two apps made by ``create_app`` on one database and one ``MICROCRED_RATELIMIT_STORAGE_URI``
stand for two app servers behind a load balancer: the console sign-in limit, the API token
limit, the /me sign-in limit and the mounted verifier's limit are each reached partly on one
app, partly on the other. Also: two real ``werkzeug`` servers on loopback and two ``microcred
serve`` processes; ``memory://`` (the default) keeps one count per process; an unreachable store
refuses sign-ins (fail closed) and counts the API in the process.
"""
from __future__ import annotations

import logging
import os
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from flask import Flask
from werkzeug.serving import make_server

from issuer.access.tokens import create_token
from issuer.config import load_settings
from issuer.web import create_app
from issuer.web.app import _verifier_config
from issuer.web.ratelimit import UNREACHABLE_WAIT
from tests.admin_support import BASE, Console, add_staff
from tests.issuer.employees.support import EmployeeClient
from tests.redis_fixtures import _free_port

WRONG = {"username": "nobody", "password": "guess guess guess"}


def two_apps(tmp_path: Path, db_url: str, storage_uri: str) -> tuple[Flask, Flask]:
    """Two app servers on one database and one rate-limit store; the issuer initialised once."""
    settings = load_settings({}, instance=tmp_path / "instance", keys_dir=tmp_path / "keys", database_url=db_url,
                             base_url=BASE, ratelimit_storage_uri=storage_uri)
    first = create_app(settings)
    first.extensions["microcred"].use.setup.init(name="Example Corp")
    add_staff(first, "ada", "admin", name="Ada Admin")
    second = create_app(settings)
    return first, second


@pytest.fixture()
def close_apps() -> Iterator[list[Flask]]:
    apps: list[Flask] = []
    yield apps
    for app in apps:
        app.extensions["microcred"].engine.dispose()


def sign_in(console: Console, token: str, **form) -> int:
    return console.client.post("/admin/login", data={**WRONG, **form, "csrf_token": token}).status_code


def api_token(app: Flask) -> str:
    with app.extensions["microcred"].sessions.begin() as session:
        return create_token(session, scope="read", name="shared limit")[1]


def test_two_apps_on_one_redis_enforce_one_console_sign_in_limit(db_url, tmp_path, redis_url, close_apps):
    first, second = close_apps[:] = two_apps(tmp_path, db_url, redis_url)
    for app in (first, second):
        app.config["ADMIN_LOGIN_RATE_LIMIT"] = "4/minute"
    one, two = Console(first), Console(second)
    tokens = one.csrf_token(), two.csrf_token()
    assert [sign_in(one, tokens[0]), sign_in(two, tokens[1]), sign_in(one, tokens[0]), sign_in(two, tokens[1])] == \
        [401] * 4
    assert sign_in(one, tokens[0]) == 429           # the fifth attempt, on either server, is over the one limit
    assert sign_in(two, tokens[1], username="ada", password="x" * 20) == 429


def test_the_me_sign_in_limit_per_address_is_one_across_both_apps(db_url, tmp_path, redis_url, close_apps):
    first, second = close_apps[:] = two_apps(tmp_path, db_url, redis_url)
    for app in (first, second):
        app.config["ME_SIGN_IN_ADDRESS_LIMIT"] = "2/hour"
    one, two = EmployeeClient(first), EmployeeClient(second)
    statuses = [person.ask_link("alex@example.com").status_code for person in (one, two, one)]
    assert statuses == [200, 200, 429]
    assert two.ask_link("sam@example.com").status_code == 200        # per address


def test_with_memory_each_process_keeps_its_own_count(db_url, tmp_path, close_apps):
    first, second = close_apps[:] = two_apps(tmp_path, db_url, "memory://")
    for app in (first, second):
        app.config["ADMIN_LOGIN_RATE_LIMIT"] = "2/minute"
    one, two = Console(first), Console(second)
    tokens = one.csrf_token(), two.csrf_token()
    assert [sign_in(one, tokens[0]), sign_in(one, tokens[0]), sign_in(one, tokens[0])] == [401, 401, 429]
    assert [sign_in(two, tokens[1]), sign_in(two, tokens[1]), sign_in(two, tokens[1])] == [401, 401, 429]


def test_the_api_token_limit_is_one_across_both_apps(db_url, tmp_path, redis_url, close_apps):
    first, second = close_apps[:] = two_apps(tmp_path, db_url, redis_url)
    for app in (first, second):
        app.config["API_RATE_LIMIT"] = "3/minute"
    headers = {"Authorization": f"Bearer {api_token(first)}"}
    a, b = first.test_client(), second.test_client()
    statuses = [client.get("/api/v1/achievements", headers=headers).status_code for client in (a, b, a, b)]
    assert statuses == [200, 200, 200, 429]
    assert 1 <= int(b.get("/api/v1/achievements", headers=headers).headers["Retry-After"]) <= 60


def test_the_mounted_verifier_limit_is_one_across_both_apps(db_url, tmp_path, redis_url, close_apps):
    first, second = close_apps[:] = two_apps(tmp_path, db_url, redis_url)
    a, b = first.test_client(), second.test_client()
    statuses = [client.post("/verify/api/verify", json={}).status_code for client in (a, b) * 30]
    assert 429 not in statuses                      # 60 per minute per address, the verifier's default
    assert a.post("/verify/api/verify", json={}).status_code == 429
    assert b.post("/verify/api/verify", json={}).headers["X-RateLimit-Remaining"] == "0"


def test_two_real_servers_on_loopback_share_the_limit(db_url, tmp_path, redis_url, close_apps):
    first, second = close_apps[:] = two_apps(tmp_path, db_url, redis_url)
    for app in (first, second):
        app.config["API_RATE_LIMIT"] = "4/minute"
    headers = {"Authorization": f"Bearer {api_token(first)}"}
    servers = [make_server("127.0.0.1", 0, app, threaded=True) for app in (first, second)]
    threads = [threading.Thread(target=server.serve_forever, daemon=True) for server in servers]
    for thread in threads:
        thread.start()
    try:
        urls = [f"http://127.0.0.1:{server.server_port}/api/v1/achievements" for server in servers]
        statuses = [requests.get(url, headers=headers, timeout=10).status_code for url in urls * 2]
        assert statuses == [200] * 4
        assert [requests.get(url, headers=headers, timeout=10).status_code for url in urls] == [429, 429]
    finally:
        for server in servers:
            server.shutdown()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_an_unreachable_store_refuses_sign_ins_and_counts_the_api_in_process(db_url, tmp_path, close_apps,
                                                                            caplog):
    nowhere = f"redis://127.0.0.1:{_free_port()}/0"         # nothing listens there
    first, _ = close_apps[:] = two_apps(tmp_path, db_url, nowhere)
    first.config["API_RATE_LIMIT"] = "2/minute"
    console = Console(first)
    with caplog.at_level(logging.WARNING, logger="issuer.web.ratelimit"):
        response = console.client.post("/admin/login", data={"username": "ada", "password": "x" * 20,
                                                             "csrf_token": console.csrf_token()})
        assert response.status_code == 429                  # fail closed: no sign-in attempt gets through
        assert f"try again in {UNREACHABLE_WAIT} seconds" in response.get_data(as_text=True)
        token = api_token(first)
        client = first.test_client()
        statuses = [client.get("/api/v1/achievements", headers={"Authorization": f"Bearer {token}"}).status_code
                    for _ in range(3)]
    assert statuses == [200, 200, 429]                      # fail open to this process's own count
    assert client.post("/verify/api/verify", json={}).status_code == 500     # the verifier: closed, with a plain error
    messages = [record.getMessage() for record in caplog.records]
    assert any("refusing admin-login" in m for m in messages) and any("counting api in this process" in m
                                                                       for m in messages)
    assert not any("127.0.0.1" in m or "ada" in m or token in m for m in messages)     # no personal data


def test_the_store_comes_from_the_environment_and_reaches_the_mounted_verifier(tmp_path):
    settings = load_settings({"MICROCRED_RATELIMIT_STORAGE_URI": "redis://10.0.0.5:6379/2"}, instance=tmp_path)
    assert settings.ratelimit_storage_uri == "redis://10.0.0.5:6379/2"
    assert _verifier_config(settings)["RATELIMIT_STORAGE_URI"] == "redis://10.0.0.5:6379/2"
    assert load_settings({}, instance=tmp_path).ratelimit_storage_uri == "memory://"


def _wait_until_up(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"microcred serve stopped: {process.stdout.read() if process.stdout else ''}"
        try:
            requests.get(url, timeout=2)
            return
        except requests.ConnectionError:
            time.sleep(0.2)
    pytest.fail(f"microcred serve did not answer at {url}")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_two_microcred_serve_processes_enforce_one_api_limit(db_url, tmp_path, redis_url):
    microcred = str(Path(sys.executable).parent / "microcred")
    env = {**os.environ, "MICROCRED_INSTANCE": str(tmp_path / "instance"), "MICROCRED_KEYS": str(tmp_path / "keys"),
           "MICROCRED_BASE_URL": BASE, "DATABASE_URL": db_url, "MICROCRED_SECRET_KEY": secrets.token_urlsafe(48),
           "MICROCRED_RATELIMIT_STORAGE_URI": redis_url, "MICROCRED_API_RATE_LIMIT": "4/minute"}
    subprocess.run([microcred, "init", "--name", "Example Corp"], env=env, check=True, capture_output=True)
    created = subprocess.run([microcred, "tokens", "create", "--scope", "read"], env=env, check=True,
                             capture_output=True, text=True).stdout
    token = created.strip()                  # the token alone on stdout
    ports = [_free_port(), _free_port()]
    servers = [subprocess.Popen([microcred, "serve", "--port", str(port), "--workers", "1"], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for port in ports]
    try:
        urls = [f"http://127.0.0.1:{port}/api/v1/achievements" for port in ports]
        for url, server in zip(urls, servers, strict=True):
            _wait_until_up(url, server)
        headers = {"Authorization": f"Bearer {token}"}
        statuses = [requests.get(url, headers=headers, timeout=10).status_code for url in urls * 3]
        assert statuses == [200, 200, 200, 200, 429, 429]
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
