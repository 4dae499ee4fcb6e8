"""The ID token check, with real tokens signed by keys made here (RSA, EC, Ed25519): every rule of
:func:`issuer.access.oidc_tokens.validate_id_token` refuses its attack, and a good token passes."""
from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, OctKey, OKPKey, RSAKey

from issuer.access.oidc_tokens import MAX_AGE, OidcRefused, identity_from, validate_id_token
from issuer.errors import NotAllowed

ISSUER = "https://login.example.com"
CLIENT = "microcred"
NONCE = "n-0S6_WzA2Mj"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def rsa() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": "rsa-1", "use": "sig"})


@pytest.fixture(scope="module")
def keys(rsa) -> KeySet:
    return KeySet.import_key_set({"keys": [rsa.as_dict(private=False)]})


def claims(**changes) -> dict:
    base = {"iss": ISSUER, "sub": "248289761001", "aud": CLIENT, "nonce": NONCE, "iat": int(NOW.timestamp()) - 5,
            "exp": int(NOW.timestamp()) + 300, "email": "Hana@Example.com", "email_verified": True, "name": "Hana"}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def sign(key, payload: dict, alg: str = "RS256", kid: str | None = "rsa-1") -> str:
    header = {"alg": alg, **({"kid": kid} if kid else {})}
    return jwt.encode(header, payload, key, algorithms=[alg])


def check(token: str, keys: KeySet, *, now: datetime = NOW, nonce: str = NONCE) -> dict:
    return validate_id_token(token, keys=keys, issuer=ISSUER, client_id=CLIENT, nonce=nonce, now=now)


def refused(token: str, keys: KeySet, **kwargs) -> OidcRefused:
    with pytest.raises(OidcRefused) as caught:
        check(token, keys, **kwargs)
    assert isinstance(caught.value, NotAllowed) and caught.value.http_status == 403
    return caught.value


def test_a_good_token_passes_and_gives_the_verified_address(rsa, keys):
    got = check(sign(rsa, claims()), keys)
    assert got["sub"] == "248289761001"
    identity = identity_from(got)
    assert (identity.subject, identity.email, identity.name) == ("248289761001", "hana@example.com", "Hana")


@pytest.mark.parametrize("alg,make", [
    ("ES256", lambda: ECKey.generate_key("P-256", parameters={"kid": "ec"})),
    ("Ed25519", lambda: OKPKey.generate_key("Ed25519", parameters={"kid": "ed"})),
    ("PS256", lambda: RSAKey.generate_key(2048, parameters={"kid": "ps"})),
])
def test_other_asymmetric_algorithms_pass(alg, make):
    key = make()
    token = sign(key, claims(), alg=alg, kid=key.kid)
    assert check(token, KeySet.import_key_set({"keys": [key.as_dict(private=False)]}))["sub"] == "248289761001"


def test_wrong_audience_is_refused(rsa, keys):
    assert refused(sign(rsa, claims(aud="another-app")), keys).code == "id_token_audience"
    assert refused(sign(rsa, claims(aud=["another-app", "third"])), keys).code == "id_token_audience"


def test_several_audiences_need_this_client_as_authorized_party(rsa, keys):
    assert refused(sign(rsa, claims(aud=[CLIENT, "other"])), keys).code == "id_token_audience"
    assert refused(sign(rsa, claims(aud=[CLIENT, "other"], azp="other")), keys).code == "id_token_audience"
    assert check(sign(rsa, claims(aud=[CLIENT, "other"], azp=CLIENT)), keys)["azp"] == CLIENT
    assert refused(sign(rsa, claims(azp="other")), keys).code == "id_token_audience"


def test_wrong_or_missing_nonce_is_refused(rsa, keys):
    error = refused(sign(rsa, claims(nonce="an-old-nonce")), keys)
    assert error.code == "id_token_nonce" and "does not belong to the sign-in started in this browser" in str(error)
    assert refused(sign(rsa, claims(nonce=None)), keys).code == "id_token_incomplete"


def test_wrong_issuer_is_refused(rsa, keys):
    assert refused(sign(rsa, claims(iss="https://evil.example")), keys).code == "id_token_issuer"
    assert refused(sign(rsa, claims(iss=ISSUER + "/")), keys).code == "id_token_issuer"


def test_expiry_is_judged_by_the_injected_clock(rsa, keys):
    token = sign(rsa, claims())
    assert check(token, keys, now=NOW + timedelta(seconds=300 + 59))["sub"]      # within the leeway
    error = refused(token, keys, now=NOW + timedelta(seconds=300 + 61))
    assert error.code == "id_token_expired" and "it has expired" in str(error)
    assert refused(sign(rsa, claims(exp=None)), keys).code == "id_token_incomplete"


def test_a_token_from_the_future_or_too_old_is_refused(rsa, keys):
    assert refused(sign(rsa, claims(iat=int(NOW.timestamp()) + 600)), keys).code == "id_token_time"
    old = claims(iat=int(NOW.timestamp()) - MAX_AGE - 120, exp=int(NOW.timestamp()) + 3600)
    assert refused(sign(rsa, old), keys).code == "id_token_time"


def test_a_token_signed_by_another_key_is_refused(keys):
    impostor = RSAKey.generate_key(2048, parameters={"kid": "rsa-1"})         # same kid, other key
    assert refused(sign(impostor, claims()), keys).code == "id_token_signature"


def test_a_token_naming_an_unknown_key_is_refused_as_such(keys):
    other = RSAKey.generate_key(2048, parameters={"kid": "rsa-2"})
    assert refused(sign(other, claims(), kid="rsa-2"), keys).code == "id_token_unknown_key"


def test_alg_none_and_hmac_are_refused(rsa, keys):
    body = base64.urlsafe_b64encode(json.dumps(claims()).encode()).rstrip(b"=").decode()
    head = base64.urlsafe_b64encode(b'{"alg":"none","kid":"rsa-1"}').rstrip(b"=").decode()
    assert refused(f"{head}.{body}.", keys).code in ("id_token_signature", "id_token_malformed")
    secret = OctKey.import_key("client-secret-the-provider-and-we-share", parameters={"kid": "rsa-1"})
    hs = jwt.encode({"alg": "HS256", "kid": "rsa-1"}, claims(), secret, algorithms=["HS256"])
    hs_keys = KeySet.import_key_set({"keys": [secret.as_dict(), rsa.as_dict(private=False)]})
    assert refused(hs, hs_keys).code == "id_token_signature"


def test_a_tampered_payload_is_refused(rsa, keys):
    head, _, signature = sign(rsa, claims()).split(".")
    forged = base64.urlsafe_b64encode(json.dumps(claims(email="boss@example.com")).encode()).rstrip(b"=").decode()
    assert refused(f"{head}.{forged}.{signature}", keys).code == "id_token_signature"


@pytest.mark.parametrize("token", ["", "not-a-jwt", "a.b.c", "x" * 20000])
def test_garbage_is_refused(keys, token):
    assert refused(token, keys).code.startswith("id_token_")


@pytest.mark.parametrize("verified", [False, "true", 1, None])
def test_an_address_the_provider_has_not_verified_gives_no_identity(rsa, keys, verified):
    got = check(sign(rsa, claims(email_verified=verified)), keys)
    with pytest.raises(OidcRefused) as caught:
        identity_from(got)
    assert caught.value.code == "oidc_email_unverified"


def test_no_address_gives_no_identity(rsa, keys):
    with pytest.raises(OidcRefused) as caught:
        identity_from(check(sign(rsa, claims(email=None)), keys))
    assert caught.value.code == "oidc_no_email"
