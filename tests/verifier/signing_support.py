"""Test-only signing with the verifier's own proof stages (the verifier never imports the issuer).

Keys come from ``cryptography`` directly; proofs are made by the same stage functions
``issuer.sign_credential`` calls (``eddsa_rdfc_2022.create_proof`` / ``eddsa_jcs_2022``),
and ``Ed25519Signature2018`` proofs from that suite's stages (``verify_data``,
``signing_input``), so what these helpers sign is exactly what the verifier checks.
"""
from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric import ed25519

from verifier.jsonld import JsonLdEngine
from verifier.jws import b64url_encode
from verifier.keys import ED25519, PublicKey
from verifier.proofs import ed25519_signature_2018, eddsa_jcs_2022, eddsa_rdfc_2022

VC_V1 = "https://www.w3.org/2018/credentials/v1"
VC_V2 = "https://www.w3.org/ns/credentials/v2"
SUITES = {eddsa_rdfc_2022.NAME: eddsa_rdfc_2022, eddsa_jcs_2022.NAME: eddsa_jcs_2022}


@dataclass
class TestSigner:
    """An Ed25519 key pair with the ``Signer`` shape (``key_type``, ``sign``) and its did:key."""

    __test__ = False  # not a pytest test class
    private: ed25519.Ed25519PrivateKey = field(default_factory=ed25519.Ed25519PrivateKey.generate)
    key_type: str = ED25519

    def sign(self, data: bytes) -> bytes:
        return self.private.sign(data)

    @property
    def public(self) -> PublicKey:
        return PublicKey(ED25519, self.private.public_key())

    @property
    def did(self) -> str:
        return self.public.to_did_key()

    @property
    def verification_method(self) -> str:
        return f"{self.did}#{self.public.to_multibase()}"

    def resolve(self, vm: str) -> PublicKey:
        """A key resolver that knows only this key."""
        if vm != self.verification_method:
            raise AssertionError(f"unexpected verification method {vm}")
        return self.public


def credential(issuer: str, *, v1: bool = False, **extra) -> dict:
    """A small unsigned credential (VC 2.0, or VC 1.1 with ``v1``) that uses bundled contexts only."""
    doc = {"@context": [VC_V1 if v1 else VC_V2], "type": ["VerifiableCredential"], "issuer": issuer,
           ("issuanceDate" if v1 else "validFrom"): "2026-01-01T00:00:00Z",
           "credentialSubject": {"id": "did:example:alice"}}
    doc.update(extra)
    return doc


def _with_proof(document: dict, proof: dict) -> dict:
    signed = copy.deepcopy(document)
    existing = signed.pop("proof", None)
    signed["proof"] = proof if existing is None else [*(existing if isinstance(existing, list) else [existing]), proof]
    return signed


def sign_data_integrity(document: dict, signer: TestSigner, *, cryptosuite: str = eddsa_rdfc_2022.NAME,
                        created: str = "2026-01-01T00:00:00Z", engine: JsonLdEngine | None = None,
                        **options) -> dict:
    """``document`` with one more DataIntegrityProof (a proof set when it already has proofs).

    Extra proof options (``expires``, ``id``, ``previousProof``) go into ``options``; a
    ``previousProof`` signs over the proofs it names, as VC Data Integrity 4.5 says.
    """
    suite = SUITES[cryptosuite]
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    proof_options = {"created": created, "verificationMethod": signer.verification_method,
                     "proofPurpose": "assertionMethod", **options}
    signing_input = unsecured
    if "previousProof" in options:
        existing = document.get("proof", [])
        existing = existing if isinstance(existing, list) else [existing]
        wanted = options["previousProof"] if isinstance(options["previousProof"], list) else [options["previousProof"]]
        signing_input = {**unsecured, "proof": [p for p in existing if p.get("id") in wanted]}
    return _with_proof(document, suite.create_proof(signing_input, proof_options, signer, engine))


def ed25519_2018_jws(data: bytes, signer: TestSigner, header: dict | None = None) -> str:
    """A detached, unencoded-payload JWS over ``data`` (header as jsonld-signatures writes it)."""
    encoded_header = b64url_encode(json.dumps(header or ed25519_signature_2018.HEADER,
                                              separators=(",", ":")).encode("utf-8"))
    signature = signer.sign(ed25519_signature_2018.signing_input(encoded_header, data))
    return f"{encoded_header}..{b64url_encode(signature)}"


def sign_ed25519_2018(document: dict, signer: TestSigner, *, created: str = "2026-01-01T00:00:00Z",
                      engine: JsonLdEngine | None = None, header: dict | None = None) -> dict:
    """``document`` with an ``Ed25519Signature2018`` proof, made from that suite's stages."""
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    options = {"type": "Ed25519Signature2018", "created": created,
               "verificationMethod": signer.verification_method, "proofPurpose": "assertionMethod"}
    data = ed25519_signature_2018.verify_data(unsecured, options, engine)
    return _with_proof(document, {**options, "jws": ed25519_2018_jws(data, signer, header)})


def sign_vc_jwt(payload: dict, signer: TestSigner, *, kid: str | None = None) -> str:
    """A compact EdDSA JWS (VC-JWT) over ``payload`` exactly as given (no claims added)."""
    header = {"alg": "EdDSA", "typ": "JWT", "kid": kid or signer.verification_method}
    signing_input = (b64url_encode(json.dumps(header, separators=(",", ":")).encode("utf-8")) + "."
                     + b64url_encode(json.dumps(payload, separators=(",", ":")).encode("utf-8")))
    return f"{signing_input}.{b64url_encode(signer.sign(signing_input.encode('ascii')))}"
