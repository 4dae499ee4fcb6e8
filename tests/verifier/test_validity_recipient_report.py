"""Dates against an injected clock, recipient matching, and the report's rules."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from verifier.recipient import hashed_identity, recipient_matches
from verifier.report import FAILED, INDETERMINATE, PASSED, SKIPPED, CheckResult, VerificationReport
from verifier.validity import ValidityError, check_validity

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("credential,reason", [
    ({"validFrom": "2026-01-01T00:00:00Z"}, None),
    ({"validFrom": "2026-01-01T00:00:00Z", "validUntil": "2027-01-01T00:00:00Z"}, None),
    ({"validFrom": "2026-07-01T00:00:00Z"}, "not_yet_valid"),
    ({"validFrom": "2026-01-01T00:00:00Z", "validUntil": "2026-05-01T00:00:00+02:00"}, "expired"),
    ({"issuanceDate": "2026-01-01T00:00:00Z", "expirationDate": "2026-02-01T00:00:00Z"}, "expired"),
    ({"issuanceDate": "2026-01-01T00:00:00"}, None),  # VC 1.1 allows a date-time without zone
    ({}, None),
])
def test_validity_outcomes(credential, reason):
    assert check_validity(credential, NOW)[0] == reason


def test_clock_skew_tolerance_is_five_minutes():
    almost = (NOW + timedelta(seconds=290)).strftime("%Y-%m-%dT%H:%M:%SZ")
    late = (NOW + timedelta(seconds=310)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert check_validity({"validFrom": almost}, NOW)[0] is None
    assert check_validity({"validFrom": late}, NOW)[0] == "not_yet_valid"


@pytest.mark.parametrize("credential", [
    {"validFrom": "yesterday"}, {"validFrom": "2026-02-30T00:00:00Z"}, {"validFrom": "2026-01-01T00:00:00"},
    {"validFrom": "2026-01-01T25:00:00Z"}, {"validFrom": 20260101},
    {"validFrom": "2026-03-01T00:00:00Z", "validUntil": "2026-02-01T00:00:00Z"},
])
def test_malformed_dates_are_their_own_error(credential):
    with pytest.raises(ValidityError) as info:
        check_validity(credential, NOW)
    assert info.value.code == "invalid_date"


def _credential(**subject) -> dict:
    return {"credentialSubject": subject}


def test_recipient_matching():
    salt = "b7f2c9a1e04d3f58"
    hashed = {"type": "IdentityObject", "identityType": "emailAddress", "hashed": True, "salt": salt,
              "identityHash": hashed_identity("alex@example.com", salt)}
    assert recipient_matches(_credential(identifier=[hashed]), "  Alex@Example.com ") is True
    assert recipient_matches(_credential(identifier=[hashed]), "sam@example.com") is False
    upper = dict(hashed, identityHash="sha256$" + hashed["identityHash"].split("$")[1].upper())
    assert recipient_matches(_credential(identifier=[upper]), "alex@example.com") is True
    plain = {"type": "IdentityObject", "identityType": "emailAddress", "hashed": False, "identityHash": "alex@example.com"}
    assert recipient_matches(_credential(identifier=[plain]), "ALEX@example.com") is True
    assert recipient_matches(_credential(id="mailto:alex@example.com"), "alex@example.com") is True
    assert recipient_matches(_credential(id="did:example:alex"), "did:example:alex") is True
    assert recipient_matches(_credential(id="did:example:alex"), "did:example:sam") is False
    assert recipient_matches(_credential(name="Alex"), "alex@example.com") is None


def _report(*statuses) -> VerificationReport:
    names = ("key", "issuer_binding", "proof", "status")
    return VerificationReport([CheckResult(n, s, "m") for n, s in zip(names, statuses, strict=False)])


def test_report_verdicts_and_refusal_to_be_a_boolean():
    assert _report(PASSED, PASSED, PASSED, PASSED).verified
    assert _report(PASSED, PASSED, PASSED, SKIPPED).verified
    assert _report(PASSED, PASSED, PASSED, INDETERMINATE).outcome == "indeterminate"
    assert _report(PASSED, FAILED, PASSED, INDETERMINATE).outcome == "not_verified"
    assert not _report(PASSED, PASSED, SKIPPED, PASSED).verified  # proof must pass, not be skipped
    with pytest.raises(TypeError):
        bool(_report(PASSED, PASSED, PASSED, PASSED))
    as_dict = _report(PASSED, PASSED, PASSED, PASSED).to_dict()
    assert as_dict["verified"] is True and [c["check"] for c in as_dict["checks"]][:3] == ["key", "issuer_binding", "proof"]
