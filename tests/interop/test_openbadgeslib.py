"""Interoperability with openbadgeslib (PyPI), an independent OB 3.0 implementation.

Ours -> theirs: credentials microcred signs (eddsa-rdfc-2022 and VC-JWT, did:key
issuer) verify in openbadgeslib's OB3LdpVerifier / OB3Verifier, and a tampered
copy does not. Theirs -> ours: a Data Integrity proof and a VC-JWT made by
openbadgeslib verify with microcred's verifier, byte-identical for the same key
and time.
"""
from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from importlib.resources import files

import pytest
from cryptography.hazmat.primitives import serialization

import issuer
from issuer.keys.files import generate_key
from verifier.jws import verify_compact_jws
from verifier.keys import public_key_from_did_key
from verifier.proofs import verify_proofs
from verifier.vc_jwt import claim_mismatches, jwt_claims_for

ldp = pytest.importorskip("openbadgeslib.ob3.ldp", reason="openbadgeslib[ldp] is a test dependency")
jwt_verifier = pytest.importorskip("openbadgeslib.ob3.verifier")
jwt_signer = pytest.importorskip("openbadgeslib.ob3.signer")

CREATED = "2026-02-01T08:30:00Z"


@pytest.fixture()
def issuer_key():
    key = generate_key("ed25519")
    did = key.public.to_did_key()
    return key, did, f"{did}#{key.public.to_multibase()}"


@pytest.fixture()
def credential(issuer_key):
    _, did, _ = issuer_key
    doc = json.loads(files("issuer").joinpath("samples/teamwork-badge.json").read_text())
    doc["issuer"]["id"] = did
    return doc


def _pem(key) -> bytes:
    return key.private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption())


def test_our_data_integrity_credential_verifies_in_openbadgeslib(issuer_key, credential):
    key, did, vm = issuer_key
    signed = issuer.sign_credential(credential, key, verification_method=vm, created=CREATED)
    result = ldp.OB3LdpVerifier(issuer_did=did).verify(signed)
    assert result.achievement.name == "Teamwork"
    tampered = copy.deepcopy(signed)
    tampered["credentialSubject"]["achievement"]["name"] = "Leadership"
    with pytest.raises(Exception, match="signature"):
        ldp.OB3LdpVerifier(issuer_did=did).verify(tampered)


def test_our_vc_jwt_verifies_in_openbadgeslib(issuer_key, credential):
    key, did, vm = issuer_key
    token = issuer.sign_jwt(credential, key, verification_method=vm)
    result = jwt_verifier.OB3Verifier.for_issuer_did(did).verify(token)
    assert result.id == credential["id"]
    other = generate_key("ed25519")
    forged = issuer.sign_jwt(credential, other, verification_method=vm)
    with pytest.raises(Exception):  # noqa: B017 - openbadgeslib signals a bad signature with assorted types
        jwt_verifier.OB3Verifier.for_issuer_did(did).verify(forged)


def test_openbadgeslib_data_integrity_proof_verifies_here_and_matches_ours(issuer_key, credential):
    key, _, vm = issuer_key
    created = datetime.fromisoformat(CREATED.replace("Z", "+00:00")).astimezone(UTC)
    theirs = ldp.add_data_integrity_proof(credential, _pem(key), vm, created=created)
    result = verify_proofs(theirs, public_key_from_did_key)
    assert result.verified, [r.error for r in result.results]
    ours = issuer.sign_credential(credential, key, verification_method=vm, created=CREATED)
    assert ours["proof"]["proofValue"] == theirs["proof"]["proofValue"]
    theirs["validFrom"] = "2020-01-01T00:00:00Z"
    assert not verify_proofs(theirs, public_key_from_did_key).verified


def test_openbadgeslib_vc_jwt_verifies_here(issuer_key, credential):
    key, did, vm = issuer_key
    signer = jwt_signer.OB3Signer(_pem(key), algorithm="EdDSA")
    payload = {**credential, **jwt_claims_for(credential)}
    token = signer.sign_payload(payload)
    header, body = verify_compact_jws(token, key.public)
    decoded = json.loads(body)
    assert claim_mismatches(decoded) == []
    assert decoded["credentialSubject"] == credential["credentialSubject"]
