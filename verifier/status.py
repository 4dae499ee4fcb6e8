"""Credential status: is this credential revoked or suspended?

Three status methods are understood:

* W3C Bitstring Status List v1.0 (``BitstringStatusListEntry`` pointing at a
  ``BitstringStatusListCredential``);
* the older W3C CCG StatusList2021 (``StatusList2021Entry`` pointing at a
  ``StatusList2021Credential``); its ``encodedList`` is accepted both with the
  multibase ``u`` prefix and as plain base64url, which most implementations
  published;
* 1EdTech's Revocation List Status Method (``1EdTechRevocationList``, OB 3.0 /
  CLR 2.0): ``credentialStatus.id`` is a URL that returns
  ``{"revokedCredentials": [{"id": <credential id>, "revoked": true|false,
  "revocationReason": "..."}, ...]}``. A credential is revoked when its ``id``
  is listed and ``revoked`` is true or omitted (1EdTech VCRL 1.0, as implemented
  by 1EdTech's reference validator, ``RevocationListProbe``). Other top-level
  properties are ignored. The list is plain JSON, not a signed credential.

Nothing is fetched here: :func:`check_status` receives ``fetch_json`` (which
owns the network policy: https only, size and time limits, offline mode) and
``verify_list_credential`` (which checks a status list credential's proof,
issuer binding and validity and raises :class:`~verifier.errors.CredentialError`
when it fails).

The result is never "passed" unless a list was retrieved, verified, issued by the
credential's own issuer, current, of the right kind and purpose, decoded within
limits, and the credential's entry in it is clear. Reason codes (``REASONS``):

========================================  ==============  =====================================
reason                                    status          when
========================================  ==============  =====================================
``None``                                  passed          every entry checked and clear
``no_status``                             skipped         no ``credentialStatus`` (or only
                                                          ``refresh``/``message`` entries)
``malformed_status``                      failed          the entry itself is unusable: bad
                                                          index, URL, purpose, size, > 4 entries
``status_list_unreachable``               indeterminate   the list could not be fetched (or the
                                                          list's own key could not be fetched)
``status_list_untrusted``                 failed          ``verify_list_credential`` refused it
``status_list_mismatch``                  failed          not a list of the entry's kind, or its
                                                          ``id`` is not the URL it was fetched from
``status_list_from_another_issuer``       failed          the list's issuer is not the credential's
``status_list_expired``                   indeterminate   the list's validUntil/expirationDate passed
``status_list_not_yet_valid``             indeterminate   the list's validFrom/issuanceDate is ahead
``status_purpose_mismatch``               failed          the list is for another purpose
``malformed_status_list``                 failed          encodedList not multibase/base64url/gzip,
                                                          a gzip bomb (> 16 MiB), < 131,072 entries,
                                                          or a badly shaped 1EdTech list
``status_index_out_of_range``             failed          the index is past the end of the list
``revoked``                               failed          revocation bit set / listed as revoked
``suspended``                             failed          suspension bit set
``unsupported_status_type``               indeterminate   an unknown ``credentialStatus.type``
``unsupported_status``                    indeterminate   a known type with an unknown
                                                          ``statusPurpose`` or ``statusSize`` > 8
========================================  ==============  =====================================

Decisions: an expired list is *indeterminate* (the issuer's current answer is
unknown; it is never shown as "not revoked"); ``statusSize`` 1 to 8 is supported
(entry value read most-significant bit first; any non-zero value of a
``revocation``/``suspension`` entry counts as set; a ``message`` entry's value and
its ``statusMessage`` text are reported in the details), larger sizes are
``unsupported_status``.
"""
from __future__ import annotations

import base64
import binascii
import gzip
import re
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable
from urllib.parse import urlsplit

from .accessors import types_of
from .dates import DateError, parse_datetime
from .errors import CredentialError

PASSED, FAILED, INDETERMINATE, SKIPPED = "passed", "failed", "indeterminate", "skipped"

MIN_ENTRIES = 131_072                  # 16 KB of 1-bit entries: the herd-privacy minimum
MAX_LIST_BYTES = 16 * 1024 * 1024      # bounded inflate
MAX_STATUS_ENTRIES = 4
MAX_STATUS_SIZE = 8
MAX_URL_LENGTH = 2048
MAX_INDEX_DIGITS = 20
KNOWN_PURPOSES = ("revocation", "suspension", "refresh", "message")

BITSTRING_ENTRY = "BitstringStatusListEntry"
STATUS_LIST_2021_ENTRY = "StatusList2021Entry"
REVOCATION_LIST_1EDTECH = "1EdTechRevocationList"
_LIST_TYPES = {  # entry type -> (list credential type, list subject type)
    BITSTRING_ENTRY: ("BitstringStatusListCredential", "BitstringStatusList"),
    STATUS_LIST_2021_ENTRY: ("StatusList2021Credential", "StatusList2021"),
}

# Plain-language messages, for a recruiter.
REASONS = {
    "no_status": "The issuer publishes no revocation information for this credential.",
    "malformed_status": "The credential's revocation information is malformed, so its status cannot be "
                        "trusted.",
    "status_list_unreachable": "Revocation status could not be checked: the issuer's status list could not "
                               "be retrieved.",
    "status_list_untrusted": "The issuer's status list is not trustworthy (its signature or issuer does not "
                             "check out).",
    "status_list_mismatch": "The credential points to a status list that is not the list it claims to be.",
    "status_list_from_another_issuer": "The status list was published by someone other than the issuer.",
    "status_list_expired": "Revocation status could not be checked: the issuer's status list has expired "
                           "and has not been renewed.",
    "status_list_not_yet_valid": "Revocation status could not be checked: the issuer's status list is not "
                                 "valid yet.",
    "status_purpose_mismatch": "The credential points to a status list kept for a different purpose.",
    "malformed_status_list": "The issuer's status list is damaged or malformed.",
    "status_index_out_of_range": "The credential points to a position outside the issuer's status list.",
    "revoked": "The issuer has revoked this credential.",
    "suspended": "The issuer has suspended this credential.",
    "unsupported_status_type": "Revocation status could not be checked: the credential uses a kind of status "
                               "check this verifier does not support.",
    "unsupported_status": "Revocation status could not be checked: the credential's status entry uses an "
                          "option this verifier does not support.",
}
_STATUS_OF = {
    "no_status": SKIPPED,
    "status_list_unreachable": INDETERMINATE,
    "status_list_expired": INDETERMINATE,
    "status_list_not_yet_valid": INDETERMINATE,
    "unsupported_status_type": INDETERMINATE,
    "unsupported_status": INDETERMINATE,
}
# Codes from verify_list_credential that mean "could not tell right now" rather than "bad list".
_VERIFY_INDETERMINATE = {
    "key_unresolvable": "status_list_unreachable",
    "network_forbidden": "status_list_unreachable",
    "unreachable": "status_list_unreachable",
    "expired": "status_list_expired",
    "not_yet_valid": "status_list_not_yet_valid",
    # the list's own status list (checked one level deep) could not be checked: still unknown
    "status_list_unreachable": "status_list_unreachable",
    "status_list_expired": "status_list_unreachable",
    "status_list_not_yet_valid": "status_list_unreachable",
    "unsupported_status_type": "status_list_unreachable",
    "unsupported_status": "status_list_unreachable",
}


@dataclass(frozen=True)
class StatusOutcome:
    status: str         # "passed" | "failed" | "indeterminate" | "skipped"
    reason: str | None  # stable code (see the module docstring)
    message: str        # plain language for a recruiter
    details: dict = field(default_factory=dict)


class StatusListError(CredentialError):
    """An ``encodedList`` that cannot be expanded safely; ``details["problem"]`` says why."""

    code = "malformed_status_list"


# --------------------------------------------------------------------------- bitstrings

_BASE64URL = re.compile(r"[A-Za-z0-9_-]*\Z")
_INFLATE_STEP = 1 << 20  # inflate in 1 MiB steps so peak memory stays near max_bytes


def encode_bitstring(bits: bytes) -> str:
    """GZIP + base64url (no padding) with the multibase ``u`` prefix.

    Deterministic (gzip mtime 0). Does not pad: a list published to verifiers must
    hold at least 16 KB (131,072 entries); that is the caller's job.
    """
    compressed = gzip.compress(bytes(bits), compresslevel=9, mtime=0)
    return "u" + base64.urlsafe_b64encode(compressed).decode("ascii").rstrip("=")


def decode_bitstring(encoded_list: str, *, multibase: bool = True, max_bytes: int = MAX_LIST_BYTES) -> bytes:
    """Expand an ``encodedList``: (multibase ``u``) base64url, then GZIP, at most ``max_bytes``.

    ``multibase=True`` requires the ``u`` prefix and no padding (Bitstring Status
    List); ``multibase=False`` takes plain base64url, padding tolerated
    (StatusList2021 as commonly published). Inflation stops as soon as the output
    would exceed ``max_bytes``, so a gzip bomb costs at most ``max_bytes`` of
    memory. Raises :class:`StatusListError`.
    """
    def bad(problem: str, message: str) -> StatusListError:
        return StatusListError(f"encodedList {message}", details={"problem": problem})

    if not isinstance(encoded_list, str):
        raise bad("not_a_string", "is not a string")
    if multibase:
        if not encoded_list.startswith("u"):
            raise bad("not_multibase", "lacks the multibase base64url prefix 'u'")
        body = encoded_list[1:]
    else:
        body = encoded_list
        if body.endswith("=="):
            body = body[:-2]
        elif body.endswith("="):
            body = body[:-1]
    # Incompressible data grows by < 1% under deflate, and 4/3 under base64.
    if len(body) > (max_bytes + max_bytes // 100 + 1024) * 4 // 3 + 4:
        raise bad("too_large", "is larger than any list this verifier accepts")
    if not body or not _BASE64URL.match(body) or len(body) % 4 == 1:
        raise bad("not_base64url", "is not base64url (without padding)")
    try:
        compressed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        raise bad("not_base64url", "is not base64url") from None
    if compressed[:3] != b"\x1f\x8b\x08":
        raise bad("not_gzip", "is not GZIP-compressed")

    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # GZIP only, header and CRC checked
    out = bytearray()
    data = compressed
    try:
        while True:
            out += inflater.decompress(data, min(_INFLATE_STEP, max_bytes + 1 - len(out)))
            if len(out) > max_bytes:
                raise bad("too_large", f"expands to more than {max_bytes} bytes")
            data = inflater.unconsumed_tail
            if inflater.eof or not data:
                break
    except zlib.error:
        raise bad("not_gzip", "is not valid GZIP data") from None
    if not inflater.eof:
        raise bad("not_gzip", "is truncated GZIP data")
    if inflater.unused_data:
        raise bad("not_gzip", "has data after the GZIP stream")
    if not out:
        raise bad("empty", "is empty")
    return bytes(out)


def bit_at(bitstring: bytes, index: int, size: int = 1) -> int:
    """The ``size``-bit value of entry ``index``; index 0 is the most significant bit of byte 0.

    Raises :class:`IndexError` past the end (RANGE_ERROR), :class:`ValueError` for a
    negative index or a size below 1.
    """
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise ValueError("a status index is an integer >= 0")
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ValueError("a status size is an integer >= 1")
    start = index * size
    end = start + size
    if end > len(bitstring) * 8:
        raise IndexError(f"status index {index} is outside a list of {len(bitstring) * 8 // size} entries")
    first, last = start // 8, (end - 1) // 8
    span = int.from_bytes(bitstring[first:last + 1], "big")
    shift = (last + 1) * 8 - end
    return (span >> shift) & ((1 << size) - 1)


# --------------------------------------------------------------------------- check_status

class _Stop(Exception):
    """One entry's verdict, raised from deep inside its checks."""

    def __init__(self, reason: str, **details):
        super().__init__(reason)
        self.reason = reason
        self.details = details


@dataclass
class _EntryResult:
    status: str
    reason: str | None
    message: str
    purpose: str | None
    details: dict


def check_status(credential: dict, *, fetch_json: Callable[[str], object],
                 verify_list_credential: Callable[[dict], None], now: datetime) -> StatusOutcome:
    """Check every ``credentialStatus`` entry; see the module docstring for the outcomes."""
    if not isinstance(credential, dict):
        return _outcome(FAILED, "malformed_status", {"error": "the credential is not a JSON object"})
    status = credential.get("credentialStatus")
    if status is None or status == []:
        return StatusOutcome(SKIPPED, "no_status", REASONS["no_status"], {})
    if isinstance(status, dict):
        entries = [status]
    elif isinstance(status, list):
        entries = status
    else:
        return _outcome(FAILED, "malformed_status", {"error": "credentialStatus is not an object or a list"})
    if len(entries) > MAX_STATUS_ENTRIES:
        return _outcome(FAILED, "malformed_status",
                        {"error": f"{len(entries)} status entries; at most {MAX_STATUS_ENTRIES} are accepted"})
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    checker = _Checker(credential, fetch_json, verify_list_credential, now)
    return _combine([checker.check_entry(entry) for entry in entries])


def _outcome(status: str, reason: str, details: dict) -> StatusOutcome:
    return StatusOutcome(status, reason, REASONS[reason], details)


def _combine(results: list[_EntryResult]) -> StatusOutcome:
    entries = [dict(r.details, outcome=r.status, reason=r.reason) for r in results]
    for wanted in (FAILED, INDETERMINATE):
        decisive = next((r for r in results if r.status == wanted), None)
        if decisive is not None:
            return StatusOutcome(wanted, decisive.reason, decisive.message,
                                 dict(decisive.details, entries=entries))
    checked = {r.purpose for r in results if r.purpose in ("revocation", "suspension")}
    if not checked:  # only refresh/message entries: nothing says whether it is revoked
        return StatusOutcome(SKIPPED, "no_status", REASONS["no_status"], {"entries": entries})
    what = {frozenset({"revocation"}): "Not revoked", frozenset({"suspension"}): "Not suspended"}.get(
        frozenset(checked), "Not revoked or suspended")
    lists = {r.details.get("type") for r in results if r.purpose in checked}
    source = "revocation list" if lists == {REVOCATION_LIST_1EDTECH} else "status list"
    return StatusOutcome(PASSED, None, f"{what} (checked against the issuer's {source}).", {"entries": entries})


class _Checker:
    def __init__(self, credential: dict, fetch_json, verify_list_credential, now: datetime):
        self.credential = credential
        self.fetch_json = fetch_json
        self.verify_list_credential = verify_list_credential
        self.now = now
        self._fetched: dict[str, tuple[object, BaseException | None]] = {}
        self._verified: dict[str, CredentialError | None] = {}

    # one entry -------------------------------------------------------------

    def check_entry(self, entry: object) -> _EntryResult:
        details: dict = {}
        purpose = None
        try:
            if not isinstance(entry, dict):
                raise _Stop("malformed_status", error="a status entry is not a JSON object")
            kind = _entry_kind(entry)
            details["type"] = kind
            if kind in _LIST_TYPES:
                purpose, status, reason, extra = self._check_bitstring(entry, kind, details)
            elif kind == REVOCATION_LIST_1EDTECH:
                purpose, status, reason, extra = self._check_1edtech(entry, details)
            elif kind is None:
                raise _Stop("malformed_status", error="the status entry has no type")
            else:
                raise _Stop("unsupported_status_type")
        except _Stop as stop:
            details.update(stop.details)
            return _EntryResult(_STATUS_OF.get(stop.reason, FAILED), stop.reason, REASONS[stop.reason],
                                details.get("purpose"), details)
        details.update(extra)
        message = REASONS[reason] if reason else _passed_message(purpose, details)
        return _EntryResult(status, reason, message, purpose, details)

    def _check_bitstring(self, entry: dict, kind: str, details: dict):
        purpose = entry.get("statusPurpose")
        if not isinstance(purpose, str) or not purpose:
            raise _Stop("malformed_status", error="statusPurpose is missing or not a string")
        details["purpose"] = purpose
        index = _parse_index(entry.get("statusListIndex"))
        details["index"] = index
        url = _parse_url(entry.get("statusListCredential"), "statusListCredential")
        details["list"] = url
        size = _parse_size(entry)
        if size != 1:
            details["size"] = size
        messages = _parse_status_messages(entry, size)
        if purpose not in KNOWN_PURPOSES:
            raise _Stop("unsupported_status", error=f"unknown statusPurpose {purpose!r}")
        if size > MAX_STATUS_SIZE:
            raise _Stop("unsupported_status", error=f"statusSize {size} is larger than {MAX_STATUS_SIZE}")
        if index >= MAX_LIST_BYTES * 8 // size:
            raise _Stop("malformed_status", error=f"statusListIndex {index} is larger than any status list")

        document = self._fetch(url)
        if not isinstance(document, dict):
            raise _Stop("malformed_status_list", error="the status list is not a JSON object")
        subject = self._check_list_shape(document, kind, url)
        self._verify(url, document)
        self._check_list_dates(document)
        list_purposes = subject.get("statusPurpose")
        if isinstance(list_purposes, str):
            list_purposes = [list_purposes]
        if not isinstance(list_purposes, list) or purpose not in list_purposes:
            raise _Stop("status_purpose_mismatch", list_purpose=subject.get("statusPurpose"))

        encoded = subject.get("encodedList")
        multibase = kind == BITSTRING_ENTRY or (isinstance(encoded, str) and encoded.startswith("u"))
        try:
            bits = decode_bitstring(encoded, multibase=multibase)
        except StatusListError as exc:
            raise _Stop("malformed_status_list", error=str(exc), **exc.details) from None
        entries = len(bits) * 8 // size
        if entries < MIN_ENTRIES:
            raise _Stop("malformed_status_list", problem="too_short",
                        error=f"the status list holds {entries} entries; at least {MIN_ENTRIES} are required")
        if index >= entries:
            raise _Stop("status_index_out_of_range", list_entries=entries)
        value = bit_at(bits, index, size)
        extra = {"value": value}
        if messages is not None:
            extra["status_message"] = messages.get(value)
        if value and purpose == "revocation":
            return purpose, FAILED, "revoked", extra
        if value and purpose == "suspension":
            return purpose, FAILED, "suspended", extra
        return purpose, PASSED, None, extra

    def _check_list_shape(self, document: dict, kind: str, url: str) -> dict:
        credential_type, subject_type = _LIST_TYPES[kind]
        if credential_type not in types_of(document):
            raise _Stop("status_list_mismatch", expected_type=credential_type,
                        error=f"the status list is not a {credential_type}")
        if "id" in document and document["id"] != url:
            raise _Stop("status_list_mismatch", list_id=document["id"],
                        error="the status list's id is not the URL it was retrieved from")
        subject = document.get("credentialSubject")
        if isinstance(subject, list) and len(subject) == 1:
            subject = subject[0]
        if not isinstance(subject, dict):
            raise _Stop("malformed_status_list", error="the status list has no single credentialSubject")
        if subject_type not in types_of(subject):
            raise _Stop("status_list_mismatch", expected_type=subject_type,
                        error=f"the status list's subject is not a {subject_type}")
        expected, found = _issuer_id(self.credential), _issuer_id(document)
        if expected is None or found != expected:
            raise _Stop("status_list_from_another_issuer", list_issuer=found, credential_issuer=expected)
        return subject

    def _check_list_dates(self, document: dict) -> None:
        for name in ("validUntil", "expirationDate"):
            if name in document:
                until = _parse_datetime(document[name], name)
                if until < self.now:
                    raise _Stop("status_list_expired", list_valid_until=document[name])
        for name in ("validFrom", "issuanceDate"):
            if name in document:
                start = _parse_datetime(document[name], name)
                if start > self.now:
                    raise _Stop("status_list_not_yet_valid", list_valid_from=document[name])

    def _check_1edtech(self, entry: dict, details: dict):
        details["purpose"] = "revocation"
        url = _parse_url(entry.get("id"), "id")
        details["list"] = url
        credential_id = self.credential.get("id")
        if not isinstance(credential_id, str) or not credential_id:
            raise _Stop("malformed_status", error="a credential checked against a 1EdTech revocation list "
                                                  "needs an id")
        document = self._fetch(url)
        listed = document.get("revokedCredentials") if isinstance(document, dict) else None
        if not isinstance(listed, list):
            raise _Stop("malformed_status_list", error="the revocation list has no revokedCredentials array")
        found = None
        for item in listed:
            if (not isinstance(item, dict) or not isinstance(item.get("id"), str)
                    or not isinstance(item.get("revoked", True), bool)):
                raise _Stop("malformed_status_list",
                            error="a revokedCredentials item is not {id: string, revoked?: boolean}")
            if item["id"] == credential_id and item.get("revoked", True):
                found = item
        extra = {"signed": False}
        if found is not None:
            if isinstance(found.get("revocationReason"), str):
                extra["revocation_reason"] = found["revocationReason"][:500]
            return "revocation", FAILED, "revoked", extra
        return "revocation", PASSED, None, extra

    # network, once per URL per check -----------------------------------------

    def _fetch(self, url: str) -> object:
        if url not in self._fetched:
            try:
                self._fetched[url] = (self.fetch_json(url), None)
            except Exception as exc:  # noqa: BLE001 - any failure to fetch means "unknown", never "passed"
                self._fetched[url] = (None, exc)
        document, error = self._fetched[url]
        if error is not None:
            raise _Stop("status_list_unreachable", error=str(error)[:500],
                        error_code=getattr(error, "code", type(error).__name__))
        return document

    def _verify(self, url: str, document: dict) -> None:
        if url not in self._verified:
            try:
                self.verify_list_credential(document)
                self._verified[url] = None
            except CredentialError as exc:
                self._verified[url] = exc
        error = self._verified[url]
        if error is not None:
            reason = _VERIFY_INDETERMINATE.get(error.code, "status_list_untrusted")
            raise _Stop(reason, error=str(error)[:500], error_code=error.code)


def _passed_message(purpose: str | None, details: dict) -> str:
    source = "revocation list" if details.get("type") == REVOCATION_LIST_1EDTECH else "status list"
    if purpose == "revocation":
        return f"Not revoked (checked against the issuer's {source})."
    if purpose == "suspension":
        return f"Not suspended (checked against the issuer's {source})."
    return f"The issuer's {source} was checked ({purpose} entry); it says nothing about revocation."


# --------------------------------------------------------------------------- parsing helpers

_INDEX = re.compile(r"(0|[1-9][0-9]*)\Z")


def _entry_kind(entry: dict) -> str | None:
    types = set(types_of(entry))
    for known in (BITSTRING_ENTRY, STATUS_LIST_2021_ENTRY, REVOCATION_LIST_1EDTECH):
        if known in types:
            return known
    if not types:
        return None
    return sorted(types)[0]


def _parse_index(value: object) -> int:
    if isinstance(value, bool):
        raise _Stop("malformed_status", error="statusListIndex is not an integer")
    if isinstance(value, int):
        if value < 0:
            raise _Stop("malformed_status", error="statusListIndex is negative")
        return value
    if not isinstance(value, str) or len(value) > MAX_INDEX_DIGITS or not _INDEX.match(value):
        raise _Stop("malformed_status", error="statusListIndex is not a base-10 integer string "
                                              "(digits only, no sign, no leading zeros)",
                    index=value if isinstance(value, str) and len(value) <= 40 else None)
    return int(value)


def _parse_size(entry: dict) -> int:
    size = entry.get("statusSize", 1)
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise _Stop("malformed_status", error="statusSize is not an integer greater than zero")
    return size


def _parse_status_messages(entry: dict, size: int) -> dict[int, str] | None:
    if "statusMessage" not in entry:
        if size > 1:
            raise _Stop("malformed_status", error="statusSize above 1 requires statusMessage")
        return None
    messages = entry["statusMessage"]
    if size > MAX_STATUS_SIZE:
        return None  # unsupported anyway
    if not isinstance(messages, list) or len(messages) != 2 ** size:
        raise _Stop("malformed_status", error=f"statusMessage must list {2 ** size} status values")
    table: dict[int, str] = {}
    for item in messages:
        status = item.get("status") if isinstance(item, dict) else None
        message = item.get("message") if isinstance(item, dict) else None
        if (not isinstance(status, str) or not re.fullmatch(r"0x[0-9a-fA-F]{1,2}", status)
                or not isinstance(message, str)):
            raise _Stop("malformed_status", error="a statusMessage item is not {status: '0x..', message: string}")
        table[int(status, 16)] = message[:500]
    return table


def _parse_url(value: object, name: str) -> str:
    if not isinstance(value, str) or not value or len(value) > MAX_URL_LENGTH:
        raise _Stop("malformed_status", error=f"{name} is not a URL")
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        raise _Stop("malformed_status", error=f"{name} contains spaces or control characters")
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:
        raise _Stop("malformed_status", error=f"{name} is not a URL") from None
    if parts.scheme not in ("https", "http") or not host or "@" in parts.netloc:
        raise _Stop("malformed_status", error=f"{name} is not an absolute https URL", list=value[:200])
    return value


def _issuer_id(document: dict) -> str | None:
    issuer = document.get("issuer")
    if isinstance(issuer, dict):
        issuer = issuer.get("id")
    return issuer if isinstance(issuer, str) and issuer else None


def _parse_datetime(value: object, name: str) -> datetime:
    try:
        return parse_datetime(value, require_zone=False)
    except DateError:
        raise _Stop("malformed_status_list", error=f"the status list's {name} is not a date-time") from None
