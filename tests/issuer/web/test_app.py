"""The issuer's public web surface, through the Flask test client and over real HTTP on loopback.

The end-to-end tests serve the app on 127.0.0.1 (base URL ``http://127.0.0.1:PORT``, so the
issuer is ``did:web:127.0.0.1%3APORT``) and let the real verifier fetch the credential, resolve
the DID, and check the status lists, as a recruiter's verifier would.
"""
from __future__ import annotations

import http.client
import json
import os
import re
import socket
import stat
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import event, select
from werkzeug.serving import make_server

from issuer.awards.issuance import AwardRequest, IssuerContext, issue_award
from issuer.awards.status_lists import allocated_index, get_list, publish, set_bit
from issuer.cli.serve import GunicornServer, gunicorn_options, serve
from issuer.config import ConfigError, Settings, load_settings
from issuer.db.models import Achievement, Award, IssuerKey
from issuer.identity import load_issuer
from issuer.keys.files import load_key
from issuer.keys.keyring import add_key
from issuer.setup import init_instance
from issuer.web import create_app
from issuer.web.app import MAX_CONTENT_LENGTH, load_secret_key
from issuer.web.caching import Freshness
from verifier import verify_credential
from verifier.fetcher import FetchPolicy, ResponseCache

SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
}
UUID_LIKE = "0b5e7f5c-1c1e-4d7a-9a55-3f1d2a0b9c11"


def make_settings(tmp_path: Path, db_url: str, base_url: str = "https://hr.example.com") -> Settings:
    return load_settings({}, instance=tmp_path / "instance", keys_dir=tmp_path / "keys", database_url=db_url,
                         base_url=base_url)


def seed(app: Flask, *, email: str = "alex@example.com", jwt: bool = True) -> str:
    """An issuer (as 'microcred init' makes it), one achievement, one award; returns the award id."""
    state = app.extensions["microcred"]
    init_instance(state.settings, name="Example Corp People Team", url="https://www.example.com")
    with state.sessions.begin() as session:
        issuer = load_issuer(session, state.settings)
        if session.scalar(select(Achievement).where(Achievement.slug == "teamwork")) is None:
            session.add(Achievement(
                issuer_id=issuer.id, slug="teamwork", name="Teamwork", description="Works well with others.",
                criteria_narrative="Assessed in a team project.", validity_months=24,
                alignments=[{"targetName": "cooperate with colleagues", "targetType": "ceasn:Competency",
                             "targetUrl": "http://data.europa.eu/esco/skill/082967d4-b94c-4305-aa13-35a6aa8c5c7c",
                             "targetFramework": "ESCO"}]))
            session.flush()
        ctx = IssuerContext.load(session, state.settings, issuer)
        award, _ = issue_award(session, ctx, AwardRequest("teamwork", email), actor="test", jwt=jwt)
        return award.id


def stored(app: Flask, award_id: str) -> Award:
    with app.extensions["microcred"].sessions() as session:
        return session.get(Award, award_id)


@pytest.fixture()
def app(db_url, tmp_path):
    app = create_app(make_settings(tmp_path, db_url))
    yield app
    app.extensions["microcred"].engine.dispose()


@pytest.fixture()
def client(app):
    return app.test_client()


@dataclass
class Live:
    app: Flask
    settings: Settings
    base_url: str
    port: int

    def url(self, path: str) -> str:
        return self.base_url + path


@pytest.fixture()
def live(db_url, tmp_path):
    """The app on a real loopback HTTP server; its base URL is the server's own address."""
    holder: dict[str, Flask] = {}
    server = make_server("127.0.0.1", 0, lambda environ, start: holder["app"](environ, start), threaded=True)
    base_url = f"http://127.0.0.1:{server.server_port}"
    holder["app"] = create_app(make_settings(tmp_path, db_url, base_url))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Live(holder["app"], holder["app"].extensions["microcred"].settings, base_url, server.server_port)
    finally:
        server.shutdown()
        server.server_close()
        holder["app"].extensions["microcred"].engine.dispose()


def fresh_verify(source: str):
    """Verify like a recruiter's verifier meeting this issuer for the first time (empty cache)."""
    return verify_credential(source, policy=FetchPolicy(allow_hosts=frozenset({"127.0.0.1"})), cache=ResponseCache())


def failing(report) -> list[tuple[str, str, str | None]]:
    return [(c.check, c.status, c.reason) for c in report.checks if c.status in ("failed", "indeterminate")]


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    body = response.get_json(force=True)
    assert body["status"] == status and body["title"] and body["detail"]
    text = response.get_data(as_text=True)
    assert "Traceback" not in text and "<html" not in text.lower()
    return body


# --- documents --------------------------------------------------------------------------------

@SQLITE_ONLY
def test_every_public_document_has_its_media_type_and_cache_policy(app, client):
    award_id = seed(app)
    settings = app.extensions["microcred"].settings
    award = stored(app, award_id)
    expected = {
        "/.well-known/did.json": ("application/did+json", Freshness.IDENTITY),
        "/issuer": ("application/ld+json", Freshness.IDENTITY),
        "/.well-known/jwks.json": ("application/json", Freshness.IDENTITY),
        "/status/revocation/1": ("application/vc+ld+json", Freshness.STATUS_LIST),
        "/status/suspension/1": ("application/vc+ld+json", Freshness.STATUS_LIST),
        f"/credentials/{award_id}": ("application/vc+ld+json", Freshness.CREDENTIAL),
        f"/credentials/{award_id}.jwt": ("application/vc+jwt", Freshness.CREDENTIAL),
        f"/achievements/{award.achievement_id}": ("application/ld+json", Freshness.IDENTITY),
        "/healthz": ("application/json", "no-store"),
    }
    for path, (mimetype, cache) in expected.items():
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.mimetype == mimetype, path
        assert response.headers["Cache-Control"] == cache, path
        for name, value in SECURITY_HEADERS.items():
            assert response.headers[name] == value, (path, name)
    did = client.get("/.well-known/did.json").get_json(force=True)
    assert did["id"] == settings.did == "did:web:hr.example.com"
    assert did["assertionMethod"] == [f"{settings.did}#key-1"]
    profile = client.get("/issuer").get_json(force=True)
    assert profile["id"] == settings.did and profile["name"] == "Example Corp People Team"
    assert client.get("/.well-known/jwks.json").get_json(force=True)["keys"][0]["kid"] == f"{settings.did}#key-1"
    assert client.get("/healthz").get_json() == {"status": "ok"}


@SQLITE_ONLY
def test_credentials_are_served_byte_for_byte_as_stored(app, client):
    award_id = seed(app)
    award = stored(app, award_id)
    assert client.get(f"/credentials/{award_id}").data == award.credential.encode("utf-8")
    assert client.get(f"/credentials/{award_id}.jwt").data == award.credential_jwt.encode("ascii")
    etag = client.get(f"/credentials/{award_id}").headers["ETag"]
    assert client.get(f"/credentials/{award_id}", headers={"If-None-Match": etag}).status_code == 304


@SQLITE_ONLY
def test_a_credential_issued_without_a_jwt_has_no_jwt_url(app, client):
    award_id = seed(app, jwt=False)
    assert client.get(f"/credentials/{award_id}").status_code == 200
    assert_problem(client.get(f"/credentials/{award_id}.jwt"), 404)


@SQLITE_ONLY
def test_the_achievement_document_is_the_embedded_achievement_as_json_ld(app, client):
    award_id = seed(app)
    embedded = json.loads(stored(app, award_id).credential)["credentialSubject"]["achievement"]
    document = client.get(f"/achievements/{stored(app, award_id).achievement_id}").get_json(force=True)
    assert document.pop("@context")[0] == "https://www.w3.org/ns/credentials/v2"
    assert document == embedded


@SQLITE_ONLY
def test_status_lists_are_the_stored_signed_credentials(app, client):
    seed(app)
    state = app.extensions["microcred"]
    with state.sessions() as session:
        issuer = load_issuer(session, state.settings)
        revocation = get_list(session, issuer, "revocation").credential
    assert client.get("/status/revocation/1").data == revocation.encode("utf-8")
    for path in ("/status/revocation/2", "/status/revoked/1", "/status/revocation/0",
                 "/status/revocation/99999999999999999999", "/status/revocation/x"):
        assert_problem(client.get(path), 404)


@SQLITE_ONLY
def test_a_path_based_base_url_serves_did_json_under_its_path(tmp_path, db_url):
    app = create_app(make_settings(tmp_path, db_url, "https://example.com/hr"))
    try:
        seed(app)
        client = app.test_client()
        assert client.get("/did.json").get_json(force=True)["id"] == "did:web:example.com:hr"
        assert_problem(client.get("/.well-known/did.json"), 404)
    finally:
        app.extensions["microcred"].engine.dispose()


@SQLITE_ONLY
def test_before_init_documents_are_503_and_health_is_ok(client):
    assert_problem(client.get("/.well-known/did.json"), 503)
    assert_problem(client.get("/issuer"), 503)
    assert client.get("/healthz").status_code == 200


# --- errors -------------------------------------------------------------------------------------

@SQLITE_ONLY
def test_unknown_paths_and_malformed_ids_are_404_without_a_database_query(app, client):
    seed(app)
    queries = []
    engine = app.extensions["microcred"].engine
    event.listen(engine, "before_cursor_execute", lambda *args: queries.append(args[2]))
    for path in ("/credentials/not-a-uuid", "/credentials/1", f"/credentials/{UUID_LIKE.upper()}",
                 f"/credentials/{UUID_LIKE}x", "/credentials/%2e%2e%2fetc%2fpasswd", "/credentials/.jwt",
                 f"/credentials/{UUID_LIKE}.json", "/achievements/1%20OR%201=1", "/achievements/x",
                 "/status/other/1", "/nothing-here", "/credentials/"):
        assert_problem(client.get(path), 404)
    assert queries == []
    assert_problem(client.get(f"/credentials/{UUID_LIKE}"), 404)    # well-formed: looked up, not found
    assert queries


@SQLITE_ONLY
@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_other_methods_are_405_problem_json(app, client, method):
    award_id = seed(app)
    for path in ("/.well-known/did.json", "/issuer", f"/credentials/{award_id}", "/status/revocation/1"):
        response = client.open(path, method=method, data=b"{}")
        assert_problem(response, 405)
        assert set(response.headers["Allow"].split(", ")) >= {"GET", "HEAD"}
        for name, value in SECURITY_HEADERS.items():
            assert response.headers[name] == value


@SQLITE_ONLY
def test_an_unexpected_error_is_a_500_problem_without_details(tmp_path, db_url):
    app = create_app(make_settings(tmp_path, db_url))
    app.add_url_rule("/boom", "boom", lambda: {}["secret-internal-name"])
    try:
        body = assert_problem(app.test_client().get("/boom"), 500)
        assert "secret-internal-name" not in json.dumps(body) and "KeyError" not in json.dumps(body)
    finally:
        app.extensions["microcred"].engine.dispose()


# --- configuration ----------------------------------------------------------------------------

@SQLITE_ONLY
def test_request_bodies_are_capped_and_debug_is_never_on(tmp_path, db_url, monkeypatch):
    monkeypatch.setenv("FLASK_DEBUG", "1")
    app = create_app(make_settings(tmp_path, db_url))
    try:
        assert app.config["MAX_CONTENT_LENGTH"] == MAX_CONTENT_LENGTH == 1024 * 1024
        assert app.debug is False and app.config["DEBUG"] is False
    finally:
        app.extensions["microcred"].engine.dispose()


def test_the_secret_key_file_is_created_once_with_mode_0600(tmp_path):
    first = load_secret_key(tmp_path, env={})
    path = tmp_path / "secret_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) >= 32
    assert load_secret_key(tmp_path, env={}) == first
    (tmp_path / "other").mkdir()
    assert load_secret_key(tmp_path / "other", env={}) != first


def test_the_secret_key_from_the_environment_wins_and_must_be_long(tmp_path):
    assert load_secret_key(tmp_path, env={"MICROCRED_SECRET_KEY": "k" * 40}) == "k" * 40
    assert not (tmp_path / "secret_key").exists()
    with pytest.raises(ConfigError, match="shorter than 32"):
        load_secret_key(tmp_path, env={"MICROCRED_SECRET_KEY": "changeme"})


def test_a_secret_key_file_readable_by_others_is_refused(tmp_path):
    load_secret_key(tmp_path, env={})
    os.chmod(tmp_path / "secret_key", 0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        load_secret_key(tmp_path, env={})


@SQLITE_ONLY
def test_the_app_uses_the_instance_secret(tmp_path, db_url):
    app = create_app(make_settings(tmp_path, db_url))
    try:
        assert app.config["SECRET_KEY"] == (tmp_path / "instance" / "secret_key").read_text().strip()
    finally:
        app.extensions["microcred"].engine.dispose()


# --- no private key material, no Host header trust ----------------------------------------------

def _walk_keys(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | set().union(*(_walk_keys(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(set(), *(_walk_keys(v) for v in value))
    return set()


PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "secretKeyMultibase", "privateKeyMultibase", "privateKeyJwk"}


@SQLITE_ONLY
def test_no_response_carries_private_key_material(app, client):
    award_id = seed(app)
    state = app.extensions["microcred"]
    with state.sessions.begin() as session:
        issuer = load_issuer(session, state.settings)
        add_key(session, state.settings, issuer, "p256")        # published as a JWK (JsonWebKey2020)
        add_key(session, state.settings, issuer, "ed25519")
        secrets = []   # read before the commit: a rotation deletes the old private key files
        for path in Path(state.settings.keys_dir).glob("*.jwk"):
            pair = load_key(path)
            secrets += [pair.private_multibase(), *(v for k, v in pair.to_jwk(private=True).items() if k == "d")]
    assert len(secrets) == 6
    award_2 = seed(app, email="sam@example.com")
    achievement_id = stored(app, award_id).achievement_id
    paths = ["/.well-known/did.json", "/issuer", "/.well-known/jwks.json", "/status/revocation/1",
             "/status/suspension/1", f"/credentials/{award_id}", f"/credentials/{award_id}.jwt",
             f"/credentials/{award_2}", f"/credentials/{award_2}.jwt", f"/achievements/{achievement_id}",
             "/healthz", "/nothing", f"/credentials/{UUID_LIKE}"]
    for path in paths:
        body = client.get(path).get_data(as_text=True)
        assert not re.search(r'"d"\s*:', body), path
        assert not any(secret in body for secret in secrets), path
        if not path.endswith(".jwt"):
            assert not (_walk_keys(json.loads(body)) & PRIVATE_MEMBERS), path


@SQLITE_ONLY
def test_a_forged_host_header_never_reaches_a_document(app, client):
    award_id = seed(app)
    forged = {"Host": "evil.example", "X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "http",
              "Forwarded": "host=evil.example"}
    for path in ("/.well-known/did.json", "/issuer", "/.well-known/jwks.json", "/status/revocation/1",
                 f"/credentials/{award_id}", f"/achievements/{stored(app, award_id).achievement_id}"):
        response = client.get(path, headers=forged)
        assert response.status_code == 200
        assert "evil.example" not in response.get_data(as_text=True), path
    assert client.get("/issuer", headers=forged).get_json(force=True)["id"] == "did:web:hr.example.com"


# --- over real HTTP: the verifier meets the issuer -----------------------------------------------

def test_a_served_credential_verifies_and_shows_revocation(live):
    award_id = seed(live.app)
    assert live.settings.did == f"did:web:127.0.0.1%3A{live.port}"
    report = fresh_verify(live.url(f"/credentials/{award_id}"))
    assert report.verified, failing(report)
    report = fresh_verify(live.url(f"/credentials/{award_id}.jwt"))
    assert report.verified, failing(report)

    state = live.app.extensions["microcred"]
    with state.sessions.begin() as session:
        issuer = load_issuer(session, state.settings)
        revocation = get_list(session, issuer, "revocation")
        set_bit(revocation, allocated_index(session, revocation, award_id), True)
        publish(session, state.settings, issuer, revocation)
    report = fresh_verify(live.url(f"/credentials/{award_id}"))
    assert not report.verified
    assert ("status", "failed", "revoked") in failing(report)


@SQLITE_ONLY
def test_after_a_key_rotation_old_and_new_credentials_verify(live):
    old = seed(live.app)
    state = live.app.extensions["microcred"]
    with state.sessions.begin() as session:
        add_key(session, state.settings, load_issuer(session, state.settings), "ed25519")
    new = seed(live.app, email="sam@example.com")
    assert json.loads(stored(live.app, old).credential)["proof"]["verificationMethod"].endswith("#key-1")
    assert json.loads(stored(live.app, new).credential)["proof"]["verificationMethod"].endswith("#key-2")
    for award_id in (old, new):
        report = fresh_verify(live.url(f"/credentials/{award_id}"))
        assert report.verified, (award_id, failing(report))
    with state.sessions() as session:
        states = [k.state for k in session.scalars(select(IssuerKey).order_by(IssuerKey.id))]
    assert states == ["retired", "current"]


@SQLITE_ONLY
def test_a_forged_host_header_over_http(live):
    award_id = seed(live.app)
    for path in ("/.well-known/did.json", f"/credentials/{award_id}", "/status/revocation/1"):
        connection = http.client.HTTPConnection("127.0.0.1", live.port, timeout=10)
        try:
            connection.putrequest("GET", path, skip_host=True)
            connection.putheader("Host", "evil.example:666")
            connection.endheaders()
            response = connection.getresponse()
            body = response.read().decode("utf-8")
        finally:
            connection.close()
        assert response.status == 200 and "evil.example" not in body
        assert live.base_url in body or live.settings.did in body


# --- microcred serve ----------------------------------------------------------------------------

def _env(tmp_path: Path, base_url: str = "http://127.0.0.1:5000") -> dict:
    return {"MICROCRED_INSTANCE": str(tmp_path / "instance"), "MICROCRED_KEYS": str(tmp_path / "keys"),
            "MICROCRED_BASE_URL": base_url, "DATABASE_URL": f"sqlite:///{tmp_path / 'microcred.db'}"}


def test_serve_refuses_to_start_before_init(tmp_path, monkeypatch):
    for name, value in _env(tmp_path).items():
        monkeypatch.setenv(name, value)
    started = []
    monkeypatch.setattr(GunicornServer, "run", lambda self: started.append(self))
    result = CliRunner().invoke(serve, [])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")
    assert "microcred init" in result.stderr
    assert result.stdout == "" and started == []


def test_serve_refuses_to_start_when_the_key_file_is_missing(tmp_path, monkeypatch):
    for name, value in _env(tmp_path).items():
        monkeypatch.setenv(name, value)
    init_instance(load_settings(), name="Example Corp")
    for path in (tmp_path / "keys").glob("*.jwk"):
        path.unlink()
    monkeypatch.setattr(GunicornServer, "run", lambda self: pytest.fail("must not start"))
    result = CliRunner().invoke(serve, [])
    assert result.exit_code == 2 and result.stderr.startswith("error: ") and "key file" in result.stderr


def test_serve_configures_gunicorn_with_the_app_factory(tmp_path, monkeypatch):
    for name, value in _env(tmp_path).items():
        monkeypatch.setenv(name, value)
    init_instance(load_settings(), name="Example Corp")
    started = []
    monkeypatch.setattr(GunicornServer, "run", lambda self: started.append(self))
    result = CliRunner().invoke(serve, ["--port", "8123", "--workers", "3"])
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:5000/.well-known/did.json" in result.stdout
    assert "http://127.0.0.1:5000/issuer" in result.stdout
    [server] = started
    assert server.cfg.bind == ["127.0.0.1:8123"] and server.cfg.workers == 3
    app = server.load()
    try:
        assert isinstance(app, Flask) and app.debug is False
    finally:
        app.extensions["microcred"].engine.dispose()


def test_gunicorn_binds_ipv6_hosts_in_brackets():
    assert gunicorn_options("::1", 5000, 1)["bind"] == "[::1]:5000"


def test_serve_dev_uses_flask_server_without_debugger_or_reloader(tmp_path, monkeypatch):
    for name, value in _env(tmp_path).items():
        monkeypatch.setenv(name, value)
    init_instance(load_settings(), name="Example Corp")
    calls = []
    monkeypatch.setattr("werkzeug.serving.run_simple", lambda *args, **kwargs: calls.append((args, kwargs)))
    result = CliRunner().invoke(serve, ["--dev", "--port", "8124"])
    assert result.exit_code == 0, result.output
    [(args, kwargs)] = calls
    assert args[:2] == ("127.0.0.1", 8124)
    assert kwargs["use_debugger"] is False and kwargs["use_reloader"] is False
    args[2].extensions["microcred"].engine.dispose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_runs_gunicorn_and_the_verifier_accepts_what_it_serves(tmp_path):
    port = _free_port()
    env = {**os.environ, **_env(tmp_path, f"http://127.0.0.1:{port}")}
    seeded = subprocess.run([sys.executable, "-c", "from issuer.cli.demo import demo; demo()"], env=env,
                            capture_output=True, text=True, timeout=120)
    assert seeded.returncode == 0, seeded.stderr
    url = re.search(r"(http://127\.0\.0\.1:\d+/credentials/\S+)", seeded.stdout).group(1)
    server = subprocess.Popen([sys.executable, "-c", "from issuer.cli.serve import serve; serve()", "--port",
                               str(port), "--workers", "1"], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
        report = fresh_verify(url)
        assert report.verified, failing(report)
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
    assert "Booting worker" in output and "Listening at: http://127.0.0.1:" in output
