"""Validity period: ``validFrom``/``validUntil`` (VC 2.0) or ``issuanceDate``/``expirationDate`` (VC 1.1).

Checked against an injected clock with a small skew tolerance. "Not yet valid"
and "expired" are distinct outcomes, and neither says anything about tampering.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from . import dates
from .errors import CredentialError
from .plain import plain_date

CLOCK_SKEW = timedelta(seconds=300)


class ValidityError(CredentialError):
    code = "invalid_date"


@dataclass(frozen=True)
class ValidityPeriod:
    valid_from: datetime | None
    valid_until: datetime | None


def parse_datetime(value: object, name: str, *, require_zone: bool) -> datetime:
    """``value`` read by :func:`verifier.dates.parse_datetime`; raises :class:`ValidityError` naming ``name``."""
    try:
        return dates.parse_datetime(value, require_zone=require_zone)
    except dates.DateError as exc:
        raise ValidityError(f"{name} {value!r}: {exc}") from None


def validity_period(credential: dict[str, Any]) -> ValidityPeriod:
    """The credential's validity period; raises ValidityError for malformed dates."""
    v2 = "validFrom" in credential or "validUntil" in credential or "issuanceDate" not in credential
    start_name, end_name = ("validFrom", "validUntil") if v2 else ("issuanceDate", "expirationDate")
    start = credential.get(start_name)
    end = credential.get(end_name)
    valid_from = parse_datetime(start, start_name, require_zone=v2) if start is not None else None
    valid_until = parse_datetime(end, end_name, require_zone=v2) if end is not None else None
    if valid_from and valid_until and valid_until < valid_from:
        raise ValidityError(f"{end_name} is before {start_name}")
    return ValidityPeriod(valid_from, valid_until)


def check_validity(credential: dict[str, Any], now: datetime, skew: timedelta = CLOCK_SKEW) -> tuple[str | None, str]:
    """(reason, message): reason None when valid now, else "not_yet_valid" or "expired".

    Raises ValidityError for malformed dates.
    """
    period = validity_period(credential)
    if period.valid_from and now + skew < period.valid_from:
        return "not_yet_valid", f"Not valid until {plain_date(period.valid_from)}."
    if period.valid_until and now - skew > period.valid_until:
        return "expired", f"Expired on {plain_date(period.valid_until)}."
    if period.valid_until:
        return None, f"Valid until {plain_date(period.valid_until)}."
    return None, "Valid, with no end date."
