"""Open Badges 2.0 assertions: hosted and signed verification.

Most badges in the wild are OB 2.0. An assertion is verified one of two ways
(OB 2.0 §Verification):

* **Hosted** (``verification.type`` ``hosted`` / ``HostedBadge``): the issuer's
  server is the source of truth. The assertion is fetched again from its ``id``
  (an https URL), and the hosted copy must sit exactly at that URL and agree with
  the copy in hand; the BadgeClass and the issuer Profile are fetched; and the
  assertion's URL must be within the issuer's verification scope (the issuer's
  origin by default, or its ``verification.allowedOrigins`` / ``startsWith``).
  A ``410 Gone`` or ``"revoked": true`` means revoked.
* **Signed** (``SignedBadge``, delivered as a compact JWS whose payload is the
  assertion): the key (``verification.creator``, else the keys the issuer lists)
  is a ``CryptographicKey`` document with ``publicKeyPem``; it counts only if
  its ``owner`` is the issuer and the issuer Profile, fetched from its own id,
  lists it under ``publicKey``. The JWS is checked with
  :func:`verifier.jws.verify_compact_jws` (RS256, ES256 or EdDSA bound to the key
  type). The issuer's ``revocationList`` is consulted when published.

Nothing is fetched here directly: the caller passes ``fetch_json(url)``, which
returns the parsed JSON document or raises on any failure — e.g.
``verifier.fetcher.Fetcher(...).fetch_json``. A failure carrying HTTP status 410
(``details["http_status"]``, a ``status``/``status_code`` attribute, or
``exc.response.status_code``) marks a hosted assertion as revoked; a failure with
``code == "fetch_budget_exceeded"`` is reported as such. Only https URLs are ever handed to it, at most
:data:`MAX_FETCHES` per verification. An embedded issuer Profile is never trusted
for keys or verification policy: the Profile is always fetched from its id.

The result is a list of checks with stable ids (``parse``, ``fetch``,
``issuer_binding``, ``proof``, ``validity``, ``status``, ``recipient``), each
``passed``, ``failed``, ``indeterminate`` or ``skipped`` with a reason code:

``malformed_assertion``, ``malformed_jws``, ``not_ob2``, ``signature_missing``,
``unsupported_verification_type``, ``verification_type_mismatch``,
``not_https_url``, ``assertion_unreachable``, ``badge_unreachable``,
``issuer_unreachable``, ``key_unreachable``, ``fetch_budget_exceeded``,
``assertion_id_mismatch``, ``assertion_mismatch``, ``malformed_badge``,
``badge_id_mismatch``, ``malformed_issuer``, ``issuer_id_mismatch``,
``assertion_from_another_origin``, ``no_issuer_key``,
``key_not_controlled_by_issuer``, ``invalid_key``, the
:mod:`verifier.jws` codes (``signature_mismatch``, ``alg_not_allowed``,
``key_type_mismatch``, ...), ``hosted_verification``, ``no_trusted_key``,
``invalid_date``, ``not_yet_valid``, ``expired``, ``revoked``,
``status_list_unreachable``, ``status_list_invalid``, ``malformed_recipient``,
``recipient_mismatch``, ``no_recipient_given``, ``not_reached``.
"""
from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from .errors import CredentialError
from .jws import parse_compact_jws, strict_json_loads, verify_compact_jws
from .keys import ED25519, P256, RSA, PublicKey
from .limits import check_structure

OB2_CONTEXTS = frozenset({
    "https://w3id.org/openbadges/v2",
    "https://w3id.org/openbadges/v2/",
    "https://openbadgespec.org/v2/context.json",
})
HOSTED_TYPES = frozenset({"hosted", "HostedBadge"})
SIGNED_TYPES = frozenset({"signed", "SignedBadge"})
CHECKS: tuple[str, ...] = ("parse", "fetch", "issuer_binding", "proof", "validity", "status", "recipient")
MAX_FETCHES = 10
MAX_KEYS = 4
CLOCK_SKEW = timedelta(seconds=300)

_COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})", re.IGNORECASE
)
_IDENTITY_HASH = re.compile(r"(sha256|md5)\$([0-9a-f]+)", re.IGNORECASE)
_HASH_LENGTHS = {"sha256": 64, "md5": 32}


# --------------------------------------------------------------------------- #
# Results
# --------------------------------------------------------------------------- #
@dataclass(frozen=True)
class Ob2Check:
    """One verification step. ``status``: passed | failed | indeterminate | skipped."""

    check: str
    status: str
    reason: str | None
    message: str
    details: dict = field(default_factory=dict)


@dataclass
class Ob2Result:
    checks: list[Ob2Check]
    assertion: dict | None
    badge: dict | None
    issuer: dict | None

    @property
    def verified(self) -> bool:
        """True when every check passed or was skipped (and there is at least one)."""
        return bool(self.checks) and all(c.status in ("passed", "skipped") for c in self.checks)

    def get(self, check: str) -> Ob2Check | None:
        return next((c for c in self.checks if c.check == check), None)


class _Stop(Exception):
    """Raised after a check that makes the remaining steps impossible."""

    def __init__(self, why: str):
        super().__init__(why)
        self.why = why


class _FetchProblem(Exception):
    def __init__(self, status: str, reason: str, message: str, details: dict | None = None):
        super().__init__(message)
        self.status, self.reason, self.message, self.details = status, reason, message, details or {}


# --------------------------------------------------------------------------- #
# Small helpers
# --------------------------------------------------------------------------- #
def _as_list(value: Any) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _ref_id(value: Any) -> str | None:
    """The id of an @id-valued property: the string itself or the embedded object's ``id``."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        return value["id"]
    return None


def _is_https(url: Any) -> bool:
    if not isinstance(url, str) or any(c.isspace() for c in url):
        return False
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return False
    return parts.scheme == "https" and bool(parts.hostname) and "@" not in parts.netloc


def _origin(url: Any) -> tuple[str, str, int] | None:
    if not isinstance(url, str):
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return parts.scheme, parts.hostname.lower(), port or (443 if parts.scheme == "https" else 80)


def _types(document: dict) -> list:
    return [t for t in _as_list(document.get("type")) if isinstance(t, str)]


def _verification(document: dict) -> dict:
    value = document.get("verification", document.get("verify"))
    return value if isinstance(value, dict) else {}


def _http_status(exc: BaseException) -> int | None:
    """The HTTP status a fetch error carries: ``details["http_status"]`` (verifier.fetcher's
    FetchError), a ``status``/``status_code`` attribute, or one on ``exc.response``."""
    details = getattr(exc, "details", None)
    if isinstance(details, dict) and isinstance(details.get("http_status"), int):
        return details["http_status"]
    for holder in (exc, getattr(exc, "response", None)):
        for attr in ("status", "status_code"):
            value = getattr(holder, attr, None)
            if isinstance(value, int):
                return value
    return None


def _parse_date(value: Any, field_name: str) -> datetime:
    if not isinstance(value, str) or not _DATETIME.fullmatch(value.strip()):
        raise ValueError(f"{field_name} {value!r} is not a date-time with a time zone")
    text = value.strip()
    if text[-1] in "zZ":
        text = text[:-1] + "+00:00"
    return datetime.fromisoformat(text)


def _parse_text(text: str) -> dict | str:
    """Interpret a string input: JSON text -> dict; a compact JWS or URL stays a string."""
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            parsed = strict_json_loads(stripped.encode("utf-8"))
        except (UnicodeError, ValueError) as exc:
            raise ValueError(f"the input is not valid JSON: {exc}") from exc
        if not isinstance(parsed, dict):
            raise ValueError("the JSON input is not an object")
        return parsed
    return stripped


def is_ob2(document: object) -> bool:
    """True for an OB 2.0 document: the OB 2.0 ``@context`` or ``type`` ``Assertion``.

    A string is looked into when it is JSON text or a compact JWS (payload decoded,
    signature not checked).
    """
    if isinstance(document, str):
        try:
            value = _parse_text(document)
            if isinstance(value, str):
                if not _COMPACT_JWS.fullmatch(value):
                    return False
                _header, payload, _input, _sig = parse_compact_jws(value)
                value = payload
        except (CredentialError, ValueError):
            return False
        document = value
    if not isinstance(document, dict):
        return False
    contexts = _as_list(document.get("@context"))
    if any(isinstance(c, str) and c in OB2_CONTEXTS for c in contexts):
        return True
    return "Assertion" in _types(document)


# --------------------------------------------------------------------------- #
# The verification run
# --------------------------------------------------------------------------- #
class _Run:
    def __init__(self, fetch_json: Callable[[str], object], now: datetime):
        self._fetch_json = fetch_json
        self.now = now if now.tzinfo else now.replace(tzinfo=timezone.utc)
        self.fetches = 0
        self.fetched: list[tuple[str, str]] = []
        self.checks: dict[str, Ob2Check] = {}
        self.assertion: dict | None = None
        self.badge: dict | None = None
        self.issuer: dict | None = None

    # -- recording -------------------------------------------------------- #
    def record(self, check: str, status: str, reason: str | None, message: str, **details: Any) -> None:
        self.checks[check] = Ob2Check(check, status, reason, message, details)

    def stop(self, check: str, status: str, reason: str, message: str, *, why: str, **details: Any):
        self.record(check, status, reason, message, **details)
        raise _Stop(why)

    def result(self, why: str | None) -> Ob2Result:
        checks = []
        for name in CHECKS:
            if name in self.checks:
                checks.append(self.checks[name])
            else:
                checks.append(Ob2Check(name, "skipped", "not_reached", f"Not checked: {why or 'not applicable'}."))
        return Ob2Result(checks, self.assertion, self.badge, self.issuer)

    # -- fetching --------------------------------------------------------- #
    def fetch(self, url: Any, what: str, unreachable: str, malformed: str) -> dict:
        if not _is_https(url):
            raise _FetchProblem(
                "failed", "not_https_url",
                f"The {what} reference {url!r} is not an https URL, so it cannot be fetched safely.",
                {"what": what, "url": url},
            )
        if self.fetches >= MAX_FETCHES:
            raise _FetchProblem(
                "indeterminate", "fetch_budget_exceeded",
                f"Verification needs more than {MAX_FETCHES} fetches; stopped before the {what}.",
                {"what": what, "url": url},
            )
        self.fetches += 1
        try:
            document = self._fetch_json(url)
        except Exception as exc:  # noqa: BLE001 - any fetch failure is reported, never raised
            if getattr(exc, "code", None) == "fetch_budget_exceeded":
                unreachable = "fetch_budget_exceeded"
            raise _FetchProblem(
                "indeterminate", unreachable,
                f"The {what} could not be fetched from {url}: {str(exc)[:200] or type(exc).__name__}.",
                {"what": what, "url": url, "http_status": _http_status(exc)},
            ) from exc
        if not isinstance(document, dict):
            raise _FetchProblem("failed", malformed, f"The {what} at {url} is not a JSON object.",
                                {"what": what, "url": url})
        try:
            check_structure(document)
        except CredentialError as exc:
            raise _FetchProblem("failed", malformed, f"The {what} at {url} is unusable: {exc}",
                                {"what": what, "url": url}) from exc
        self.fetched.append((what, url))
        return document

    def fetch_at_id(self, url: str, what: str, unreachable: str, malformed: str, mismatch: str) -> dict:
        """Fetch a document that must carry exactly the URL it was fetched from as its id."""
        document = self.fetch(url, what, unreachable, malformed)
        if document.get("id") != url:
            raise _FetchProblem(
                "failed", mismatch,
                f"The {what} fetched from {url} says its id is {document.get('id')!r}: "
                "it is not where it says it is.",
                {"url": url, "id": document.get("id")},
            )
        return document

    # -- steps ------------------------------------------------------------ #
    def parse(self, source: Any) -> tuple[str, dict | None, str | None, str | None]:
        """Return (mode, document, token, url)."""
        token = url = None
        document: Any = source
        if isinstance(source, str):
            try:
                document = _parse_text(source)
            except ValueError as exc:
                self.stop("parse", "failed", "malformed_assertion", f"Not an OB 2.0 assertion: {exc}.",
                          why="the input could not be read")
            if isinstance(document, str):
                if _COMPACT_JWS.fullmatch(document):
                    token = document
                    try:
                        _header, document, _si, _sig = parse_compact_jws(token)
                    except CredentialError as exc:
                        self.stop("parse", "failed", "malformed_jws", f"The signed assertion is not a usable JWS: {exc}",
                                  why="the input could not be read", code=exc.code)
                    if not isinstance(document, dict):
                        self.stop("parse", "failed", "malformed_assertion",
                                  "The JWS payload is not a JSON object.", why="the input could not be read")
                elif re.fullmatch(r"https?://\S+", document, re.IGNORECASE):
                    url = document
                    self.record("parse", "passed", None, "An OB 2.0 hosted assertion URL.",
                                verification="hosted", url=url)
                    return "hosted", None, None, url
                else:
                    self.stop("parse", "failed", "malformed_assertion",
                              "The input is neither assertion JSON, a compact JWS nor an assertion URL.",
                              why="the input could not be read")
        if not isinstance(document, dict):
            self.stop("parse", "failed", "malformed_assertion", "The assertion is not a JSON object.",
                      why="the input could not be read")
        try:
            check_structure(document)
        except CredentialError as exc:
            self.stop("parse", "failed", "malformed_assertion", f"The assertion is unusable: {exc}",
                      why="the input could not be read")
        self.assertion = document
        if not is_ob2(document):
            self.stop("parse", "failed", "not_ob2",
                      "This is not an Open Badges 2.0 assertion (no OB 2.0 @context, not type Assertion).",
                      why="the input is not OB 2.0")
        vtypes = set(_as_list(_verification(document).get("type")))
        if token is not None:
            if not vtypes & SIGNED_TYPES:
                self.stop("parse", "failed", "verification_type_mismatch",
                          "The assertion arrived as a JWS but does not declare SignedBadge verification.",
                          why="the verification method is inconsistent", declared=sorted(map(str, vtypes)))
            mode = "signed"
        elif vtypes & HOSTED_TYPES:
            mode = "hosted"
        elif vtypes & SIGNED_TYPES:
            self.stop("parse", "failed", "signature_missing",
                      "The assertion declares SignedBadge verification but was given as plain JSON; "
                      "verify the JWS it was issued as.", why="there is no signature to verify")
        else:
            self.stop("parse", "failed", "unsupported_verification_type",
                      f"Unsupported or missing verification type {sorted(map(str, vtypes))}; "
                      "expected HostedBadge or SignedBadge.", why="the verification method is unknown")
        missing = _missing_properties(document)
        if missing:
            self.stop("parse", "failed", "malformed_assertion",
                      f"The assertion lacks required properties: {', '.join(missing)}.",
                      why="the assertion is incomplete", missing=missing)
        self.record("parse", "passed", None, f"An OB 2.0 {mode} assertion.", verification=mode,
                    id=document.get("id"))
        return mode, document, token, None

    def fetch_hosted(self, given: dict | None, url: str | None) -> bool:
        """Fetch the hosted assertion; return True if the issuer marks it revoked."""
        url = url if url is not None else given.get("id")
        revoked = False
        reason = None
        try:
            hosted = self.fetch_at_id(url, "hosted assertion", "assertion_unreachable", "malformed_assertion",
                                      "assertion_id_mismatch")
        except _FetchProblem as problem:
            if problem.details.get("http_status") == 410:
                hosted, revoked = None, True
            else:
                self.stop("fetch", problem.status, problem.reason, problem.message,
                          why="the assertion could not be fetched", **problem.details)
        if hosted is not None:
            if hosted.get("revoked") is True:
                revoked, reason = True, hosted.get("revocationReason")
            elif given is None and not is_ob2(hosted):
                self.stop("fetch", "failed", "malformed_assertion",
                          f"The document at {url} is not an OB 2.0 assertion.", why="the assertion is unusable")
            elif (missing := _missing_properties(hosted)):
                self.stop("fetch", "failed", "malformed_assertion",
                          f"The hosted assertion lacks required properties: {', '.join(missing)}.",
                          why="the assertion is unusable", missing=missing)
            elif given is None and not set(_as_list(_verification(hosted).get("type"))) & HOSTED_TYPES:
                self.stop("fetch", "failed", "verification_type_mismatch",
                          "The document at the URL does not declare hosted verification.",
                          why="the verification method is inconsistent")
        if revoked:
            self.assertion = given or hosted
            self.record("fetch", "passed", None, f"Fetched the hosted assertion from {url}.", url=url)
            self.stop("status", "failed", "revoked",
                      "The issuer has revoked this badge" + (f": {reason}" if reason else "."),
                      why="the badge is revoked", url=url, revocationReason=reason)
        if given is not None:
            differing = _differences(given, hosted)
            if differing:
                self.stop("fetch", "failed", "assertion_mismatch",
                          "The assertion differs from the one the issuer hosts at its id "
                          f"({', '.join(differing)}).", why="the assertion was altered", fields=differing)
        self.assertion = hosted  # the hosted copy is the source of truth
        return False

    def fetch_badge_and_issuer(self) -> None:
        badge_ref = self.assertion.get("badge")
        if isinstance(badge_ref, str):
            self.badge = self.fetch_at_id(badge_ref, "BadgeClass", "badge_unreachable", "malformed_badge",
                                          "badge_id_mismatch")
        elif isinstance(badge_ref, dict):
            self.badge = badge_ref
        else:
            raise _FetchProblem("failed", "malformed_assertion", "The assertion's badge is neither a URL nor an object.")
        issuer_ref = _ref_id(self.badge.get("issuer"))
        if issuer_ref is None:
            raise _FetchProblem("failed", "malformed_badge", "The BadgeClass names no issuer.")
        # never trust an embedded Profile for keys or policy: always fetch it from its id
        self.issuer = self.fetch_at_id(issuer_ref, "issuer Profile", "issuer_unreachable", "malformed_issuer",
                                       "issuer_id_mismatch")

    def hosted_binding(self) -> None:
        assertion_id = self.assertion["id"]
        issuer = self.issuer
        policy = issuer.get("verification") if isinstance(issuer.get("verification"), dict) else {}
        allowed = [o for o in _as_list(policy.get("allowedOrigins")) if isinstance(o, str)]
        prefixes = [p for p in _as_list(policy.get("startsWith")) if isinstance(p, str) and p]
        origin = _origin(assertion_id)
        host = urlsplit(assertion_id).netloc.lower()
        problems = []
        if allowed:
            ok = any(_origin_allowed(entry, origin, host) for entry in allowed)
            if not ok:
                problems.append(f"its host is not in the issuer's allowedOrigins {allowed}")
        if prefixes and not any(assertion_id.startswith(p) for p in prefixes):
            problems.append(f"it does not start with any of the issuer's startsWith {prefixes}")
        if not allowed and not prefixes:
            issuer_origins = {o for o in (_origin(issuer.get("id")), _origin(issuer.get("url"))) if o}
            if origin not in issuer_origins:
                problems.append("it is not on the origin of the issuer's id or url")
        if problems:
            self.record("issuer_binding", "failed", "assertion_from_another_origin",
                        f"The assertion at {assertion_id} is outside the issuer's verification scope: "
                        + "; ".join(problems) + ".",
                        assertion=assertion_id, issuer=issuer.get("id"))
        else:
            self.record("issuer_binding", "passed", None,
                        f"The assertion is hosted within the verification scope of issuer {issuer.get('id')}.",
                        assertion=assertion_id, issuer=issuer.get("id"))

    def signed_keys(self) -> tuple[list[dict], Ob2Check | None]:
        """Fetch the candidate keys; return (usable key documents, binding failure or None)."""
        issuer = self.issuer
        listed: dict[str, dict | None] = {}
        for entry in _as_list(issuer.get("publicKey")):
            key_id = _ref_id(entry)
            if key_id:
                listed[key_id] = entry if isinstance(entry, dict) else None
        creator = _ref_id(_verification(self.assertion).get("creator"))
        if creator is not None:
            if creator not in listed:
                return [], Ob2Check(
                    "issuer_binding", "failed", "key_not_controlled_by_issuer",
                    f"The signing key {creator} is not listed in the publicKey of issuer {issuer.get('id')}.",
                    {"key": creator, "issuer": issuer.get("id"), "listed": sorted(listed)},
                )
            candidates = [creator]
        else:
            candidates = list(listed)[:MAX_KEYS]
        if not candidates:
            return [], Ob2Check("issuer_binding", "failed", "no_issuer_key",
                                f"Issuer {issuer.get('id')} lists no publicKey, so no signature can be trusted.",
                                {"issuer": issuer.get("id")})
        keys, problems, unreachable = [], [], []
        for key_id in candidates:
            embedded = listed.get(key_id)
            if isinstance(embedded, dict) and isinstance(embedded.get("publicKeyPem"), str):
                key = embedded  # published inside the issuer's own (fetched) Profile
                owner_ok = embedded.get("owner") in (None, issuer.get("id"))
            else:
                try:
                    key = self.fetch(key_id, "CryptographicKey", "key_unreachable", "invalid_key")
                except _FetchProblem as problem:
                    (unreachable if problem.status == "indeterminate" else problems).append(problem)
                    continue
                if key.get("id") != key_id:
                    problems.append(f"the key fetched from {key_id} says its id is {key.get('id')!r}")
                    continue
                owner_ok = key.get("owner") == issuer.get("id")
            if not owner_ok:
                problems.append(f"key {key_id} names owner {key.get('owner')!r}, not {issuer.get('id')}")
                continue
            keys.append(key)
        if not keys and unreachable:
            raise unreachable[0]
        if not keys:
            problems = [p.message if isinstance(p, _FetchProblem) else p for p in problems]
            return [], Ob2Check("issuer_binding", "failed", "key_not_controlled_by_issuer",
                                "No key the issuer lists is owned by the issuer: " + "; ".join(problems) + ".",
                                {"issuer": issuer.get("id")})
        return keys, None

    def proof(self, token: str, keys: list[dict]) -> None:
        failures: list[tuple[str, str]] = []
        for key in keys:
            try:
                jwk = _jwk_from_pem(key.get("publicKeyPem"))
            except CredentialError as exc:
                failures.append(("invalid_key", f"key {key.get('id')}: {exc}"))
                continue
            try:
                header, _payload = verify_compact_jws(token, jwk)
            except CredentialError as exc:
                failures.append((exc.code, f"key {key.get('id')}: {exc}"))
                continue
            self.record("proof", "passed", None,
                        f"The {header['alg']} signature verifies with the issuer's key {key.get('id')}.",
                        key=key.get("id"), alg=header["alg"])
            return
        reason = next((code for code, _ in failures if code != "invalid_key"), failures[0][0])
        self.record("proof", "failed", reason,
                    "The signature does not verify with the issuer's key(s): "
                    + "; ".join(text for _, text in failures),
                    keys=[k.get("id") for k in keys])

    def validity(self) -> None:
        assertion = self.assertion
        try:
            issued = _parse_date(assertion.get("issuedOn"), "issuedOn")
            expires = _parse_date(assertion["expires"], "expires") if assertion.get("expires") is not None else None
        except ValueError as exc:
            self.record("validity", "failed", "invalid_date", f"Invalid date: {exc}.")
            return
        details = {"issuedOn": assertion.get("issuedOn"), "expires": assertion.get("expires")}
        if expires is not None and expires < issued:
            self.record("validity", "failed", "invalid_date", "The badge expires before it was issued.", **details)
        elif issued > self.now + CLOCK_SKEW:
            self.record("validity", "failed", "not_yet_valid",
                        f"The badge says it was issued on {assertion.get('issuedOn')}, which is in the future.",
                        **details)
        elif expires is not None and expires <= self.now:
            self.record("validity", "failed", "expired", f"The badge expired on {assertion.get('expires')}.",
                        **details)
        else:
            self.record("validity", "passed", None,
                        f"Issued {assertion.get('issuedOn')}"
                        + (f", valid until {assertion.get('expires')}." if expires else ", no expiry."),
                        **details)

    def signed_status(self) -> None:
        assertion, issuer = self.assertion, self.issuer
        if assertion.get("revoked") is True:
            self.record("status", "failed", "revoked", "The assertion itself says it is revoked.")
            return
        list_url = _ref_id(issuer.get("revocationList"))
        if list_url is None:
            self.record("status", "passed", None, "The issuer publishes no revocation list.")
            return
        try:
            revocations = self.fetch(list_url, "revocation list", "status_list_unreachable", "status_list_invalid")
        except _FetchProblem as problem:
            reason = problem.reason
            if reason not in ("fetch_budget_exceeded", "status_list_invalid"):
                reason = "status_list_unreachable"
            self.record("status", "indeterminate", reason, f"Revocation status unknown: {problem.message}",
                        url=list_url)
            return
        entries = revocations.get("revokedAssertions", [])
        if not isinstance(entries, list):
            self.record("status", "indeterminate", "status_list_invalid",
                        f"Revocation status unknown: the list at {list_url} has no revokedAssertions array.",
                        url=list_url)
            return
        assertion_id, uid = assertion.get("id"), assertion.get("uid")
        for entry in entries:
            hit = entry == assertion_id if isinstance(entry, str) else isinstance(entry, dict) and (
                (entry.get("id") is not None and entry.get("id") == assertion_id)
                or (uid is not None and entry.get("uid") == uid)
            )
            if hit:
                why = entry.get("revocationReason") if isinstance(entry, dict) else None
                self.record("status", "failed", "revoked",
                            "The issuer has revoked this badge" + (f": {why}" if why else "."),
                            url=list_url, revocationReason=why)
                return
        self.record("status", "passed", None, "Not on the issuer's revocation list.", url=list_url)

    def recipient(self, recipient: str | None) -> None:
        if recipient is None:
            self.record("recipient", "skipped", "no_recipient_given",
                        "No recipient was given to compare; the badge names its recipient only as "
                        "an identity, which does not prove who holds it.")
            return
        identity_object = self.assertion.get("recipient")
        if not isinstance(identity_object, dict) or not isinstance(identity_object.get("identity"), str):
            self.record("recipient", "failed", "malformed_recipient", "The assertion has no usable recipient identity.")
            return
        kind = identity_object.get("type") if isinstance(identity_object.get("type"), str) else "email"
        identity = identity_object["identity"].strip()
        salt = identity_object.get("salt") if isinstance(identity_object.get("salt"), str) else ""
        hashed = identity_object.get("hashed")
        candidates = [recipient.strip()]
        if kind == "email":
            candidates.insert(0, recipient.strip().lower())
        match = _IDENTITY_HASH.fullmatch(identity)
        if hashed is True or (hashed is None and match):
            if not match or len(match[2]) != _HASH_LENGTHS[match[1].lower()]:
                self.record("recipient", "failed", "malformed_recipient",
                            "The hashed recipient identity is not 'sha256$<hex>' or 'md5$<hex>'.")
                return
            algorithm, digest = match[1].lower(), match[2].lower()
            ok = any(
                hmac.compare_digest(hashlib.new(algorithm, (c + salt).encode("utf-8")).hexdigest(), digest)
                for c in dict.fromkeys(candidates)
            )
        else:
            expected = identity.lower() if kind == "email" else identity
            ok = any(hmac.compare_digest(c.encode("utf-8"), expected.encode("utf-8")) for c in candidates)
        if ok:
            self.record("recipient", "passed", None, f"The badge was awarded to the given {kind}.", type=kind)
        else:
            self.record("recipient", "failed", "recipient_mismatch",
                        f"The badge was not awarded to the given {kind}.", type=kind)


def _origin_allowed(entry: str, origin: tuple | None, host: str) -> bool:
    entry = entry.strip().lower()
    if "://" in entry:
        return _origin(entry) == origin
    return entry in (host, (origin or ("", "", 0))[1])


def _missing_properties(document: dict) -> list[str]:
    missing = [name for name in ("id", "recipient", "badge", "issuedOn") if not document.get(name)]
    if "Assertion" not in _types(document):
        missing.append("type Assertion")
    return missing


def _differences(given: dict, hosted: dict) -> list[str]:
    differing = []
    for name in ("id", "recipient", "issuedOn"):
        if given.get(name) != hosted.get(name):
            differing.append(name)
    if _ref_id(given.get("badge")) != _ref_id(hosted.get("badge")):
        differing.append("badge")
    return differing


def _jwk_from_pem(pem: Any) -> dict:
    if not isinstance(pem, str) or "PUBLIC KEY" not in pem:
        raise CredentialError("the CryptographicKey has no publicKeyPem", code="invalid_key")
    try:
        key = serialization.load_pem_public_key(pem.encode("ascii"))
    except (ValueError, TypeError, UnicodeError) as exc:
        raise CredentialError(f"publicKeyPem is not a PEM public key: {exc}", code="invalid_key") from exc
    if isinstance(key, rsa.RSAPublicKey):
        key_type = RSA
    elif isinstance(key, ec.EllipticCurvePublicKey):
        key_type = P256
    elif isinstance(key, ed25519.Ed25519PublicKey):
        key_type = ED25519
    else:
        raise CredentialError(f"unsupported key type {type(key).__name__}", code="invalid_key")
    try:
        return PublicKey(key_type, key).to_jwk()
    except CredentialError as exc:
        raise CredentialError(str(exc), code="invalid_key") from exc


# --------------------------------------------------------------------------- #
# Entry point
# --------------------------------------------------------------------------- #
def verify_ob2(
    source: dict | str,
    *,
    fetch_json: Callable[[str], object],
    now: datetime,
    recipient: str | None = None,
) -> Ob2Result:
    """Verify an OB 2.0 assertion given as a dict, JSON text, a compact JWS or its URL."""
    run = _Run(fetch_json, now)
    why = None
    try:
        mode, document, token, url = run.parse(source)
        try:
            if mode == "hosted":
                run.fetch_hosted(document, url)
            run.fetch_badge_and_issuer()
            keys, binding_failure = run.signed_keys() if mode == "signed" else ([], None)
        except _FetchProblem as problem:
            run.stop("fetch", problem.status, problem.reason, problem.message,
                     why="a badge document could not be fetched", **problem.details)
        run.record("fetch", "passed", None,
                   "Fetched " + "; ".join(f"the {what} from {url}" for what, url in run.fetched) + ".",
                   fetched=[url for _what, url in run.fetched])
        if mode == "hosted":
            run.hosted_binding()
            run.record("proof", "skipped", "hosted_verification",
                       "Hosted badge: there is no signature; authenticity rests on the issuer's server "
                       "(see fetch and issuer_binding).")
        elif binding_failure is not None:
            run.checks["issuer_binding"] = binding_failure
            run.record("proof", "skipped", "no_trusted_key",
                       "The signature was not checked: no key the issuer controls is available.")
        else:
            run.record("issuer_binding", "passed", None,
                       f"The signing key is listed by issuer {run.issuer.get('id')} and names it as owner.",
                       keys=[k.get("id") for k in keys], issuer=run.issuer.get("id"))
            run.proof(token, keys)
        run.validity()
        if mode == "hosted":
            run.record("status", "passed", None, "The issuer still hosts the assertion and does not mark it revoked.")
        else:
            run.signed_status()
        run.recipient(recipient)
    except _Stop as stop:
        why = stop.why
    return run.result(why)


__all__ = ["CHECKS", "Ob2Check", "Ob2Result", "is_ob2", "verify_ob2"]
