"""A proof's own validity period: ``created`` and ``expires`` against the verifier's clock.

VC Data Integrity 1.0 section 2.1 (``created``, ``expires``) and 2.6 (the time of
interest must lie between them), with the 300 s clock skew used for credential dates
(security.md A.9). Without ``now`` nothing is date-checked (existing callers).
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.verifier.signing_support import TestSigner, credential, sign_data_integrity, sign_ed25519_2018
from verifier.proofs import verify_proofs
from verifier.validity import CLOCK_SKEW

CREATED = datetime(2026, 1, 1, tzinfo=UTC)
EXPIRES = datetime(2026, 2, 1, tzinfo=UTC)
SUITES = ["eddsa-rdfc-2022", "eddsa-jcs-2022"]


@pytest.fixture(scope="module")
def signer() -> TestSigner:
    return TestSigner()


def _signed(signer: TestSigner, cryptosuite: str = "eddsa-rdfc-2022", **options) -> dict:
    options.setdefault("expires", "2026-02-01T00:00:00Z")
    return sign_data_integrity(credential(signer.did), signer, cryptosuite=cryptosuite,
                               created="2026-01-01T00:00:00Z", **options)


def _outcome(document: dict, signer: TestSigner, now: datetime | None):
    result = verify_proofs(document, signer.resolve, now=now)
    return result.verified, result.first_error.code if result.first_error else None


@pytest.mark.parametrize("cryptosuite", SUITES)
def test_a_proof_within_its_period_verifies(signer, cryptosuite):
    assert _outcome(_signed(signer, cryptosuite), signer, CREATED + timedelta(days=3)) == (True, None)


@pytest.mark.parametrize("cryptosuite", SUITES)
def test_a_proof_past_its_expires_fails(signer, cryptosuite):
    verified, code = _outcome(_signed(signer, cryptosuite), signer, EXPIRES + CLOCK_SKEW + timedelta(seconds=1))
    assert (verified, code) == (False, "proof_expired")


def test_the_expired_proof_reports_its_date(signer):
    result = verify_proofs(_signed(signer), signer.resolve, now=EXPIRES + timedelta(days=1))
    assert result.results[0].status == "failed"
    assert result.results[0].error.details == {"expires": "2026-02-01T00:00:00Z"}


def test_just_past_expires_within_the_skew_verifies(signer):
    assert _outcome(_signed(signer), signer, EXPIRES + CLOCK_SKEW - timedelta(seconds=1)) == (True, None)


@pytest.mark.parametrize("cryptosuite", SUITES)
def test_a_proof_created_in_the_future_fails(signer, cryptosuite):
    verified, code = _outcome(_signed(signer, cryptosuite), signer, CREATED - CLOCK_SKEW - timedelta(seconds=1))
    assert (verified, code) == (False, "proof_created_in_future")


def test_created_just_ahead_of_the_clock_within_the_skew_verifies(signer):
    assert _outcome(_signed(signer), signer, CREATED - CLOCK_SKEW + timedelta(seconds=1)) == (True, None)


def test_a_proof_without_expires_never_expires(signer):
    document = sign_data_integrity(credential(signer.did), signer, created="2026-01-01T00:00:00Z")
    assert _outcome(document, signer, datetime(2099, 1, 1, tzinfo=UTC)) == (True, None)


def test_legacy_suites_are_date_checked_too(signer):
    document = sign_ed25519_2018(credential(signer.did, v1=True), signer, created="2030-01-01T00:00:00Z")
    assert _outcome(document, signer, CREATED) == (False, "proof_created_in_future")
    assert _outcome(document, signer, datetime(2030, 1, 2, tzinfo=UTC)) == (True, None)


def test_without_now_no_date_is_checked(signer):
    """Existing callers (issuer self-checks, the VC-API) pass no clock and keep working."""
    assert _outcome(_signed(signer), signer, None) == (True, None)


def test_expires_before_created_is_malformed(signer):
    document = _signed(signer, expires="2025-12-31T00:00:00Z")
    assert _outcome(document, signer, CREATED) == (False, "malformed_proof")


@pytest.mark.parametrize("bad", ["2026-02-30T00:00:00Z", "2026-01-01T23:59:60Z", "10000-01-01T00:00:00Z"])
def test_a_date_that_does_not_exist_is_malformed(signer, bad):
    document = _signed(signer)
    document["proof"]["expires"] = bad  # (the signature no longer matters: dates are checked first)
    assert _outcome(document, signer, CREATED) == (False, "malformed_proof")


def test_a_naive_clock_is_misuse(signer):
    with pytest.raises(ValueError):
        verify_proofs(_signed(signer), signer.resolve, now=datetime(2026, 1, 2))


def test_one_expired_proof_fails_the_set(signer):
    """A proof set passes only when none of the understood proofs fails."""
    document = _signed(signer)
    document = sign_data_integrity(document, signer, created="2026-01-01T00:00:00Z")  # no expires
    result = verify_proofs(document, signer.resolve, now=EXPIRES + timedelta(days=1))
    assert [r.status for r in result.results] == ["failed", "verified"]
    assert not result.verified and result.first_error.code == "proof_expired"
