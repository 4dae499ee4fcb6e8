"""The REST API /api/v1 and its tokens: scopes, problem JSON, idempotency, pagination, lifecycle,
skills, bulk CSV, the OpenAPI/route agreement; through the Flask test client and over real HTTP.

Most flows run on SQLite and PostgreSQL (``db_url``); request-shape tests run on SQLite only.
"""
from __future__ import annotations

import csv
import http.client
import io
import json
import re
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import func, select
from werkzeug.serving import make_server

from issuer.access.tokens import create_token, hash_token, revoke_token, scope_allows, verify_token
from issuer.cli.tokens import tokens as tokens_cli
from issuer.config import ConfigError, Settings, load_settings
from issuer.db.models import Achievement, Award, Issuer, Recipient
from issuer.db.models_api import TOKEN_SCOPES, ApiToken
from issuer.setup import init_instance
from issuer.web import create_app
from issuer.web.api import register_api
from issuer.web.openapi import documented_operations, openapi
from verifier import verify_credential

SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
ALIGNMENT = {"targetName": "cooperate with colleagues", "targetType": "ceasn:Competency",
             "targetUrl": "http://data.europa.eu/esco/skill/082967d4-b94c-4305-aa13-35a6aa8c5c7c",
             "targetFramework": "ESCO"}
SQL_SKILL = {"targetName": "SQL", "targetUrl": "https://esco.example/skill/sql", "targetFramework": "ESCO",
             "targetCode": "S1.2"}
PYTHON_SKILL = {"targetName": "Python", "targetUrl": "https://esco.example/skill/python", "targetFramework": "ESCO"}


# --------------------------------------------------------------------------- helpers and fixtures

def make_settings(tmp_path: Path, db_url: str, base_url: str = "https://hr.example.com") -> Settings:
    return load_settings({}, instance=tmp_path / "instance", keys_dir=tmp_path / "keys", database_url=db_url,
                         base_url=base_url)


def build_app(settings: Settings, **config) -> Flask:
    app = create_app(settings)
    app.config.update(config)
    register_api(app)
    return app


def seed_issuer(app: Flask) -> None:
    """The issuer (as 'microcred init' makes it) and one achievement, 'teamwork' (24 months)."""
    state = app.extensions["microcred"]
    init_instance(state.settings, name="Example Corp People Team", url="https://www.example.com")
    with state.sessions.begin() as session:
        issuer = session.scalars(select(Issuer).where(Issuer.did == state.settings.did)).one()
        if session.scalar(select(Achievement).where(Achievement.slug == "teamwork")) is None:
            session.add(Achievement(issuer_id=issuer.id, slug="teamwork", name="Teamwork",
                                    description="Works well with others.",
                                    criteria_narrative="Assessed in a team project.", validity_months=24,
                                    alignments=[ALIGNMENT]))


def make_tokens(app: Flask) -> dict[str, str]:
    with app.extensions["microcred"].sessions.begin() as session:
        return {scope: create_token(session, scope=scope, name=f"test {scope}")[1] for scope in TOKEN_SCOPES}


def auth(token: str, **headers) -> dict:
    return {"Authorization": f"Bearer {token}", **headers}


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/problem+json"
    body = json.loads(response.get_data(as_text=True))
    assert body["status"] == status and body["title"] and body["detail"]
    text = response.get_data(as_text=True)
    assert "Traceback" not in text and "<html" not in text.lower()
    return body


def public_documents(client) -> dict:
    """The issuer's DID document and status lists as a verifier would fetch them, by URL."""
    documents = {"https://hr.example.com/.well-known/did.json": client.get("/.well-known/did.json").data}
    for purpose in ("revocation", "suspension"):
        documents[f"https://hr.example.com/status/{purpose}/1"] = client.get(f"/status/{purpose}/1").data
    return documents


def verify_offline(client, credential: dict):
    return verify_credential(credential, offline=True, documents=public_documents(client))


@pytest.fixture()
def app(db_url, tmp_path):
    app = build_app(make_settings(tmp_path, db_url))
    seed_issuer(app)
    yield app
    app.extensions["microcred"].engine.dispose()


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture()
def tokens(app) -> dict[str, str]:
    return make_tokens(app)


def issue(client, token: str, email: str = "alex@example.com", achievement: str = "teamwork", *,
          key: str | None = None, **fields):
    headers = auth(token) if key is None else auth(token, **{"Idempotency-Key": key})
    return client.post("/api/v1/awards", json={"achievement": achievement, "email": email, **fields},
                       headers=headers)


def count(app: Flask, model) -> int:
    with app.extensions["microcred"].sessions() as session:
        return session.scalar(select(func.count()).select_from(model))


# --------------------------------------------------------------------------- tokens

@SQLITE_ONLY
def test_tokens_are_stored_only_as_sha256_and_verify_until_revoked(app):
    sessions = app.extensions["microcred"].sessions
    with sessions.begin() as session:
        row, secret = create_token(session, scope="issue", name="LMS")
        token_id = row.id
    assert re.fullmatch(r"mct_[A-Za-z0-9_-]{43}", secret)
    with sessions.begin() as session:
        stored = session.get(ApiToken, token_id)
        assert stored.token_hash == hash_token(secret) and len(stored.token_hash) == 64
        assert secret not in json.dumps([stored.id, stored.name, stored.scope, stored.token_hash])
        assert stored.last_used_at is None
        found = verify_token(session, secret)
        assert found is not None and found.id == token_id and found.scope == "issue"
        assert found.last_used_at is not None
        for wrong in (secret[:-1] + ("A" if secret[-1] != "A" else "B"), secret + "x", "", None, "Bearer " + secret,
                      "mct_" + "a" * 43):
            assert verify_token(session, wrong) is None
    with sessions.begin() as session:
        assert revoke_token(session, token_id)[1] is True
        assert revoke_token(session, token_id)[1] is False
    with sessions.begin() as session:
        assert verify_token(session, secret) is None


def test_scopes_are_ordered_read_issue_admin():
    allowed = {(g, r) for g in TOKEN_SCOPES for r in TOKEN_SCOPES if scope_allows(g, r)}
    assert allowed == {("read", "read"), ("issue", "read"), ("issue", "issue"), ("admin", "read"),
                       ("admin", "issue"), ("admin", "admin")}
    assert not scope_allows("root", "read") and not scope_allows("admin", "root")


def test_two_tokens_are_never_the_same(tmp_path):
    app = build_app(make_settings(tmp_path, f"sqlite:///{tmp_path}/db.sqlite"))
    try:
        with app.extensions["microcred"].sessions.begin() as session:
            secrets_ = {create_token(session, scope="read")[1] for _ in range(50)}
        assert len(secrets_) == 50
    finally:
        app.extensions["microcred"].engine.dispose()


def test_the_tokens_command_creates_lists_and_revokes(tmp_path, monkeypatch):
    for key, value in {"MICROCRED_INSTANCE": str(tmp_path / "instance"), "MICROCRED_KEYS": str(tmp_path / "keys"),
                       "MICROCRED_BASE_URL": "https://hr.example.com"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    runner = CliRunner()
    created = runner.invoke(tokens_cli, ["create", "--scope", "issue", "--name", "LMS integration"])
    assert created.exit_code == 0, created.output
    secret = created.stdout.strip()
    assert re.fullmatch(r"mct_[A-Za-z0-9_-]{43}", secret)
    assert "cannot be shown again" in created.stderr
    listed = runner.invoke(tokens_cli, ["list"])
    assert listed.exit_code == 0
    token_id, scope, state_, *_rest = listed.output.strip().split("\t")
    assert (scope, state_) == ("issue", "active") and "LMS integration" in listed.output
    assert secret not in listed.output and hash_token(secret) not in listed.output
    assert runner.invoke(tokens_cli, ["revoke", token_id]).output.strip() == f"{token_id}: revoked"
    assert "already revoked" in runner.invoke(tokens_cli, ["revoke", token_id]).output
    assert "\trevoked " in runner.invoke(tokens_cli, ["list"]).output
    for args in (["revoke", "no-such-token"], ["create", "--scope", "root"], ["create"]):
        result = runner.invoke(tokens_cli, args)
        assert result.exit_code == 2, (args, result.output)
        assert result.stdout == "" and result.stderr.startswith("error: ") and len(result.stderr.splitlines()) == 1


# --------------------------------------------------------------------------- authentication and scopes

def _api_rules(app: Flask):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1") and rule.endpoint != "api.openapi_document":
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                yield rule, method


def _sample_path(rule) -> str:
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", "00000000-0000-4000-8000-000000000000", rule.rule)


@SQLITE_ONLY
def test_every_api_route_needs_a_token_and_enforces_its_scope(app, client, tokens):
    seen = 0
    for rule, method in _api_rules(app):
        view = app.view_functions[rule.endpoint]
        required = view.required_scope
        path = _sample_path(rule)
        assert_problem(client.open(path, method=method), 401)
        for token in ("mct_" + "A" * 43, "not-a-token", ""):
            response = client.open(path, method=method, headers={"Authorization": f"Bearer {token}"})
            assert_problem(response, 401)
            assert "Bearer" in response.headers["WWW-Authenticate"]
        assert_problem(client.open(path, method=method, headers={"Authorization": f"Basic {tokens['admin']}"}), 401)
        for scope in TOKEN_SCOPES:
            response = client.open(path, method=method, headers=auth(tokens[scope]), json={})
            if scope_allows(scope, required):
                assert response.status_code not in (401, 403), (path, method, scope)
            else:
                body = assert_problem(response, 403)
                assert required in body["detail"]
                assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]
        seen += 1
    assert seen >= 15
    assert app.view_functions["api.create_achievement"].required_scope == "admin"
    assert app.view_functions["api.issue"].required_scope == "issue"
    assert app.view_functions["api.list_awards"].required_scope == "read"


@SQLITE_ONLY
def test_a_revoked_token_is_refused_from_then_on(app, client, tokens):
    assert client.get("/api/v1/awards", headers=auth(tokens["read"])).status_code == 200
    with app.extensions["microcred"].sessions.begin() as session:
        row = session.scalars(select(ApiToken).where(ApiToken.token_hash == hash_token(tokens["read"]))).one()
        revoke_token(session, row.id)
    body = assert_problem(client.get("/api/v1/awards", headers=auth(tokens["read"])), 401)
    assert "revoked" in body["detail"]


@SQLITE_ONLY
def test_the_openapi_document_is_public_and_describes_its_installation(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    document = response.get_json()
    assert document["openapi"].startswith("3.1") and document["servers"] == [{"url": "https://hr.example.com"}]
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def _flask_path(rule: str) -> str:
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule)


@SQLITE_ONLY
def test_every_route_is_documented_in_openapi_and_every_documented_operation_exists(app):
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1") or rule.endpoint.startswith("vcapi."):
            routes |= {(_flask_path(rule.rule), m) for m in rule.methods - {"HEAD", "OPTIONS"}}
    documented = documented_operations(openapi())
    assert routes == documented, (routes - documented, documented - routes)
    for path, item in openapi()["paths"].items():
        for method, operation in item.items():
            for status in {"400", "401", "403", "404", "422"}:
                assert status in operation["responses"], (path, method, status)
            scope = getattr(app.view_functions.get(_endpoint_for(app, path, method)), "required_scope", None)
            if scope:
                assert f"`{scope}`" in operation["description"], (path, method)


def _endpoint_for(app: Flask, path: str, method: str) -> str | None:
    for rule in app.url_map.iter_rules():
        if _flask_path(rule.rule) == path and method.upper() in rule.methods:
            return rule.endpoint
    return None


# --------------------------------------------------------------------------- request shape: problem JSON

@SQLITE_ONLY
@pytest.mark.parametrize("raw, status", [
    (b"{not json", 400),
    (b'{"achievement": "teamwork", "email": NaN}', 400),
    (b'{"achievement": "teamwork", "achievement": "x", "email": "a@example.com"}', 400),
    (b"[" * 5000 + b"]" * 5000, 400),
    (b'{"achievement": "teamwork", "email": "a\\ud800@example.com"}', 400),
    (b'{"achievement": "teamwork", "email": "a\\u0000@example.com"}', 400),
    (b"\xff\xfe{}", 400),
    (b"[]", 400),
    (b"", 400),
    (b'"just a string"', 400),
    (b'{"achievement": "teamwork", "email": "a@example.com", "x": 1e400}', 400),
    (b'{"achievement": "teamwork", "email": "a@example.com", "x": 1' + b"0" * 5000 + b'}', 400),
])
def test_malformed_bodies_are_400_problem_json(client, tokens, raw, status):
    response = client.post("/api/v1/awards", data=raw, content_type="application/json", headers=auth(tokens["admin"]))
    assert_problem(response, status)


@SQLITE_ONLY
def test_wrong_media_type_is_415_and_huge_bodies_are_413(app, client, tokens):
    body = json.dumps({"achievement": "teamwork", "email": "alex@example.com"})
    assert_problem(client.post("/api/v1/awards", data=body, content_type="text/plain",
                               headers=auth(tokens["issue"])), 415)
    assert_problem(client.post("/api/v1/awards", data=body, headers=auth(tokens["issue"])), 415)
    huge = json.dumps({"achievement": "teamwork", "email": "a@example.com", "name": "x" * (2 * 1024 * 1024)})
    assert_problem(client.post("/api/v1/awards", data=huge, content_type="application/json",
                               headers=auth(tokens["issue"])), 413)
    # 1.5 MiB is under the API's 2 MiB cap (the public app's cap is 1 MiB): a 422, not a 413
    big = json.dumps({"achievement": "teamwork", "email": "a@example.com", "name": "x" * (1536 * 1024)})
    assert_problem(client.post("/api/v1/awards", data=big, content_type="application/json",
                               headers=auth(tokens["issue"])), 422)
    assert count(app, Award) == 0


@SQLITE_ONLY
def test_unknown_objects_are_404_and_other_methods_405(client, tokens):
    headers = auth(tokens["admin"])
    for path in ("/api/v1/awards/00000000-0000-4000-8000-000000000000", "/api/v1/awards/not-a-uuid",
                 "/api/v1/achievements/no-such-thing", "/api/v1/recipients/00000000-0000-4000-8000-000000000000",
                 "/api/v1/recipients/x", "/api/v1/nothing"):
        assert_problem(client.get(path, headers=headers), 404)
    for path in ("/api/v1/awards/00000000-0000-4000-8000-000000000000/revoke",
                 "/api/v1/awards/00000000-0000-4000-8000-000000000000/renew"):
        assert_problem(client.post(path, json={"reason": "x"}, headers=headers), 404)
        assert_problem(client.post(path, json={"more": 1}, headers=headers), 404)     # unknown before invalid
    response = client.delete("/api/v1/awards", headers=headers)
    assert_problem(response, 405)
    assert "GET" in response.headers["Allow"]


@SQLITE_ONLY
@pytest.mark.parametrize("query", ["limit=0", "limit=101", "limit=abc", "limit=1&limit=2", "cursor=!!!",
                                   "cursor=eyJhIjoxfQ", "state=gone", "expiring_within_days=-1",
                                   "expiring_within_days=99999"])
def test_bad_query_parameters_are_400(client, tokens, query):
    assert_problem(client.get(f"/api/v1/awards?{query}", headers=auth(tokens["read"])), 400)


def test_before_init_the_api_answers_503(tmp_path):
    app = build_app(make_settings(tmp_path, f"sqlite:///{tmp_path}/db.sqlite"))
    try:
        token = make_tokens(app)["admin"]
        client = app.test_client()
        assert_problem(client.get("/api/v1/awards", headers=auth(token)), 503)
        assert_problem(client.post("/api/v1/awards", json={"achievement": "x", "email": "a@example.com"},
                                   headers=auth(token)), 503)
    finally:
        app.extensions["microcred"].engine.dispose()


@SQLITE_ONLY
def test_each_token_is_rate_limited_with_retry_after(app, client, tokens):
    app.config["API_RATE_LIMIT"] = "3/minute"
    for _ in range(3):
        assert client.get("/api/v1/achievements", headers=auth(tokens["read"])).status_code == 200
    response = client.get("/api/v1/achievements", headers=auth(tokens["read"]))
    body = assert_problem(response, 429)
    assert 1 <= int(response.headers["Retry-After"]) <= 60 and "Too many requests with this token" in body["detail"]
    assert client.get("/api/v1/achievements", headers=auth(tokens["admin"])).status_code == 200   # per token


@SQLITE_ONLY
def test_the_rate_limit_comes_from_the_environment_and_a_bad_one_is_refused(db_url, tmp_path, monkeypatch):
    monkeypatch.setenv("MICROCRED_API_RATE_LIMIT", "5/second")
    app = build_app(make_settings(tmp_path, db_url))
    assert app.config["API_RATE_LIMIT"] == "5/second"
    app.extensions["microcred"].engine.dispose()
    monkeypatch.setenv("MICROCRED_API_RATE_LIMIT", "lots")
    with pytest.raises(ConfigError, match="MICROCRED_API_RATE_LIMIT must be a rate"):
        build_app(make_settings(tmp_path, db_url))


# --------------------------------------------------------------------------- achievements

ACHIEVEMENT = {"slug": "sql", "name": "SQL fundamentals", "description": "Writes correct SQL.",
               "criteria_narrative": "Passed a supervised practical.", "validity_months": 24,
               "alignments": [SQL_SKILL], "tags": ["data"],
               "result_descriptions": [{"id": "urn:uuid:5b3a7c4e-8f53-4c55-9d07-0f2c8c1b9b1a", "name": "Grade",
                                        "resultType": "LetterGrade", "allowedValue": ["A", "B", "C"]}]}


@SQLITE_ONLY
def test_achievements_are_created_listed_and_fetched_by_id_or_slug(client, tokens):
    response = client.post("/api/v1/achievements", json=ACHIEVEMENT, headers=auth(tokens["admin"]))
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert response.headers["Location"].endswith(f"/api/v1/achievements/{created['id']}")
    assert created["slug"] == "sql" and created["alignments"] == [SQL_SKILL] and created["validity_months"] == 24
    assert created["url"] == f"https://hr.example.com/achievements/{created['id']}"
    listed = client.get("/api/v1/achievements", headers=auth(tokens["read"])).get_json()["items"]
    assert [a["slug"] for a in listed] == ["sql", "teamwork"]
    for ref in ("sql", created["id"]):
        assert client.get(f"/api/v1/achievements/{ref}", headers=auth(tokens["read"])).get_json() == created
    body = assert_problem(client.post("/api/v1/achievements", json=ACHIEVEMENT, headers=auth(tokens["admin"])), 409)
    assert "already exists" in body["detail"]
    award = issue(client, tokens["issue"], achievement="sql",
                  results=[{"resultDescription": ACHIEVEMENT["result_descriptions"][0]["id"], "value": "B"}])
    assert award.status_code == 201, award.get_json()


def test_an_achievement_is_replaced_by_put_and_new_awards_carry_the_new_definition(app, client, tokens):
    from issuer.db.models import AuditEntry

    created = client.post("/api/v1/achievements", json=ACHIEVEMENT, headers=auth(tokens["admin"])).get_json()
    before = issue(client, tokens["issue"], achievement="sql").get_json()
    python = {**ACHIEVEMENT, "name": "SQL and Python", "alignments": [SQL_SKILL, PYTHON_SKILL]}
    python.pop("slug")
    response = client.put(f"/api/v1/achievements/{created['id']}", json=python, headers=auth(tokens["admin"]))
    assert response.status_code == 200, response.get_json()
    replaced = response.get_json()
    assert (replaced["id"], replaced["slug"], replaced["name"]) == (created["id"], "sql", "SQL and Python")
    assert client.get("/api/v1/achievements/sql", headers=auth(tokens["read"])).get_json() == replaced
    after = issue(client, tokens["issue"], email="bo@example.com", achievement="sql").get_json()
    new_credential = client.get(f"/api/v1/awards/{after['id']}", headers=auth(tokens["read"])).get_json()
    old_credential = client.get(f"/api/v1/awards/{before['id']}", headers=auth(tokens["read"])).get_json()
    names = lambda award: [a["targetName"] for a in award["credential"]["credentialSubject"]["achievement"]["alignment"]]  # noqa: E731
    assert names(new_credential) == ["SQL", "Python"] and names(old_credential) == ["SQL"]   # issued ones unchanged
    with app.extensions["microcred"].sessions() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "edit_achievement")).one()
        assert entry.details == {"achievement": created["id"], "slug": "sql"} and entry.actor.startswith("api:")


@SQLITE_ONLY
@pytest.mark.parametrize("change, status", [
    ({"slug": "renamed"}, 422), ({"name": ""}, 422), ({"validity_months": 0}, 422), ({"bogus": 1}, 422),
    ({"alignments": [{"targetName": "SQL", "targetUrl": "javascript:alert(1)"}]}, 422),
])
def test_a_bad_replacement_changes_nothing(app, client, tokens, change, status):
    created = client.post("/api/v1/achievements", json=ACHIEVEMENT, headers=auth(tokens["admin"])).get_json()
    response = client.put("/api/v1/achievements/sql", json={**ACHIEVEMENT, **change}, headers=auth(tokens["admin"]))
    assert_problem(response, status)
    assert client.get("/api/v1/achievements/sql", headers=auth(tokens["read"])).get_json() == created
    assert_problem(client.put("/api/v1/achievements/nope", json=ACHIEVEMENT, headers=auth(tokens["admin"])), 404)
    assert_problem(client.put("/api/v1/achievements/sql", json=ACHIEVEMENT, headers=auth(tokens["issue"])), 403)


SVG_WITH_SCRIPT = "data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciPjxzY3JpcHQ+YWxlcnQoMSk8L3NjcmlwdD48L3N2Zz4="


@SQLITE_ONLY
@pytest.mark.parametrize("change", [
    {"slug": "Not A Slug"}, {"slug": 7}, {"slug": None}, {"name": ""}, {"name": "  "}, {"description": None},
    {"criteria_narrative": None}, {"validity_months": 0}, {"validity_months": 601}, {"validity_months": True},
    {"validity_months": "12"}, {"unknown_field": 1}, {"alignments": [{"targetName": "SQL"}]},
    {"alignments": [{"targetName": "SQL", "targetUrl": "javascript:alert(1)"}]},
    {"alignments": [{"targetName": "SQL", "targetUrl": "https://x.example", "bogus": "1"}]},
    {"alignments": "SQL"}, {"tags": [1]}, {"result_descriptions": [{"id": "x"}]},
    {"image": "javascript:alert(1)"}, {"image": "http://insecure.example/badge.png"}, {"image": SVG_WITH_SCRIPT},
    {"image": "data:image/png;base64,aGVsbG8="}, {"criteria_url": "ftp://example.com/criteria"},
    {"achievement_type": "NotAnAchievementType"}, {"name": "x" * 256},
])
def test_achievement_definitions_follow_the_cli_rules_and_must_be_issuable(app, client, tokens, change):
    definition = {**ACHIEVEMENT, **change}
    definition = {k: v for k, v in definition.items() if not (k in change and change[k] is None and k != "slug")}
    if "slug" in change and change["slug"] is None:
        definition.pop("slug")
    if change == {"criteria_narrative": None}:
        definition.pop("criteria_narrative", None)
    response = client.post("/api/v1/achievements", json=definition, headers=auth(tokens["admin"]))
    assert_problem(response, 422)
    assert count(app, Achievement) == 1


@SQLITE_ONLY
def test_a_png_or_clean_svg_image_is_accepted(client, tokens):
    svg = ("data:image/svg+xml;base64," +
           "PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIHZpZXdCb3g9IjAgMCAxMCAxMCI+PGNpcmNsZSBjeD0iNSIgY3k9IjUiIHI9IjQiLz48L3N2Zz4=")
    response = client.post("/api/v1/achievements", json={**ACHIEVEMENT, "image": svg}, headers=auth(tokens["admin"]))
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["image"] == svg


# --------------------------------------------------------------------------- issuing and idempotency

def test_issuing_an_award_returns_it_and_its_credential_verifies(app, client, tokens):
    response = issue(client, tokens["issue"], name="Alex Example", employee_id="E-42",
                     evidence=[{"id": "https://lms.example.com/records/42", "name": "Final project"}], jwt=True)
    assert response.status_code == 201, response.get_json()
    award = response.get_json()
    assert response.headers["Location"].endswith(f"/api/v1/awards/{award['id']}")
    assert award["state"] == "active" and award["achievement"]["slug"] == "teamwork"
    assert award["recipient"]["email"] == "alex@example.com" and award["recipient"]["name"] == "Alex Example"
    assert award["credential_url"] == f"https://hr.example.com/credentials/{award['id']}"
    assert award["credential_jwt_url"] == award["credential_url"] + ".jwt"
    one = client.get(f"/api/v1/awards/{award['id']}", headers=auth(tokens["read"])).get_json()
    credential = one.pop("credential")
    assert one == award
    assert credential["evidence"][0]["id"] == "https://lms.example.com/records/42"
    assert "alex@example.com" not in json.dumps(credential)
    report = verify_offline(client, credential)
    assert report.verified, report.to_dict()
    with app.extensions["microcred"].sessions() as session:
        from issuer.db.models import AuditEntry
        entry = session.scalars(select(AuditEntry).where(AuditEntry.award_id == award["id"])).one()
        assert entry.actor.startswith("api:") and "test issue" in entry.actor


def test_the_idempotency_key_makes_a_retry_return_the_same_award(app, client, tokens):
    first = issue(client, tokens["issue"], key="hr-system-record-42")
    assert first.status_code == 201
    again = issue(client, tokens["issue"], key="hr-system-record-42")
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["id"] == first.get_json()["id"]
    assert count(app, Award) == 1
    body = assert_problem(issue(client, tokens["issue"], email="someone.else@example.com",
                                key="hr-system-record-42"), 422)
    assert body["code"] == "idempotency_key_reused"
    other = issue(client, tokens["issue"], key="hr-system-record-43")      # same content, another key: a new award
    assert other.status_code == 201 and other.get_json()["id"] != first.get_json()["id"]
    assert count(app, Award) == 2


def test_the_same_request_without_a_key_is_not_issued_twice(app, client, tokens):
    evidence = [{"narrative": "Led the migration project."}]
    first = issue(client, tokens["issue"], evidence=evidence, awarded_at="2026-01-15T09:00:00Z")
    again = issue(client, tokens["issue"], evidence=evidence, awarded_at="2026-01-15T09:00:00Z")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.get_json()["id"] == again.get_json()["id"] and count(app, Award) == 1


@SQLITE_ONLY
@pytest.mark.parametrize("key", ["", "x" * 201, "with space", "naïve", "tab\there"])
def test_a_malformed_idempotency_key_is_400(client, tokens, key):
    response = client.post("/api/v1/awards", json={"achievement": "teamwork", "email": "a@example.com"},
                           headers=auth(tokens["issue"], **{"Idempotency-Key": key.encode("utf-8").decode("latin-1")}))
    assert_problem(response, 400)


@SQLITE_ONLY
@pytest.mark.parametrize("fields", [
    {"achievement": "no-such-achievement"}, {"email": "not-an-email"}, {"email": ""}, {"email": 42},
    {"achievement": None}, {"evidence": [{"id": "javascript:alert(1)"}]}, {"evidence": [{"name": "no id"}]},
    {"evidence": [{"id": "https://x.example", "script": "x"}]}, {"evidence": "https://x.example"},
    {"results": [{"resultDescription": "urn:uuid:not-one-of-them", "value": "A"}]}, {"results": [{"value": 1}]},
    {"awarded_at": "yesterday"}, {"awarded_at": "2999-01-01T00:00:00Z"}, {"awarded_at": "1960-01-01"},
    {"did": "not a did"}, {"jwt": "yes"}, {"name": "x" * 256}, {"extra": 1},
])
def test_invalid_awards_are_422_and_nothing_is_stored(app, client, tokens, fields):
    body = {"achievement": "teamwork", "email": "alex@example.com", **fields}
    if fields.get("achievement", "") is None:
        body.pop("achievement")
    response = client.post("/api/v1/awards", json=body, headers=auth(tokens["issue"]))
    assert_problem(response, 422)
    assert count(app, Award) == 0


# --------------------------------------------------------------------------- listing and pagination

def test_nul_and_odd_characters_in_paths_and_queries_are_4xx_on_every_backend(client, tokens):
    read = auth(tokens["read"])
    for path in ("/api/v1/achievements/te%00amwork", "/api/v1/awards/%00", "/api/v1/recipients/%00",
                 "/api/v1/achievements/%F0%9F%92%A5", "/api/v1/achievements/" + "x" * 300):
        assert_problem(client.get(path, headers=read), 404)
    for query in ("email=a%00b@example.com", "achievement=te%00amwork", "cursor=%00"):
        assert_problem(client.get(f"/api/v1/awards?{query}", headers=read), 400)
    assert client.get("/api/v1/skills/coverage?skill=%F0%9F%92%A5", headers=read).status_code == 200
    assert_problem(client.get("/api/v1/skills/coverage?skill=a%00", headers=read), 400)
    response = client.post("/api/v1/achievements", json={**ACHIEVEMENT, "result_descriptions": [
        {"id": "urn:x:1", "name": "Score", "resultType": "ext:Score", "valueMax": 1e308}]},
        headers=auth(tokens["admin"]))
    assert response.status_code in (201, 422)


def test_awards_are_listed_newest_first_with_cursor_pagination_and_filters(app, client, tokens):
    with app.extensions["microcred"].sessions.begin() as session:
        issuer = session.scalars(select(Issuer)).one()
        session.add(Achievement(issuer_id=issuer.id, slug="sql", name="SQL", description="SQL.",
                                criteria_narrative="Test.", alignments=[SQL_SKILL]))
    ids = [issue(client, tokens["issue"], email=f"person{i}@example.com",
                 achievement="sql" if i % 3 == 0 else "teamwork").get_json()["id"] for i in range(7)]
    seen, cursor, pages = [], None, 0
    while True:
        query = "limit=3" + (f"&cursor={cursor}" if cursor else "")
        response = client.get(f"/api/v1/awards?{query}", headers=auth(tokens["read"]))
        assert response.status_code == 200
        page = response.get_json()
        seen += [a["id"] for a in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            assert "Link" not in response.headers
            break
        assert response.headers["Link"] == f'</api/v1/awards?limit=3&cursor={cursor}>; rel="next"'
    assert pages == 3 and seen == list(reversed(ids))
    read = auth(tokens["read"])
    by_achievement = client.get("/api/v1/awards?achievement=sql", headers=read).get_json()["items"]
    assert sorted(a["id"] for a in by_achievement) == sorted(ids[i] for i in (0, 3, 6))
    by_email = client.get("/api/v1/awards?email=%20Person3@EXAMPLE.com", headers=read).get_json()["items"]
    assert [a["id"] for a in by_email] == [ids[3]]
    assert client.get("/api/v1/awards?achievement=nothing", headers=read).get_json() == {"items": [],
                                                                                        "next_cursor": None}
    client.post(f"/api/v1/awards/{ids[1]}/revoke", json={"reason": "issued in error"}, headers=auth(tokens["issue"]))
    revoked = client.get("/api/v1/awards?state=revoked", headers=read).get_json()["items"]
    assert [a["id"] for a in revoked] == [ids[1]]
    active = client.get("/api/v1/awards?state=active&limit=100", headers=read).get_json()["items"]
    assert len(active) == 6
    # 'sql' has no validity period, 'teamwork' ends in 24 months: only those expire within ~3 years
    expiring = client.get("/api/v1/awards?expiring_within_days=1100", headers=read).get_json()["items"]
    assert sorted(a["id"] for a in expiring) == sorted(ids[i] for i in (2, 4, 5))
    assert client.get("/api/v1/awards?expiring_within_days=30", headers=read).get_json()["items"] == []
    # the console's states: 'expired' is an active award past its validity, 'active' one still valid
    with app.extensions["microcred"].sessions.begin() as session:
        session.get(Award, ids[2]).valid_until = datetime.now(UTC) - timedelta(days=1)
    expired = client.get("/api/v1/awards?state=expired", headers=read).get_json()["items"]
    assert [(a["id"], a["state"], a["expired"]) for a in expired] == [(ids[2], "active", True)]
    active = client.get("/api/v1/awards?state=active&limit=100", headers=read).get_json()["items"]
    assert len(active) == 5 and ids[2] not in [a["id"] for a in active]


def test_recipients_are_listed_and_shown_with_their_awards(app, client, tokens):
    first = issue(client, tokens["issue"], email="alex@example.com", name="Alex").get_json()
    issue(client, tokens["issue"], email="sam@example.com")
    page = client.get("/api/v1/recipients?limit=1", headers=auth(tokens["read"])).get_json()
    assert len(page["items"]) == 1 and page["next_cursor"]
    rest = client.get(f"/api/v1/recipients?limit=1&cursor={page['next_cursor']}",
                      headers=auth(tokens["read"])).get_json()
    assert {page["items"][0]["email"], rest["items"][0]["email"]} == {"alex@example.com", "sam@example.com"}
    found = client.get("/api/v1/recipients?email=ALEX@example.com", headers=auth(tokens["read"])).get_json()["items"]
    assert len(found) == 1 and found[0]["name"] == "Alex"
    detail = client.get(f"/api/v1/recipients/{found[0]['id']}", headers=auth(tokens["read"])).get_json()
    assert [a["id"] for a in detail["awards"]] == [first["id"]] and detail["email"] == "alex@example.com"


# --------------------------------------------------------------------------- lifecycle

def test_revoke_suspend_unsuspend_and_renew_change_what_verifiers_see(app, client, tokens):
    award = issue(client, tokens["issue"]).get_json()
    credential = client.get(f"/api/v1/awards/{award['id']}", headers=auth(tokens["read"])).get_json()["credential"]
    write = auth(tokens["issue"])
    suspended = client.post(f"/api/v1/awards/{award['id']}/suspend", json={"reason": "under review"}, headers=write)
    assert suspended.get_json() == {"id": award["id"], "action": "suspend", "state": "suspended", "changed": True}
    report = verify_offline(client, credential)
    assert not report.verified and any(c.reason == "suspended" for c in report.checks)
    body = assert_problem(client.post(f"/api/v1/awards/{award['id']}/renew", headers=write), 409)
    assert "suspended" in body["detail"]
    again = client.post(f"/api/v1/awards/{award['id']}/suspend", json={"reason": "again"}, headers=write).get_json()
    assert again["changed"] is False
    assert client.post(f"/api/v1/awards/{award['id']}/unsuspend", json={"reason": "cleared"},
                       headers=write).get_json()["state"] == "active"
    assert verify_offline(client, credential).verified
    renewed = client.post(f"/api/v1/awards/{award['id']}/renew", headers=write)
    assert renewed.status_code == 201
    new = renewed.get_json()
    assert new["id"] != award["id"] and new["state"] == "active"
    repeat = client.post(f"/api/v1/awards/{award['id']}/renew", json={}, headers=write)
    assert repeat.status_code == 200 and repeat.get_json()["id"] == new["id"]
    old = client.get(f"/api/v1/awards/{award['id']}", headers=auth(tokens["read"])).get_json()
    assert old["state"] == "superseded" and old["superseded_by"] == new["id"]
    assert client.post(f"/api/v1/awards/{new['id']}/revoke", json={"reason": "left the company"},
                       headers=write).get_json()["state"] == "revoked"
    new_credential = client.get(f"/api/v1/awards/{new['id']}", headers=auth(tokens["read"])).get_json()["credential"]
    report = verify_offline(client, new_credential)
    assert not report.verified and any(c.reason == "revoked" for c in report.checks)
    body = assert_problem(client.post(f"/api/v1/awards/{new['id']}/suspend", json={"reason": "x"}, headers=write), 409)
    assert body["code"] == "invalid_transition"
    for bad in ({}, {"reason": ""}, {"reason": "   "}, {"reason": 5}, {"reason": "x", "more": 1}):
        assert_problem(client.post(f"/api/v1/awards/{new['id']}/revoke", json=bad, headers=write), 422)
    assert_problem(client.post(f"/api/v1/awards/{new['id']}/renew", json={"x": 1}, headers=write), 422)


def another_issuers_award(sessions) -> tuple[str, str, str]:
    """An award of another issuer in the same database: (award id, recipient id, achievement id)."""
    with sessions.begin() as session:
        other = Issuer(did="did:web:other.example.com", base_url="https://other.example.com", name="Other")
        session.add(other)
        session.flush()
        achievement = Achievement(issuer_id=other.id, slug="secret", name="Secret", description="x",
                                  criteria_narrative="x")
        recipient = Recipient(issuer_id=other.id, email="victim@example.com")
        session.add_all([achievement, recipient])
        session.flush()
        now = datetime.now(UTC)
        award = Award(issuer_id=other.id, achievement_id=achievement.id, recipient_id=recipient.id,
                      external_key="other-key", awarded_at=now, valid_from=now, credential="{}")
        session.add(award)
        session.flush()
        return award.id, recipient.id, achievement.id


@SQLITE_ONLY
def test_another_issuers_award_is_invisible_and_unchangeable(app, client, tokens):
    award_id, recipient_id, achievement_id = another_issuers_award(app.extensions["microcred"].sessions)
    admin = auth(tokens["admin"])
    assert_problem(client.get(f"/api/v1/awards/{award_id}", headers=admin), 404)
    assert_problem(client.get(f"/api/v1/recipients/{recipient_id}", headers=admin), 404)
    assert_problem(client.get(f"/api/v1/achievements/{achievement_id}", headers=admin), 404)
    assert_problem(client.get("/api/v1/achievements/secret", headers=admin), 404)
    for action in ("revoke", "suspend", "renew"):
        assert_problem(client.post(f"/api/v1/awards/{award_id}/{action}", json={"reason": "x"}, headers=admin), 404)
    assert client.get("/api/v1/awards", headers=admin).get_json()["items"] == []
    assert client.get("/api/v1/recipients", headers=admin).get_json()["items"] == []
    with app.extensions["microcred"].sessions() as session:
        assert session.get(Award, award_id).state == "active"


# --------------------------------------------------------------------------- skills

def test_the_skills_inventory_counts_people_with_active_valid_awards(app, client, tokens):
    with app.extensions["microcred"].sessions.begin() as session:
        issuer = session.scalars(select(Issuer)).one()
        session.add(Achievement(issuer_id=issuer.id, slug="sql", name="SQL", description="SQL.",
                                criteria_narrative="Test.", alignments=[SQL_SKILL]))
        session.add(Achievement(issuer_id=issuer.id, slug="data-eng", name="Data engineering", description="Data.",
                                criteria_narrative="Test.", alignments=[SQL_SKILL, PYTHON_SKILL], validity_months=1))
    write = auth(tokens["issue"])
    issue(client, tokens["issue"], email="ana@example.com", achievement="sql")
    issue(client, tokens["issue"], email="ana@example.com", achievement="data-eng")   # same person twice for SQL
    issue(client, tokens["issue"], email="ben@example.com", achievement="data-eng")
    revoked = issue(client, tokens["issue"], email="cy@example.com", achievement="sql").get_json()
    client.post(f"/api/v1/awards/{revoked['id']}/revoke", json={"reason": "error"}, headers=write)
    expired = issue(client, tokens["issue"], email="dee@example.com", achievement="data-eng").get_json()
    with app.extensions["microcred"].sessions.begin() as session:          # its validity has ended since
        session.get(Award, expired["id"]).valid_until = datetime.now(UTC) - timedelta(days=1)
    issue(client, tokens["issue"], email="eve@example.com", achievement="teamwork")
    inventory = client.get("/api/v1/skills", headers=auth(tokens["read"])).get_json()["items"]
    by_name = {(s["name"], s["framework"]): s for s in inventory}
    assert by_name[("SQL", "ESCO")]["people"] == 2
    assert by_name[("SQL", "ESCO")]["achievements"] == ["data-eng", "sql"]
    assert by_name[("SQL", "ESCO")]["target_code"] == "S1.2"
    assert by_name[("Python", "ESCO")]["people"] == 2
    assert by_name[("cooperate with colleagues", "ESCO")]["people"] == 1
    assert [s["people"] for s in inventory] == sorted((s["people"] for s in inventory), reverse=True)

    coverage = client.get("/api/v1/skills/coverage?skill=sql&skill=https://esco.example/skill/python&skill=COBOL",
                          headers=auth(tokens["read"])).get_json()
    assert coverage["skills"] == ["sql", "https://esco.example/skill/python", "COBOL"]
    assert coverage["unknown_skills"] == ["COBOL"]
    assert coverage["has_all"] == []
    people = {p["recipient"]["email"]: p for p in coverage["people"]}
    assert people["ana@example.com"]["has"] == ["sql", "https://esco.example/skill/python"]
    assert people["ana@example.com"]["missing"] == ["COBOL"]
    assert people["cy@example.com"]["has"] == [] and people["dee@example.com"]["has"] == []
    both = client.get("/api/v1/skills/coverage?skill=SQL&skill=S1.2&skill=Python",
                      headers=auth(tokens["read"])).get_json()
    assert sorted(p["email"] for p in both["has_all"]) == ["ana@example.com", "ben@example.com"]
    assert_problem(client.get("/api/v1/skills/coverage", headers=auth(tokens["read"])), 400)
    assert_problem(client.get("/api/v1/skills/coverage?" + "&".join(["skill=x"] * 51),
                              headers=auth(tokens["read"])), 400)


# --------------------------------------------------------------------------- bulk

CSV = ("email,name,achievement,evidence_url,external_id\n"
       "ana@example.com,Ana,teamwork,https://lms.example.com/1,row-1\n"
       "ben@example.com,Ben,teamwork,,row-2\n")


@SQLITE_ONLY
def test_bulk_dry_run_then_issue_then_rerun(app, client, tokens):
    write = auth(tokens["issue"])
    dry = client.post("/api/v1/awards/bulk?dry_run=true", data=CSV, content_type="text/csv", headers=write)
    assert dry.status_code == 200, dry.get_json()
    assert dry.get_json() == {"dry_run": True, "ok": True, "total_rows": 2, "to_issue": 2, "already_issued": 0,
                              "problems": []}
    assert count(app, Award) == 0
    done = client.post("/api/v1/awards/bulk", data=CSV, content_type="text/csv", headers=write)
    assert done.status_code == 201, done.get_json()
    result = done.get_json()
    assert result["issued"] == 2 and [a["line"] for a in result["awards"]] == [2, 3]
    assert count(app, Award) == 2
    upload = {"file": (io.BytesIO(CSV.encode("utf-8")), "awards.csv")}
    rerun = client.post("/api/v1/awards/bulk", data=upload, content_type="multipart/form-data", headers=write)
    assert rerun.status_code == 200 and rerun.get_json()["already_issued"] == 2 and count(app, Award) == 2


@SQLITE_ONLY
def test_bulk_reports_every_bad_row_and_issues_nothing(app, client, tokens):
    bad = CSV + "not-an-email,X,teamwork,,row-3\ncy@example.com,Cy,no-such-badge,,row-4\n"
    write = auth(tokens["issue"])
    for query in ("?dry_run=true", ""):
        body = assert_problem(client.post(f"/api/v1/awards/bulk{query}", data=bad, content_type="text/csv",
                                          headers=write), 422)
        assert [p["line"] for p in body["problems"]] == [4, 5]
    assert count(app, Award) == 0
    assert_problem(client.post("/api/v1/awards/bulk", data=CSV, content_type="application/json", headers=write), 415)
    assert_problem(client.post("/api/v1/awards/bulk", data={"other": (io.BytesIO(b"x"), "x.csv")},
                               content_type="multipart/form-data", headers=write), 400)
    assert_problem(client.post("/api/v1/awards/bulk", data="", content_type="text/csv", headers=write), 422)
    assert_problem(client.post("/api/v1/awards/bulk", data="x" * (10 * 1024 * 1024 + 1), content_type="text/csv",
                               headers=write), 413)
    assert_problem(client.post("/api/v1/awards/bulk", data=CSV, content_type="text/csv",
                               headers=auth(tokens["read"])), 403)


def test_bulk_async_answers_202_and_issues_in_the_background(app, client, tokens):
    bulk = app.extensions["microcred"].use.bulk
    write, read = auth(tokens["issue"]), auth(tokens["read"])
    upload = {"file": (io.BytesIO(CSV.encode("utf-8")), "q3 awards.csv")}
    started = client.post("/api/v1/awards/bulk?async=true", data=upload, content_type="multipart/form-data",
                          headers=write)
    assert started.status_code == 202, started.get_json()
    job = started.get_json()
    assert started.headers["Location"] == job["url"] == f"/api/v1/bulk-jobs/{job['id']}"
    assert job["state"] in ("queued", "running", "done") and job["filename"] == "q3 awards.csv"
    assert bulk.wait(job["id"], timeout=120)
    done = client.get(job["url"], headers=read).get_json()
    assert (done["state"], done["done"], done["total"], done["error"]) == ("done", 2, 2, None)
    assert done["counts"]["issued"] == 2 and done["results_url"] == job["url"] + "/results"
    results = client.get(done["results_url"], headers=read)
    assert results.status_code == 200 and results.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(results.get_data(as_text=True))))
    assert [r["status"] for r in rows] == ["issued", "issued"] and count(app, Award) == 2
    with app.extensions["microcred"].sessions() as session:
        for row in rows:
            assert session.get(Award, row["award_id"]).created_at is not None
    again = client.post("/api/v1/awards/bulk?async=true", data=CSV, content_type="text/csv", headers=write)
    assert bulk.wait(again.get_json()["id"], timeout=120)
    rerun = client.get(again.get_json()["url"], headers=read).get_json()
    assert rerun["counts"]["issued"] == 0 and rerun["counts"]["already_issued"] == 2 and count(app, Award) == 2


@SQLITE_ONLY
def test_bulk_async_with_bad_rows_is_422_and_stores_no_job(app, client, tokens):
    from issuer.db.models_staff import BulkJob

    bad = CSV + "not-an-email,X,teamwork,,row-3\n"
    body = assert_problem(client.post("/api/v1/awards/bulk?async=true", data=bad, content_type="text/csv",
                                      headers=auth(tokens["issue"])), 422)
    assert [p["line"] for p in body["problems"]] == [4]
    assert count(app, BulkJob) == 0 and count(app, Award) == 0


@SQLITE_ONLY
def test_bulk_jobs_are_404_unless_they_exist_and_results_wait_for_the_end(app, client, tokens):
    read = auth(tokens["read"])
    assert_problem(client.get("/api/v1/bulk-jobs/not-a-uuid", headers=read), 404)
    assert_problem(client.get("/api/v1/bulk-jobs/00000000-0000-4000-8000-000000000000", headers=read), 404)
    job_id = app.extensions["microcred"].use.bulk.upload(CSV.encode(), filename="x.csv", actor="test").id
    body = assert_problem(client.get(f"/api/v1/bulk-jobs/{job_id}/results", headers=read), 404)
    assert "no results yet (it is validated)" in body["detail"]
    assert client.get(f"/api/v1/bulk-jobs/{job_id}", headers=read).get_json()["state"] == "validated"


# --------------------------------------------------------------------------- over real HTTP

@dataclass
class Live:
    app: Flask
    port: int

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            connection.close()

    def json(self, method: str, path: str, document=None, token: str | None = None, **headers):
        all_headers = {"Content-Type": "application/json", **headers}
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        data = json.dumps(document).encode("utf-8") if document is not None else None
        status, response_headers, raw = self.request(method, path, data, all_headers)
        return status, response_headers, json.loads(raw) if raw else None


def serve(app: Flask):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server


@pytest.fixture()
def live(db_url, tmp_path):
    app = build_app(make_settings(tmp_path, db_url))
    seed_issuer(app)
    server = serve(app)
    try:
        yield Live(app, server.server_port)
    finally:
        server.shutdown()
        server.server_close()
        app.extensions["microcred"].engine.dispose()


def test_over_http_tokens_problems_and_issuing(live):
    tokens = make_tokens(live.app)
    status, headers, body = live.json("GET", "/api/v1/awards")
    assert status == 401 and headers["content-type"] == "application/problem+json"
    assert body["status"] == 401 and headers["www-authenticate"].startswith("Bearer")
    status, headers, body = live.json("POST", "/api/v1/awards", {"achievement": "teamwork", "email": "a@example.com"},
                                      tokens["read"])
    assert status == 403 and body["title"] == "Forbidden"
    status, headers, award = live.json("POST", "/api/v1/awards", {"achievement": "teamwork", "email": "a@example.com"},
                                       tokens["issue"], **{"Idempotency-Key": "http-1"})
    assert status == 201 and headers["location"].endswith(award["id"])
    assert headers["x-content-type-options"] == "nosniff" and headers["cache-control"] == "no-store"
    status, _headers, body = live.json("GET", f"/api/v1/awards/{award['id']}", token=tokens["read"])
    assert status == 200 and body["credential"]["id"] == award["credential_url"]
    status, headers, raw = live.request("POST", "/api/v1/awards", b"{" * 10, {
        "Content-Type": "application/json", "Authorization": f"Bearer {tokens['issue']}"})
    assert status == 400 and headers["content-type"] == "application/problem+json"
    assert b"Traceback" not in raw


def test_concurrent_requests_with_one_idempotency_key_issue_once(live):
    tokens = make_tokens(live.app)
    results = []

    def post():
        results.append(live.json("POST", "/api/v1/awards", {"achievement": "teamwork", "email": "same@example.com"},
                                 tokens["issue"], **{"Idempotency-Key": "same-key"}))

    threads = [threading.Thread(target=post) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(status for status, _h, _b in results)
    assert statuses.count(201) == 1 and all(s in (200, 201, 409) for s in statuses), statuses
    assert len({body["id"] for status, _h, body in results if status in (200, 201)}) == 1
    assert count(live.app, Award) == 1
