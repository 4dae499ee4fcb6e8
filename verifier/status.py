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
limits, and the credential's entry in it is clear. Reason codes (their statuses and messages
are registered in :mod:`verifier.registry`):

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

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .accessors import issuer_id, types_of
from .bitstring import MAX_LIST_BYTES, StatusListError, bit_at, decode_bitstring
from .errors import CredentialError
from .registry import Status, explain, status_of
from .status_entry import (
    BITSTRING_ENTRY,
    MAX_STATUS_SIZE,
    REVOCATION_LIST_1EDTECH,
    STATUS_LIST_2021_ENTRY,
    Stop,
    entry_kind,
    parse_datetime_of_list,
    parse_index,
    parse_size,
    parse_status_messages,
    parse_url,
)

PASSED, FAILED, INDETERMINATE, SKIPPED = Status.PASSED, Status.FAILED, Status.INDETERMINATE, Status.SKIPPED

MIN_ENTRIES = 131_072                  # 16 KB of 1-bit entries: the herd-privacy minimum
MAX_STATUS_ENTRIES = 4
KNOWN_PURPOSES = ("revocation", "suspension", "refresh", "message")

_LIST_TYPES = {  # entry type -> (list credential type, list subject type)
    BITSTRING_ENTRY: ("BitstringStatusListCredential", "BitstringStatusList"),
    STATUS_LIST_2021_ENTRY: ("StatusList2021Credential", "StatusList2021"),
}

# A nested verification of the status list credential failed with one of these codes: the
# list's validity period, not the list itself, is the problem (its own registry status is
# "failed" because for a credential they are verdicts). Any other code keeps the status the
# registry gives it: could not check -> the status is unknown; anything else -> untrusted list.
_LIST_DATES = {"expired": "status_list_expired", "not_yet_valid": "status_list_not_yet_valid"}


@dataclass(frozen=True)
class StatusOutcome:
    status: str         # "passed" | "failed" | "indeterminate" | "skipped"
    reason: str | None  # stable code (see the module docstring)
    message: str        # plain language for a recruiter
    details: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------- check_status

#: (statusPurpose, status, reason or None, details to add) of one checked entry
_Verdict = tuple[str, str, str | None, dict[str, Any]]


@dataclass
class _EntryResult:
    status: str
    reason: str | None
    message: str
    purpose: str | None
    details: dict[str, Any]


def _decode(encoded: object, multibase: bool) -> bytes:
    return decode_bitstring(encoded, multibase=multibase)


def check_status(credential: object, *, fetch_json: Callable[[str], object],
                 verify_list_credential: Callable[[dict[str, Any]], None], now: datetime,
                 decode: Callable[[object, bool], bytes] = _decode) -> StatusOutcome:
    """Check every ``credentialStatus`` entry; see the module docstring for the outcomes.

    ``decode(encodedList, multibase)`` expands a list's bitstring (:func:`decode_bitstring`, which a
    caller may memoize by the exact ``encodedList``; it raises :class:`StatusListError`)."""
    if not isinstance(credential, dict):
        return _outcome(FAILED, "malformed_status", {"error": "the credential is not a JSON object"})
    status = credential.get("credentialStatus")
    if status is None or status == []:
        return StatusOutcome(SKIPPED, "no_status", explain("no_status"), {})
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
        now = now.replace(tzinfo=UTC)
    checker = _Checker(credential, fetch_json, verify_list_credential, now, decode)
    return _combine([checker.check_entry(entry) for entry in entries])


def _outcome(status: str, reason: str, details: dict[str, Any]) -> StatusOutcome:
    return StatusOutcome(status, reason, explain(reason), details)


def _combine(results: list[_EntryResult]) -> StatusOutcome:
    entries = [dict(r.details, outcome=r.status, reason=r.reason) for r in results]
    for wanted in (FAILED, INDETERMINATE):
        decisive = next((r for r in results if r.status == wanted), None)
        if decisive is not None:
            return StatusOutcome(wanted, decisive.reason, decisive.message,
                                 dict(decisive.details, entries=entries))
    checked = {r.purpose for r in results if r.purpose in ("revocation", "suspension")}
    if not checked:  # only refresh/message entries: nothing says whether it is revoked
        return StatusOutcome(SKIPPED, "no_status", explain("no_status"), {"entries": entries})
    what = {frozenset({"revocation"}): "Not revoked", frozenset({"suspension"}): "Not suspended"}.get(
        frozenset(checked), "Not revoked or suspended")
    lists = {r.details.get("type") for r in results if r.purpose in checked}
    source = "list of revoked badges" if lists == {REVOCATION_LIST_1EDTECH} else "published list"
    return StatusOutcome(PASSED, None, f"{what} (checked against the issuer's {source}).", {"entries": entries})


class _Checker:
    def __init__(self, credential: dict[str, Any], fetch_json: Callable[[str], object],
                 verify_list_credential: Callable[[dict[str, Any]], None], now: datetime,
                 decode: Callable[[object, bool], bytes] = _decode):
        self.credential = credential
        self.decode = decode
        self.fetch_json = fetch_json
        self.verify_list_credential = verify_list_credential
        self.now = now
        self._fetched: dict[str, tuple[object, BaseException | None]] = {}
        self._verified: dict[str, CredentialError | None] = {}

    # one entry -------------------------------------------------------------

    def check_entry(self, entry: object) -> _EntryResult:
        details: dict[str, Any] = {}
        purpose = None
        try:
            if not isinstance(entry, dict):
                raise Stop("malformed_status", error="a status entry is not a JSON object")
            kind = entry_kind(entry)
            details["type"] = kind
            if kind in _LIST_TYPES:
                purpose, status, reason, extra = self._check_bitstring(entry, kind, details)
            elif kind == REVOCATION_LIST_1EDTECH:
                purpose, status, reason, extra = self._check_1edtech(entry, details)
            elif kind is None:
                raise Stop("malformed_status", error="the status entry has no type")
            else:
                raise Stop("unsupported_status_type")
        except Stop as stop:
            details.update(stop.details)
            return _EntryResult(str(status_of(stop.reason)), stop.reason, explain(stop.reason),
                                details.get("purpose"), details)
        details.update(extra)
        message = explain(reason) if reason else _passed_message(purpose, details)
        return _EntryResult(status, reason, message, purpose, details)

    def _check_bitstring(self, entry: dict[str, Any], kind: str, details: dict[str, Any]) -> _Verdict:
        purpose = entry.get("statusPurpose")
        if not isinstance(purpose, str) or not purpose:
            raise Stop("malformed_status", error="statusPurpose is missing or not a string")
        details["purpose"] = purpose
        index = parse_index(entry.get("statusListIndex"))
        details["index"] = index
        url = parse_url(entry.get("statusListCredential"), "statusListCredential")
        details["list"] = url
        size = parse_size(entry)
        if size != 1:
            details["size"] = size
        messages = parse_status_messages(entry, size)
        if purpose not in KNOWN_PURPOSES:
            raise Stop("unsupported_status", error=f"unknown statusPurpose {purpose!r}")
        if size > MAX_STATUS_SIZE:
            raise Stop("unsupported_status", error=f"statusSize {size} is larger than {MAX_STATUS_SIZE}")
        if index >= MAX_LIST_BYTES * 8 // size:
            raise Stop("malformed_status", error=f"statusListIndex {index} is larger than any status list")

        document = self._fetch(url)
        if not isinstance(document, dict):
            raise Stop("malformed_status_list", error="the status list is not a JSON object")
        subject = self._check_list_shape(document, kind, url)
        self._verify(url, document)
        self._check_list_dates(document)
        list_purposes = subject.get("statusPurpose")
        if isinstance(list_purposes, str):
            list_purposes = [list_purposes]
        if not isinstance(list_purposes, list) or purpose not in list_purposes:
            raise Stop("status_purpose_mismatch", list_purpose=subject.get("statusPurpose"))

        encoded = subject.get("encodedList")
        multibase = kind == BITSTRING_ENTRY or (isinstance(encoded, str) and encoded.startswith("u"))
        try:
            bits = self.decode(encoded, multibase)
        except StatusListError as exc:
            raise Stop("malformed_status_list", error=str(exc), **exc.details) from None
        entries = len(bits) * 8 // size
        if entries < MIN_ENTRIES:
            raise Stop("malformed_status_list", problem="too_short",
                        error=f"the status list holds {entries} entries; at least {MIN_ENTRIES} are required")
        if index >= entries:
            raise Stop("status_index_out_of_range", list_entries=entries)
        value = bit_at(bits, index, size)
        extra: dict[str, Any] = {"value": value}
        if messages is not None:
            extra["status_message"] = messages.get(value)
        published = document.get("validFrom") or document.get("issuanceDate")
        if value and isinstance(published, str):   # set on or before the day the list was published
            extra["list_published"] = published[:64]
        if value and purpose == "revocation":
            return purpose, FAILED, "revoked", extra
        if value and purpose == "suspension":
            return purpose, FAILED, "suspended", extra
        return purpose, PASSED, None, extra

    def _check_list_shape(self, document: dict[str, Any], kind: str, url: str) -> dict[str, Any]:
        credential_type, subject_type = _LIST_TYPES[kind]
        if credential_type not in types_of(document):
            raise Stop("status_list_mismatch", expected_type=credential_type,
                        error=f"the status list is not a {credential_type}")
        if "id" in document and document["id"] != url:
            raise Stop("status_list_mismatch", list_id=document["id"],
                        error="the status list's id is not the URL it was retrieved from")
        subject = document.get("credentialSubject")
        if isinstance(subject, list) and len(subject) == 1:
            subject = subject[0]
        if not isinstance(subject, dict):
            raise Stop("malformed_status_list", error="the status list has no single credentialSubject")
        if subject_type not in types_of(subject):
            raise Stop("status_list_mismatch", expected_type=subject_type,
                        error=f"the status list's subject is not a {subject_type}")
        expected, found = issuer_id(self.credential), issuer_id(document)
        if expected is None or found != expected:
            raise Stop("status_list_from_another_issuer", list_issuer=found, credential_issuer=expected)
        return subject

    def _check_list_dates(self, document: dict[str, Any]) -> None:
        for name in ("validUntil", "expirationDate"):
            if name in document:
                until = parse_datetime_of_list(document[name], name)
                if until < self.now:
                    raise Stop("status_list_expired", list_valid_until=document[name])
        for name in ("validFrom", "issuanceDate"):
            if name in document:
                start = parse_datetime_of_list(document[name], name)
                if start > self.now:
                    raise Stop("status_list_not_yet_valid", list_valid_from=document[name])

    def _check_1edtech(self, entry: dict[str, Any], details: dict[str, Any]) -> _Verdict:
        details["purpose"] = "revocation"
        url = parse_url(entry.get("id"), "id")
        details["list"] = url
        credential_id = self.credential.get("id")
        if not isinstance(credential_id, str) or not credential_id:
            raise Stop("malformed_status", error="a credential checked against a 1EdTech revocation list "
                                                  "needs an id")
        document = self._fetch(url)
        listed = document.get("revokedCredentials") if isinstance(document, dict) else None
        if not isinstance(listed, list):
            raise Stop("malformed_status_list", error="the revocation list has no revokedCredentials array")
        found = None
        for item in listed:
            if (not isinstance(item, dict) or not isinstance(item.get("id"), str)
                    or not isinstance(item.get("revoked", True), bool)):
                raise Stop("malformed_status_list",
                            error="a revokedCredentials item is not {id: string, revoked?: boolean}")
            if item["id"] == credential_id and item.get("revoked", True):
                found = item
        extra: dict[str, Any] = {"signed": False}
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
            raise Stop("status_list_unreachable", error=str(error)[:500],
                        error_code=getattr(error, "code", type(error).__name__))
        return document

    def _verify(self, url: str, document: dict[str, Any]) -> None:
        if url not in self._verified:
            try:
                self.verify_list_credential(document)
                self._verified[url] = None
            except CredentialError as exc:
                self._verified[url] = exc
        error = self._verified[url]
        if error is not None:
            reason = _LIST_DATES.get(error.code) or ("status_list_unreachable"
                                                     if status_of(error.code) == Status.INDETERMINATE
                                                     else "status_list_untrusted")
            raise Stop(reason, error=str(error)[:500], error_code=error.code)


def _passed_message(purpose: str | None, details: dict[str, Any]) -> str:
    source = "list of revoked badges" if details.get("type") == REVOCATION_LIST_1EDTECH else "published list"
    if purpose == "revocation":
        return f"Not revoked (checked against the issuer's {source})."
    if purpose == "suspension":
        return f"Not suspended (checked against the issuer's {source})."
    return f"The issuer's {source} was checked ({purpose} entry); it says nothing about revocation."
