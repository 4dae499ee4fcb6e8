"""Open Badges 2.0 verification against a fake web of issuer documents (no network).

Documents follow the shapes of the OB 2.0 specification's examples (ob-examples.md). The fake
web is a :class:`~verifier.fetcher.Fetcher`; each verification runs in a
:class:`~verifier.checks.base.Verification`, as ``verify_credential`` runs it.
"""
from __future__ import annotations

import copy
import hashlib
import json
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwcrypto import jwk, jws

from verifier.checks.base import Verification
from verifier.fetcher import FetchError, FetchPolicy, FetchResponse
from verifier.jws import b64url_encode
from verifier.ob2 import CHECKS, Ob2Found, is_ob2, verify_ob2
from verifier.ob2.signed import MAX_KEYS
from verifier.report import CheckResult, VerificationReport

NOW = datetime(2017, 3, 1, 12, 0, tzinfo=UTC)
OB2 = "https://w3id.org/openbadges/v2"
ISSUER_ID = "https://example.org/organization.json"
BADGE_ID = "https://example.org/robotics-badge.json"
ASSERTION_ID = "https://example.org/beths-robotics-badge.json"
KEY_ID = "https://example.org/publicKey.json"
REVOCATION_URL = "https://example.org/revocationList.json"
SIGNED_ID = "urn:uuid:a953081a-4bbd-4927-9653-7219bca00e3b"
EMAIL = "beth@example.org"
SALT = "deadsea"


def identity_hash(email: str = EMAIL, salt: str = SALT, algorithm: str = "sha256") -> str:
    return f"{algorithm}$" + hashlib.new(algorithm, (email + salt).encode()).hexdigest()


class FakeWeb:
    """A Fetcher over a dict of URL -> document; records every URL asked for."""

    def __init__(self, documents: dict, gone: tuple[str, ...] = (), policy: FetchPolicy | None = None):
        self.documents = documents
        self.gone = set(gone)
        self.calls: list[str] = []
        self.policy = policy or FetchPolicy()

    def for_verification(self, *, documents=None, offline=False) -> FakeWeb:
        return self

    def fetch(self, url: str, *, accept: str, max_bytes: int | None = None) -> FetchResponse:
        return FetchResponse(url, url, 200, "", json.dumps(self.fetch_json(url, accept=accept)).encode())

    def fetch_json(self, url: str, *, accept: str = "application/json", max_bytes: int | None = None):
        self.calls.append(url)
        if url in self.gone:
            raise FetchError("The server answered HTTP 410.", code="http_status", details={"url": url, "http_status": 410})
        if url not in self.documents:
            raise FetchError("The server answered HTTP 404.", code="http_status", details={"url": url, "http_status": 404})
        return copy.deepcopy(self.documents[url])


class Outcome:
    """The results one OB 2.0 verification added, and what it found."""

    def __init__(self, found: Ob2Found, checks: list[CheckResult]):
        self.found, self.checks = found, checks
        self.assertion, self.badge, self.issuer = found.assertion, found.badge, found.issuer
        self.verified = VerificationReport(checks).verified

    def get(self, check: str) -> CheckResult | None:
        return next((c for c in self.checks if c.check == check), None)


def ob2(source, *, fetch_json, now: datetime, recipient: str | None = None) -> Outcome:
    v = Verification(now, fetch_json, None, recipient)
    found = verify_ob2(source, v)
    return Outcome(found, v.results)


def statuses(result: Outcome) -> dict[str, tuple[str, str | None]]:
    assert sorted(c.check for c in result.checks) == sorted(CHECKS)  # every check, once
    for check in result.checks:
        assert check.message  # every check explains itself
    return {str(c.check): (str(c.status), c.reason) for c in result.checks}


# --------------------------------------------------------------------------- #
# Hosted badges
# --------------------------------------------------------------------------- #
def hosted_assertion(**changes) -> dict:
    assertion = {
        "@context": OB2,
        "type": "Assertion",
        "id": ASSERTION_ID,
        "recipient": {"type": "email", "hashed": True, "salt": SALT, "identity": identity_hash()},
        "image": "https://example.org/beths-robot-badge.png",
        "evidence": "https://example.org/beths-robot-work.html",
        "issuedOn": "2016-12-31T23:59:59Z",
        "expires": "2017-06-30T23:59:59Z",
        "badge": BADGE_ID,
        "verification": {"type": "hosted"},
    }
    assertion.update(changes)
    return {k: v for k, v in assertion.items() if v is not None}


BADGE = {
    "@context": OB2,
    "type": "BadgeClass",
    "id": BADGE_ID,
    "name": "Awesome Robotics Badge",
    "description": "For doing awesome things with robots that people think is pretty great.",
    "image": "https://example.org/robotics-badge.png",
    "criteria": "https://example.org/robotics-badge.html",
    "issuer": ISSUER_ID,
}

ISSUER = {
    "@context": OB2,
    "type": "Issuer",
    "id": ISSUER_ID,
    "name": "An Example Badge Issuer",
    "url": "https://example.org",
    "email": "contact@example.org",
}


def hosted_web(assertion: dict | None = None, *, issuer: dict | None = None, badge: dict | None = None,
               policy: FetchPolicy | None = None, **extra) -> FakeWeb:
    documents = {
        ASSERTION_ID: assertion if assertion is not None else hosted_assertion(),
        BADGE_ID: badge if badge is not None else BADGE,
        ISSUER_ID: issuer if issuer is not None else ISSUER,
    }
    documents.update(extra)
    return FakeWeb(documents, policy=policy)


def test_hosted_valid():
    web = hosted_web()
    result = ob2(hosted_assertion(), fetch_json=web, now=NOW)
    assert statuses(result) == {
        "parse": ("passed", None),
        "fetch": ("passed", None),
        "key": ("skipped", "hosted_verification"),
        "issuer_binding": ("passed", None),
        "proof": ("skipped", "hosted_verification"),
        "validity": ("passed", None),
        "status": ("passed", None),
        "recipient": ("skipped", "no_recipient_given"),
    }
    assert result.verified
    assert result.badge["name"] == "Awesome Robotics Badge"
    assert result.issuer["id"] == ISSUER_ID
    assert web.calls == [ASSERTION_ID, BADGE_ID, ISSUER_ID]


@pytest.mark.parametrize("source", [ASSERTION_ID, json.dumps(hosted_assertion()), f"  {ASSERTION_ID}\n"])
def test_hosted_from_url_or_json_text(source):
    result = ob2(source, fetch_json=hosted_web(), now=NOW, recipient=EMAIL)
    assert result.verified, statuses(result)
    assert result.assertion["id"] == ASSERTION_ID


def test_hosted_with_embedded_badge_and_issuer_still_fetches_the_issuer():
    embedded_issuer = dict(ISSUER, verification={"allowedOrigins": "evil.example"})  # never trusted
    badge = dict(BADGE, issuer=embedded_issuer)
    assertion = hosted_assertion(badge=badge)
    web = hosted_web(assertion)
    result = ob2(assertion, fetch_json=web, now=NOW)
    assert result.verified
    assert web.calls == [ASSERTION_ID, ISSUER_ID]
    assert "verification" not in result.issuer  # the hosted Profile, not the embedded claim


def test_the_hosted_copy_is_the_source_of_truth():
    hosted = hosted_assertion(expires="2018-06-30T23:59:59Z", narrative="updated by the issuer")
    result = ob2(hosted_assertion(), fetch_json=hosted_web(hosted), now=NOW)
    assert result.verified
    assert result.assertion["narrative"] == "updated by the issuer"


def test_hosted_revoked_in_body():
    web = hosted_web({"id": ASSERTION_ID, "revoked": True, "revocationReason": "Honor code violation"})
    result = ob2(hosted_assertion(), fetch_json=web, now=NOW)
    s = statuses(result)
    assert s["status"] == ("failed", "revoked")
    assert result.get("status").details["revocationReason"] == "Honor code violation"
    assert not result.verified


def test_hosted_revoked_with_410_gone():
    web = hosted_web()
    web.gone.add(ASSERTION_ID)
    result = ob2(hosted_assertion(), fetch_json=web, now=NOW)
    assert statuses(result)["status"] == ("failed", "revoked")
    assert not result.verified


class FailingWeb(FakeWeb):
    """Every fetch fails with the FetchError ``code`` (and ``details``)."""

    def __init__(self, code: str, **details):
        super().__init__({})
        self.code, self.details = code, details

    def fetch_json(self, url: str, *, accept: str = "application/json", max_bytes: int | None = None):
        self.calls.append(url)
        raise FetchError(f"failed: {self.code}", code=self.code, details={"url": url, **self.details})


def test_fetch_errors():
    gone = FailingWeb("http_status", http_status=410)
    assert statuses(ob2(hosted_assertion(), fetch_json=gone, now=NOW))["status"] == ("failed", "revoked")

    result = ob2(hosted_assertion(), fetch_json=FailingWeb("http_status", http_status=500), now=NOW)
    assert statuses(result)["fetch"] == ("indeterminate", "assertion_unreachable")
    assert result.get("fetch").details["http_status"] == 500

    for code in ("fetch_budget_exceeded", "host_fetch_budget_exceeded"):
        result = ob2(hosted_assertion(), fetch_json=FailingWeb(code), now=NOW)
        assert statuses(result)["fetch"] == ("indeterminate", code)
    result = ob2(hosted_assertion(), fetch_json=FailingWeb("private_address"), now=NOW)
    assert statuses(result)["fetch"] == ("failed", "private_address")  # refused, not "try again later"
    result = ob2(hosted_assertion(), fetch_json=FailingWeb("not_json"), now=NOW)
    assert statuses(result)["fetch"] == ("failed", "malformed_assertion")


def test_assertion_not_where_it_says_it_is():
    elsewhere = "https://example.org/other-badge.json"
    web = hosted_web(hosted_assertion(id=elsewhere))
    result = ob2(hosted_assertion(), fetch_json=web, now=NOW)
    assert statuses(result)["fetch"] == ("failed", "assertion_id_mismatch")
    assert "not where it says it is" in result.get("fetch").details["error"]
    assert not result.verified
    # later checks are not reached, but every check is reported
    assert statuses(result)["validity"] == ("skipped", "not_reached")


def test_given_assertion_differs_from_hosted():
    forged = hosted_assertion(recipient={"type": "email", "hashed": False, "identity": "mallory@example.org"})
    result = ob2(forged, fetch_json=hosted_web(), now=NOW)
    assert statuses(result)["fetch"] == ("failed", "assertion_mismatch")
    assert result.get("fetch").details["fields"] == ["recipient"]
    assert not result.verified


def test_assertion_from_another_origin():
    evil_id = "https://evil.example/beths-robotics-badge.json"
    forged = hosted_assertion(id=evil_id)
    web = FakeWeb({evil_id: forged, BADGE_ID: BADGE, ISSUER_ID: ISSUER})
    result = ob2(forged, fetch_json=web, now=NOW)
    assert statuses(result)["issuer_binding"] == ("failed", "assertion_from_another_origin")
    assert not result.verified


def test_allowed_origins_and_starts_with():
    other_id = "https://badges.example.net/a/1.json"
    assertion = hosted_assertion(id=other_id)

    def run(policy):
        issuer = dict(ISSUER, verification=policy)
        web = FakeWeb({other_id: assertion, BADGE_ID: BADGE, ISSUER_ID: issuer})
        return statuses(ob2(assertion, fetch_json=web, now=NOW))["issuer_binding"]

    assert run({"allowedOrigins": "badges.example.net"}) == ("passed", None)
    assert run({"allowedOrigins": ["example.org", "BADGES.example.net"]}) == ("passed", None)
    assert run({"allowedOrigins": "example.net"}) == ("failed", "assertion_from_another_origin")
    assert run({"startsWith": "https://badges.example.net/a/"}) == ("passed", None)
    assert run({"startsWith": ["https://badges.example.net/b/"]}) == ("failed", "assertion_from_another_origin")
    assert run({"type": "VerificationObject"}) == ("failed", "assertion_from_another_origin")


def test_same_origin_as_issuer_url():
    issuer = dict(ISSUER, id="https://profiles.example.com/org.json", url="https://example.org")
    badge = dict(BADGE, issuer=issuer["id"])
    web = hosted_web(badge=badge, **{issuer["id"]: issuer})
    result = ob2(hosted_assertion(), fetch_json=web, now=NOW)
    assert statuses(result)["issuer_binding"] == ("passed", None)


def test_http_issuer_origin_is_not_the_https_origin():
    issuer = dict(ISSUER, url="http://example.org")
    issuer_id = "https://profiles.example.com/org.json"
    issuer["id"] = issuer_id
    web = hosted_web(badge=dict(BADGE, issuer=issuer_id), **{issuer_id: issuer})
    result = ob2(hosted_assertion(), fetch_json=web, now=NOW)
    assert statuses(result)["issuer_binding"] == ("failed", "assertion_from_another_origin")


def test_expired():
    result = ob2(hosted_assertion(), fetch_json=hosted_web(), now=datetime(2017, 7, 1, 0, 5, 1, tzinfo=UTC))
    assert statuses(result)["validity"] == ("failed", "expired")
    assert not result.verified


def test_not_yet_valid_and_invalid_dates():
    early = datetime(2016, 12, 1, tzinfo=UTC)
    assert statuses(ob2(hosted_assertion(), fetch_json=hosted_web(), now=early))["validity"] == \
        ("failed", "not_yet_valid")
    for issued in ("2016-12-31", "31/12/2016", "2016-12-31T23:59:59"):
        assertion = hosted_assertion(issuedOn=issued)
        result = ob2(assertion, fetch_json=hosted_web(assertion), now=NOW)
        assert statuses(result)["validity"] == ("failed", "invalid_date"), issued
    assertion = hosted_assertion(issuedOn="2017-01-02T00:00:00+01:00", expires="2017-01-01T00:00:00Z")
    assert statuses(ob2(assertion, fetch_json=hosted_web(assertion), now=NOW))["validity"] == \
        ("failed", "invalid_date")


def test_no_expiry_and_naive_now():
    assertion = hosted_assertion(expires=None)
    result = ob2(assertion, fetch_json=hosted_web(assertion), now=datetime(2030, 1, 1))
    assert result.verified


@pytest.mark.parametrize("missing, reason", [
    (ASSERTION_ID, "assertion_unreachable"),
    (BADGE_ID, "badge_unreachable"),
    (ISSUER_ID, "issuer_unreachable"),
])
def test_unreachable_pieces_are_indeterminate(missing, reason):
    web = hosted_web()
    del web.documents[missing]
    result = ob2(hosted_assertion(), fetch_json=web, now=NOW)
    s = statuses(result)
    assert s["fetch"] == ("indeterminate", reason)
    assert missing in result.get("fetch").details["error"]
    assert not result.verified


def test_document_ids_must_match_their_urls():
    """A BadgeClass or Profile whose id is not the URL it was fetched from is fetched again from
    its id, as the 1EdTech validator does; it counts only if it is hosted there."""
    other_badge, other_issuer = "https://example.org/another-badge.json", "https://example.org/someone-else.json"
    web = hosted_web(badge=dict(BADGE, id=other_badge))
    assert statuses(ob2(hosted_assertion(), fetch_json=web, now=NOW))["fetch"] == \
        ("indeterminate", "badge_unreachable")
    web.documents[other_badge] = dict(BADGE, id="https://example.org/yet-another.json")
    assert statuses(ob2(hosted_assertion(), fetch_json=web, now=NOW))["fetch"] == \
        ("failed", "badge_id_mismatch")
    web = hosted_web(issuer=dict(ISSUER, id=other_issuer))
    web.documents[other_issuer] = dict(ISSUER, id=BADGE_ID)
    assert statuses(ob2(hosted_assertion(), fetch_json=web, now=NOW))["fetch"] == \
        ("failed", "issuer_id_mismatch")
    web = hosted_web(badge=dict(BADGE, id="urn:uuid:2f1b8a4e-6f2b-4b1c-9d3e-1a2b3c4d5e6f"))
    assert statuses(ob2(hosted_assertion(), fetch_json=web, now=NOW))["fetch"] == \
        ("failed", "badge_id_mismatch")


def test_badge_and_issuer_hosted_at_another_id_are_accepted():
    moved_badge, moved_issuer = "https://badges.example.net/robotics", "https://example.org/issuers/1"
    badge = dict(BADGE, id=moved_badge, issuer=ISSUER_ID)
    issuer = dict(ISSUER, id=moved_issuer)
    web = hosted_web(badge=badge, issuer=issuer, **{moved_badge: badge, moved_issuer: issuer})
    result = ob2(hosted_assertion(), fetch_json=web, now=NOW)
    assert result.verified, statuses(result)
    assert result.get("fetch").details["moved"] == {BADGE_ID: moved_badge, ISSUER_ID: moved_issuer}
    assert result.issuer["id"] == moved_issuer and result.badge["id"] == moved_badge
    assert web.calls == [ASSERTION_ID, BADGE_ID, moved_badge, ISSUER_ID, moved_issuer]


def test_the_assertion_itself_must_be_hosted_at_its_own_id():
    """Given as JSON, the assertion is not followed elsewhere; given only as a URL, the URL
    is a locator and the assertion must be hosted at the id it declares."""
    elsewhere = "https://example.org/assertions/elsewhere"
    moved = hosted_assertion(id=elsewhere)
    web = hosted_web(moved, **{elsewhere: moved})
    assert statuses(ob2(hosted_assertion(), fetch_json=web, now=NOW))["fetch"] == ("failed", "assertion_id_mismatch")
    result = ob2(ASSERTION_ID, fetch_json=web, now=NOW)
    assert result.verified, statuses(result)
    assert result.assertion["id"] == elsewhere
    web.documents[elsewhere] = hosted_assertion(id="https://example.org/assertions/third")
    assert statuses(ob2(ASSERTION_ID, fetch_json=web, now=NOW))["fetch"] == ("failed", "assertion_id_mismatch")


def test_only_https_is_fetched():
    http_id = "http://example.org/beths-robotics-badge.json"
    web = hosted_web(**{http_id: hosted_assertion(id=http_id)})
    for source in (hosted_assertion(id=http_id), http_id):
        result = ob2(source, fetch_json=web, now=NOW)
        assert statuses(result)["fetch"] == ("failed", "not_https_url")
    web = hosted_web(badge=dict(BADGE, issuer="http://example.org/organization.json"))
    result = ob2(hosted_assertion(), fetch_json=web, now=NOW)
    assert statuses(result)["fetch"] == ("failed", "not_https_url")
    for userinfo in ("https://example.org@evil.example/x", "https://u:p@example.org/x"):
        assertion = hosted_assertion(id=userinfo)
        assert statuses(ob2(assertion, fetch_json=FakeWeb({userinfo: assertion}), now=NOW))["fetch"] == \
            ("failed", "not_https_url")
    assert all(url.startswith("https://") for url in web.calls)


def test_malformed_fetched_documents():
    web = hosted_web()
    web.documents[BADGE_ID] = ["not", "an", "object"]
    assert statuses(ob2(hosted_assertion(), fetch_json=web, now=NOW))["fetch"] == ("failed", "malformed_badge")
    web = hosted_web(hosted_assertion(badge=None))
    assert statuses(ob2(ASSERTION_ID, fetch_json=web, now=NOW))["fetch"] == ("failed", "malformed_assertion")


@pytest.mark.parametrize("source, reason", [
    ("not json", "malformed_assertion"),
    ('{"a": NaN}', "malformed_assertion"),
    ("[1, 2]", "malformed_assertion"),
    (42, "malformed_assertion"),
    ({"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"]}, "not_ob2"),
    (hosted_assertion(verification={"type": "SignedBadge"}), "signature_missing"),
    (hosted_assertion(verification={"type": "blockchain"}), "unsupported_verification_type"),
    (hosted_assertion(verification=None), "unsupported_verification_type"),
    (hosted_assertion(recipient=None), "malformed_assertion"),
    ("eyJhbGciOiJSUzI1NiJ9.bm90IGpzb24.c2ln", "malformed_assertion"),
    ("e30.e30.c2ln", "malformed_jws"),
])
def test_parse_failures(source, reason):
    web = hosted_web()
    result = ob2(source, fetch_json=web, now=NOW)
    assert statuses(result)["parse"] == ("failed", reason)
    assert not result.verified
    assert web.calls == []


def test_legacy_verify_alias():
    assertion = hosted_assertion(verification=None, verify={"type": "hosted", "url": ASSERTION_ID})
    assert ob2(assertion, fetch_json=hosted_web(assertion), now=NOW).verified


# --------------------------------------------------------------------------- #
# Recipient
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("given", [EMAIL, "  Beth@Example.ORG \n"])
def test_recipient_hashed_salted_match(given):
    result = ob2(hosted_assertion(), fetch_json=hosted_web(), now=NOW, recipient=given)
    assert statuses(result)["recipient"] == ("passed", None)
    assert result.verified


def test_recipient_hashed_mismatch():
    result = ob2(hosted_assertion(), fetch_json=hosted_web(), now=NOW, recipient="alice@example.org")
    assert statuses(result)["recipient"] == ("failed", "recipient_mismatch")
    assert not result.verified


@pytest.mark.parametrize("recipient_object", [
    {"type": "email", "hashed": True, "salt": SALT, "identity": "sha256$" + identity_hash()[7:].upper()},
    {"type": "email", "hashed": True, "salt": SALT, "identity": "SHA256$" + identity_hash()[7:].upper()},
    {"type": "email", "hashed": True, "identity": identity_hash(salt="", algorithm="md5")},
    {"type": "email", "identity": identity_hash()[:7] + identity_hash()[7:], "salt": SALT},  # hashed omitted
    {"type": "email", "hashed": False, "identity": "Beth@example.org"},
])
def test_recipient_forms_that_match(recipient_object):
    assertion = hosted_assertion(recipient=recipient_object)
    result = ob2(assertion, fetch_json=hosted_web(assertion), now=NOW, recipient="beth@example.org")
    assert statuses(result)["recipient"] == ("passed", None)


@pytest.mark.parametrize("recipient_object, reason", [
    ({"type": "email", "hashed": True, "salt": SALT, "identity": "sha256$" + "0" * 64}, "recipient_mismatch"),
    ({"type": "email", "hashed": True, "salt": "other", "identity": identity_hash()}, "recipient_mismatch"),
    ({"type": "email", "hashed": True, "identity": "sha1$abcdef"}, "malformed_recipient"),
    ({"type": "email", "hashed": True, "identity": "sha256$abc"}, "malformed_recipient"),
    ({"type": "email", "hashed": False, "identity": "mallory@example.org"}, "recipient_mismatch"),
    ({"type": "email", "hashed": True}, "malformed_recipient"),
])
def test_recipient_forms_that_do_not_match(recipient_object, reason):
    assertion = hosted_assertion(recipient=recipient_object)
    result = ob2(assertion, fetch_json=hosted_web(assertion), now=NOW, recipient=EMAIL)
    assert statuses(result)["recipient"] == ("failed", reason)
    assert not result.verified


# --------------------------------------------------------------------------- #
# Signed badges
# --------------------------------------------------------------------------- #
def _rsa(bits: int = 2048):
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


@pytest.fixture(scope="module")
def issuer_key():
    return _rsa()


@pytest.fixture(scope="module")
def attacker_key():
    return _rsa()


def pem(private_key) -> str:
    return private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def sign(payload: dict, private_key, alg: str = "RS256") -> str:
    key = jwk.JWK.from_pyca(private_key)
    token = jws.JWS(json.dumps(payload).encode("utf-8"))
    token.add_signature(key, alg=alg, protected=json.dumps({"alg": alg}))
    return token.serialize(compact=True)


def signed_assertion(**changes) -> dict:
    assertion = {
        "@context": OB2,
        "type": "Assertion",
        "id": SIGNED_ID,
        "recipient": {"type": "email", "hashed": True, "salt": SALT, "identity": identity_hash()},
        "evidence": "https://example.org/beths-robot-work.html",
        "issuedOn": "2016-12-31T23:59:59Z",
        "badge": BADGE_ID,
        "verification": {"type": "SignedBadge", "creator": KEY_ID},
    }
    assertion.update(changes)
    return {k: v for k, v in assertion.items() if v is not None}


def signed_web(issuer_key, *, revoked=(), issuer_changes=None, key_changes=None, drop=()) -> FakeWeb:
    issuer = dict(ISSUER, publicKey=KEY_ID, revocationList=REVOCATION_URL)
    issuer.update(issuer_changes or {})
    key = {"@context": OB2, "type": "CryptographicKey", "id": KEY_ID, "owner": ISSUER_ID,
           "publicKeyPem": pem(issuer_key)}
    key.update(key_changes or {})
    documents = {
        BADGE_ID: BADGE,
        ISSUER_ID: {k: v for k, v in issuer.items() if v is not None},
        KEY_ID: key,
        REVOCATION_URL: {"@context": OB2, "id": REVOCATION_URL, "type": "RevocationList",
                         "issuer": "https://example.org/issuer", "revokedAssertions": list(revoked)},
    }
    for url in drop:
        documents.pop(url)
    return FakeWeb(documents)


def test_signed_valid(issuer_key):
    web = signed_web(issuer_key, revoked=["urn:uuid:3c574c87-b96f-4f06-8eb5-68a29335b60e"])
    token = sign(signed_assertion(), issuer_key)
    result = ob2(token, fetch_json=web, now=NOW, recipient=EMAIL)
    assert statuses(result) == {check: ("passed", None) for check in CHECKS}
    assert result.verified
    assert result.get("proof").details == {"key": KEY_ID, "alg": "RS256"}
    assert result.assertion["id"] == SIGNED_ID
    assert web.calls == [BADGE_ID, ISSUER_ID, KEY_ID, REVOCATION_URL]
    assert is_ob2(token)


def test_signed_spec_style_verify_alias_and_key_list(issuer_key):
    assertion = signed_assertion(verification=None, verify={"type": "SignedBadge", "creator": KEY_ID})
    web = signed_web(issuer_key, issuer_changes={"publicKey": ["https://example.org/old-key.json", KEY_ID]})
    assert ob2(sign(assertion, issuer_key), fetch_json=web, now=NOW).verified


def test_signed_without_creator_tries_the_issuers_keys(issuer_key):
    old_key = "https://example.org/old-key.json"
    web = signed_web(issuer_key, issuer_changes={"publicKey": [old_key, KEY_ID]})
    web.documents[old_key] = {"id": old_key, "owner": ISSUER_ID, "publicKeyPem": pem(_rsa())}
    token = sign(signed_assertion(verification={"type": "SignedBadge"}), issuer_key)
    result = ob2(token, fetch_json=web, now=NOW)
    assert result.verified, statuses(result)
    assert result.get("proof").details["key"] == KEY_ID


def test_signed_with_key_embedded_in_the_issuer_profile(issuer_key):
    web = signed_web(issuer_key, issuer_changes={"publicKey": {"id": KEY_ID, "publicKeyPem": pem(issuer_key)}})
    del web.documents[KEY_ID]
    assert ob2(sign(signed_assertion(), issuer_key), fetch_json=web, now=NOW).verified


def test_signed_with_a_key_the_issuer_does_not_list(issuer_key, attacker_key):
    evil_key = "https://evil.example/key.json"
    web = signed_web(issuer_key)
    web.documents[evil_key] = {"id": evil_key, "owner": ISSUER_ID, "publicKeyPem": pem(attacker_key)}
    # the attacker even embeds a Profile listing its key; only the hosted Profile counts
    badge = dict(BADGE, issuer=dict(ISSUER, publicKey=evil_key))
    token = sign(signed_assertion(badge=badge, verification={"type": "SignedBadge", "creator": evil_key}),
                 attacker_key)
    result = ob2(token, fetch_json=web, now=NOW)
    s = statuses(result)
    assert s["issuer_binding"] == ("failed", "key_not_controlled_by_issuer")
    assert s["proof"] == ("skipped", "no_trusted_key")
    assert not result.verified
    assert evil_key not in web.calls


def test_signed_key_owned_by_someone_else(issuer_key):
    web = signed_web(issuer_key, key_changes={"owner": "https://evil.example/issuer.json"})
    result = ob2(sign(signed_assertion(), issuer_key), fetch_json=web, now=NOW)
    assert statuses(result)["issuer_binding"] == ("failed", "key_not_controlled_by_issuer")
    assert not result.verified
    web = signed_web(issuer_key, key_changes={"id": "https://example.org/other-key.json"})
    result = ob2(sign(signed_assertion(), issuer_key), fetch_json=web, now=NOW)
    assert statuses(result)["issuer_binding"] == ("failed", "key_not_controlled_by_issuer")


def test_signed_issuer_without_keys(issuer_key):
    web = signed_web(issuer_key, issuer_changes={"publicKey": None})
    token = sign(signed_assertion(verification={"type": "SignedBadge"}), issuer_key)
    assert statuses(ob2(token, fetch_json=web, now=NOW))["issuer_binding"] == ("failed", "no_issuer_key")


def test_tampered_jws(issuer_key):
    token = sign(signed_assertion(), issuer_key)
    header, _payload, signature = token.split(".")
    forged = signed_assertion(recipient={"type": "email", "hashed": False, "identity": "mallory@example.org"})
    tampered = ".".join([header, b64url_encode(json.dumps(forged).encode()), signature])
    result = ob2(tampered, fetch_json=signed_web(issuer_key), now=NOW, recipient="mallory@example.org")
    assert statuses(result)["proof"] == ("failed", "signature_mismatch")
    assert not result.verified


def test_signed_by_another_key_claiming_the_issuers_key(issuer_key, attacker_key):
    result = ob2(sign(signed_assertion(), attacker_key), fetch_json=signed_web(issuer_key), now=NOW)
    assert statuses(result)["proof"] == ("failed", "signature_mismatch")
    assert not result.verified


def test_hmac_token_is_refused(issuer_key):
    secret = jwk.JWK(kty="oct", k=b64url_encode(pem(issuer_key).encode()))
    token = jws.JWS(json.dumps(signed_assertion()).encode())
    token.add_signature(secret, alg="HS256", protected=json.dumps({"alg": "HS256"}))
    result = ob2(token.serialize(compact=True), fetch_json=signed_web(issuer_key), now=NOW)
    assert statuses(result)["proof"] == ("failed", "alg_not_allowed")


def test_weak_or_broken_key(issuer_key):
    weak = _rsa(1024)
    result = ob2(sign(signed_assertion(), weak), fetch_json=signed_web(weak), now=NOW)
    assert statuses(result)["proof"] == ("failed", "invalid_key")
    web = signed_web(issuer_key, key_changes={"publicKeyPem": "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"})
    result = ob2(sign(signed_assertion(), issuer_key), fetch_json=web, now=NOW)
    assert statuses(result)["proof"] == ("failed", "invalid_key")


def test_signed_payload_declaring_hosted(issuer_key):
    token = sign(signed_assertion(verification={"type": "hosted"}), issuer_key)
    result = ob2(token, fetch_json=signed_web(issuer_key), now=NOW)
    assert statuses(result)["parse"] == ("failed", "verification_type_mismatch")


@pytest.mark.parametrize("entry", [
    SIGNED_ID,
    {"id": SIGNED_ID, "revocationReason": "Honor code violation"},
])
def test_signed_revoked(issuer_key, entry):
    web = signed_web(issuer_key, revoked=["urn:uuid:other", entry])
    result = ob2(sign(signed_assertion(), issuer_key), fetch_json=web, now=NOW)
    assert statuses(result)["status"] == ("failed", "revoked")
    assert statuses(result)["proof"] == ("passed", None)  # the signature is still valid
    assert not result.verified


def test_signed_revoked_by_legacy_uid(issuer_key):
    web = signed_web(issuer_key, revoked=[{"uid": "abc123", "revocationReason": "Issued in error."}])
    result = ob2(sign(signed_assertion(uid="abc123"), issuer_key), fetch_json=web, now=NOW)
    assert statuses(result)["status"] == ("failed", "revoked")


def test_unreachable_revocation_list_is_indeterminate(issuer_key):
    web = signed_web(issuer_key, drop=[REVOCATION_URL])
    result = ob2(sign(signed_assertion(), issuer_key), fetch_json=web, now=NOW)
    assert statuses(result)["status"] == ("indeterminate", "status_list_unreachable")
    assert not result.verified
    web = signed_web(issuer_key)
    web.documents[REVOCATION_URL] = {"revokedAssertions": "nope"}
    result = ob2(sign(signed_assertion(), issuer_key), fetch_json=web, now=NOW)
    assert statuses(result)["status"] == ("failed", "status_list_invalid")  # the issuer's list is broken


def test_issuer_without_revocation_list(issuer_key):
    web = signed_web(issuer_key, issuer_changes={"revocationList": None}, drop=[REVOCATION_URL])
    result = ob2(sign(signed_assertion(), issuer_key), fetch_json=web, now=NOW)
    assert statuses(result)["status"] == ("passed", None)


@pytest.mark.parametrize("missing, check, reason", [
    (KEY_ID, "key", "key_unreachable"),
    (ISSUER_ID, "fetch", "issuer_unreachable"),
    (BADGE_ID, "fetch", "badge_unreachable"),
])
def test_signed_unreachable_pieces(issuer_key, missing, check, reason):
    web = signed_web(issuer_key, drop=[missing])
    result = ob2(sign(signed_assertion(), issuer_key), fetch_json=web, now=NOW)
    assert statuses(result)[check] == ("indeterminate", reason)
    assert not result.verified


def test_signed_expired(issuer_key):
    token = sign(signed_assertion(expires="2017-01-31T00:00:00Z"), issuer_key)
    result = ob2(token, fetch_json=signed_web(issuer_key), now=NOW)
    s = statuses(result)
    assert s["validity"] == ("failed", "expired")
    assert s["proof"] == ("passed", None)


def test_signed_recipient(issuer_key):
    token = sign(signed_assertion(), issuer_key)
    assert statuses(ob2(token, fetch_json=signed_web(issuer_key), now=NOW, recipient="BETH@example.org"))[
        "recipient"] == ("passed", None)
    assert statuses(ob2(token, fetch_json=signed_web(issuer_key), now=NOW, recipient="eve@example.org"))[
        "recipient"] == ("failed", "recipient_mismatch")


def test_fetch_budget(issuer_key):
    keys = [f"https://example.org/keys/{i}.json" for i in range(20)]
    web = signed_web(issuer_key, issuer_changes={"publicKey": keys})
    for url in keys:
        web.documents[url] = {"id": url, "owner": ISSUER_ID, "publicKeyPem": pem(issuer_key)}
    token = sign(signed_assertion(verification={"type": "SignedBadge"}), issuer_key)
    result = ob2(token, fetch_json=web, now=NOW)
    assert result.verified
    assert len(web.calls) <= 2 + MAX_KEYS + 1  # badge, issuer, the first keys, the revocation list


# --------------------------------------------------------------------------- #
# is_ob2
# --------------------------------------------------------------------------- #
def test_is_ob2():
    assert is_ob2(hosted_assertion())
    assert is_ob2({"@context": [OB2, {"extra": "https://example.org/extra"}]})
    assert is_ob2({"type": ["Assertion", "extensions:Foo"]})
    assert is_ob2(json.dumps(hosted_assertion()))
    assert not is_ob2({"@context": ["https://www.w3.org/ns/credentials/v2"],
                       "type": ["VerifiableCredential", "OpenBadgeCredential"]})
    assert not is_ob2(ASSERTION_ID)
    assert not is_ob2("a.b.c")
    assert not is_ob2(None)
    assert not is_ob2([hosted_assertion()])


# --------------------------------------------------------------------------- #
# --allow-http-host reaches Open Badges 2.0 (a plain-http loopback server)
# --------------------------------------------------------------------------- #
def _serve_hosted_badge(server) -> dict:
    base = server.base_url
    issuer = dict(ISSUER, id=f"{base}/issuer", url=base)
    badge = dict(BADGE, id=f"{base}/badge", issuer=issuer["id"])
    assertion = hosted_assertion(id=f"{base}/assertion", badge=badge["id"])
    for path, document in (("/issuer", issuer), ("/badge", badge), ("/assertion", assertion)):
        server.set_json(path, document)
    return assertion


def test_allow_http_host_reaches_ob2(http_server):
    from verifier import verify_credential

    assertion = _serve_hosted_badge(http_server)
    allowed = FetchPolicy(allow_hosts=frozenset({http_server.host}))
    for source in (assertion["id"], assertion):
        report = verify_credential(source, now=NOW, policy=allowed, recipient=EMAIL)
        assert report.verified, report.to_dict()["checks"]
        assert report.summary["format"] == "ob2"
    assert http_server.hits("/issuer") >= 1

    refused = verify_credential(assertion, now=NOW, policy=FetchPolicy())
    assert (refused.check("fetch").status, refused.check("fetch").reason) == ("failed", "not_https_url")
    other_host = FetchPolicy(allow_hosts=frozenset({"example.org"}))
    refused = verify_credential(assertion, now=NOW, policy=other_host)
    assert refused.check("fetch").reason == "not_https_url"


def test_http_only_for_the_allowed_host():
    """With example.org allowed, an http badge on example.net is still refused (https only)."""
    badge_url = "http://example.net/badge.json"
    web = hosted_web(hosted_assertion(badge=badge_url), policy=FetchPolicy(allow_hosts=frozenset({"example.org"})))
    web.documents[badge_url] = dict(BADGE, id=badge_url)
    result = ob2(hosted_assertion(badge=badge_url), fetch_json=web, now=NOW)
    assert statuses(result)["fetch"] == ("failed", "not_https_url")
    assert badge_url not in web.calls
