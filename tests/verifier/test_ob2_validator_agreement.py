"""Open Badges 2.0 verdicts agree with the 1EdTech validator's (openbadges-validator-core).

Each scenario rebuilds one of the validator's tests from its own documents
(``fixtures/ob2-validator/``, see the README there): the same inputs, the same web of documents
(served by a :class:`~verifier.fetcher.StaticFetcher` whose policy allows plain http for the
example hosts, as the validator's tests use ``http://example.org`` keys and lists), and the
verdict the validator's test asserts. Our verdict must be the same, except for the deliberate
disagreements in :data:`DISAGREEMENTS`, each listed in the README ("Open Badges 2.0").
"""
from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwcrypto import jwk, jws

from verifier import verify_credential
from verifier.fetcher import FetchPolicy, StaticFetcher

FIXTURES = Path(__file__).parent / "fixtures" / "ob2-validator"
NOW = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)
OB2 = "https://w3id.org/openbadges/v2"
POLICY = FetchPolicy(allow_hosts=frozenset({"example.org", "example.com"}))
KEY_URL = "http://example.org/key1"
LIST_URL = "http://example.org/revocationList"


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


ASSERTION, BADGE, ISSUER = fixture("basic-assertion"), fixture("basic-badgeclass"), fixture("basic-issuer")


@dataclass
class Scenario:
    """An input, the documents on the web, and the validator's verdict (its test's assertion)."""

    source: Any
    documents: dict[str, Any]
    valid: bool
    origin: str                       # the validator test it comes from
    recipient: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def basic_web(assertion: dict | None = None, badge: dict | None = None, issuer: dict | None = None) -> dict:
    docs = [assertion or ASSERTION, badge or BADGE, issuer or ISSUER]
    return {doc["id"]: doc for doc in docs}


# ---------------------------------------------------------------- hosted (test_verify.py, test_graph.py)

def hosted_scenarios() -> dict[str, Scenario]:
    alt = "http://example.org/altbadgeurl"
    redirected_badge = dict(ASSERTION, badge=alt)
    redirected_assertion = dict(ASSERTION, id=alt)
    return {
        "verify_function": Scenario(ASSERTION["id"], basic_web(), True, "test_verify.py test_verify_function"),
        "json_input_fetches_its_id": Scenario(
            copy.deepcopy(ASSERTION), basic_web(), True, "test_input.py test_input_jsonld_type_detection_replaces_with_url"),
        "badge_redirected_to_its_id": Scenario(
            redirected_badge["id"], {**basic_web(redirected_badge), alt: BADGE}, True,
            "test_graph.py test_verify_with_redirection"),
        "assertion_redirected_to_its_http_id": Scenario(
            ASSERTION["id"], {ASSERTION["id"]: redirected_assertion, alt: redirected_assertion,
                              BADGE["id"]: BADGE, ISSUER["id"]: ISSUER}, True,
            "test_graph.py test_verify_redirected_validation_subject"),
    }


# ---------------------------------------------------------------- verification scope (test_validation.py)

def scope(policy: dict | None, valid: bool) -> Scenario:
    assertion = dict(ASSERTION, id="http://example.com/assertion", badge="http://example.com/badgeclass")
    badge = dict(BADGE, id="http://example.com/badgeclass", issuer="http://example.com/issuer")
    issuer = dict(ISSUER, id="http://example.com/issuer", url="http://example.com")
    if policy is not None:
        issuer["verification"] = policy
    return Scenario(assertion, basic_web(assertion, badge, issuer), valid,
                    "test_validation.py test_hosted_verification_object_in_assertion")


def scope_scenarios() -> dict[str, Scenario]:
    return {
        "allowed_origins": scope({"allowedOrigins": "example.com"}, True),
        "default_allowed_origins": scope({}, True),
        "starts_with": scope({"startsWith": "http://example.com/"}, True),
        "starts_with_not": scope({"startsWith": "http://example.com/NOT"}, False),
        "starts_with_none_of": scope({"startsWith": ["http://example.com/NOT", "http://example.com/ALSONOT"]}, False),
        "starts_with_one_of": scope({"startsWith": ["http://example.com/NOT", "http://example.com/assert"]}, True),
        "default_policy": scope(None, True),
    }


# ---------------------------------------------------------------- dates (test_validation.py)

def dated(valid: bool, origin: str, **dates: str) -> Scenario:
    assertion = {k: v for k, v in dict(ASSERTION, **dates).items() if v is not None}
    return Scenario(assertion, basic_web(assertion), valid, f"test_validation.py {origin}")


def stamp(delta: timedelta) -> str:
    return (NOW + delta).isoformat()


def date_scenarios() -> dict[str, Scenario]:
    found = {
        "issued_two_hours_ago": dated(True, "test_assertion_not_expired", issuedOn=stamp(-timedelta(hours=2))),
        "expired_an_hour_ago": dated(False, "test_assertion_not_expired", issuedOn=stamp(-timedelta(hours=2)),
                                     expires=stamp(-timedelta(hours=1))),
        "expires_before_issue": dated(False, "test_assertion_not_expires_before_issue",
                                      issuedOn=stamp(-timedelta(hours=1)), expires=stamp(-timedelta(hours=2))),
        "issued_in_the_future": dated(False, "test_assertion_not_issued_in_future", issuedOn=stamp(timedelta(hours=1))),
    }
    for i, value in enumerate(["1977-06-10T12:00:00Z", "1977-06-10T12:00:00+0800", "1977-06-10T12:00:00-0800",
                               "1977-06-10T12:00:00+08", "1977-06-10T12:00:00+08:00"]):
        found[f"datetime_form_{i}"] = dated(True, "test_basic_datetime_property_validation", issuedOn=value)
    for i, value in enumerate(["1977-06-10T12:00:00", "notadatetime"]):
        found[f"bad_datetime_{i}"] = dated(False, "test_basic_datetime_property_validation", issuedOn=value)
    return found


# ---------------------------------------------------------------- recipient (test_recipient.py)

def recipient_scenarios() -> dict[str, Scenario]:
    def hashed(email: str, salt: str = "deadsea", upper: bool = False) -> dict:
        digest = hashlib.sha256((email + salt).encode("utf-8")).hexdigest()
        return {"type": "email", "hashed": True, "salt": salt, "identity": "sha256$" + (digest.upper() if upper else digest)}

    def awarded(identity: dict, recipient: str, valid: bool, origin: str) -> Scenario:
        assertion = dict(ASSERTION, recipient=identity)
        return Scenario(assertion, basic_web(assertion), valid, f"test_recipient.py {origin}", recipient=recipient)

    return {
        "hashed_email": awarded(hashed("nobody@example.org"), "nobody@example.org", True,
                                "test_verify_badge_against_expected_profile"),
        "fixture_identity": awarded(ASSERTION["recipient"], "nobody@example.org", True,
                                    "test_verify_badge_against_expected_profile"),
        "salted_hash_maldon": awarded(hashed("nobody@example.org", "Maldon"), "nobody@example.org", True,
                                      "test_profile_with_salted_hashed_email"),
        "uppercase_hash": awarded(hashed("nobody@example.org", "Maldon", upper=True), "nobody@example.org", True,
                                  "test_profile_with_salted_hashed_email_uppercase_hash"),
        "plain_email": awarded({"type": "email", "hashed": False, "identity": "nobody@example.org"},
                               "nobody@example.org", True, "test_profile_with_multiple_emails"),
        "other_email": awarded(hashed("nobody@example.org"), "otheremail@example.org", False,
                               "test_verify_badge_against_expected_profile (no identifier matches)"),
    }


# ---------------------------------------------------------------- signed (test_signed_verification.py)

@pytest.fixture(scope="module")
def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def sign(payload: dict, private_key) -> str:
    token = jws.JWS(json.dumps(payload).encode("utf-8"))
    token.add_signature(jwk.JWK.from_pyca(private_key), alg="RS256", protected=json.dumps({"alg": "RS256"}))
    return token.serialize(compact=True)


def signed_web(private_key, *, revoked: list | None = None, public_key: Any = KEY_URL) -> tuple[dict, dict]:
    assertion = dict(ASSERTION, verification={"type": "signed", "creator": KEY_URL})
    issuer = dict(ISSUER, publicKey=public_key)
    pem = private_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    documents = {BADGE["id"]: BADGE, KEY_URL: {"@context": OB2, "id": KEY_URL, "type": "CryptographicKey",
                                                "owner": ISSUER["id"], "publicKeyPem": pem}}
    if revoked is not None:
        issuer["revocationList"] = LIST_URL
        documents[LIST_URL] = {"@context": OB2, "id": LIST_URL, "type": "RevocationList", "revokedAssertions": revoked}
    documents[ISSUER["id"]] = issuer
    return assertion, documents


def signed_scenarios(private_key) -> dict[str, Scenario]:
    found: dict[str, Scenario] = {}
    origin = "test_signed_verification.py "
    assertion, web = signed_web(private_key)
    found["signed"] = Scenario(sign(assertion, private_key), web, True, origin + "test_can_full_verify_jws_signed_assertion")
    assertion, web = signed_web(private_key, revoked=[])
    found["signed_revocation_list"] = Scenario(sign(assertion, private_key), web, True,
                                               origin + "test_can_full_verify_with_revocation_check")
    assertion, web = signed_web(private_key, revoked=[
        {"id": ASSERTION["id"], "revocationReason": "A good reason, for sure"},
        {"id": "urn:uuid:52e4c6b3-8c13-4fa8-8482-a5cf34ef37a9"}, "urn:uuid:6deb4a00-ebce-4b28-8cc2-afa705ef7be4"])
    found["signed_revoked"] = Scenario(sign(assertion, private_key), web, False,
                                       origin + "test_revoked_badge_marked_invalid")
    assertion, web = signed_web(private_key, revoked=[ASSERTION["id"], "http://example.org/else"])
    found["signed_revoked_by_id"] = Scenario(sign(assertion, private_key), web, False, origin + "test_can_verify_revoked")
    assertion, web = signed_web(private_key)
    header, _, signature = sign(assertion, private_key).split(".")
    tampered = dict(assertion, evidence="http://hahafakeinserteddata.com")
    payload = jwk.base64url_encode(json.dumps(tampered).encode("utf-8"))
    found["signed_tampered"] = Scenario(f"{header}.{payload}.{signature}", web, False, origin + "test_can_verify_jws")
    assertion, web = signed_web(private_key, public_key=["http://example.org/key2"])
    found["signed_key_not_listed"] = Scenario(sign(assertion, private_key), web, False,
                                              origin + "test_can_verify_key_ownership")
    assertion, web = signed_web(private_key, public_key=[KEY_URL, "http://example.org/key2"])
    found["signed_key_listed_among_others"] = Scenario(sign(assertion, private_key), web, True,
                                                       origin + "test_can_verify_key_ownership")
    return found


# ---------------------------------------------------------------- the agreement

#: scenario -> (our reason for the failing check, why we deliberately disagree); the README lists these
DISAGREEMENTS = {
    "assertion_redirected_to_its_http_id": (
        "assertion_from_another_origin",
        ("an assertion served over http is not within the verification scope of an issuer on https: origins "
         "are compared with their scheme (the validator compares host and port only)")),
}

SCENARIOS: dict[str, Callable[..., dict[str, Scenario]]] = {
    "hosted": hosted_scenarios, "scope": scope_scenarios, "dates": date_scenarios, "recipient": recipient_scenarios,
}
NAMES = [(group, name) for group, build in SCENARIOS.items() for name in build()]
SIGNED_NAMES = ["signed", "signed_revocation_list", "signed_revoked", "signed_revoked_by_id", "signed_tampered",
                "signed_key_not_listed", "signed_key_listed_among_others"]


def verdict(scenario: Scenario):
    return verify_credential(scenario.source, fetcher=StaticFetcher(scenario.documents, policy=POLICY), now=NOW,
                             recipient=scenario.recipient)


def assert_agrees(name: str, scenario: Scenario) -> None:
    report = verdict(scenario)
    if name in DISAGREEMENTS:
        reason, _why = DISAGREEMENTS[name]
        assert scenario.valid and not report.verified, report
        assert reason in {c.reason for c in report.checks}, report
        return
    assert report.verified == scenario.valid, (scenario.origin, report.to_dict()["checks"])


@pytest.mark.parametrize("group, name", NAMES)
def test_agrees_with_the_validator(group, name):
    assert_agrees(name, SCENARIOS[group]()[name])


@pytest.mark.parametrize("name", SIGNED_NAMES)
def test_signed_agrees_with_the_validator(rsa_key, name):
    assert_agrees(name, signed_scenarios(rsa_key)[name])


def test_the_tally():
    """How many validator verdicts are checked, and how many we deliberately differ on."""
    assert len(NAMES) + len(SIGNED_NAMES) == 35
    assert set(DISAGREEMENTS) <= {name for _, name in NAMES} | set(SIGNED_NAMES)


def test_signed_names_are_the_scenarios(rsa_key):
    assert list(signed_scenarios(rsa_key)) == SIGNED_NAMES
