"""KEY, ISSUER_BINDING and PROOF for a VC-JWT (OB 3.0 §8.2, VC-JOSE-COSE).

The key comes from the header (``kid``, or a ``jwk`` that must be one of the issuer's keys;
``jku``/``x5u`` are never fetched) and must be the issuer's (:func:`resolve_jwt_key` checks the
binding); the JWS is verified with the algorithm fixed by the key type; then the registered
claims must agree with the credential (``iss``, ``sub``, ``jti``, ``nbf``, ``exp``, compared as
the texts say: NumericDates in whole seconds).
"""
from __future__ import annotations

from typing import Any

from ..errors import CredentialError
from ..jws import verify_compact_jws
from ..key_resolution import IssuerBindingError, resolve_jwt_key
from ..registry import CheckId, Status
from ..report import CheckResult
from ..vc_jwt import claim_mismatches
from .base import Verification, from_error, issuer_id, passed, reported, skipped
from .signature import supplied_by_user


def check_jwt(token: str, header: dict[str, Any], payload: dict[str, Any], credential: dict[str, Any],
              v: Verification) -> None:
    """Add the KEY, ISSUER_BINDING and PROOF results of a VC-JWT to ``v``."""
    issuer = issuer_id(credential)
    try:
        if not issuer:
            raise IssuerBindingError("The credential names no issuer.", code="no_issuer")
        method = resolve_jwt_key(header, issuer, v.fetcher)
    except CredentialError as exc:
        if isinstance(exc, IssuerBindingError):   # the key was found; it is not the issuer's
            v.add(passed(CheckId.KEY, "Found the key the signature names."))
            v.add(from_error(CheckId.ISSUER_BINDING, exc))
            v.add(skipped(CheckId.PROOF, "blocked_by_key", "Not checked: the key is not the issuer's."))
        else:
            v.add(from_error(CheckId.KEY, exc))
            v.add(skipped(CheckId.ISSUER_BINDING, "blocked_by_key"))
            v.add(skipped(CheckId.PROOF, "blocked_by_key"))
        return
    supplied = supplied_by_user(method.id, v.supplied)
    found = "Found the issuer's signing key" + (" (taken from a file you supplied)." if supplied else ".")
    v.add(passed(CheckId.KEY, found,
                 method=method.id, source=method.source, supplied_by_user=[method.id] if supplied else []))
    v.add(passed(CheckId.ISSUER_BINDING, "Signed with a key the issuer controls and uses for issuing badges.",
                 methods=[method.id], issuer=issuer[:200]))
    v.add(_check_token(token, header, payload, method.public_key))


def _check_token(token: str, header: dict[str, Any], payload: dict[str, Any], public_key: object) -> CheckResult:
    try:
        verify_compact_jws(token, public_key)
    except CredentialError as exc:
        return from_error(CheckId.PROOF, exc)
    mismatches = claim_mismatches(payload)
    if mismatches:
        return reported(CheckId.PROOF, "jwt_claims_mismatch", "; ".join(mismatches), mismatches=mismatches)
    return CheckResult(CheckId.PROOF, Status.PASSED, "The signature matches the badge: nothing was changed "
                       "after signing.", None, {"alg": header.get("alg")})
