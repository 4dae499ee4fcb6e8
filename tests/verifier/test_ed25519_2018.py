"""Legacy ``Ed25519Signature2018`` proofs (detached JWS, ``b64: false``), verification only.

The published vectors are credo-ts's (see fixtures/README.md): one it verifies, one it
rejects. Our own key checks the header and signature rules (security.md A.6, D.40).
"""
from __future__ import annotations

import copy
from datetime import UTC
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from tests.support import read_json, shared_context
from tests.verifier.signing_support import (
    TestSigner,
    credential,
    ed25519_2018_jws,
    sign_ed25519_2018,
)
from verifier.document_loader import DocumentLoader
from verifier.errors import MalformedProofError
from verifier.jsonld import JsonLdEngine
from verifier.jws import b64url_encode
from verifier.keys import P256, PublicKey, public_key_from_did_key
from verifier.proofs import verify_proofs
from verifier.proofs.ed25519_signature_2018 import HEADER, parse_detached_jws

FIXTURES = Path(__file__).parent / "fixtures" / "ed25519-signature-2018"
EXAMPLES_V1 = "https://www.w3.org/2018/credentials/examples/v1"


@pytest.fixture(scope="module")
def vector_engine_2018(spec) -> JsonLdEngine:
    """The credo-ts vectors use the W3C VC 1.1 example context, which imports ODRL."""
    return JsonLdEngine(DocumentLoader({EXAMPLES_V1: shared_context(EXAMPLES_V1),
                                        "https://www.w3.org/ns/odrl.jsonld": read_json(FIXTURES / "odrl.jsonld")}))


@pytest.fixture(scope="module")
def signer() -> TestSigner:
    return TestSigner()


def _codes(result) -> list[str | None]:
    return [r.error.code if r.error else None for r in result.results]


# --------------------------------------------------------------------------- published vectors

def test_published_vector_verifies(vector_engine_2018):
    result = verify_proofs(read_json(FIXTURES / "credo-signed.json"), public_key_from_did_key,
                           engine=vector_engine_2018)
    assert result.verified and [r.status for r in result.results] == ["verified"]


def test_published_bad_vector_fails(vector_engine_2018):
    result = verify_proofs(read_json(FIXTURES / "credo-bad-signed.json"), public_key_from_did_key,
                           engine=vector_engine_2018)
    assert not result.verified and _codes(result) == ["signature_mismatch"]


@pytest.mark.parametrize("change", [
    lambda d: d["credentialSubject"]["degree"].update(name="Master of Science"),
    lambda d: d.update(issuanceDate="2017-10-22T12:23:49Z"),
    lambda d: d["proof"].update(created="2022-04-18T23:13:11Z"),
    lambda d: d["credentialSubject"].update(id="did:example:mallory"),
])
def test_tampered_published_vector_fails(vector_engine_2018, change):
    document = copy.deepcopy(read_json(FIXTURES / "credo-signed.json"))
    change(document)
    result = verify_proofs(document, public_key_from_did_key, engine=vector_engine_2018)
    assert not result.verified and _codes(result) == ["signature_mismatch"]


# --------------------------------------------------------------------------- our own key

def test_own_signature_verifies_and_tampering_fails(signer):
    signed = sign_ed25519_2018(credential(signer.did, v1=True), signer)
    assert verify_proofs(signed, signer.resolve).verified
    signed["credentialSubject"]["id"] = "did:example:mallory"
    assert _codes(verify_proofs(signed, signer.resolve)) == ["signature_mismatch"]


def test_the_header_is_written_as_jsonld_signatures_writes_it(signer):
    signed = sign_ed25519_2018(credential(signer.did, v1=True), signer)
    assert signed["proof"]["jws"].startswith("eyJhbGciOiJFZERTQSIsImI2NCI6ZmFsc2UsImNyaXQiOlsiYjY0Il19..")


@pytest.mark.parametrize("header", [
    {**HEADER, "kid": "did:example:x#1"},          # an extra member
    {"alg": "EdDSA", "b64": True, "crit": ["b64"]},  # an encoded payload
    {"alg": "EdDSA", "b64": 0, "crit": ["b64"]},     # 0 is not false
    {"alg": "EdDSA", "b64": False},                  # b64 not marked critical
    {"alg": "ES256", "b64": False, "crit": ["b64"]},  # not EdDSA
    {"alg": "none", "b64": False, "crit": ["b64"]},
])
def test_any_other_header_is_malformed(signer, header):
    signed = sign_ed25519_2018(credential(signer.did, v1=True), signer, header=header)
    assert _codes(verify_proofs(signed, signer.resolve)) == ["malformed_proof"]


@pytest.mark.parametrize("jws", [
    "not a jws",
    "eyJhbGciOiJFZERTQSIsImI2NCI6ZmFsc2UsImNyaXQiOlsiYjY0Il19.e30.AAAA",   # attached payload
    "eyJhbGciOiJFZERTQSIsImI2NCI6ZmFsc2UsImNyaXQiOlsiYjY0Il19..",         # no signature
    "eyJhbGciOiJFZERTQSIsImI2NCI6ZmFsc2UsImNyaXQiOlsiYjY0Il19.." + b64url_encode(bytes(63)),
    "eyJhbGciOiJFZERTQSIsImI2NCI6ZmFsc2UsImNyaXQiOlsiYjY0Il19==.." + b64url_encode(bytes(64)),  # padding
    "e30.." + b64url_encode(bytes(64)),                                       # {} header
])
def test_malformed_jws_values(jws):
    with pytest.raises(MalformedProofError):
        parse_detached_jws(jws)


def test_an_all_zero_signature_fails(signer):
    signed = sign_ed25519_2018(credential(signer.did, v1=True), signer)
    header = signed["proof"]["jws"].split(".")[0]
    signed["proof"]["jws"] = f"{header}..{b64url_encode(bytes(64))}"
    assert _codes(verify_proofs(signed, signer.resolve)) == ["signature_mismatch"]


def test_proof_value_instead_of_jws_is_malformed(signer):
    signed = sign_ed25519_2018(credential(signer.did, v1=True), signer)
    signed["proof"]["proofValue"] = "z" + "1" * 80
    del signed["proof"]["jws"]
    assert _codes(verify_proofs(signed, signer.resolve)) == ["malformed_proof"]


def test_a_jws_over_other_data_fails(signer):
    signed = sign_ed25519_2018(credential(signer.did, v1=True), signer)
    signed["proof"]["jws"] = ed25519_2018_jws(b"\0" * 64, signer)
    assert _codes(verify_proofs(signed, signer.resolve)) == ["signature_mismatch"]


def test_a_non_ed25519_key_is_refused(signer):
    signed = sign_ed25519_2018(credential(signer.did, v1=True), signer)
    p256 = PublicKey(P256, ec.generate_private_key(ec.SECP256R1()).public_key())
    assert _codes(verify_proofs(signed, lambda vm: p256)) == ["key_type_mismatch"]


def test_wrong_purpose_is_refused(signer):
    signed = sign_ed25519_2018(credential(signer.did, v1=True), signer)
    assert _codes(verify_proofs(signed, signer.resolve, expected_purpose="authentication")) == ["wrong_proof_purpose"]



def test_an_ed25519_verification_key_2018_with_public_key_base58_is_read():
    import base58
    from cryptography.hazmat.primitives import serialization

    from verifier.key_documents import KeyResolutionError, public_key_of_method

    key = TestSigner()
    raw = key.private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    method = {"id": "did:example:a#k", "type": "Ed25519VerificationKey2018", "controller": "did:example:a",
              "publicKeyBase58": base58.b58encode(raw).decode()}
    assert public_key_of_method(method, "k").thumbprint() == key.public.thumbprint()
    for bad in ("0OIl", base58.b58encode(raw[:31]).decode(), 7):
        with pytest.raises(KeyResolutionError):
            public_key_of_method({**method, "publicKeyBase58": bad}, "k")


def test_a_vc_2_0_credential_with_the_bundled_2018_suite_context_verifies_end_to_end():
    from datetime import datetime

    from verifier import verify_credential

    signer = TestSigner()
    credential = {"@context": ["https://www.w3.org/ns/credentials/v2",
                               "https://w3id.org/security/suites/ed25519-2018/v1"],
                  "type": ["VerifiableCredential"], "issuer": signer.did, "validFrom": "2026-01-01T00:00:00Z",
                  "credentialSubject": {"id": "did:example:alice"}}
    signed = sign_ed25519_2018(credential, signer)
    report = verify_credential(signed, now=datetime(2026, 6, 1, tzinfo=UTC), offline=True)
    assert report.verified, report.to_dict()
    assert report.check("proof").details["cryptosuites"] == ["Ed25519Signature2018"]
    signed["credentialSubject"]["id"] = "did:example:mallory"
    assert verify_credential(signed, now=datetime(2026, 6, 1, tzinfo=UTC), offline=True).outcome == \
        "not_verified"
