"""Reading one ``credentialStatus`` entry: its kind, index, size, messages and list URL.

W3C Bitstring Status List v1.0 §2.1 (``statusListIndex`` a base-10 integer string,
``statusSize``, ``statusMessage``) and StatusList2021. Every problem raises :class:`Stop` with
the reason code :mod:`verifier.status` reports for the entry (statuses and messages are in
:mod:`verifier.registry`).
"""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from .accessors import types_of
from .dates import DateError, parse_datetime

MAX_STATUS_SIZE = 8
MAX_URL_LENGTH = 2048
MAX_INDEX_DIGITS = 20
BITSTRING_ENTRY = "BitstringStatusListEntry"
STATUS_LIST_2021_ENTRY = "StatusList2021Entry"
REVOCATION_LIST_1EDTECH = "1EdTechRevocationList"


class Stop(Exception):
    """One entry's verdict, raised from deep inside its checks."""

    def __init__(self, reason: str, **details: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.details = details


_INDEX = re.compile(r"(0|[1-9][0-9]*)\Z")
# Whitespace (exactly what str.isspace() is: re's \s on str is Py_UNICODE_ISSPACE) and controls.
_SPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f]")


def entry_kind(entry: dict[str, Any]) -> str | None:
    types = set(types_of(entry))
    for known in (BITSTRING_ENTRY, STATUS_LIST_2021_ENTRY, REVOCATION_LIST_1EDTECH):
        if known in types:
            return known
    if not types:
        return None
    return sorted(types)[0]


def parse_index(value: object) -> int:
    if isinstance(value, bool):
        raise Stop("malformed_status", error="statusListIndex is not an integer")
    if isinstance(value, int):
        if value < 0:
            raise Stop("malformed_status", error="statusListIndex is negative")
        return value
    if not isinstance(value, str) or len(value) > MAX_INDEX_DIGITS or not _INDEX.match(value):
        raise Stop("malformed_status", error="statusListIndex is not a base-10 integer string "
                                              "(digits only, no sign, no leading zeros)",
                    index=value if isinstance(value, str) and len(value) <= 40 else None)
    return int(value)


def parse_size(entry: dict[str, Any]) -> int:
    size = entry.get("statusSize", 1)
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise Stop("malformed_status", error="statusSize is not an integer greater than zero")
    return size


def parse_status_messages(entry: dict[str, Any], size: int) -> dict[int, str] | None:
    if "statusMessage" not in entry:
        if size > 1:
            raise Stop("malformed_status", error="statusSize above 1 requires statusMessage")
        return None
    messages = entry["statusMessage"]
    if size > MAX_STATUS_SIZE:
        return None  # unsupported anyway
    if not isinstance(messages, list) or len(messages) != 2 ** size:
        raise Stop("malformed_status", error=f"statusMessage must list {2 ** size} status values")
    table: dict[int, str] = {}
    for item in messages:
        status = item.get("status") if isinstance(item, dict) else None
        message = item.get("message") if isinstance(item, dict) else None
        if (not isinstance(status, str) or not re.fullmatch(r"0x[0-9a-fA-F]{1,2}", status)
                or not isinstance(message, str)):
            raise Stop("malformed_status", error="a statusMessage item is not {status: '0x..', message: string}")
        table[int(status, 16)] = message[:500]
    return table


def parse_url(value: object, name: str) -> str:
    if not isinstance(value, str) or not value or len(value) > MAX_URL_LENGTH:
        raise Stop("malformed_status", error=f"{name} is not a URL")
    if _SPACE_OR_CONTROL.search(value):
        raise Stop("malformed_status", error=f"{name} contains spaces or control characters")
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:
        raise Stop("malformed_status", error=f"{name} is not a URL") from None
    if parts.scheme not in ("https", "http") or not host or "@" in parts.netloc:
        raise Stop("malformed_status", error=f"{name} is not an absolute https URL", list=value[:200])
    return value


def parse_datetime_of_list(value: object, name: str) -> datetime:
    try:
        return parse_datetime(value, require_zone=False)
    except DateError:
        raise Stop("malformed_status_list", error=f"the status list's {name} is not a date-time") from None
