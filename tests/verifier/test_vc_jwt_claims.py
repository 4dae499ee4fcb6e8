"""VC-JWT claims against the credential, as OB 3.0 section 8.2 and VC-JWT say and no stricter.

A NumericDate is whole seconds, so a credential date with a fraction (walt.id, didkit)
matches the claim for the second it falls in; anything further off is still a mismatch
(security.md D.38). A payload carrying a credential at top level and another in ``vc``
is refused (D.38).
"""
from __future__ import annotations

import json
from datetime import datetime

import pytest

from tests.verifier.signing_support import TestSigner
from tests.verifier.signing_support import sign_vc_jwt as sign_token
from verifier.errors import CredentialError
from verifier.jws import verify_compact_jws
from verifier.vc_jwt import claim_mismatches, credential_from_payload, jwt_claims_for

ISSUER = "did:example:issuer"


def _epoch(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def _credential(**dates) -> dict:
    return {"@context": ["https://www.w3.org/ns/credentials/v2"], "id": "urn:uuid:1",
            "type": ["VerifiableCredential", "OpenBadgeCredential"], "issuer": {"id": ISSUER},
            "credentialSubject": {"id": "did:example:alice"},
            **(dates or {"validFrom": "2026-01-01T00:00:00.123Z"})}


def _payload(credential: dict, **claims) -> dict:
    base = {"iss": ISSUER, "jti": "urn:uuid:1", "sub": "did:example:alice"}
    return {**credential, **base, **claims}


# --------------------------------------------------------------------------- fractional seconds

@pytest.mark.parametrize("valid_from,nbf", [
    ("2026-01-01T00:00:00.123Z", "2026-01-01T00:00:00Z"),
    ("2026-01-01T00:00:00.999999999Z", "2026-01-01T00:00:00Z"),
    ("2026-01-01T01:00:00.5+01:00", "2026-01-01T00:00:00Z"),
    ("2026-01-01T00:00:00.000Z", "2026-01-01T00:00:00Z"),
])
def test_a_fractional_date_matches_its_truncated_claim(valid_from, nbf):
    assert claim_mismatches(_payload(_credential(validFrom=valid_from), nbf=_epoch(nbf))) == []


def test_a_fractional_valid_until_matches_its_truncated_exp():
    credential = _credential(validFrom="2026-01-01T00:00:00Z", validUntil="2027-06-30T23:59:59.750Z")
    payload = _payload(credential, nbf=_epoch("2026-01-01T00:00:00Z"), exp=_epoch("2027-06-30T23:59:59Z"))
    assert claim_mismatches(payload) == []


def test_vcdm11_fractional_dates_in_the_vc_claim():
    vc = {**_credential(), "issuanceDate": "2026-01-01T00:00:00.123Z"}
    del vc["validFrom"]
    payload = {"iss": ISSUER, "jti": "urn:uuid:1", "sub": "did:example:alice",
               "nbf": _epoch("2026-01-01T00:00:00Z"), "vc": vc}
    assert claim_mismatches(payload) == []


@pytest.mark.parametrize("nbf", [
    "2026-01-01T00:00:01Z",   # rounded up instead of truncated
    "2025-12-31T23:59:59Z",   # a second early
    "2026-01-01T00:01:00Z",
])
def test_a_fractional_mismatch_beyond_the_second_fails(nbf):
    problems = claim_mismatches(_payload(_credential(validFrom="2026-01-01T00:00:00.999Z"), nbf=_epoch(nbf)))
    assert len(problems) == 1 and problems[0].startswith("nbf does not equal")


def test_the_claim_itself_must_still_be_an_integer():
    """RFC 7519 would allow 1767225600.123, but OB 3.0's NumericDate is an integer (D.39)."""
    problems = claim_mismatches(_payload(_credential(), nbf=1767225600.123))
    assert len(problems) == 1 and problems[0].startswith("nbf must be an integer NumericDate")


def test_the_issuer_side_still_refuses_fractions():
    """microcred signs whole seconds only, so its own nbf round-trips (jwt_claims_for default)."""
    with pytest.raises(CredentialError, match="fractional"):
        jwt_claims_for(_credential())
    assert jwt_claims_for(_credential(), truncate_fractions=True)["nbf"] == _epoch("2026-01-01T00:00:00Z")


def test_a_token_with_a_fractional_date_verifies_end_to_end():
    signer = TestSigner()
    token = sign_token(_payload(_credential(), nbf=_epoch("2026-01-01T00:00:00Z")), signer)
    _, raw = verify_compact_jws(token, signer.public)
    assert claim_mismatches(json.loads(raw)) == []


# --------------------------------------------------------------------------- where the credential is

def test_top_level_and_a_different_vc_is_refused():
    payload = {**_payload(_credential()), "vc": {**_credential(), "id": "urn:uuid:other"}}
    with pytest.raises(CredentialError) as info:
        credential_from_payload(payload)
    assert info.value.code == "jwt_ambiguous_credential"
    assert claim_mismatches(payload) and "vc" in claim_mismatches(payload)[0]


def test_top_level_and_an_identical_vc_is_refused_too():
    """Neither text allows both places; VC-JOSE-COSE says the vc claim MUST NOT be present."""
    with pytest.raises(CredentialError) as info:
        credential_from_payload({**_credential(), "vc": _credential()})
    assert info.value.code == "jwt_ambiguous_credential"


def test_the_payload_is_the_credential_without_the_registered_claims():
    credential = _credential()
    payload = {**_payload(credential, nbf=1, exp=2, iat=3, aud="x")}
    assert credential_from_payload(payload) == credential


def test_the_vc_claim_is_the_credential_for_vcdm11_tokens():
    vc = _credential()
    assert credential_from_payload({"iss": ISSUER, "vc": vc}) is vc


@pytest.mark.parametrize("payload", [["a"], "text", {"vc": "not an object"}, {"vc": None}])
def test_no_credential_object(payload):
    with pytest.raises(CredentialError) as info:
        credential_from_payload(payload)
    assert info.value.code == "not_a_credential"
