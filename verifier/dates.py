"""Date and time values, read one way everywhere in the verifier.

Credentials carry XML Schema ``dateTime`` values (VC Data Model 2.0 §4.9 and Data Integrity
§2.1 require ``dateTimeStamp``, a ``dateTime`` with a time zone; XML Schema 1.1 Part 2
§3.3.7 and §3.4.28): ``YYYY-MM-DDThh:mm:ss[.fff]`` and ``Z`` or ``±hh:mm`` (at most 14:00).
:func:`parse_datetime` reads them into an aware :class:`~datetime.datetime`; a value without a
zone, where one is allowed (VC 1.1 dates, status lists), is read as UTC.

``lenient`` reads the ISO 8601 forms Open Badges 2.0 allows for its ``DateTime`` (OB 2.0
§DateTime, "ISO 8601 date format string"), the forms the 1EdTech validator accepts
(``aniso8601`` plus a required zone): seconds may be left out, the offset may be ``±hh``,
``±hhmm`` or ``±hh:mm``, ``T`` and ``Z`` may be lower case, and surrounding white space is
ignored. A zone is still required.

Every problem raises :class:`DateError` (a ``ValueError``); callers turn it into their own
reason code (``invalid_date``, ``malformed_status_list``, a malformed proof).
"""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

__all__ = ["DateError", "is_datetime_stamp", "parse_datetime"]

_STRICT = re.compile(
    r"(?P<y>\d{4})-(?P<mo>\d{2})-(?P<d>\d{2})T(?P<h>\d{2}):(?P<mi>\d{2}):(?P<s>\d{2})(?:\.(?P<frac>\d+))?"
    r"(?P<tz>Z|[+-]\d{2}:\d{2})?", re.ASCII
)
_LENIENT = re.compile(
    r"(?P<y>\d{4})-(?P<mo>\d{2})-(?P<d>\d{2})[Tt](?P<h>\d{2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:\.(?P<frac>\d+))?)?"
    r"(?P<tz>[Zz]|[+-]\d{2}(?::?\d{2})?)?", re.ASCII
)
_MAX_OFFSET = timedelta(hours=14)


class DateError(ValueError):
    """A value that is not a date and time of the required form."""


def parse_datetime(value: object, *, require_zone: bool = True, lenient: bool = False) -> datetime:
    """Read an XML Schema ``dateTime`` (``dateTimeStamp`` when ``require_zone``) as an aware datetime.

    Args:
        value: the JSON value (anything but a string is refused).
        require_zone: refuse a value without ``Z`` or an offset (else it is read as UTC).
        lenient: also accept the ISO 8601 forms of Open Badges 2.0 (module docstring).

    Raises:
        DateError: not such a string, no zone where one is required, or not a real moment.
    """
    if not isinstance(value, str):
        raise DateError("not a date and time string")
    text = value.strip() if lenient else value
    match = (_LENIENT if lenient else _STRICT).fullmatch(text)
    if not match:
        raise DateError("not a date and time such as 2026-01-31T09:00:00Z")
    zone = match["tz"]
    if zone is None and require_zone:
        raise DateError("no time zone")
    try:
        if zone == "Z" and not lenient:  # the usual form, which the C parser reads the same way
            return datetime.fromisoformat(text)
        return datetime(int(match["y"]), int(match["mo"]), int(match["d"]), int(match["h"]), int(match["mi"]),
                        int(match["s"] or 0), int((match["frac"] or "0")[:6].ljust(6, "0")), tzinfo=_zone(zone))
    except ValueError as exc:
        raise DateError(f"not a real date and time ({exc})") from None


def is_datetime_stamp(value: object) -> bool:
    """Whether ``value`` is an XML Schema ``dateTimeStamp`` naming a real moment."""
    try:
        parse_datetime(value, require_zone=True)
    except DateError:
        return False
    return True


def _zone(text: str | None) -> timezone:
    if text is None or text in "Zz":
        return UTC
    digits = text[1:].replace(":", "")
    offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0))
    if int(digits[2:] or 0) > 59 or offset > _MAX_OFFSET:
        raise ValueError("time zone offset out of range")
    return timezone(offset if text[0] == "+" else -offset)
