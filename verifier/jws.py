"""Strict JWS Compact Serialization parsing and verification (VC-JWT, OB 3.0 §8.2).

Only the three algorithms Open Badges 3.0 allows are accepted: EdDSA (Ed25519),
ES256 (P-256) and RS256 (RSA >= 2048 bits). Everything is checked *before* the
signature is computed, so a forged header can never pick the algorithm or the
key: the caller supplies the key, and the header's ``alg`` must fit that key.
Remote key references (``jku``, ``x5u``) are never fetched.

Every rejection raises :class:`~verifier.errors.JwsError` (or
:class:`~verifier.errors.KeyTypeMismatchError`) whose ``code`` is one of:

``too_large``, ``not_a_jws``, ``malformed_jws``, ``alg_none``,
``alg_not_allowed``, ``unsupported_header``, ``private_key_in_header``,
``key_type_mismatch``, ``signature_mismatch``.

Parsing is plain Python; jwcrypto (with the ``cryptography.x509`` modules it loads, ~35 ms
of a cold start) is imported only when a signature is verified, so reading a token, and
every command that never sees one, does not pay for it.
"""
from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric import rsa

from .errors import JwsError, KeyTypeMismatchError
from .keys import ed25519_verify
from .net.strict_json import strict_json_loads

if TYPE_CHECKING:
    from jwcrypto.jwk import JWK

ALLOWED_ALGS: tuple[str, ...] = ("EdDSA", "ES256", "RS256")
MAX_TOKEN_BYTES = 1024 * 1024  # 1 MiB

#: JWK members that carry private key material (RFC 7518 §6).
PRIVATE_JWK_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})

_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_MIN_RSA_BITS = 2048


# --------------------------------------------------------------------------- #
# Parsing
# --------------------------------------------------------------------------- #
def b64url_decode(segment: str, what: str) -> bytes:
    """Decode unpadded, canonical base64url; anything else is ``malformed_jws``."""
    if not _B64URL.fullmatch(segment) or len(segment) % 4 == 1:
        raise JwsError(
            f"The JWS {what} is not valid base64url (padding, '+', '/', whitespace "
            "or other characters are not allowed).",
            code="malformed_jws",
        )
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError) as exc:  # pragma: no cover - regex guards this
        raise JwsError(f"The JWS {what} is not valid base64url.", code="malformed_jws") from exc
    if b64url_encode(raw) != segment:
        raise JwsError(
            f"The JWS {what} is not canonical base64url (stray trailing bits).",
            code="malformed_jws",
        )
    return raw


def b64url_encode(data: bytes) -> str:
    """Unpadded base64url."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _check_header(header: dict[str, Any]) -> None:
    """Header checks that do not depend on the verification key."""
    if "enc" in header:
        raise JwsError("The token is a JWE (encrypted), not a signed JWS.", code="not_a_jws")
    alg = header.get("alg")
    if not isinstance(alg, str) or not alg:
        raise JwsError("The JWS header has no 'alg' string.", code="malformed_jws")
    if alg.strip().lower() == "none":
        raise JwsError("Unsigned tokens ('alg: none') are never accepted.", code="alg_none")
    if "crit" in header:
        raise JwsError(
            f"The JWS header marks extensions as critical ({header['crit']!r}); "
            "none are supported.",
            code="unsupported_header",
        )
    if "b64" in header:
        raise JwsError(
            "The JWS header uses the 'b64' option (RFC 7797); unsupported.",
            code="unsupported_header",
        )
    jwk = header.get("jwk")
    if jwk is not None:
        if not isinstance(jwk, dict):
            raise JwsError("The 'jwk' header member is not a JSON object.", code="malformed_jws")
        leaked = sorted(PRIVATE_JWK_MEMBERS & jwk.keys())
        if leaked:
            raise JwsError(
                "The 'jwk' in the JWS header contains private key material "
                f"({', '.join(leaked)}); the key is compromised.",
                code="private_key_in_header",
            )


def parse_compact_jws(token: object) -> tuple[dict[str, Any], dict[str, Any] | bytes, bytes, bytes]:
    """Strictly split a compact JWS into (header, payload, signing_input, signature).

    ``payload`` is the decoded JSON object when the payload is a JSON object,
    otherwise the raw bytes. No signature is checked here.
    """
    if isinstance(token, (bytes, bytearray)):
        if len(token) > MAX_TOKEN_BYTES:
            raise JwsError("The token is larger than 1 MiB.", code="too_large")
        try:
            token = bytes(token).decode("ascii")
        except UnicodeDecodeError as exc:
            raise JwsError("The token contains non-ASCII bytes.", code="malformed_jws") from exc
    if not isinstance(token, str):
        raise JwsError("The token is not a string.", code="malformed_jws")
    if len(token) > MAX_TOKEN_BYTES:
        raise JwsError("The token is larger than 1 MiB.", code="too_large")

    parts = token.split(".")
    if len(parts) == 5:
        raise JwsError("The token is a JWE (5 segments), not a signed JWS.", code="not_a_jws")
    if len(parts) != 3:
        raise JwsError(
            f"A compact JWS has 3 dot-separated segments; this token has {len(parts)}.",
            code="malformed_jws",
        )
    header_b64, payload_b64, signature_b64 = parts

    header_raw = b64url_decode(header_b64, "header")
    try:
        header = strict_json_loads(header_raw)
    except (UnicodeDecodeError, ValueError) as exc:
        raise JwsError(f"The JWS header is not valid JSON: {exc}", code="malformed_jws") from exc
    if not isinstance(header, dict):
        raise JwsError("The JWS header is not a JSON object.", code="malformed_jws")
    _check_header(header)

    payload_raw = b64url_decode(payload_b64, "payload")
    signature = b64url_decode(signature_b64, "signature")
    if not signature:
        raise JwsError("The JWS has an empty signature (unsigned token).", code="alg_none")

    payload: dict[str, Any] | bytes = payload_raw
    try:
        decoded = strict_json_loads(payload_raw)
    except UnicodeDecodeError:
        decoded = None
    except ValueError as exc:
        if "duplicate member" in str(exc):
            raise JwsError(
                f"The JWS payload is ambiguous JSON: {exc}", code="malformed_jws"
            ) from exc
        decoded = None
    if isinstance(decoded, dict):
        payload = decoded

    signing_input = f"{header_b64}.{payload_b64}".encode("ascii")
    return header, payload, signing_input, signature


# --------------------------------------------------------------------------- #
# Keys
# --------------------------------------------------------------------------- #
def _as_public_jwk_dict(public_jwk: Any) -> dict[str, Any]:
    """Normalise a JWK dict / jwcrypto JWK / object with ``to_jwk()`` to a dict."""
    from jwcrypto.jwk import JWK  # jwcrypto only when verifying (module docstring)

    if isinstance(public_jwk, JWK):
        if public_jwk.get("kty") == "oct":
            return {"kty": "oct"}  # rejected by key_fits_alg; never export the secret
        data = public_jwk.export_public(as_dict=True)
    elif isinstance(public_jwk, dict):
        data = dict(public_jwk)
    elif hasattr(public_jwk, "to_jwk"):
        data = dict(public_jwk.to_jwk())
    else:
        raise KeyTypeMismatchError(
            f"Unsupported verification key object: {type(public_jwk).__name__}."
        )
    return data


def key_fits_alg(jwk: dict[str, Any], alg: str) -> None:
    """Raise ``key_type_mismatch`` unless the JWK is a public key usable for ``alg``."""
    kty, crv = jwk.get("kty"), jwk.get("crv")
    if kty == "oct":
        raise KeyTypeMismatchError(
            "A symmetric ('oct') key can never verify a credential signature."
        )
    if alg == "EdDSA":
        ok = kty == "OKP" and crv == "Ed25519"
        need = "an Ed25519 (OKP) key"
    elif alg == "ES256":
        ok = kty == "EC" and crv == "P-256"
        need = "a P-256 (EC) key"
    elif alg == "RS256":
        ok = kty == "RSA"
        need = "an RSA key"
    else:  # pragma: no cover - callers check allowed_algs first
        ok, need = False, "a supported key"
    if not ok:
        raise KeyTypeMismatchError(
            f"The token says alg {alg}, which needs {need}; the key is "
            f"{kty or '?'}{' ' + crv if crv else ''}."
        )
    if jwk.get("alg") not in (None, alg):
        raise KeyTypeMismatchError(
            f"The key is restricted to alg {jwk['alg']!r}, but the token says {alg}."
        )
    if jwk.get("use") not in (None, "sig"):
        raise KeyTypeMismatchError(f"The key's 'use' is {jwk['use']!r}, not 'sig'.")


def _load_public_key(jwk: dict[str, Any], alg: str) -> JWK:
    from jwcrypto.common import JWException  # jwcrypto only when verifying (module docstring)
    from jwcrypto.jwk import JWK

    key_fits_alg(jwk, alg)
    public = {k: v for k, v in jwk.items() if k not in PRIVATE_JWK_MEMBERS}
    try:
        key = JWK(**public)
    except (JWException, ValueError, TypeError) as exc:
        raise KeyTypeMismatchError(f"The verification key is not a usable JWK: {exc}") from exc
    if alg == "RS256":
        op_key = key.get_op_key("verify")
        if not isinstance(op_key, rsa.RSAPublicKey):  # key_fits_alg let only an RSA JWK through
            raise KeyTypeMismatchError("RS256 needs an RSA key.")
        bits = op_key.key_size
        if bits < _MIN_RSA_BITS:
            raise KeyTypeMismatchError(
                f"RS256 needs an RSA key of at least {_MIN_RSA_BITS} bits; this one has {bits}."
            )
    return key


# --------------------------------------------------------------------------- #
# Verification
# --------------------------------------------------------------------------- #
def verify_compact_jws(
    token: str, public_jwk: Any, *, allowed_algs: Iterable[str] = ALLOWED_ALGS
) -> tuple[dict[str, Any], bytes]:
    """Verify a compact JWS with the caller's public key; return (header, payload bytes).

    ``public_jwk`` may be a JWK dict, a jwcrypto ``JWK`` or an object with a
    ``to_jwk()`` method. Only its public part is used.
    """
    from jwcrypto.common import JWException  # jwcrypto only when verifying (module docstring)
    from jwcrypto.jws import JWS

    header, _payload, signing_input, signature = parse_compact_jws(token)
    alg = header["alg"]
    allowed = [a for a in allowed_algs if a in ALLOWED_ALGS]
    if alg not in allowed:
        raise JwsError(
            f"Algorithm {alg!r} is not accepted (allowed: {', '.join(allowed) or 'none'}).",
            code="alg_not_allowed",
        )
    public = _as_public_jwk_dict(public_jwk)
    key = _load_public_key(public, alg)

    jws = JWS()
    jws.allowed_algs = [alg]  # never jwcrypto's default list (which includes HS*)
    try:
        jws.deserialize(token)
        jws.verify(key, alg=alg)
        # EdDSA is judged as Data Integrity proofs are (verifier.keys: libsodium refuses the
        # small-order and non-canonical keys and points OpenSSL, under jwcrypto, accepts)
        if alg == "EdDSA" and not ed25519_verify(b64url_decode(public["x"], "x"), signature, signing_input):
            raise ValueError("libsodium refuses the signature")
    except (JWException, ValueError, TypeError) as exc:
        raise JwsError(
            "The signature does not match the token contents and key.",
            code="signature_mismatch",
        ) from exc
    return header, jws.payload
