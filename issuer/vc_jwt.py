"""Sign an Open Badges 3.0 credential as a VC-JWT (OB 3.0 §8.2, compact JWS).

The payload is the credential JSON plus the registered claims derived from it
(see :func:`verifier.vc_jwt.jwt_claims_for`). The algorithm follows from the key:
Ed25519 -> EdDSA, P-256 -> ES256, RSA (>= 2048 bits) -> RS256.
"""
from __future__ import annotations

import copy
import json
import re
from typing import Any

from jwcrypto.common import JWException
from jwcrypto.jwk import JWK
from jwcrypto.jws import JWS

from verifier.errors import CredentialError, KeyFormatError, KeyTypeMismatchError
from verifier.jws import PRIVATE_JWK_MEMBERS
from verifier.vc_jwt import REGISTERED_CLAIMS, jwt_claims_for

_KID = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S+")
_MIN_RSA_BITS = 2048


def _signing_jwk(private_key: Any) -> JWK:
    """Accept a jwcrypto JWK, a JWK dict or an object with ``to_jwcrypto()``."""
    if hasattr(private_key, "to_jwcrypto"):
        private_key = private_key.to_jwcrypto()
    if isinstance(private_key, dict) and not isinstance(private_key, JWK):  # JWK is a dict
        try:
            private_key = JWK(**private_key)
        except (JWException, ValueError, TypeError) as exc:
            raise KeyFormatError(f"The signing key is not a usable JWK: {exc}") from exc
    if not isinstance(private_key, JWK):
        raise KeyFormatError(
            f"Unsupported signing key object: {type(private_key).__name__}."
        )
    return private_key


def alg_for_key(key: JWK) -> str:
    """The JWS ``alg`` for a key, or ``KeyTypeMismatchError`` if OB 3.0 allows none."""
    kty, crv = key.get("kty"), key.get("crv")
    if kty == "OKP" and crv == "Ed25519":
        return "EdDSA"
    if kty == "EC" and crv == "P-256":
        return "ES256"
    if kty == "RSA":
        bits = key.get_op_key("verify").key_size
        if bits < _MIN_RSA_BITS:
            raise KeyTypeMismatchError(
                f"RS256 needs an RSA key of at least {_MIN_RSA_BITS} bits; this one has {bits}."
            )
        return "RS256"
    raise KeyTypeMismatchError(
        f"Key type {kty}{' ' + crv if crv else ''} cannot sign a VC-JWT "
        "(use Ed25519, P-256 or RSA >= 2048)."
    )


def _header(key: JWK, alg: str, kid: str | None, embed_jwk: bool) -> dict:
    if (kid is None) == (not embed_jwk):
        raise CredentialError(
            "Give exactly one of kid (a verification-method URL) or embed_jwk=True.",
            code="invalid_input",
        )
    header: dict[str, Any] = {"alg": alg, "typ": "JWT"}
    if kid is not None:
        if not isinstance(kid, str) or not _KID.fullmatch(kid):
            raise CredentialError(
                f"kid {kid!r} is not a URL or DID URL of a verification method.",
                code="invalid_input",
            )
        header["kid"] = kid
    else:
        public = key.export_public(as_dict=True)
        if PRIVATE_JWK_MEMBERS & public.keys():  # defence in depth; must never happen
            raise KeyFormatError("Refusing to embed a JWK with private key material.")
        header["jwk"] = public
    return header


def sign_vc_jwt(
    credential: dict, private_key: Any, *, kid: str | None = None, embed_jwk: bool = False
) -> str:
    """Return the compact VC-JWT for ``credential`` signed with ``private_key``.

    Exactly one of ``kid`` or ``embed_jwk`` must be given. The input credential
    is not modified. Raises ``CredentialError`` subclasses on bad input
    (``invalid_credential``, ``invalid_input``, ``invalid_key``, ``key_type_mismatch``).
    """
    key = _signing_jwk(private_key)
    alg = alg_for_key(key)
    if not key.has_private:
        raise KeyFormatError("The signing key has no private part.")
    header = _header(key, alg, kid, embed_jwk)

    claims = jwt_claims_for(credential)
    payload = copy.deepcopy(credential)
    for name, value in claims.items():
        if name in payload and payload[name] != value:
            raise CredentialError(
                f"The credential already has a {name!r} member ({payload[name]!r}) that "
                f"differs from the derived claim ({value!r}).",
                code="invalid_credential",
            )
        payload[name] = value
    stale = [n for n in REGISTERED_CLAIMS if n in payload and n not in claims]
    if stale:
        raise CredentialError(
            f"The credential has member(s) {', '.join(stale)} that its own data does not "
            "support (e.g. exp without validUntil).",
            code="invalid_credential",
        )

    body = json.dumps(payload, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")
    jws = JWS(body)
    jws.allowed_algs = [alg]
    jws.add_signature(key, alg=alg, protected=json.dumps(header, separators=(",", ":")))
    return jws.serialize(compact=True)
