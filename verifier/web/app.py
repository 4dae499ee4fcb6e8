"""The recruiter's verifier on the web: a form, a plain-language result page and a JSON API.

Routes, standalone (:func:`create_app`); mounted under a prefix ``P`` (:func:`verifier_blueprint`
with ``url_prefix=P``) the form and the results share ``P`` itself, so ``P?url=...`` works::

    GET  /                  the form: a link, pasted JSON or JWT, or a file; optional recipient email
    GET  /verify?url=URL    verify the credential at URL (the shareable link a badge page or CV uses)
    POST /verify            verify what the form sent
    POST /api/verify        the same as JSON or multipart; answers report.to_dict() (see openapi.json)
    GET  /openapi.json      the API description (OpenAPI 3.1)

Everything a credential says is attacker-controlled. Templates are autoescaped, such strings are
shown inside ``<bdi>`` with invisible and bidi control characters made visible, the verdict is
drawn from ``report.outcome`` alone, the issuer is shown as the proven DID or domain (the name
only "as claimed"), and the badge image is shown only as an ``<img>`` with an https URL or a
``data:image/(png|jpeg|gif|webp|svg+xml)`` URI whose bytes start like that kind of image (an SVG
inside ``<img>`` runs no script and loads nothing); an SVG is never inlined.

Every network access goes through one long-lived :class:`~verifier.fetcher.NetworkFetcher` per
app, shared by all its requests: one bounded TTL cache (keys, DID documents, status lists; plus
which status lists verified; reports are never cached), failures remembered for
``FAILURE_TTL`` seconds so a dead host is not asked again by every verification, and limits per
target host on every outbound request, whichever credential or link caused it
(``OUTBOUND_RATE_LIMIT``, ``OUTBOUND_CONCURRENCY``; in-process, so per gunicorn worker). Each
verification has its own budget (``FetchPolicy.max_fetches``, ``max_fetches_per_host``, 20 s) in
which the submitted link counts too. On top of that, submitted links are limited per target host
(``TARGET_RATE_LIMIT``) and verifications per client (``RATE_LIMIT``), both in
``RATELIMIT_STORAGE_URI`` storage.
"""
from __future__ import annotations

import base64
import binascii
import json
import logging
import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from importlib.resources import files
from typing import Any, Callable, Mapping
from urllib.parse import urlsplit

from flask import Blueprint, Flask, Response, current_app, render_template, request, url_for
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import parse as parse_rate
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter
from werkzeug.exceptions import BadRequest, HTTPException, TooManyRequests, UnsupportedMediaType
from werkzeug.middleware.proxy_fix import ProxyFix

from ..baked import extract_baked, sniff_image
from ..errors import CredentialError
from ..fetcher import (FailureCache, FetchError, Fetcher, FetchPolicy, HostLimiter, NetworkFetcher, ResponseCache,
                       strict_json_loads)
from ..jws import parse_compact_jws
from ..report import (CHECK_TITLES, FAILED, INDETERMINATE, PASSED, SKIPPED, WARNING, CheckResult,
                      VerificationReport, explain)
from ..checks.parse import CREDENTIAL_ACCEPT, MAX_INPUT_BYTES, MAX_JSON_BYTES
from ..verify import verify_credential

log = logging.getLogger(__name__)

STATE = "microcred_verifier"
PROBLEM = "application/problem+json"
MAX_URL_CHARS = 4096
MAX_RECIPIENT_CHARS = 320
MAX_SHOWN_JSON = 200_000
MAX_IMAGE_URI = 3 * 1024 * 1024
CSP = ("default-src 'self'; img-src 'self' data: https:; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
                    "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY",
                    "Cross-Origin-Opener-Policy": "same-origin"}

#: Settings read from ``create_app(config)`` / ``verifier_blueprint(config)``.
DEFAULTS: dict[str, Any] = {
    "ALLOW_HOSTS": frozenset(),     # hosts allowed plain http and private addresses: tests, development only
    "CA_FILE": None,                # an extra CA bundle (e.g. a company's internal CA)
    "FETCH_TIMEOUT": 10.0,          # seconds for one fetch, redirects included
    "CACHE_TTL": 300.0,             # seconds a key, DID document or status list is reused
    "CACHE_SIZE": 1024,             # responses kept at most
    "RATE_LIMIT": "60 per minute",  # verifications per client address
    "TARGET_RATE_LIMIT": "120 per minute",  # credential links fetched per target host
    "OUTBOUND_RATE_LIMIT": "300 per minute",  # requests of any kind to one target host (per process)
    "OUTBOUND_CONCURRENCY": 4,      # requests to one target host under way at once (per process)
    "FETCHES_PER_HOST": 8,          # requests to one target host per verification
    "FAILURE_TTL": 30.0,            # seconds a failed fetch is remembered (not retried)
    "RATELIMIT_STORAGE_URI": "memory://",  # e.g. redis://... to share limits between workers and hosts
    "TRUSTED_PROXIES": 0,           # standalone app: reverse proxies in front whose X-Forwarded-For is trusted
}


class StatusListMemo:
    """Which status list credentials (by the sha256 of their JSON) verified, for ``ttl`` seconds.

    ``verify_credential(memo=...)`` asks it before verifying a status list credential again. Only
    successes are kept (a list that failed, perhaps because its key was unreachable for a moment,
    is checked afresh next time), at most ``max_entries``, each for the same time-to-live as the
    cached documents it was verified with. The list's bits, and whether its issuer is the
    credential's, are still checked on every verification: this only skips re-checking the
    list's own signature.
    """

    def __init__(self, max_entries: int, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_entries, self.ttl, self._clock = max_entries, ttl, clock
        self._entries: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def __contains__(self, key: object) -> bool:
        with self._lock:
            expires = self._entries.get(key)  # type: ignore[call-overload]
            if expires is not None and self._clock() >= expires:
                del self._entries[key]  # type: ignore[arg-type]
                expires = None
            return expires is not None

    def __getitem__(self, key: str) -> None:
        if key not in self:
            raise KeyError(key)
        return None      # a remembered list verified: there is no error to raise

    def __setitem__(self, key: str, error: Exception | None) -> None:
        if error is not None:
            return
        with self._lock:
            self._entries[key] = self._clock() + self.ttl
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


@dataclass(frozen=True)
class VerifierState:
    """One app's verifier: its long-lived fetcher, status list memo and submitted-link limiter."""

    settings: Mapping[str, Any]
    fetcher: NetworkFetcher
    memo: StatusListMemo
    target_limit: Callable[[str], bool]   # host -> may we fetch one more link from it?

    @property
    def policy(self) -> FetchPolicy:
        return self.fetcher.policy

    @property
    def cache(self) -> ResponseCache:
        return self.fetcher.cache


@dataclass(frozen=True)
class Submission:
    """One credential to verify, as received (nothing about it is trusted)."""

    source: dict | str | bytes
    recipient: str | None = None
    url: str | None = None
    strict: bool = False


def merged_settings(config: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``config`` over :data:`DEFAULTS`; ``ALLOW_HOSTS`` as a frozenset of lower-case names."""
    settings = {**DEFAULTS, **(config or {})}
    hosts = settings["ALLOW_HOSTS"]
    settings["ALLOW_HOSTS"] = frozenset(h.strip().lower() for h in ([hosts] if isinstance(hosts, str) else hosts))
    return settings


def make_fetcher(settings: Mapping[str, Any]) -> NetworkFetcher:
    """The app's one fetcher: policy, response and failure caches, per-target-host limits."""
    timeout = float(settings["FETCH_TIMEOUT"])
    policy = FetchPolicy(allow_hosts=settings["ALLOW_HOSTS"], ca_file=settings["CA_FILE"], total_timeout=timeout,
                         connect_timeout=min(5.0, timeout), read_timeout=min(5.0, timeout),
                         max_fetches_per_host=int(settings["FETCHES_PER_HOST"]))
    outbound = parse_rate(settings["OUTBOUND_RATE_LIMIT"])
    limiter = HostLimiter.per_period(outbound.amount, outbound.get_expiry(),
                                     max_concurrent=int(settings["OUTBOUND_CONCURRENCY"]))
    return NetworkFetcher(policy, cache=ResponseCache(int(settings["CACHE_SIZE"]), float(settings["CACHE_TTL"])),
                          failures=FailureCache(ttl=float(settings["FAILURE_TTL"])), limiter=limiter)


def make_state(config: Mapping[str, Any] | None = None) -> VerifierState:
    """One app's fetcher, status list memo and submitted-link limiter, as ``config`` describes them."""
    settings = merged_settings(config)
    links = FixedWindowRateLimiter(storage_from_string(settings["RATELIMIT_STORAGE_URI"]))
    rate = parse_rate(settings["TARGET_RATE_LIMIT"])
    memo = StatusListMemo(int(settings["CACHE_SIZE"]), float(settings["CACHE_TTL"]))
    return VerifierState(settings, make_fetcher(settings), memo,
                         lambda host: links.hit(rate, "microcred-verifier-target", host))


def state() -> VerifierState:
    return current_app.extensions[STATE][request.blueprint]


# ---------------------------------------------------------------- reading the request

def _text(value: Any, what: str, limit: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadRequest(f"{what} must be text.")
    value = value.strip()
    if len(value) > limit:
        raise BadRequest(f"{what} is longer than {limit} characters.")
    return value or None


def _looks_like_url(text: str) -> bool:
    return text[:8].lower().startswith(("https://", "http://"))


def _checked_url(url: str) -> str:
    if not _looks_like_url(url) or len(url) > MAX_URL_CHARS or re.search(r"[\s\x00-\x1f\x7f]", url):
        raise BadRequest("The link must be a single web address starting with https://.")
    return url


def submission(url: Any, credential: Any, upload: bytes | None, recipient: Any, strict: Any = False) -> Submission:
    """Exactly one of a link, a credential (dict, or JSON / JWT text) or an uploaded file."""
    url = _text(url, "The link", MAX_URL_CHARS)
    if isinstance(credential, str):
        if len(credential) > MAX_JSON_BYTES:
            raise RequestTooLarge()
        credential = _text(credential, "The pasted credential", MAX_JSON_BYTES)
        if credential and _looks_like_url(credential) and "\n" not in credential:
            url, credential = (url, credential) if url else (credential, None)
    elif credential is not None and not isinstance(credential, dict):
        raise BadRequest("The credential must be a JSON object, or JSON or JWT text.")
    given = [value for value in (url, credential, upload) if value is not None]
    if len(given) != 1:
        raise BadRequest("Give one credential: a link, pasted JSON or JWT, or a file." if not given else
                         "Give only one credential at a time: a link, pasted text or a file.")
    recipient = _text(recipient, "The recipient", MAX_RECIPIENT_CHARS)
    if not isinstance(strict, bool):
        raise BadRequest("strict must be true or false.")
    if url is not None:
        return Submission(_checked_url(url), recipient, url, strict)
    return Submission(credential if credential is not None else upload, recipient, None, strict)


def from_form() -> Submission:
    """A submission from a form body (multipart or urlencoded); the upload field is ``file``."""
    form = request.form                       # 413 beyond the body / form field limits
    upload = request.files.get("file")
    data = upload.read(MAX_INPUT_BYTES + 1) if upload is not None else b""
    if len(data) > MAX_INPUT_BYTES:
        raise RequestTooLarge()
    return submission(form.get("url"), form.get("credential"), data or None, form.get("recipient"),
                      form.get("strict") in ("on", "true", "1"))


def from_json() -> Submission:
    """A submission from a JSON body: ``{"url"} | {"credential": object or text}``, ``"recipient"``."""
    request.max_content_length = MAX_JSON_BYTES
    raw = request.get_data(cache=False)       # 413 beyond 2 MiB, with or without Content-Length
    try:
        body = strict_json_loads(raw)
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRequest(f"The request body is not valid JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object.")
    unknown = sorted(set(body) - {"url", "credential", "recipient", "strict"})
    if unknown:
        raise BadRequest(f"Unknown member(s): {', '.join(unknown)[:200]}.")
    return submission(body.get("url"), body.get("credential"), None, body.get("recipient"),
                      body.get("strict", False))


class TargetBusy(TooManyRequests):
    description = "Too many links to this site were checked just now; try again in a minute."


class RequestTooLarge(HTTPException):
    code = 413
    name = "Request Entity Too Large"
    description = f"The upload is larger than {MAX_INPUT_BYTES // (1024 * 1024)} MiB."


# ---------------------------------------------------------------- verifying

def run(sub: Submission) -> tuple[VerificationReport, dict | None]:
    """Verify ``sub``; also return the credential as read (unverified), for display."""
    verifier = state()
    fetcher = verifier.fetcher.for_verification()     # one budget: the link and all that follows
    documents, raw = None, sub.source
    if sub.url is not None:
        host = urlsplit(sub.url).hostname or ""
        if not verifier.target_limit(host):
            raise TargetBusy()
        try:   # fetched here so that the page shows exactly the bytes that were verified
            response = fetcher.fetch(sub.url, accept=CREDENTIAL_ACCEPT, max_bytes=MAX_INPUT_BYTES)
        except FetchError as exc:
            if exc.code == "host_rate_limited":
                raise TargetBusy() from exc
            return unreachable(sub.url, exc), None
        documents, raw = {sub.url: response.body}, response.body
    # the link's own bytes are served from memory (the page shows exactly what was verified);
    # they were fetched here, not supplied by the user, so they are not flagged as supplied
    report = verify(sub.source, fetcher, verifier, recipient=sub.recipient, documents=documents,
                    strict=sub.strict, flag_supplied=False)
    return report, readable(raw)


def verify(source: Any, fetcher: Fetcher, verifier: VerifierState, **options: Any) -> VerificationReport:
    """``verify_credential`` with every fetch through ``fetcher`` (this verification's budget)."""
    return verify_credential(source, fetcher=fetcher, memo=verifier.memo, **options)


def unreachable(url: str, exc: FetchError) -> VerificationReport:
    """The report ``verify_credential(url)`` gives for a link that cannot be fetched."""
    return VerificationReport([CheckResult("parse", FAILED, explain("unreachable", ""), "unreachable",
                                           {"error": f"could not retrieve {url}: {exc}", "url": url,
                                            "fetch_error": exc.code})])


def readable(source: Any) -> dict | None:
    """The credential JSON inside ``source`` (JSON, a JWT's payload, a baked image), unverified."""
    try:
        if isinstance(source, (bytes, bytearray)):
            if sniff_image(source):
                baked = extract_baked(bytes(source))
                source = baked.value if baked.kind != "url" else ""
            else:
                source = bytes(source).decode("utf-8")
        if isinstance(source, str):
            text = source.strip()
            if text.startswith("{"):
                source = strict_json_loads(text.encode("utf-8"))
            else:
                _, payload, _, _ = parse_compact_jws(text)
                vc = payload.get("vc") if isinstance(payload, dict) else None
                source = vc if isinstance(vc, dict) and "@context" not in payload else payload
    except (CredentialError, ValueError, UnicodeError, RecursionError):
        return None
    return source if isinstance(source, dict) else None


# ---------------------------------------------------------------- presenting

VERDICTS = {
    "verified": ("Verified", "ok", "✓"),
    "not_verified": ("Not verified", "bad", "✗"),
    "indeterminate": ("Could not be fully checked", "unknown", "?"),
}
STATUS_WORDS = {PASSED: "Passed", FAILED: "Failed", INDETERMINATE: "Could not check", SKIPPED: "Not checked",
                WARNING: "Warning"}
DATE_LABELS = {"validFrom": "Valid from", "validUntil": "Valid until", "issuanceDate": "Issued",
               "expirationDate": "Expires", "awardedDate": "Awarded"}
_INVISIBLE = re.compile("[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_SURROGATE = re.compile("[\ud800-\udfff]")
_DATA_IMAGE = re.compile(r"data:image/(png|jpeg|gif|webp|svg\+xml);base64,([A-Za-z0-9+/]+={0,2})")
_MAGIC = {"png": (b"\x89PNG\r\n\x1a\n",), "jpeg": (b"\xff\xd8\xff",), "gif": (b"GIF87a", b"GIF89a")}


def shown(value: Any, limit: int = 300) -> str | None:
    """A credential string made safe to look at: bidi / invisible characters shown as ``[U+XXXX]``,
    control characters and line breaks as spaces, at most ``limit`` characters. Non-strings: None."""
    if not isinstance(value, str) or not value.strip():
        return None
    value = _INVISIBLE.sub(lambda m: f"[U+{ord(m.group()):04X}]", _CONTROL.sub(" ", value)).strip()
    return value if len(value) <= limit else value[:limit - 1] + "…"


def _first_subject(document: dict) -> dict:
    subject = document.get("credentialSubject")
    subject = subject[0] if isinstance(subject, list) and subject else subject
    return subject if isinstance(subject, dict) else {}


def _achievement(document: dict | None) -> dict:
    achievement = _first_subject(document or {}).get("achievement")
    return achievement if isinstance(achievement, dict) else {}


def skills(document: dict | None) -> list[dict]:
    """The achievement's alignments: name, framework, code and an http(s) link (at most 20)."""
    alignments = _achievement(document).get("alignment")
    out = []
    for item in (alignments if isinstance(alignments, list) else [alignments])[:20]:
        if isinstance(item, dict) and shown(item.get("targetName")):
            link = item.get("targetUrl")
            safe = isinstance(link, str) and _looks_like_url(link) and len(link) <= 2048 and not re.search(
                r"[\s\x00-\x1f\x7f]", link) and urlsplit(link).hostname
            out.append({"name": shown(item["targetName"]), "framework": shown(item.get("targetFramework"), 80),
                        "code": shown(item.get("targetCode"), 80), "url": link if safe else None,
                        "host": shown(urlsplit(link).hostname) if safe else None})
    return out


def badge_image(document: dict | None) -> str | None:
    """The credential's image as a safe ``<img src>``: an https URL or a checked data: URI, else None."""
    for holder in (_achievement(document), document or {}):
        value = holder.get("image")
        value = value.get("id") if isinstance(value, dict) else value
        if isinstance(value, str) and value:
            return _safe_image(value)
    return None


def _safe_image(value: str) -> str | None:
    if value[:8].lower() == "https://":
        parts = urlsplit(value)
        ok = (len(value) <= 2048 and parts.hostname and "@" not in parts.netloc
              and not re.search(r"[\s\x00-\x1f\x7f\"'<>\\]", value))
        return value if ok else None
    match = _DATA_IMAGE.fullmatch(value) if len(value) <= MAX_IMAGE_URI else None
    if match is None:
        return None
    try:
        data = base64.b64decode(match.group(2), validate=True)
    except (binascii.Error, ValueError):
        return None
    kind = match.group(1)
    if kind == "webp":
        ok = data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    elif kind == "svg+xml":
        ok = sniff_image(data) == "svg"
    else:
        ok = data.startswith(_MAGIC[kind])
    return value if ok else None


def _date(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return shown(value, 60)
    zone = "UTC" if moment.utcoffset() is not None and not moment.utcoffset() else moment.strftime("%z")
    return f"{moment.day} {moment:%B %Y, %H:%M} {zone}".strip()


def _dates(dates: Any) -> list[tuple[str, str]]:
    dates = dates if isinstance(dates, dict) else {}
    return [(label, text) for key, label in DATE_LABELS.items() if (text := _date(dates.get(key)))]


def _check_view(check: CheckResult) -> dict:
    trouble = check.status in (FAILED, INDETERMINATE)
    error = check.details.get("error") if trouble else None
    return {"id": check.check, "title": CHECK_TITLES.get(check.check, "Retrieved" if check.check == "fetch" else
                                                         check.check),
            "status": check.status, "word": STATUS_WORDS.get(check.status, check.status),
            "text": shown(explain(check.reason, check.message) if trouble and check.reason else check.message, 600),
            "reason": check.reason if check.status != PASSED else None,
            "error": shown(error, 600) if isinstance(error, str) else None,
            "items": _items(check)}


def _items(check: CheckResult) -> list[str]:
    """The lines under a check: each data-model deviation, each endorsement's own verdict."""
    lines = [f"{d.get('path')}: {d.get('message')}" for d in check.details.get("deviations") or []
             if isinstance(d, dict)]
    for endorsement in check.details.get("endorsements") or []:
        if isinstance(endorsement, dict):
            who = endorsement.get("proven") or endorsement.get("issuer") or "an unknown endorser"
            lines.append(f"Endorsement by {who}: {endorsement.get('headline')}")
    return [text for text in (shown(line, 400) for line in lines[:20]) if text]


def _keys(report: VerificationReport) -> list[tuple[str, str]]:
    check = report.check("key")
    details = check.details if check is not None and check.status == PASSED else {}
    methods = details.get("methods") or ({details["method"]: details.get("source")} if details.get("method") else {})
    return [(shown(vm, 600) or "", shown(source, 40) or "") for vm, source in methods.items() if isinstance(vm, str)]


def _json_text(value: Any) -> str:
    text = json.dumps(value, indent=2, ensure_ascii=False, default=str)
    return text if len(text) <= MAX_SHOWN_JSON else text[:MAX_SHOWN_JSON] + "\n… (cut here)"


def present(report: VerificationReport, document: dict | None, sub: Submission) -> dict:
    """Everything the result page shows, each credential string already made safe to look at."""
    summary = report.summary
    issuer = summary.get("issuer") if isinstance(summary.get("issuer"), dict) else {}
    achievement = summary.get("achievement") if isinstance(summary.get("achievement"), dict) else {}
    cause = next((c for c in report.checks if c.status == FAILED), None) or next(
        (c for c in report.checks if c.status == INDETERMINATE), None)
    recipient = report.check("recipient")
    proof = report.check("proof")
    # an issuer is proven only by a signature that matched, made with a key the issuer controls
    proven = issuer.get("proven") if report.verified or (proof is not None and proof.status == PASSED) else None
    return {
        "outcome": report.outcome, "verdict": VERDICTS[report.outcome],
        "cause": _check_view(cause) if cause is not None and report.outcome != "verified" else None,
        "proven": shown(proven, 600), "issuer_id": shown(issuer.get("id"), 600),
        "claimed_name": shown(issuer.get("name_as_claimed")),
        "achievement": shown(achievement.get("name")), "achievement_type": shown(achievement.get("type"), 80),
        "credential_name": shown(summary.get("name")),
        "description": shown(_achievement(document).get("description"), 1200),
        "skills": skills(document), "image": badge_image(document),
        "dates": _dates(summary.get("dates")),
        "recipient": _check_view(recipient) if recipient is not None else None,
        "hashed_email": "emailAddress" in ((summary.get("recipient") or {}).get("identifiers") or []),
        "checks": [_check_view(c) for c in report.checks],
        "signing_keys": _keys(report), "url": sub.url,
        "credential_json": _json_text(document) if document is not None else None,
        "report_json": _json_text(report.to_dict()),
    }


# ---------------------------------------------------------------- responses

def links(share_url: str | None = None) -> dict[str, str | None]:
    """The URLs a page links to, for this app's blueprint (standalone or mounted)."""
    name = request.blueprint or next(iter(current_app.extensions.get(STATE) or {}), "verifier")
    action = f"{name}.verify" if f"{name}.verify" in current_app.view_functions else f"{name}.index"
    return {"css": url_for(f"{name}.static", filename="verifier.css"), "home": url_for(f"{name}.index"),
            "action": url_for(action), "api": url_for(f"{name}.openapi"),
            "share": url_for(action, url=share_url) if share_url else None}


def page(template: str, status: int = 200, **context: Any) -> Response:
    """A rendered page; lone surrogates (from JSON escapes) become U+FFFD so it always encodes."""
    settings = current_app.extensions.get(STATE, {}).get(request.blueprint or "")
    context.setdefault("allow_hosts", sorted(settings.settings["ALLOW_HOSTS"]) if settings else [])
    context.setdefault("links", links(context["v"]["url"] if "v" in context else None))
    html = _SURROGATE.sub("\ufffd", render_template(template, **context))
    return Response(html, status=status, mimetype="text/html")


def problem(status: int, title: str, detail: str, headers: Mapping[str, str] | None = None) -> Response:
    """An RFC 9457 ``application/problem+json`` response."""
    body = json.dumps({"type": "about:blank", "title": title, "status": status, "detail": detail})
    return Response(body, status=status, mimetype=PROBLEM, headers=dict(headers or {}))


def report_json(report: VerificationReport) -> Response:
    return Response(json.dumps(report.to_dict(), default=str), mimetype="application/json")


def security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.endpoint and request.endpoint.endswith(".static"):
        response.headers.setdefault("Cache-Control", "public, max-age=3600")
    else:
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def error_response(exc: HTTPException, api: bool) -> Response:
    headers = {k: v for k, v in exc.get_headers() if k.lower() in ("allow", "retry-after")}
    status = exc.code or 500
    detail = exc.description or exc.name
    if status == 413:
        detail = (f"The request is too large: files up to {MAX_INPUT_BYTES // (1024 * 1024)} MiB, "
                  f"JSON and pasted text up to {MAX_JSON_BYTES // (1024 * 1024)} MiB.")
    if status == 429 and not isinstance(exc, TargetBusy):
        detail = "Too many verifications from your address; try again in a minute."
    if api:
        return problem(status, exc.name, detail, headers)
    response = page("verifier_error.html", status, title=exc.name, detail=detail)
    response.headers.update(headers)
    return response


def internal_error(api: bool) -> Response:
    log.exception("verifier web app: unhandled error")
    detail = "The verifier could not answer this request; the error was logged."
    if api:
        return problem(500, "Internal Server Error", detail)
    return page("verifier_error.html", 500, title="Something went wrong", detail=detail)


# ---------------------------------------------------------------- the blueprint

def verifier_blueprint(config: Mapping[str, Any] | None = None, *, url_prefix: str | None = None,
                       name: str = "verifier") -> Blueprint:
    """The verifier's pages and API as a blueprint, to register on one app.

    ``config``: settings over :data:`DEFAULTS`. With ``url_prefix="/verify"`` the form and results
    are at ``/verify`` (``/verify?url=...``), the API at ``/verify/api/verify``. Registering it gives
    the app one response cache and a per-client rate limiter (flask-limiter, ``RATE_LIMIT``).
    """
    settings = merged_settings(config)
    bp = Blueprint(name, __name__, url_prefix=url_prefix or None, template_folder="templates",
                   static_folder="static", static_url_path="/static")
    limiter = Limiter(get_remote_address, storage_uri=settings["RATELIMIT_STORAGE_URI"], key_prefix=name,
                      headers_enabled=True, default_limits=[])
    limited = limiter.shared_limit(lambda: settings["RATE_LIMIT"], scope=f"{name}-verify",
                                   exempt_when=lambda: request.method == "GET" and "url" not in request.args)

    @bp.record_once
    def _setup(setup_state) -> None:
        setup_state.app.extensions.setdefault(STATE, {})[name] = make_state(config)
        limiter.init_app(setup_state.app)

    @bp.before_request
    def _limits() -> None:
        request.max_content_length = MAX_INPUT_BYTES     # also when mounted in an app with a lower limit
        request.max_form_memory_size = MAX_JSON_BYTES     # pasted text
        request.max_form_parts = 16

    @limited
    def verify_page() -> Response:
        if request.method == "GET" and "url" not in request.args:
            return page("verifier_form.html")
        try:
            sub = from_form() if request.method == "POST" else submission(request.args.get("url"), None, None, None)
        except BadRequest as exc:
            return page("verifier_form.html", 400, error=exc.description, url=_text_or_empty("url"))
        report, document = run(sub)
        return page("verifier_result.html", v=present(report, document, sub))

    @limited
    def api_verify() -> Response:
        mimetype = request.mimetype
        if mimetype == "application/json" or mimetype.endswith("+json"):
            sub = from_json()
        elif mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
            sub = from_form()
        else:
            raise UnsupportedMediaType("Send application/json, multipart/form-data or "
                                       "application/x-www-form-urlencoded.")
        report, _ = run(sub)
        return report_json(report)

    def openapi() -> Response:
        document = json.loads(files(__package__).joinpath("openapi.json").read_text(encoding="utf-8"))
        document["servers"] = [{"url": url_for(f"{name}.index")}]
        return Response(json.dumps(document, indent=2), mimetype="application/json")

    root = "" if url_prefix else "/"
    bp.add_url_rule(root, "index", verify_page, methods=["GET", "POST"])
    if not url_prefix:
        bp.add_url_rule("/verify", "verify", verify_page, methods=["GET", "POST"])
    bp.add_url_rule("/api/verify", "api_verify", api_verify, methods=["POST"])
    bp.add_url_rule("/openapi.json", "openapi", openapi)
    bp.after_request(security_headers)
    _install_errors(bp, api_endpoints={f"{name}.api_verify", f"{name}.openapi"})
    return bp


def _text_or_empty(field: str) -> str:
    value = request.values.get(field, "") if request.method == "GET" else request.form.get(field, "")
    return value[:MAX_URL_CHARS]


def _install_errors(bp: Blueprint, api_endpoints: set[str]) -> None:
    @bp.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        return error_response(exc, request.endpoint in api_endpoints)

    @bp.errorhandler(Exception)
    def unexpected(exc: Exception) -> Response:
        return internal_error(request.endpoint in api_endpoints)


# ---------------------------------------------------------------- the standalone app

def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """The verifier as an app of its own: the form at ``/``, results at ``/verify``, the API at
    ``/api/verify``. Needs no issuer, database or secret key. ``config``: see :data:`DEFAULTS`
    (``ALLOW_HOSTS`` and ``CA_FILE`` for tests and development; ``TESTING`` is passed on)."""
    app = Flask(__name__, static_folder=None)
    app.config.update(DEBUG=False, MAX_CONTENT_LENGTH=MAX_INPUT_BYTES, MAX_FORM_MEMORY_SIZE=MAX_JSON_BYTES)
    app.config.update({k: v for k, v in (config or {}).items() if k in ("TESTING", "RATELIMIT_ENABLED")})
    app.debug = False
    proxies = int(merged_settings(config)["TRUSTED_PROXIES"])
    if proxies:     # the client address (for rate limits) is then the one the proxies saw
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]
    app.register_blueprint(verifier_blueprint(config))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        return error_response(exc, request.path.startswith("/api/") or request.path.endswith(".json"))

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Response:
        return internal_error(request.path.startswith("/api/"))

    app.after_request(security_headers)
    return app
