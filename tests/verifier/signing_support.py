"""Test-only signing with the verifier's own proof stages (no dependence on the issuer package).

Keys come from ``cryptography`` directly (Ed25519, P-256, RSA); proofs are made by the same
stage functions ``issuer.sign_credential`` calls (``eddsa_rdfc_2022.create_proof`` /
``eddsa_jcs_2022``), and ``Ed25519Signature2018`` proofs from that suite's stages
(``verify_data``, ``signing_input``), so what these helpers sign is exactly what the verifier
checks. VC-JWTs are compact JWS made here byte for byte the way ``issuer/vc_jwt.py`` writes
them: the credential plus the registered claims ``verifier.vc_jwt.jwt_claims_for`` derives
(iss, jti, sub, nbf, exp), header ``{"alg", "typ": "JWT", "kid" | "jwk"}``.
"""
from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from jwcrypto.jwk import JWK

from verifier import multiformats as mf
from verifier.jsonld import JsonLdEngine
from verifier.jws import b64url_encode
from verifier.keys import ED25519, P256, RSA, PublicKey
from verifier.proofs import ed25519_signature_2018, eddsa_jcs_2022, eddsa_rdfc_2022
from verifier.vc_jwt import REGISTERED_CLAIMS, jwt_claims_for

VC_V1 = "https://www.w3.org/2018/credentials/v1"
VC_V2 = "https://www.w3.org/ns/credentials/v2"
SUITES = {eddsa_rdfc_2022.NAME: eddsa_rdfc_2022, eddsa_jcs_2022.NAME: eddsa_jcs_2022}


#: the JWS algorithm each key type signs a VC-JWT with (OB 3.0 section 8.2, as issuer/vc_jwt.py)
JWT_ALGS = {ED25519: "EdDSA", P256: "ES256", RSA: "RS256"}
RSA_BITS = 3072  # what the issuer generates (>= 2048)


def _key_type_of(private: Any) -> str:
    if isinstance(private, ed25519.Ed25519PrivateKey):
        return ED25519
    if isinstance(private, ec.EllipticCurvePrivateKey) and isinstance(private.curve, ec.SECP256R1):
        return P256
    if isinstance(private, rsa.RSAPrivateKey):
        return RSA
    raise TypeError(f"unsupported private key {type(private).__name__}")


@dataclass
class TestSigner:
    """A key pair with the ``Signer`` shape (``key_type``, ``sign``), its did:key and JWKs.

    Ed25519 by default; :meth:`generate` makes P-256 and RSA ones too. ``sign`` gives the
    JWS form of the signature: raw Ed25519, ``r || s`` for ES256, PKCS#1 v1.5 for RS256.
    """

    __test__ = False  # not a pytest test class
    private: Any = field(default_factory=ed25519.Ed25519PrivateKey.generate)
    key_type: str = ""

    def __post_init__(self) -> None:
        actual = _key_type_of(self.private)
        if self.key_type and self.key_type != actual:
            raise TypeError(f"key_type {self.key_type!r} does not match a {actual} private key")
        self.key_type = actual

    @classmethod
    def generate(cls, kind: str = "ed25519", *, bits: int = RSA_BITS) -> TestSigner:
        """A new key: ``ed25519``, ``p256`` or ``rsa`` (``bits``, 3072 by default)."""
        kind = kind.lower().replace("-", "")
        if kind == "ed25519":
            return cls(ed25519.Ed25519PrivateKey.generate())
        if kind == "p256":
            return cls(ec.generate_private_key(ec.SECP256R1()))
        if kind == "rsa":
            return cls(rsa.generate_private_key(public_exponent=65537, key_size=bits))
        raise ValueError(f"unknown key kind {kind!r}")

    @classmethod
    def from_ed25519_secret(cls, value: str) -> TestSigner:
        """An Ed25519 key from a ``z3u2...`` private multibase (as the W3C vectors give it) or 64 hex."""
        if len(value) == 64 and all(c in "0123456789abcdefABCDEF" for c in value):
            seed = bytes.fromhex(value)
        else:
            codec, seed = mf.decode_multikey(value)
            if codec != mf.ED25519_PRIV:
                raise ValueError(f"multibase secret is {codec}, not ed25519-priv")
        return cls(ed25519.Ed25519PrivateKey.from_private_bytes(seed))

    def sign(self, data: bytes) -> bytes:
        if self.key_type == ED25519:
            return self.private.sign(data)
        if self.key_type == P256:
            r, s = decode_dss_signature(self.private.sign(data, ec.ECDSA(hashes.SHA256())))
            return r.to_bytes(32, "big") + s.to_bytes(32, "big")
        return self.private.sign(data, padding.PKCS1v15(), hashes.SHA256())

    @property
    def jwt_alg(self) -> str:
        return JWT_ALGS[self.key_type]

    def to_jwcrypto(self) -> JWK:
        """The private key as a jwcrypto JWK whose ``kid`` is its RFC 7638 thumbprint (as the issuer's)."""
        members = JWK.from_pyca(self.private).export_private(as_dict=True)
        return JWK(**{**members, "kid": self.public.thumbprint()})

    def public_jwk(self) -> dict:
        """The public JWK a VC-JWT header embeds: as ``issuer/vc_jwt.py`` writes it, ``kid`` included."""
        return self.to_jwcrypto().export_public(as_dict=True)

    def private_jwk(self) -> dict:
        """The private JWK (what ``issuer.sign_credential`` accepts as a key)."""
        return self.to_jwcrypto().export_private(as_dict=True)

    @property
    def public(self) -> PublicKey:
        return PublicKey(self.key_type, self.private.public_key())

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


def _compact_jws(header: dict, payload: dict, signer: TestSigner) -> str:
    """Compact JWS, serialized as issuer/vc_jwt.py does (compact JSON, UTF-8, header as given)."""
    signing_input = (
        b64url_encode(json.dumps(header, separators=(",", ":")).encode("utf-8")) + "."
        + b64url_encode(json.dumps(payload, ensure_ascii=False, allow_nan=False,
                                   separators=(",", ":")).encode("utf-8")))
    return f"{signing_input}.{b64url_encode(signer.sign(signing_input.encode('ascii')))}"


def jwt_header(signer: TestSigner, *, kid: str | None = None, jwk: bool = False) -> dict:
    """``{"alg", "typ": "JWT"}`` plus ``kid`` (default: the signer's did:key method) or the public ``jwk``."""
    header = {"alg": signer.jwt_alg, "typ": "JWT"}
    if jwk:
        if kid is not None:
            raise ValueError("give kid or jwk, not both")
        header["jwk"] = signer.public_jwk()
    else:
        header["kid"] = kid or signer.verification_method
    return header


def sign_vc_jwt(payload: dict, signer: TestSigner, *, kid: str | None = None, jwk: bool = False,
                header: dict | None = None) -> str:
    """A compact JWS (VC-JWT) over ``payload`` exactly as given (no claims added).

    The algorithm follows the key (EdDSA, ES256, RS256); the header names ``kid`` (default: the
    signer's did:key method) or embeds the public ``jwk``; ``header`` replaces it entirely.
    """
    return _compact_jws(header if header is not None else jwt_header(signer, kid=kid, jwk=jwk), payload, signer)


def jwt_payload(credential: dict) -> dict:
    """The VC-JWT payload issuer/vc_jwt.py writes: the credential plus its derived registered claims.

    Claims the credential already carries must equal the derived ones, and no registered claim
    may stand without the data it derives from (e.g. ``exp`` without ``validUntil``).
    """
    claims = jwt_claims_for(credential)
    payload = copy.deepcopy(credential)
    for name, value in claims.items():
        if name in payload and payload[name] != value:
            raise ValueError(f"the credential's {name!r} differs from the derived claim {value!r}")
        payload[name] = value
    stale = [n for n in REGISTERED_CLAIMS if n in payload and n not in claims]
    if stale:
        raise ValueError(f"the credential has unsupported registered claims {stale}")
    return payload


def sign_credential_jwt(credential: dict, signer: TestSigner, *, kid: str | None = None,
                        embed_jwk: bool = False) -> str:
    """``credential`` as a VC-JWT, the token ``issuer.sign_jwt`` / ``issuer.vc_jwt.sign_vc_jwt`` makes.

    Exactly one of ``kid`` or ``embed_jwk`` (as in the issuer); the input is not changed.
    """
    if (kid is None) == (not embed_jwk):
        raise ValueError("give exactly one of kid or embed_jwk=True")
    return sign_vc_jwt(jwt_payload(credential), signer, kid=kid, jwk=embed_jwk)
