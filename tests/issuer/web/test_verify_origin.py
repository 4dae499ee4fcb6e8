"""The issuer's own verifier (/verify) is not a way into the issuer's host (issue 12 §4).

With a plain-http base URL (development) the mounted verifier may fetch plain http from the
issuer's exact origin only: the same host on another port is refused before any connection,
and a link to a page that is not a credential (the console, the DID document) is answered
with the verdict and the reason alone, never with the fetched text.
"""
from __future__ import annotations

import json

import pytest

from issuer.web import create_app
from issuer.web.app import _verifier_config
from tests.admin_support import live_console
from tests.issuer.web.test_app import make_settings, seed
from verifier.fetcher import FetchError, FetchPolicy
from verifier.net.policy import parse_target

SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@pytest.fixture()
def live(db_url, tmp_path):
    """The issuer on a loopback server whose base URL is its own address; yields (app, base URL)."""
    def app_for(base_url: str):
        app = create_app(make_settings(tmp_path, db_url, base_url))
        app.config["RATELIMIT_ENABLED"] = False
        return app

    with live_console(app_for) as served:
        yield served


def _page(app, url: str) -> tuple[int, str]:
    response = app.test_client().get("/verify", query_string={"url": url})
    return response.status_code, response.get_data(as_text=True)


def _api(app, url: str) -> tuple[int, str]:
    response = app.test_client().post("/verify/api/verify", json={"url": url})
    return response.status_code, response.get_data(as_text=True)


def test_only_the_exact_origin_of_a_plain_http_base_url_is_allowed(tmp_path):
    def policy(base_url: str) -> FetchPolicy:
        return FetchPolicy(allow_hosts=_verifier_config(make_settings(tmp_path, "sqlite://", base_url))["ALLOW_HOSTS"])

    local = policy("http://127.0.0.1:5000")
    assert parse_target("http://127.0.0.1:5000/credentials/x", local).allowed
    for url, code in [("http://127.0.0.1:5001/", "scheme_not_allowed"), ("https://127.0.0.1:22/", "port_not_allowed"),
                      ("http://127.0.0.1/", "scheme_not_allowed"), ("http://localhost:5000/", "scheme_not_allowed"),
                      ("https://127.0.0.1/", "private_address"), ("http://10.0.0.1:5000/", "scheme_not_allowed")]:
        with pytest.raises(FetchError) as refused:
            parse_target(url, local)
        assert refused.value.code == code, url
    default_port = policy("http://localhost")
    assert parse_target("http://localhost/x", default_port).allowed
    with pytest.raises(FetchError):
        parse_target("http://localhost:8080/x", default_port)
    assert parse_target("http://[::1]:8000/", policy("http://[::1]:8000")).allowed
    assert policy("https://hr.example.com").allow_hosts == frozenset()


@SQLITE_ONLY
def test_the_issuers_own_credential_verifies_at_verify(live):
    app, base_url = live
    award_id = seed(app)
    status, body = _page(app, f"{base_url}/credentials/{award_id}")
    assert status == 200 and 'data-outcome="verified"' in body, body[:2000]
    status, body = _api(app, f"{base_url}/credentials/{award_id}")
    assert status == 200 and json.loads(body)["verified"] is True


@SQLITE_ONLY
def test_another_port_on_the_same_host_is_refused_without_a_connection(live, http_server):
    app, base_url = live
    http_server.set_json("/credentials/x", {"secret": "internal-service-answer"})
    assert http_server.host == "127.0.0.1" and http_server.base_url.startswith("http://")
    for ask in (_page, _api):
        status, body = ask(app, http_server.url("/credentials/x"))
        assert status == 200 and "internal-service-answer" not in body
        assert "scheme_not_allowed" in body or "port_not_allowed" in body
    assert http_server.total_hits() == 0


@SQLITE_ONLY
def test_pages_that_are_not_credentials_are_not_echoed(live):
    app, base_url = live
    seed(app)
    client = app.test_client()
    login_page = client.get("/admin/login").get_data(as_text=True)
    did_document = client.get("/.well-known/did.json").get_json()
    key = did_document["verificationMethod"][0]["publicKeyMultibase"]
    marker = 'name="password"'
    assert marker in login_page
    for ask in (_page, _api):
        status, body = ask(app, f"{base_url}/admin/")
        assert status == 200 and marker not in body and "csrf" not in body.lower(), body[:3000]
        assert "not_json" in body
        status, body = ask(app, f"{base_url}/.well-known/did.json")
        assert status == 200 and key not in body and "verificationMethod" not in body, body[:3000]
        assert "not_a_credential" in body
