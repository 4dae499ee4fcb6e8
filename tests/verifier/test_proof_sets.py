"""Proof sets with proofs microcred does not understand (security.md A.6, A.8).

VC Data Integrity 1.0 section 4.5 allows verifying "only a subset of the proofs";
OB 3.0 section 8.2 lets a verifier "use any one proof". So a proof of an unknown type or
cryptosuite is reported as unsupported and ignored when another proof verifies and none
of the understood ones fails. Whose key made the verified proof is the caller's check
(verify.py's issuer binding), so each result carries its status and verification method.
"""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.verifier.signing_support import TestSigner, credential, sign_data_integrity
from verifier.proofs import FAILED, UNSUPPORTED, VERIFIED, is_supported, verify_proofs

UNKNOWN_TYPE = {"type": "ExampleSignature2099", "created": "2026-01-01T00:00:00Z",
                "verificationMethod": "did:example:elsewhere#key-1", "proofPurpose": "assertionMethod",
                "proofValue": "zUnknown"}
UNKNOWN_SUITE = {"type": "DataIntegrityProof", "cryptosuite": "example-unknown-2099",
                 "created": "2026-01-01T00:00:00Z", "verificationMethod": "did:example:elsewhere#key-2",
                 "proofPurpose": "assertionMethod", "proofValue": "zUnknown"}


@pytest.fixture(scope="module")
def signer() -> TestSigner:
    return TestSigner()


def _with(document: dict, *extra: dict) -> dict:
    proofs = document.get("proof", [])
    proofs = proofs if isinstance(proofs, list) else [proofs]
    return {**document, "proof": [*proofs, *extra]}


def _signed(signer: TestSigner, **options) -> dict:
    return sign_data_integrity(credential(signer.did), signer, **options)


@pytest.mark.parametrize("unknown", [UNKNOWN_TYPE, UNKNOWN_SUITE], ids=["type", "cryptosuite"])
def test_an_unknown_proof_beside_a_good_one_is_ignored(signer, unknown):
    result = verify_proofs(_with(_signed(signer), unknown), signer.resolve)
    assert result.verified and result.first_error is None
    assert [r.status for r in result.results] == [VERIFIED, UNSUPPORTED]
    assert result.results[1].error.code == "unsupported_cryptosuite"
    assert [r.verification_method for r in result.with_status(VERIFIED)] == [signer.verification_method]


def test_the_unknown_proof_may_come_first(signer):
    result = verify_proofs(_with({**credential(signer.did), "proof": [UNKNOWN_TYPE]},
                                 _signed(signer)["proof"]), signer.resolve)
    assert result.verified and [r.status for r in result.results] == [UNSUPPORTED, VERIFIED]


def test_no_key_is_resolved_for_an_unknown_proof(signer):
    asked: list[str] = []

    def resolve(vm: str):
        asked.append(vm)
        return signer.resolve(vm)

    assert verify_proofs(_with(_signed(signer), UNKNOWN_TYPE, UNKNOWN_SUITE), resolve).verified
    assert asked == [signer.verification_method]


@pytest.mark.parametrize("proofs", [[UNKNOWN_TYPE], [UNKNOWN_SUITE], [UNKNOWN_TYPE, UNKNOWN_SUITE]])
def test_only_unknown_proofs_fail_as_unsupported(signer, proofs):
    result = verify_proofs({**credential(signer.did), "proof": proofs}, signer.resolve)
    assert not result.verified
    assert {r.status for r in result.results} == {UNSUPPORTED}
    assert result.first_error.code == "unsupported_cryptosuite"


def test_a_failing_understood_proof_still_fails_the_set(signer):
    document = _with(_signed(signer), UNKNOWN_TYPE)
    document["proof"][0] = {**document["proof"][0], "created": "2026-01-02T00:00:00Z"}  # breaks its signature
    result = verify_proofs(document, signer.resolve)
    assert [r.status for r in result.results] == [FAILED, UNSUPPORTED]
    assert not result.verified and result.first_error.code == "signature_mismatch"


def test_a_good_and_a_broken_understood_proof_fail(signer):
    """security.md A.8: [valid proof, broken proof] is not accepted."""
    document = sign_data_integrity(_signed(signer), signer, created="2026-01-03T00:00:00Z")
    document["proof"][1]["proofValue"] = document["proof"][0]["proofValue"]
    result = verify_proofs(document, signer.resolve)
    assert [r.status for r in result.results] == [VERIFIED, FAILED] and not result.verified


@pytest.mark.parametrize("broken,code", [
    ({k: v for k, v in UNKNOWN_SUITE.items() if k != "cryptosuite"}, "malformed_proof"),  # DI without suite
    ({**UNKNOWN_SUITE, "cryptosuite": ["eddsa-rdfc-2022"]}, "malformed_proof"),
    ({**UNKNOWN_TYPE, "type": ["DataIntegrityProof"]}, "malformed_proof"),
    ({**UNKNOWN_TYPE, "type": None}, "malformed_proof"),
])
def test_a_malformed_proof_is_not_merely_unsupported(signer, broken, code):
    """Only a well-formed proof of an unknown kind is ignored; a broken one fails the set."""
    result = verify_proofs(_with(_signed(signer), broken), signer.resolve)
    assert [r.status for r in result.results] == [VERIFIED, FAILED]
    assert not result.verified and result.first_error.code == code


def test_a_proof_chained_to_an_unknown_proof_is_not_verified(signer):
    """Section 4.5: a chained proof counts only if the proofs it references verify."""
    document = {**credential(signer.did), "proof": [{**UNKNOWN_SUITE, "id": "urn:uuid:unknown"}]}
    chained = sign_data_integrity(document, signer, previousProof="urn:uuid:unknown")
    result = verify_proofs(chained, signer.resolve)
    assert [r.status for r in result.results] == [UNSUPPORTED, UNSUPPORTED]
    assert not result.verified and result.first_error.code == "unsupported_cryptosuite"


def test_a_chain_over_verified_proofs_verifies(signer):
    first = _signed(signer, id="urn:uuid:first")
    chained = sign_data_integrity(first, signer, created="2026-01-02T00:00:00Z", previousProof="urn:uuid:first")
    result = verify_proofs(_with(chained, UNKNOWN_TYPE), signer.resolve)
    assert [r.status for r in result.results] == [VERIFIED, VERIFIED, UNSUPPORTED] and result.verified


def test_a_proof_chained_to_a_failed_proof_fails(signer):
    """The chained proof's own signature matches, but the proof it builds on has expired."""
    first = _signed(signer, id="urn:uuid:first", expires="2026-02-01T00:00:00Z")
    chained = sign_data_integrity(first, signer, created="2026-01-02T00:00:00Z", previousProof="urn:uuid:first")
    result = verify_proofs(chained, signer.resolve, now=datetime(2026, 3, 1, tzinfo=UTC))
    assert [r.status for r in result.results] == [FAILED, FAILED]
    assert [r.error.code for r in result.results] == ["proof_expired", "previous_proof_unverified"]
    assert verify_proofs(chained, signer.resolve, now=datetime(2026, 1, 15, tzinfo=UTC)).verified


def test_is_supported():
    assert not is_supported(UNKNOWN_TYPE) and not is_supported(UNKNOWN_SUITE) and not is_supported("x")
    assert is_supported({**UNKNOWN_SUITE, "cryptosuite": "eddsa-rdfc-2022"})
    assert is_supported({**UNKNOWN_TYPE, "type": "Ed25519Signature2018"})
    assert is_supported({**UNKNOWN_TYPE, "type": "Ed25519Signature2020"})
    assert is_supported({k: v for k, v in UNKNOWN_SUITE.items() if k != "cryptosuite"})  # understood, malformed
