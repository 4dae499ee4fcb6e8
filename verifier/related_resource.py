"""Integrity of related resources: the ``relatedResource`` digests of a credential, checked.

VC Data Model 2.0, section 5.3 (https://www.w3.org/TR/vc-data-model-2.0/#integrity-of-related-resources):
``relatedResource`` is one or more objects, each with an ``id`` (unique among them), an
optional ``mediaType`` and at least one of

- ``digestSRI``: one or more SRI hash-expressions (``sha256-``/``sha384-``/``sha512-`` and
  base64, separated by whitespace; SRI section 3.5), and
- ``digestMultibase``: one or more (a string or a list) multibase-encoded multihashes
  (VC Data Integrity section 2.6): ``z`` base58btc, ``u`` base64url, ... of
  ``varint(code) || varint(length) || digest`` with sha2-256 (0x12), sha2-384 (0x20) or
  sha2-512 (0x13). The VC 2.0 specification's own examples and the W3C VC 2.0 test suite
  write a bare digest without the multihash header (``uJKGM...``: 32 bytes); a value that
  decodes to exactly 32, 48 or 64 bytes is therefore read as a bare sha-256/384/512 digest
  (the lengths cannot be confused with a multihash, which is 2 bytes longer).

A verifier that uses the resource must compute its digest and produce an error when it
differs. Here the bytes come from (1) the bundled contexts, without any fetch: the bundled
file, plus the recorded digests of the bytes W3C publishes where these differ (the npm copies
are reformatted; see :func:`verifier.contexts.published_digests`), or (2) ``fetch_bytes`` for
any other URL. Every digest of an entry must describe the same bytes; one wrong digest fails
the entry.

This module is pure: no network, no clock. :func:`check_related_resources` never raises for
bad input; it returns one :class:`RelatedResourceFinding` per entry.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from .base58btc import b58decode
from .contexts import bundled_context_bytes, context_index, published_digests
from .errors import CredentialError

# Statuses of a finding.
VERIFIED = "verified"
MISMATCH = "mismatch"
MALFORMED = "malformed"
UNAVAILABLE = "unavailable"
UNSUPPORTED = "unsupported"

# Reason codes (None for a verified entry).
DIGEST_MISMATCH = "related_resource_digest_mismatch"
MALFORMED_ENTRY = "related_resource_malformed"
RESOURCE_UNAVAILABLE = "related_resource_unavailable"
DIGEST_UNSUPPORTED = "related_resource_digest_unsupported"

#: reason code -> plain-language explanation (for the report's registry)
EXPLANATIONS: Mapping[str, str] = MappingProxyType({
    DIGEST_MISMATCH: "A file the credential links to is not the one the issuer fingerprinted: its digest "
                     "does not match, so it was changed or replaced after issuing.",
    MALFORMED_ENTRY: "A related-resource entry is malformed: it needs a unique URL id and a well-formed "
                     "digestSRI or digestMultibase.",
    RESOURCE_UNAVAILABLE: "A file the credential links to could not be obtained, so its digest was not "
                          "checked.",
    DIGEST_UNSUPPORTED: "A file the credential links to is fingerprinted with a hash algorithm this verifier "
                        "does not support, so its digest was not checked.",
})

FetchBytes = Callable[[str], bytes]

ALGORITHMS = ("sha256", "sha384", "sha512")
_LENGTHS = {"sha256": 32, "sha384": 48, "sha512": 64}
_BY_LENGTH = {length: name for name, length in _LENGTHS.items()}
_MULTIHASH = {0x12: "sha256", 0x20: "sha384", 0x13: "sha512"}
_SRI = re.compile(r"^(sha256|sha384|sha512)-([A-Za-z0-9+/_-]+={0,2})(\?[\x21-\x7e]*)?$")
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")
MAX_ENTRIES = 50
DEFAULT_MAX_FETCHES = 5


@dataclass(frozen=True)
class Digest:
    """One digest of an entry, decoded."""
    algorithm: str  # "sha256", "sha384" or "sha512"
    value: bytes
    form: str  # "digestSRI" or "digestMultibase"
    text: str  # as written in the credential


@dataclass(frozen=True)
class RelatedResourceFinding:
    """What was found for one ``relatedResource`` entry."""
    index: int
    id: str | None
    status: str  # VERIFIED | MISMATCH | MALFORMED | UNAVAILABLE | UNSUPPORTED
    reason: str | None  # a reason code above; None when verified
    message: str
    detail: Mapping[str, str] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        """True for a wrong digest or a malformed entry: the credential must not verify."""
        return self.status in (MISMATCH, MALFORMED)


class MalformedDigestError(CredentialError):
    """A digest value (or an entry) that is not what VC 2.0 section 5.3 allows."""
    code = MALFORMED_ENTRY


# ---------------------------------------------------------------- decoding

def _b64(text: str) -> bytes:
    text = text.replace("-", "+").replace("_", "/")
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def _b32(text: str) -> bytes:
    text = text.upper()
    return base64.b32decode(text + "=" * (-len(text) % 8))


_MULTIBASE: dict[str, Callable[[str], bytes]] = {
    "z": b58decode,
    "u": _b64, "U": _b64, "m": _b64, "M": _b64,
    "f": bytes.fromhex, "F": bytes.fromhex,
    "b": _b32, "B": _b32,
}


def decode_sri(value: Any) -> list[Digest]:
    """The digests of an SRI value: whitespace-separated ``sha256|sha384|sha512-<base64>``.

    SRI section 3.5 takes its algorithms from CSP's ``hash-algorithm`` (sha256, sha384,
    sha512); CSP's ``base64-value`` allows the base64url alphabet too.

    Raises:
        MalformedDigestError: not a string, empty, another algorithm, bad base64 or length.
    """
    if not isinstance(value, str) or not value.split():
        raise MalformedDigestError("digestSRI must be a non-empty string of sha256/384/512 hash-expressions")
    digests = []
    for expression in value.split():
        match = _SRI.match(expression)
        if not match:
            raise MalformedDigestError(f"digestSRI {expression[:60]!r} is not a sha256/384/512 subresource-"
                                       "integrity digest")
        algorithm = match.group(1)
        try:
            digest = _b64(match.group(2))
        except (binascii.Error, ValueError):
            raise MalformedDigestError(f"digestSRI {expression[:60]!r} is not valid base64") from None
        if len(digest) != _LENGTHS[algorithm]:
            raise MalformedDigestError(f"digestSRI {expression[:60]!r} is not a {algorithm} digest (wrong length)")
        digests.append(Digest(algorithm, digest, "digestSRI", expression))
    return digests


def decode_digest_multibase(value: Any) -> tuple[Digest | None, str]:
    """One ``digestMultibase`` value decoded: ``(digest, encoding)``.

    ``encoding`` is ``"multihash"`` or ``"bare digest"``; the digest is None when the value is
    a well-formed multihash of an algorithm other than sha2-256/384/512.

    Raises:
        MalformedDigestError: not a multibase string, or neither a multihash nor a bare sha-2 digest.
    """
    if not isinstance(value, str) or len(value) < 2 or value[0] not in _MULTIBASE:
        raise MalformedDigestError(f"digestMultibase {str(value)[:60]!r} is not a multibase string")
    try:
        raw = _MULTIBASE[value[0]](value[1:])
    except (ValueError, binascii.Error):
        raise MalformedDigestError(f"digestMultibase {value[:60]!r} is not valid multibase") from None
    if len(raw) >= 2 and raw[0] in _MULTIHASH and raw[1] == _LENGTHS[_MULTIHASH[raw[0]]] \
            and len(raw) == 2 + raw[1]:
        return Digest(_MULTIHASH[raw[0]], raw[2:], "digestMultibase", value), "multihash"
    if len(raw) in _BY_LENGTH:
        return Digest(_BY_LENGTH[len(raw)], raw, "digestMultibase", value), "bare digest"
    if len(raw) >= 3 and raw[0] < 0x80 and raw[1] < 0x80 and len(raw) == 2 + raw[1]:
        return None, "multihash"
    raise MalformedDigestError(f"digestMultibase {value[:60]!r} is neither a multihash nor a sha-256/384/512 digest")


def _entry_digests(entry: dict[str, Any]) -> tuple[list[Digest], list[str], list[str]]:
    """(supported digests, unsupported digest texts, encodings noted) of one entry."""
    if "digestSRI" not in entry and "digestMultibase" not in entry:
        raise MalformedDigestError("it has neither digestSRI nor digestMultibase")
    digests: list[Digest] = []
    unsupported: list[str] = []
    encodings: list[str] = []
    if "digestSRI" in entry:
        digests += decode_sri(entry["digestSRI"])
    if "digestMultibase" in entry:
        values = entry["digestMultibase"]
        values = values if isinstance(values, list) else [values]
        if not values:
            raise MalformedDigestError("digestMultibase is an empty list")
        for value in values:
            digest, encoding = decode_digest_multibase(value)
            encodings.append(encoding)
            if digest is None:
                unsupported.append(value)
            else:
                digests.append(digest)
    return digests, unsupported, encodings


# ---------------------------------------------------------------- the bytes' digests

def _digests_of(data: bytes) -> dict[str, bytes]:
    return {name: hashlib.new(name, data).digest() for name in ALGORITHMS}


#: (label, algorithm -> digest, superseded): one known form of a resource's bytes
Version = tuple[str, dict[str, bytes], bool]
#: what obtaining a resource gave: (source, its versions), or why it could not be obtained
Obtained = tuple[str, list[Version]] | str


def _bundled_versions(url: str) -> list[Version]:
    """(label, algorithm -> digest, superseded) for every known form of a bundled context."""
    versions: list[Version] = [("bundled copy", _digests_of(bundled_context_bytes(url)), False)]
    for item in published_digests(url):
        versions.append((item["label"], {name: bytes.fromhex(item[name]) for name in ALGORITHMS},
                         bool(item.get("superseded"))))
    return versions


def _matching_version(digests: list[Digest], versions: list[Version]) -> tuple[str, bool] | None:
    """The first version that every digest matches, as (label, superseded)."""
    for label, known, superseded in versions:
        if all(known[d.algorithm] == d.value for d in digests):
            return label, superseded
    return None


# ---------------------------------------------------------------- checking

def _check_entry(index: int, entry: Any, seen: set[str], fetch: Callable[[str], Obtained]) -> RelatedResourceFinding:
    def finding(status: str, reason: str | None, message: str, **detail: str) -> RelatedResourceFinding:
        rid = entry.get("id") if isinstance(entry, dict) and isinstance(entry.get("id"), str) else None
        return RelatedResourceFinding(index, rid, status, reason, message, MappingProxyType(detail))

    where = f"relatedResource[{index}]"
    if not isinstance(entry, dict):
        return finding(MALFORMED, MALFORMED_ENTRY, f"{where} must be an object with id and digestSRI or "
                                                   "digestMultibase")
    rid = entry.get("id")
    if not isinstance(rid, str) or not _URL.match(rid):
        return finding(MALFORMED, MALFORMED_ENTRY, f"{where} has no id, or its id is not a URL")
    if rid in seen:
        return finding(MALFORMED, MALFORMED_ENTRY, f"{where}.id {rid!r} appears more than once")
    seen.add(rid)
    if "mediaType" in entry and not isinstance(entry["mediaType"], str):
        return finding(MALFORMED, MALFORMED_ENTRY, f"{where}.mediaType must be a string")
    try:
        digests, unsupported, encodings = _entry_digests(entry)
    except MalformedDigestError as exc:
        return finding(MALFORMED, MALFORMED_ENTRY, f"{where}: {exc}")
    detail = {"id": rid, "encoding": ", ".join(sorted(set(encodings)))} if encodings else {"id": rid}
    if not digests:
        return finding(UNSUPPORTED, DIGEST_UNSUPPORTED, f"{where} ({rid}): no digest uses sha256, sha384 or "
                                                        "sha512; not checked", **detail)
    obtained = fetch(rid)
    if isinstance(obtained, str):
        return finding(UNAVAILABLE, RESOURCE_UNAVAILABLE, f"{where} ({rid}) could not be obtained "
                                                          f"({obtained}); its digest was not checked",
                       **detail, source="none")
    source, versions = obtained
    match = _matching_version(digests, versions)
    if match is None:
        return finding(MISMATCH, DIGEST_MISMATCH,
                       f"{where}: the digest does not match {rid} ({source})",
                       **detail, source=source,
                       algorithms=", ".join(sorted({d.algorithm for d in digests})))
    label, superseded = match
    return finding(VERIFIED, None, f"{where}: the digest matches {rid} ({label})", **detail, source=source,
                   matched=label, **({"superseded": "true"} if superseded else {}))


def check_related_resources(credential: Any, fetch_bytes: FetchBytes | None = None, *,
                            max_fetches: int = DEFAULT_MAX_FETCHES) -> list[RelatedResourceFinding]:
    """Check every ``relatedResource`` entry of ``credential`` (VC 2.0 section 5.3).

    Args:
        credential: the credential as received (a dict; anything else gives no findings).
        fetch_bytes: called with the URL of a resource that is not a bundled context; returns
            its bytes, or raises :class:`~verifier.errors.CredentialError` (e.g. ``FetchError``)
            or ``OSError`` when it cannot be obtained. None: only bundled contexts are checked.
            ``mediaType`` is not passed on: the callable decides what it accepts.
        max_fetches: at most this many calls to ``fetch_bytes``; later entries are unavailable.

    Returns:
        One finding per entry, in order; empty when there is no ``relatedResource``. An entry
        is ``failed`` (mismatch or malformed) or not; unavailable and unsupported ones are
        notes, not failures.
    """
    if not isinstance(credential, dict) or "relatedResource" not in credential:
        return []
    value = credential["relatedResource"]
    entries = value if isinstance(value, list) else [value]
    if not entries:
        return [RelatedResourceFinding(0, None, MALFORMED, MALFORMED_ENTRY, "relatedResource is an empty list")]
    budget = [max(0, max_fetches)]

    def obtain(url: str) -> Obtained:
        if url in context_index():
            return "bundled context", _bundled_versions(url)
        if fetch_bytes is None:
            return "not a bundled context, and nothing is fetched here"
        if not budget[0]:
            return f"no more than {max_fetches} related resources are fetched"
        budget[0] -= 1
        try:
            data = fetch_bytes(url)
        except (CredentialError, OSError) as exc:
            return str(exc) or type(exc).__name__
        return "fetched", [("fetched bytes", _digests_of(data), False)]

    seen: set[str] = set()
    findings = [_check_entry(index, entry, seen, obtain) for index, entry in enumerate(entries[:MAX_ENTRIES])]
    if len(entries) > MAX_ENTRIES:
        findings.append(RelatedResourceFinding(MAX_ENTRIES, None, MALFORMED, MALFORMED_ENTRY,
                                               f"relatedResource has more than {MAX_ENTRIES} entries"))
    return findings
