"""The OIDC client's own checks: settings from the environment, the discovery document (served by
a loopback HTTP server), key rotation, and the pending sign-in rules that need no provider."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from issuer.access.oidc import JWKS_REFRESH, PENDING_TTL, OidcClient, OidcRefused, OidcUnavailable, PendingSignIn
from issuer.access.oidc_settings import DEFAULT_NAME, OidcSettings, load_oidc_settings
from issuer.errors import ConfigError
from tests.http_fixtures import unused_port

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


# ---- settings

def test_no_issuer_means_no_sign_in_with_a_provider():
    assert load_oidc_settings({}) is None
    assert load_oidc_settings({"MICROCRED_OIDC_CLIENT_ID": "x"}) is None


def test_settings_from_the_environment(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("from-a-file\n")
    settings = load_oidc_settings({"MICROCRED_OIDC_ISSUER": "https://login.example.com/realms/staff",
                                   "MICROCRED_OIDC_CLIENT_ID": "microcred", "MICROCRED_OIDC_CLIENT_SECRET": "env",
                                   "MICROCRED_OIDC_CLIENT_SECRET_FILE": str(secret)})
    assert settings.client_secret == "from-a-file" and settings.display_name == DEFAULT_NAME
    assert settings.discovery_url == "https://login.example.com/realms/staff/.well-known/openid-configuration"
    assert "from-a-file" not in repr(settings)
    public = load_oidc_settings({"MICROCRED_OIDC_ISSUER": "https://login.example.com", "MICROCRED_OIDC_CLIENT_ID": "c",
                                 "MICROCRED_OIDC_NAME": "Example SSO"})
    assert public.client_secret is None and public.display_name == "Example SSO"


@pytest.mark.parametrize("issuer,allow", [
    ("http://login.example.com", "1"),            # plain http to another machine: never
    ("http://127.0.0.1:8080", ""),                 # loopback http without the development switch
    ("ftp://login.example.com", "1"),
    ("https://login.example.com/?tenant=1", ""),
    ("https://user@login.example.com", ""),
    ("https://login.example.com#x", ""),
    ("not a url", ""),
])
def test_an_unsafe_issuer_is_a_config_error(issuer, allow):
    with pytest.raises(ConfigError) as caught:
        load_oidc_settings({"MICROCRED_OIDC_ISSUER": issuer, "MICROCRED_OIDC_CLIENT_ID": "c",
                            "MICROCRED_OIDC_ALLOW_LOOPBACK_HTTP": allow})
    assert caught.value.field == "MICROCRED_OIDC_ISSUER" and caught.value.exit_code == 78


@pytest.mark.parametrize("host", ["127.0.0.1:8080", "localhost:9", "[::1]:443"])
def test_loopback_http_only_with_the_development_switch(host):
    settings = load_oidc_settings({"MICROCRED_OIDC_ISSUER": f"http://{host}", "MICROCRED_OIDC_CLIENT_ID": "c",
                                   "MICROCRED_OIDC_ALLOW_LOOPBACK_HTTP": "1"})
    assert settings.allow_loopback_http


def test_missing_client_id_or_unreadable_secret_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="MICROCRED_OIDC_CLIENT_ID"):
        load_oidc_settings({"MICROCRED_OIDC_ISSUER": "https://login.example.com"})
    with pytest.raises(ConfigError, match="cannot be read"):
        load_oidc_settings({"MICROCRED_OIDC_ISSUER": "https://login.example.com", "MICROCRED_OIDC_CLIENT_ID": "c",
                            "MICROCRED_OIDC_CLIENT_SECRET_FILE": str(tmp_path / "absent")})


# ---- discovery, against a loopback server

def discovery(base: str, **changes) -> dict:
    document = {"issuer": base, "authorization_endpoint": base + "/auth", "token_endpoint": base + "/token",
                "jwks_uri": base + "/jwks", "response_types_supported": ["code"],
                "code_challenge_methods_supported": ["S256"], "authorization_response_iss_parameter_supported": True}
    document.update(changes)
    return {k: v for k, v in document.items() if v is not None}


def client_for(server, clock=lambda: NOW) -> OidcClient:
    return OidcClient(OidcSettings(issuer=server.base_url, client_id="microcred", allow_loopback_http=True), clock)


def test_discovery_is_read_once_and_kept(http_server):
    http_server.set_json("/.well-known/openid-configuration", discovery(http_server.base_url))
    client = client_for(http_server)
    metadata = client.metadata()
    assert metadata.token_endpoint == http_server.base_url + "/token" and metadata.iss_parameter
    client.metadata()
    assert http_server.hits("/.well-known/openid-configuration") == 1


@pytest.mark.parametrize("changes,message", [
    ({"issuer": "https://evil.example"}, "names itself"),
    ({"token_endpoint": "http://evil.example/token"}, "token_endpoint is missing or not https"),
    ({"jwks_uri": None}, "jwks_uri is missing"),
    ({"response_types_supported": ["id_token"]}, "authorization code flow"),
    ({"code_challenge_methods_supported": ["plain"]}, "PKCE with S256"),
])
def test_an_unusable_discovery_document_is_refused(http_server, changes, message):
    http_server.set_json("/.well-known/openid-configuration", discovery(http_server.base_url, **changes))
    with pytest.raises(OidcUnavailable, match=message) as caught:
        client_for(http_server).metadata()
    assert caught.value.http_status == 503


def test_a_provider_that_redirects_fails_or_is_too_large_is_unavailable(http_server):
    client = client_for(http_server)
    http_server.redirect("/.well-known/openid-configuration", "https://evil.example/")
    with pytest.raises(OidcUnavailable, match="HTTP 302"):
        client.metadata()
    http_server.huge("/.well-known/openid-configuration", 300 * 1024)
    with pytest.raises(OidcUnavailable, match="too large"):
        client.metadata()
    http_server.set("/.well-known/openid-configuration", b"<html>", content_type="text/html")
    with pytest.raises(OidcUnavailable, match="not JSON"):
        client.metadata()


def test_an_unreachable_provider_is_unavailable():
    settings = OidcSettings(issuer=f"http://127.0.0.1:{unused_port()}", client_id="c", allow_loopback_http=True)
    with pytest.raises(OidcUnavailable, match="cannot be reached"):
        OidcClient(settings, lambda: NOW).metadata()


def test_a_rotated_key_is_fetched_once_and_unknown_keys_do_not_hammer_the_provider(http_server):
    old = RSAKey.generate_key(2048, parameters={"kid": "old", "use": "sig"})
    new = RSAKey.generate_key(2048, parameters={"kid": "new", "use": "sig"})
    base = http_server.base_url
    http_server.set_json("/.well-known/openid-configuration", discovery(base))
    http_server.set_json("/jwks", {"keys": [old.as_dict(private=False)]})
    ticks = [1000.0]
    client = OidcClient(OidcSettings(issuer=base, client_id="microcred", allow_loopback_http=True), lambda: NOW,
                        ticker=lambda: ticks[0])
    claims = {"iss": base, "sub": "s", "aud": "microcred", "nonce": "n", "iat": int(NOW.timestamp()),
              "exp": int(NOW.timestamp()) + 60}
    assert client.check_id_token(jwt.encode({"alg": "RS256", "kid": "old"}, claims, old), client.metadata(), "n")
    assert http_server.hits("/jwks") == 1
    http_server.set_json("/jwks", {"keys": [old.as_dict(private=False), new.as_dict(private=False)]})
    ticks[0] += JWKS_REFRESH + 1                   # a minute later: an unknown key may fetch the set again
    assert client.check_id_token(jwt.encode({"alg": "RS256", "kid": "new"}, claims, new), client.metadata(), "n")
    assert http_server.hits("/jwks") == 2
    stranger = RSAKey.generate_key(2048, parameters={"kid": "stranger"})
    for _ in range(3):
        with pytest.raises(OidcRefused) as caught:
            client.check_id_token(jwt.encode({"alg": "RS256", "kid": "stranger"}, claims, stranger),
                                  client.metadata(), "n")
        assert caught.value.code == "id_token_unknown_key"
    assert http_server.hits("/jwks") == 2          # fetched again at most once a minute
    ticks[0] += JWKS_REFRESH + 1
    with pytest.raises(OidcRefused):
        client.check_id_token(jwt.encode({"alg": "RS256", "kid": "stranger"}, claims, stranger), client.metadata(), "n")
    assert http_server.hits("/jwks") == 3


# ---- the pending sign-in

def pending(**changes) -> PendingSignIn:
    values = {"purpose": "staff", "state": "s" * 43, "nonce": "n" * 43, "code_verifier": "v" * 86,
              "started_at": int(NOW.timestamp())}
    values.update(changes)
    return PendingSignIn(**values)


def test_a_pending_sign_in_survives_the_session_and_garbage_does_not():
    assert PendingSignIn.from_dict(pending().to_dict()) == pending()
    for raw in (None, "x", [], {"state": "s"}, {**pending().to_dict(), "started_at": "now"},
                {**pending().to_dict(), "extra": 1}):
        assert PendingSignIn.from_dict(raw) is None


def test_no_pending_an_old_pending_or_another_state_is_refused_before_the_provider_is_asked():
    settings = OidcSettings(issuer=f"http://127.0.0.1:{unused_port()}", client_id="c", allow_loopback_http=True)
    client = OidcClient(settings, lambda: NOW)
    answer = {"code": "c", "state": "s" * 43}
    with pytest.raises(OidcRefused) as caught:
        client.complete(None, answer, "https://hr.example.com/oidc/callback")
    assert caught.value.code == "oidc_no_pending"
    late = pending(started_at=int((NOW - timedelta(seconds=PENDING_TTL + 1)).timestamp()))
    with pytest.raises(OidcRefused, match="longer than 10 minutes"):
        client.complete(late, answer, "https://hr.example.com/oidc/callback")
    with pytest.raises(OidcRefused) as caught:
        client.complete(pending(), {**answer, "state": "t" * 43}, "https://hr.example.com/oidc/callback")
    assert caught.value.code == "oidc_state"
    with pytest.raises(OidcRefused) as caught:
        client.complete(pending(), {"code": "c"}, "https://hr.example.com/oidc/callback")
    assert caught.value.code == "oidc_no_state"
