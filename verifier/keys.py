"""Public keys for verification: Multikey, JWK and did:key forms, and signature checks.

Supported key types are ``"Ed25519"``, ``"P-256"`` and ``"RSA"`` (>= 2048 bits).
Everything here is pure (no file I/O) and only ever handles public material.

Ed25519 signatures are checked by libsodium (PyNaCl, from the same maintainers as
``cryptography``), the other key types by ``cryptography``. Why libsodium: (1) speed: its
verification takes about half the time of OpenSSL's (53 against 104 µs here), and it is the
largest single cost of verifying a credential; (2) it is the stricter check: besides S >= L
(which both refuse), it refuses public keys and signature points of small order and public
keys not in canonical encoding (RFC 8032 §5.1.7 leaves these to the implementation; OpenSSL
accepts them). A small-order key verifies a forged signature over any message, so a did:key
issuer with such a key would otherwise "sign" whatever anyone writes. No honest signer makes
such keys or signatures (tests/verifier/test_ed25519_edges.py pins both behaviours).
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from nacl.bindings import crypto_sign_open
from nacl.exceptions import CryptoError

from . import multiformats as mf
from .errors import KeyFormatError, KeyTypeMismatchError

ED25519 = "Ed25519"
P256 = "P-256"
RSA = "RSA"
MIN_RSA_BITS = 2048

#: JWK members that carry private (or symmetric) key material
PRIVATE_JWK_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})

#: the ``cryptography`` public key classes of the supported key types
SupportedPublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey | rsa.RSAPublicKey

_KEY_CLASSES: dict[str, type[SupportedPublicKey]] = {
    ED25519: ed25519.Ed25519PublicKey,
    P256: ec.EllipticCurvePublicKey,
    RSA: rsa.RSAPublicKey,
}
_PUB_CODECS = {ED25519: mf.ED25519_PUB, P256: mf.P256_PUB, RSA: mf.RSA_PUB}
_JWK_ALGS = {ED25519: {"EdDSA", "Ed25519"}, P256: {"ES256"}, RSA: {"RS256"}}
_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_DID_KEY_PREFIX = "did:key:"


def b64url_encode(data: bytes) -> str:
    """Base64url without padding (RFC 7515)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(value: object, what: str = "value") -> bytes:
    """Strict base64url decoding: no padding, no foreign characters, canonical form only."""
    if not isinstance(value, str) or not _B64URL.fullmatch(value) or len(value) % 4 == 1:
        raise KeyFormatError(f"{what} is not unpadded base64url")
    try:
        data = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError) as exc:
        raise KeyFormatError(f"{what} is not unpadded base64url") from exc
    if b64url_encode(data) != value:
        raise KeyFormatError(f"{what} is not canonical base64url")
    return data


def int_to_b64url(number: int, length: int | None = None) -> str:
    """Big-endian base64url of ``number``, zero-padded to ``length`` bytes if given (JWA)."""
    size = length if length is not None else max(1, (number.bit_length() + 7) // 8)
    return b64url_encode(number.to_bytes(size, "big"))


@dataclass(frozen=True)
class PublicKey:
    """A public key of one of the supported types, wrapping a ``cryptography`` key object."""

    key_type: str
    key: SupportedPublicKey

    def __post_init__(self) -> None:
        expected = _KEY_CLASSES.get(self.key_type)
        if expected is None:
            raise KeyFormatError(f"unsupported key type {self.key_type!r}")
        if not isinstance(self.key, expected):
            raise KeyTypeMismatchError(f"key object is not an {self.key_type} public key")
        if isinstance(self.key, ec.EllipticCurvePublicKey) and not isinstance(self.key.curve, ec.SECP256R1):
            raise KeyTypeMismatchError(f"EC key is on {self.key.curve.name}, not P-256")
        if isinstance(self.key, rsa.RSAPublicKey) and self.key.key_size < MIN_RSA_BITS:
            raise KeyFormatError(
                f"RSA key is {self.key.key_size} bits; at least {MIN_RSA_BITS} are required",
                code="weak_key",
            )

    @cached_property
    def raw(self) -> bytes:
        """The key's bytes: raw Ed25519, compressed P-256 point, RSA PKCS#1 DER."""
        if isinstance(self.key, ed25519.Ed25519PublicKey):
            return self.key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        if isinstance(self.key, ec.EllipticCurvePublicKey):
            return self.key.public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint
            )
        return self.key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)

    def to_multibase(self) -> str:
        """The Multikey ``publicKeyMultibase`` value (``z6Mk...``, ``zDn...``, ``z4MX...``)."""
        return mf.encode_multikey(_PUB_CODECS[self.key_type], self.raw)

    def to_jwk(self) -> dict[str, Any]:
        """The public JWK (no ``kid``, never any private member)."""
        if isinstance(self.key, ed25519.Ed25519PublicKey):
            return {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(self.raw)}
        if isinstance(self.key, ec.EllipticCurvePublicKey):
            point = self.key.public_numbers()
            return {
                "kty": "EC",
                "crv": "P-256",
                "x": int_to_b64url(point.x, 32),
                "y": int_to_b64url(point.y, 32),
            }
        numbers = self.key.public_numbers()
        return {"kty": "RSA", "n": int_to_b64url(numbers.n), "e": int_to_b64url(numbers.e)}

    def to_did_key(self) -> str:
        """The ``did:key`` identifier for this key."""
        return _DID_KEY_PREFIX + self.to_multibase()

    def thumbprint(self) -> str:
        """RFC 7638 JWK thumbprint (SHA-256, base64url); computed once per key object."""
        return self._thumbprint

    @cached_property
    def _thumbprint(self) -> str:
        jwk = self.to_jwk()
        required = {"OKP": ("crv", "kty", "x"), "EC": ("crv", "kty", "x", "y"), "RSA": ("e", "kty", "n")}
        canonical = json.dumps(
            {name: jwk[name] for name in required[jwk["kty"]]}, separators=(",", ":"), sort_keys=True
        )
        return b64url_encode(hashlib.sha256(canonical.encode("utf-8")).digest())

    def verify(self, signature: bytes, data: bytes) -> bool:
        """Check ``signature`` over ``data``; ``False`` on any mismatch, never raises for it.

        Ed25519: raw 64 bytes, checked by libsodium (module docstring). P-256: ECDSA/SHA-256 as
        raw ``r || s`` (64 bytes). RSA: PKCS#1 v1.5 with SHA-256.
        """
        if isinstance(self.key, ed25519.Ed25519PublicKey):
            return ed25519_verify(self.raw, signature, data)
        try:
            if isinstance(self.key, ec.EllipticCurvePublicKey):
                if len(signature) != 64:
                    return False
                der = encode_dss_signature(
                    int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
                )
                self.key.verify(der, data, ec.ECDSA(hashes.SHA256()))
            else:
                self.key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        except (InvalidSignature, ValueError):
            return False
        return True


def ed25519_verify(public_key: bytes, signature: bytes, data: bytes) -> bool:
    """Whether ``signature`` (64 bytes) is an Ed25519 signature over ``data`` by the raw 32-byte
    ``public_key``, as libsodium judges it (the module docstring says why libsodium)."""
    if len(signature) != 64 or len(public_key) != 32:
        return False
    try:
        crypto_sign_open(signature + data, public_key)
    except CryptoError:
        return False
    return True


# Keys are parsed once: the same did:key or publicKeyMultibase comes back with every credential
# of an issuer. Short values only (an RSA key is under 600 characters), so the memo stays small.
_MEMO_MAX_CHARS = 1024


def public_key_from_multibase(value: str) -> PublicKey:
    """Parse a Multikey ``publicKeyMultibase`` (Ed25519, P-256 or RSA); remembered (LRU) when short."""
    if isinstance(value, str) and len(value) <= _MEMO_MAX_CHARS:
        return _remembered_multibase_key(value)
    return _parse_multibase_key(value)


@lru_cache(maxsize=1024)
def _remembered_multibase_key(value: str) -> PublicKey:
    return _parse_multibase_key(value)  # errors are raised each time, never remembered


def _parse_multibase_key(value: str) -> PublicKey:
    codec, payload = mf.decode_multikey(value)
    try:
        if codec == mf.ED25519_PUB:
            return PublicKey(ED25519, ed25519.Ed25519PublicKey.from_public_bytes(payload))
        if codec == mf.P256_PUB:
            if payload[0] not in (2, 3):
                raise KeyFormatError("P-256 multikey must be a compressed point (0x02/0x03 prefix)")
            return PublicKey(P256, ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), payload))
        if codec == mf.RSA_PUB:
            key = serialization.load_der_public_key(payload)
            # load_der_public_key also takes SPKI; insist on canonical PKCS#1 RSAPublicKey DER
            if not isinstance(key, rsa.RSAPublicKey) or key.public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.PKCS1
            ) != payload:
                raise KeyFormatError("RSA multikey must be a DER PKCS#1 RSAPublicKey")
            return PublicKey(RSA, key)
    except ValueError as exc:
        raise KeyFormatError(f"{codec} multikey is not a valid key: {exc}") from exc
    raise KeyFormatError(f"{codec} is a private key codec, not a public key")


def _jwk_int(jwk: dict[str, Any], name: str, length: int | None = None) -> int:
    if name not in jwk:
        raise KeyFormatError(f"JWK is missing {name!r}")
    data = b64url_decode(jwk[name], f"JWK member {name!r}")
    if length is not None and len(data) != length:
        raise KeyFormatError(f"JWK member {name!r} must be {length} bytes, got {len(data)}")
    if not data:
        raise KeyFormatError(f"JWK member {name!r} is empty")
    return int.from_bytes(data, "big")


def public_key_from_jwk(jwk: dict[str, Any]) -> PublicKey:
    """Parse a public JWK (OKP/Ed25519, EC/P-256 or RSA >= 2048 bits).

    A JWK carrying private members is refused: public keys must never travel with secrets.
    """
    if not isinstance(jwk, dict):
        raise KeyFormatError("JWK must be a JSON object")
    private = sorted(PRIVATE_JWK_MEMBERS & jwk.keys())
    if private:
        raise KeyFormatError(
            f"JWK contains private key members {private}; only public keys are accepted",
            code="private_key_material",
        )
    kty, crv = jwk.get("kty"), jwk.get("crv")
    try:
        if kty == "OKP" and crv == "Ed25519":
            raw = b64url_decode(jwk.get("x"), "JWK member 'x'")
            if len(raw) != 32:
                raise KeyFormatError(f"Ed25519 JWK 'x' must be 32 bytes, got {len(raw)}")
            key = PublicKey(ED25519, ed25519.Ed25519PublicKey.from_public_bytes(raw))
        elif kty == "EC" and crv == "P-256":
            point = ec.EllipticCurvePublicNumbers(_jwk_int(jwk, "x", 32), _jwk_int(jwk, "y", 32), ec.SECP256R1())
            key = PublicKey(P256, point.public_key())
        elif kty == "RSA":
            numbers = rsa.RSAPublicNumbers(_jwk_int(jwk, "e"), _jwk_int(jwk, "n"))
            key = PublicKey(RSA, numbers.public_key())
        elif kty in ("OKP", "EC"):
            raise KeyFormatError(f"unsupported {kty} curve {crv!r}; use Ed25519 or P-256")
        else:
            raise KeyFormatError(f"unsupported JWK key type {kty!r}; use OKP, EC or RSA")
    except ValueError as exc:
        raise KeyFormatError(f"JWK is not a valid {kty} public key: {exc}") from exc
    alg = jwk.get("alg")
    if alg is not None and alg not in _JWK_ALGS[key.key_type]:
        raise KeyTypeMismatchError(f"JWK alg {alg!r} does not fit an {key.key_type} key")
    return key


def _split_did_key(did_or_vm: str) -> tuple[str, str | None]:
    """Return ``(multibase, fragment or None)`` for a did:key DID or verification method id."""
    if not isinstance(did_or_vm, str) or not did_or_vm.startswith(_DID_KEY_PREFIX):
        raise KeyFormatError(f"{did_or_vm!r} is not a did:key identifier")
    did, _, fragment = did_or_vm.partition("#")
    return did[len(_DID_KEY_PREFIX):], fragment if "#" in did_or_vm else None


def public_key_from_did_key(did_or_vm: str) -> PublicKey:
    """Resolve ``did:key:z...`` (optionally ``#z...``) to its public key.

    A fragment, if present, must repeat the multibase value of the DID.
    """
    multibase, fragment = _split_did_key(did_or_vm)
    if fragment is not None and fragment != multibase:
        raise KeyFormatError(
            f"did:key fragment {fragment!r} does not match the key {multibase!r}"
        )
    return public_key_from_multibase(multibase)


def did_key_document(did: str) -> dict[str, Any]:
    """Build the DID document for a bare did:key DID, with one Multikey verification method."""
    multibase, fragment = _split_did_key(did)
    if fragment is not None:
        raise KeyFormatError(f"{did!r} has a fragment; pass the bare DID")
    public_key_from_multibase(multibase)  # validates the key before describing it
    vm_id = f"{did}#{multibase}"
    return {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": did,
        "verificationMethod": [
            {"id": vm_id, "type": "Multikey", "controller": did, "publicKeyMultibase": multibase}
        ],
        "assertionMethod": [vm_id],
        "authentication": [vm_id],
        "capabilityInvocation": [vm_id],
        "capabilityDelegation": [vm_id],
    }
