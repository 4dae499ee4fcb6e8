"""What an Open Badges 2.0 assertion claims: its dates and its recipient.

OB 2.0 §Assertion (``issuedOn``, ``expires``), §DateTime ("ISO 8601 date format string"; read by
:func:`verifier.dates.parse_datetime` with ``lenient``, a time zone required, as the 1EdTech
validator requires), §IdentityObject (``identity``, ``type``, ``hashed``, ``salt``: a hash is
``sha256$`` or ``md5$`` and the hex digest of the identity followed by the salt, compared by
:func:`verifier.recipient.identity_matches`). Dates get the verifier's clock skew
(:data:`verifier.validity.CLOCK_SKEW`) both ways.
"""
from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from ..checks.base import passed, reported, skipped
from ..dates import DateError, parse_datetime
from ..recipient import identity_matches
from ..registry import CheckId
from ..report import CheckResult
from ..validity import CLOCK_SKEW

_IDENTITY_HASH = re.compile(r"(sha256|md5)\$([0-9a-f]+)", re.IGNORECASE)
_HASH_LENGTHS = {"sha256": 64, "md5": 32}


def check_dates(assertion: dict[str, Any], now: datetime) -> CheckResult:
    """VALIDITY: issued, not in the future and not expired (give or take the clock skew)."""
    now = now if now.tzinfo else now.replace(tzinfo=UTC)
    try:
        issued = _date(assertion, "issuedOn")
        expires = _date(assertion, "expires") if assertion.get("expires") is not None else None
    except DateError as exc:
        return reported(CheckId.VALIDITY, "invalid_date", str(exc))
    details = {"issuedOn": assertion.get("issuedOn"), "expires": assertion.get("expires")}
    if expires is not None and issued is not None and expires < issued:
        return reported(CheckId.VALIDITY, "invalid_date", "the badge expires before it was issued", **details)
    if issued > now + CLOCK_SKEW:
        return reported(CheckId.VALIDITY, "not_yet_valid",
                        f"the badge says it was issued on {assertion.get('issuedOn')}, in the future", **details)
    if expires is not None and expires < now - CLOCK_SKEW:
        return reported(CheckId.VALIDITY, "expired", f"the badge expired on {assertion.get('expires')}", **details)
    return passed(CheckId.VALIDITY, f"Issued {assertion.get('issuedOn')}"
                  + (f", valid until {assertion.get('expires')}." if expires else ", no expiry."), **details)


def _date(assertion: dict[str, Any], name: str) -> datetime:
    value: Any = assertion.get(name)
    try:
        return parse_datetime(value, require_zone=True, lenient=True)
    except DateError as exc:
        raise DateError(f"{name} {str(value)[:60]!r}: {exc}") from None


def check_recipient(assertion: dict[str, Any], recipient: str | None) -> CheckResult:
    """RECIPIENT: the assertion's IdentityObject names ``recipient`` (skipped when none is given)."""
    if recipient is None:
        return skipped(CheckId.RECIPIENT, "no_recipient_given",
                       "No recipient was given to compare; the badge names its recipient only as an identity, "
                       "which does not prove who holds it.")
    identity_object = assertion.get("recipient")
    if not isinstance(identity_object, dict) or not isinstance(identity_object.get("identity"), str):
        return reported(CheckId.RECIPIENT, "malformed_recipient", "the assertion has no usable recipient identity")
    kind = identity_object.get("type") if isinstance(identity_object.get("type"), str) else "email"
    identity = identity_object["identity"].strip()
    salt = identity_object.get("salt")
    if salt is not None and not isinstance(salt, str):
        return reported(CheckId.RECIPIENT, "malformed_recipient", "the recipient's salt is not text")
    hashed = identity_object.get("hashed")
    match = _IDENTITY_HASH.fullmatch(identity)
    if hashed is True or (hashed is None and match):
        if not match or len(match[2]) != _HASH_LENGTHS[match[1].lower()]:
            return reported(CheckId.RECIPIENT, "malformed_recipient",
                            "the hashed recipient identity is not 'sha256$<hex>' or 'md5$<hex>'")
        ok = identity_matches(identity, True, salt, recipient)
    else:
        ok = identity_matches(identity, False, None, recipient)
    if ok:
        return passed(CheckId.RECIPIENT, f"The badge was awarded to the given {kind}.", type=kind)
    return reported(CheckId.RECIPIENT, "recipient_mismatch", f"the badge was not awarded to the given {kind}",
                    type=kind)
