"""What the verifier's result page shows: the report in plain language and the credential as read.

Everything a credential says is attacker-controlled. :func:`present` gathers what the page shows,
each credential string passed through :func:`shown` (invisible and bidi control characters made
visible, control characters and line breaks as spaces, length capped; templates are autoescaped
and show such strings inside ``<bdi>``). The verdict is drawn from ``report.outcome`` alone, the
issuer is shown as the proven DID or domain (the name only "as claimed"), and the badge image
(:func:`badge_image`) only as an ``<img>`` with an https URL or a
``data:image/(png|jpeg|gif|webp|svg+xml)`` URI whose bytes start like that kind of image (an SVG
inside ``<img>`` runs no script and loads nothing); an SVG is never inlined.

:func:`readable` reads the credential JSON out of what was submitted (JSON, a JWT's payload, a
baked image) without verifying it, for the description, skills and image the report does not
carry. :func:`credential_like` says whether what was read is a credential at all (a VC or VP, or
an OB 2.0 assertion): a fetched document that is not one is never shown back (the link could
point at any page the verifier can reach).
"""
from __future__ import annotations

import base64
import binascii
import json
import re
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from ..accessors import types_of
from ..baked import extract_baked, sniff_image
from ..dates import DateError, parse_datetime
from ..errors import CredentialError
from ..fetcher import strict_json_loads
from ..jws import parse_compact_jws
from ..ob2 import is_ob2
from ..report import (
    CHECK_TITLES,
    FAILED,
    INDETERMINATE,
    PASSED,
    SKIPPED,
    WARNING,
    CheckResult,
    VerificationReport,
    explain,
)
from .submission import Submission, looks_like_url

MAX_SHOWN_JSON = 200_000
MAX_IMAGE_URI = 3 * 1024 * 1024

VERDICTS = {
    "verified": ("Verified", "ok", "✓"),
    "not_verified": ("Not verified", "bad", "✗"),
    "indeterminate": ("Could not be fully checked", "unknown", "?"),
}
STATUS_WORDS: dict[str, str] = {PASSED: "Passed", FAILED: "Failed", INDETERMINATE: "Could not check",
                                 SKIPPED: "Not checked", WARNING: "Warning"}
DATE_LABELS = {"validFrom": "Valid from", "validUntil": "Valid until", "issuanceDate": "Issued",
               "expirationDate": "Expires", "awardedDate": "Awarded"}
_INVISIBLE = re.compile("[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_DATA_IMAGE = re.compile(r"data:image/(png|jpeg|gif|webp|svg\+xml);base64,([A-Za-z0-9+/]+={0,2})")
_MAGIC = {"png": (b"\x89PNG\r\n\x1a\n",), "jpeg": (b"\xff\xd8\xff",), "gif": (b"GIF87a", b"GIF89a")}


def readable(source: Any) -> dict[str, Any] | None:
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


def credential_like(document: Any) -> bool:
    """True for a credential or presentation (by ``type``) or an OB 2.0 assertion; not verified."""
    if not isinstance(document, dict):
        return False
    kinds = types_of(document)
    return "VerifiableCredential" in kinds or "VerifiablePresentation" in kinds or is_ob2(document)


def shown(value: Any, limit: int = 300) -> str | None:
    """A credential string made safe to look at: bidi / invisible characters shown as ``[U+XXXX]``,
    control characters and line breaks as spaces, at most ``limit`` characters. Non-strings: None."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = _INVISIBLE.sub(lambda m: f"[U+{ord(m.group()):04X}]", _CONTROL.sub(" ", value)).strip()
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _object(value: Any) -> dict[str, Any]:
    """``value`` if it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


def _first_subject(document: dict[str, Any]) -> dict[str, Any]:
    subject = document.get("credentialSubject")
    subject = subject[0] if isinstance(subject, list) and subject else subject
    return subject if isinstance(subject, dict) else {}


def _achievement(document: dict[str, Any] | None) -> dict[str, Any]:
    achievement = _first_subject(document or {}).get("achievement")
    return achievement if isinstance(achievement, dict) else {}


def skills(document: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The achievement's alignments: name, framework, code and an http(s) link (at most 20)."""
    alignments = _achievement(document).get("alignment")
    out = []
    for item in (alignments if isinstance(alignments, list) else [alignments])[:20]:
        if isinstance(item, dict) and shown(item.get("targetName")):
            link = item.get("targetUrl")
            safe = isinstance(link, str) and looks_like_url(link) and len(link) <= 2048 and not re.search(
                r"[\s\x00-\x1f\x7f]", link) and urlsplit(link).hostname
            out.append({"name": shown(item["targetName"]), "framework": shown(item.get("targetFramework"), 80),
                        "code": shown(item.get("targetCode"), 80), "url": link if safe else None,
                        "host": shown(urlsplit(link).hostname) if safe else None})
    return out


def badge_image(document: dict[str, Any] | None) -> str | None:
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


def _moment(value: str) -> tuple[datetime, bool] | None:
    """``value`` read by :func:`verifier.dates.parse_datetime` (leniently), and whether it named a zone."""
    for zoned in (True, False):
        try:
            return parse_datetime(value, require_zone=zoned, lenient=True), zoned
        except DateError:
            continue
    return None


def _date(value: Any) -> str | None:
    """A credential date as people read it (``31 January 2026, 09:00 UTC``); else the text as written."""
    if not isinstance(value, str):
        return None
    read = _moment(value)
    if read is None:
        return shown(value, 60)
    moment, zoned = read
    zone = ("UTC" if not moment.utcoffset() else moment.strftime("%z")) if zoned else ""
    return f"{moment.day} {moment:%B %Y, %H:%M} {zone}".strip()


def _dates(dates: Any) -> list[tuple[str, str]]:
    dates = dates if isinstance(dates, dict) else {}
    return [(label, text) for key, label in DATE_LABELS.items() if (text := _date(dates.get(key)))]


def _check_view(check: CheckResult) -> dict[str, Any]:
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


def present(report: VerificationReport, document: dict[str, Any] | None, sub: Submission) -> dict[str, Any]:
    """Everything the result page shows, each credential string already made safe to look at."""
    summary = report.summary
    issuer = _object(summary.get("issuer"))
    achievement = _object(summary.get("achievement"))
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
