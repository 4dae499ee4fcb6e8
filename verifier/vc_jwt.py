"""VC-JWT registered claims (OB 3.0 §8.2), shared by the issuer and the verifier.

The credential JSON is the JWT payload; the registered claims are derived from it:

=====  =========================================================================
iss    issuer id (``issuer`` is a string or an object with ``id``)
jti    credential ``id`` (omitted when the credential has none)
sub    ``credentialSubject.id`` (omitted when none)
nbf    ``validFrom`` (VCDM 2.0) or ``issuanceDate`` (VCDM 1.1), integer seconds
exp    ``validUntil`` / ``expirationDate``, integer seconds (omitted when none)
=====  =========================================================================

A NumericDate is whole seconds (OB 3.0 §8.2 "JWT Payload Format"; RFC 7519 §2). When
*signing*, dates must be whole seconds with an explicit time zone so that ``nbf``/``exp``
round-trip exactly: a non-zero fractional second is refused (an all-zero fraction such
as ``.000`` denotes a whole second and is accepted). When *verifying*
(:func:`claim_mismatches`), OB 3.0 §8.2 "Verify a Credential VC-JWT Signature" converts
the claim to a date-time and compares it with the credential's; a date with fractional
seconds (walt.id and didkit write them) matches the claim for the second it falls in
(the fraction is truncated), and nothing looser.

Where the credential is (:func:`credential_from_payload`): the payload itself (OB 3.0
§8.2, VC 2.0 / VC-JOSE-COSE), or the ``vc`` claim (VCDM 1.1 style tokens, the note in
OB 3.0 §8.2 "Verify a Credential") - never both.
"""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from .accessors import issuer_id
from .dates import DateError, parse_datetime
from .errors import CredentialError

REGISTERED_CLAIMS: tuple[str, ...] = ("iss", "jti", "sub", "nbf", "exp")
_STRING_CLAIMS = ("iss", "jti", "sub")
_DATE_CLAIMS = ("nbf", "exp")

_FRACTION = re.compile(r"\.([0-9]+)")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _invalid(message: str) -> CredentialError:
    return CredentialError(message, code="invalid_credential")


def numeric_date(value: Any, field: str, *, truncate: bool = False) -> int:
    """Convert an XML Schema dateTimeStamp string to a NumericDate (integer seconds).

    A non-zero fractional second is refused, unless ``truncate`` (verification), which
    drops it: the NumericDate of the second the date falls in.
    """
    if not isinstance(value, str):
        raise _invalid(f"{field} must be a date-time string, got {type(value).__name__}.")
    try:
        # RFC 3339 allows a lower-case "t" and "z"; the digits are unchanged by upper()
        dt = parse_datetime(value.upper(), require_zone=True)
    except DateError as exc:
        raise _invalid(f"{field} {value!r} is not a date-time with a time zone "
                       f"(expected e.g. 2024-01-01T00:00:00Z): {exc}.") from None
    fraction = _FRACTION.search(value)
    if fraction and fraction[1].strip("0") and not truncate:
        raise _invalid(
            f"{field} {value!r} has fractional seconds; a VC-JWT NumericDate is whole "
            "seconds, so the date would not round-trip. Use whole seconds."
        )
    return (dt.replace(microsecond=0) - _EPOCH) // timedelta(seconds=1)


def _issuer_id(credential: dict[str, Any]) -> str:
    found = issuer_id(credential)
    if found is None:
        raise _invalid("The credential has no issuer id (issuer or issuer.id).")
    return found


def _subject_id(credential: dict[str, Any]) -> str | None:
    subject = credential.get("credentialSubject")
    if isinstance(subject, list):
        subject = subject[0] if len(subject) == 1 else None
    if not isinstance(subject, dict) or "id" not in subject:
        return None
    if not isinstance(subject["id"], str) or not subject["id"]:
        raise _invalid("credentialSubject.id is not a non-empty string.")
    return subject["id"]


def jwt_claims_for(credential: dict[str, Any], *, truncate_fractions: bool = False) -> dict[str, Any]:
    """Return the registered JWT claims derived from ``credential``.

    Raises ``CredentialError(code="invalid_credential")`` for a missing issuer or
    valid-from date, a non-string ``id``, and unparseable dates, and for fractional
    seconds unless ``truncate_fractions`` (used when verifying a token's claims).
    """
    if not isinstance(credential, dict):
        raise _invalid("The credential is not a JSON object.")
    claims: dict[str, Any] = {"iss": _issuer_id(credential)}

    if "id" in credential:
        if not isinstance(credential["id"], str) or not credential["id"]:
            raise _invalid("The credential id is not a non-empty string.")
        claims["jti"] = credential["id"]

    sub = _subject_id(credential)
    if sub is not None:
        claims["sub"] = sub

    if "validFrom" in credential:
        claims["nbf"] = numeric_date(credential["validFrom"], "validFrom", truncate=truncate_fractions)
    elif "issuanceDate" in credential:
        claims["nbf"] = numeric_date(credential["issuanceDate"], "issuanceDate", truncate=truncate_fractions)
    else:
        raise _invalid("The credential has no validFrom (or issuanceDate) date.")

    if "validUntil" in credential:
        claims["exp"] = numeric_date(credential["validUntil"], "validUntil", truncate=truncate_fractions)
    elif "expirationDate" in credential:
        claims["exp"] = numeric_date(credential["expirationDate"], "expirationDate", truncate=truncate_fractions)
    return claims


#: JWT registered claims (RFC 7519 §4.1): not credential properties, so removed from a
#: payload that is the credential before it is read as JSON-LD.
JWT_REGISTERED_CLAIMS: tuple[str, ...] = ("iss", "sub", "aud", "exp", "nbf", "iat", "jti")


def credential_from_payload(payload: Any) -> dict[str, Any]:
    """The credential a VC-JWT payload carries, without the JWT registered claims.

    The payload is the credential (OB 3.0 §8.2 "JWT Payload Format": "the JSON object of
    the OpenBadgeCredential"; VC-JOSE-COSE: "The JWT Claim Names vc and vp MUST NOT be
    present"), or, for VCDM 1.1 style tokens, the ``vc`` claim holds it (the note in OB 3.0
    §8.2 "Verify a Credential"). A payload with both a top-level credential (``@context``)
    and a ``vc`` claim follows neither text and could show one credential while the
    claims were checked against the other, so it is refused whether or not they agree.

    Raises ``CredentialError`` with code ``jwt_ambiguous_credential`` for both, or
    ``not_a_credential`` for a payload or ``vc`` claim that is not a JSON object.
    """
    if not isinstance(payload, dict):
        raise CredentialError("the JWT payload is not a JSON object", code="not_a_credential")
    if "vc" in payload and "@context" in payload:
        raise CredentialError(
            "the JWT payload is a credential and also carries one in its 'vc' claim; a VC-JWT "
            "carries exactly one credential", code="jwt_ambiguous_credential")
    if "vc" in payload:
        if not isinstance(payload["vc"], dict):
            raise CredentialError("the 'vc' claim is not a JSON object", code="not_a_credential")
        return payload["vc"]
    return {k: v for k, v in payload.items() if k not in JWT_REGISTERED_CLAIMS}


_SOURCE = {
    "iss": "the credential's issuer",
    "jti": "the credential's id",
    "sub": "the credential's credentialSubject.id",
    "nbf": "the credential's validFrom (or issuanceDate)",
    "exp": "the credential's validUntil (or expirationDate)",
}


def _type_ok(name: str, value: Any) -> bool:
    if name in _STRING_CLAIMS:
        return isinstance(value, str)
    return isinstance(value, int) and not isinstance(value, bool)


def claim_mismatches(payload: dict[str, Any]) -> list[str]:
    """List plain-language disagreements between the JWT claims and the credential.

    OB 3.0 §8.2 "Verify a Credential VC-JWT Signature": ``iss``, ``sub``, ``nbf`` and
    ``jti`` must match ``issuer.id``, ``credentialSubject.id``, ``validFrom`` and ``id``,
    and ``exp`` stands for ``validUntil``; the VCDM 1.1 names ``issuanceDate`` and
    ``expirationDate`` are read too. The credential is found by
    :func:`credential_from_payload`. Dates are compared to the second: a credential
    date with a fraction matches the claim for the second it falls in. An empty list
    means the claims agree. A claim that is expected but missing, present but not
    expected, of the wrong JSON type (a NumericDate is an integer), or of a different
    value is a mismatch.
    """
    try:
        credential = credential_from_payload(payload)
    except CredentialError as exc:
        return [str(exc)]
    try:
        expected = jwt_claims_for(credential, truncate_fractions=True)
    except CredentialError as exc:
        return [f"the claims cannot be checked: {exc}"]

    problems: list[str] = []
    for name in REGISTERED_CLAIMS:
        source = _SOURCE[name]
        if name not in payload:
            if name in expected:
                problems.append(f"{name} is missing but {source} is {_show(expected[name])}")
            continue
        actual = payload[name]
        if not _type_ok(name, actual):
            kind = "a string" if name in _STRING_CLAIMS else "an integer NumericDate"
            problems.append(f"{name} must be {kind}, not {_json_type(actual)} ({actual!r})")
        elif name not in expected:
            what = source.removeprefix("the credential's ")
            problems.append(f"{name} is present but the credential has no {what}")
        elif actual != expected[name]:
            problems.append(
                f"{name} does not equal {source} ({_show(actual)} != {_show(expected[name])})"
            )
    return problems


def _show(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            stamp = _EPOCH + timedelta(seconds=value)
        except OverflowError:
            return str(value)
        return f"{value} ({stamp.strftime('%Y-%m-%dT%H:%M:%SZ')})"
    return repr(value)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, float):
        return "a number with a fraction" if not value.is_integer() else "a float"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
