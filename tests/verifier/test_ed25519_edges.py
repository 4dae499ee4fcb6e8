"""Ed25519 edge encodings (security.md A.7): what an honest signer never makes is refused, the
same way by Data Integrity proofs and VC-JWTs.

The forgery: the public key of small order 1 (the identity point, ``01 00..00``) and the
signature R = identity, S = 0 satisfy the verification equation for *any* message. OpenSSL (under
``cryptography`` and jwcrypto) accepts it; libsodium, which ``verifier.keys`` uses, refuses it.
Each test shows the forgery passing OpenSSL, so it fails if the check goes back there.
"""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed25519

from tests.verifier.signing_support import TestSigner, credential
from verifier import verify_credential
from verifier.errors import JwsError
from verifier.jws import verify_compact_jws
from verifier.keys import ED25519, PublicKey, b64url_encode
from verifier.proofs import eddsa_rdfc_2022

IDENTITY = bytes([1]) + bytes(31)            # the neutral point: small order (1)
FORGED = IDENTITY + bytes(32)                # R = identity, S = 0: "valid" for every message under OpenSSL
L = 2**252 + 27742317777372353535851937790883648493  # the group order


def _openssl_accepts(public: bytes, signature: bytes, data: bytes) -> bool:
    try:
        ed25519.Ed25519PublicKey.from_public_bytes(public).verify(signature, data)
    except InvalidSignature:
        return False
    return True


def test_a_small_order_key_does_not_verify_a_forged_signature():
    weak = PublicKey(ED25519, ed25519.Ed25519PublicKey.from_public_bytes(IDENTITY))
    for message in (b"", b"any message at all", bytes(64)):
        assert _openssl_accepts(IDENTITY, FORGED, message)        # what the check must not do
        assert not weak.verify(FORGED, message)


def test_a_malleated_signature_is_refused_by_both_libraries():
    signer = TestSigner()
    data = b"hash data"
    signature = signer.sign(data)
    assert signer.public.verify(signature, data)
    s = int.from_bytes(signature[32:], "little")
    malleated = signature[:32] + (s + L).to_bytes(32, "little")   # the same point equation, S >= L
    assert not _openssl_accepts(signer.public.raw, malleated, data)
    assert not signer.public.verify(malleated, data)


class _Forger:
    """A "signer" for the identity key: writes the forged signature whatever it is given."""

    key_type = ED25519

    def sign(self, data: bytes) -> bytes:
        return FORGED


def test_a_credential_forged_for_a_small_order_did_key_is_not_verified():
    weak = PublicKey(ED25519, ed25519.Ed25519PublicKey.from_public_bytes(IDENTITY))
    did = weak.to_did_key()
    document = credential(did, name="Anything the forger likes")
    options = {"created": "2026-01-01T00:00:00Z", "verificationMethod": f"{did}#{weak.to_multibase()}",
               "proofPurpose": "assertionMethod"}
    forged = {**document, "proof": eddsa_rdfc_2022.create_proof(document, options, _Forger())}
    report = verify_credential(forged, offline=True, now=datetime(2026, 6, 1, tzinfo=UTC))
    assert not report.verified
    proof = report.check("proof")
    assert proof is not None and proof.status == "failed" and proof.reason == "signature_mismatch"


def _forged_jwt(header: dict) -> str:
    import json

    def part(value: dict) -> str:
        return b64url_encode(json.dumps(value).encode())

    signing_input = f"{part(header)}.{part({'vc': {}})}"
    assert _openssl_accepts(IDENTITY, FORGED, signing_input.encode())
    return f"{signing_input}.{b64url_encode(FORGED)}"


def test_a_forged_eddsa_jwt_for_a_small_order_key_is_refused():
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(IDENTITY)}
    with pytest.raises(JwsError) as caught:
        verify_compact_jws(_forged_jwt({"alg": "EdDSA", "typ": "JWT"}), jwk)
    assert caught.value.code == "signature_mismatch"


def test_an_honest_eddsa_jwt_still_verifies():
    from tests.verifier.signing_support import sign_vc_jwt

    signer = TestSigner()
    token = sign_vc_jwt({"vc": {}}, signer)
    header, payload = verify_compact_jws(token, signer.public_jwk())
    assert header["alg"] == "EdDSA" and b'"vc"' in payload
