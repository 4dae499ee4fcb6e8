"""What a badge says, for the result page: what a badge page shows, read from the credential as given.

Role: :func:`badge_facts` gathers the achievement (name, kind, description, criteria, skills),
the assessed results and their levels, the evidence, the validity dates, the links to human pages
and, when the status check found the badge revoked or suspended, the reason and date the issuer's
list gives. :mod:`verifier.web.display` puts it next to the verdict.

Contract: everything here is attacker-controlled text, unverified (the page says so when the badge
did not verify). Strings pass through :func:`shown` (invisible and bidi control characters made
visible, control characters as spaces, length capped) or :func:`shown_text` (the same, keeping
line breaks, for descriptions and criteria shown with ``white-space: pre-line``); templates are
autoescaped. Links pass through :func:`safe_link`: only absolute http(s) URLs with a host, no user
name or password, no spaces or control characters, at most 2,048 characters, so ``javascript:``,
``data:`` and relative links never reach an ``href``. An image is only an https URL or a checked
``data:image/...`` URI (:func:`badge_image`). Markdown in descriptions and criteria is shown as the
text it is (no Markdown renderer is part of the verifier).
"""
from __future__ import annotations

import base64
import binascii
import re
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from ..baked import sniff_image
from ..dates import DateError, parse_datetime
from ..plain import plain_date
from ..report import FAILED, VerificationReport

MAX_IMAGE_URI = 3 * 1024 * 1024
MAX_ITEMS = 20
_INVISIBLE = re.compile("[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_CONTROL_BUT_NEWLINE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]+")
_DATA_IMAGE = re.compile(r"data:image/(png|jpeg|gif|webp|svg\+xml);base64,([A-Za-z0-9+/]+={0,2})")
_MAGIC = {"png": (b"\x89PNG\r\n\x1a\n",), "jpeg": (b"\xff\xd8\xff",), "gif": (b"GIF87a", b"GIF89a")}
_UNSAFE_IN_URL = re.compile(r"[\s\x00-\x1f\x7f\"'<>\\]")
DATE_LABELS = {"validFrom": "Valid from", "validUntil": "Valid until", "issuanceDate": "Issued",
               "expirationDate": "Expires", "awardedDate": "Awarded"}


# ---------------------------------------------------------------- safe text and links

def shown(value: Any, limit: int = 300) -> str | None:
    """A credential string made safe to look at: bidi / invisible characters shown as ``[U+XXXX]``,
    control characters and line breaks as spaces, at most ``limit`` characters. Non-strings: None."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = _INVISIBLE.sub(lambda m: f"[U+{ord(m.group()):04X}]", _CONTROL.sub(" ", value)).strip()
    return text if len(text) <= limit else text[:limit - 1] + "…"


def shown_text(value: Any, limit: int = 2000) -> str | None:
    """:func:`shown` for a longer text that keeps its line breaks (at most two in a row)."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.replace("\r\n", "\n").replace("\r", "\n")
    text = _INVISIBLE.sub(lambda m: f"[U+{ord(m.group()):04X}]", _CONTROL_BUT_NEWLINE.sub(" ", text))
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    return text if len(text) <= limit else text[:limit - 1] + "…"


def safe_link(value: Any) -> str | None:
    """``value`` if it is an absolute http(s) link a page may show (see the module docstring)."""
    if not isinstance(value, str) or len(value) > 2048 or _UNSAFE_IN_URL.search(value):
        return None
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
        return None
    return value


def link_host(url: str | None) -> str | None:
    """The host a link goes to, to say where it leads (``definition on www.onetonline.org``)."""
    return shown(urlsplit(url).hostname, 120) if url else None


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _objects(value: Any, limit: int = MAX_ITEMS) -> list[dict[str, Any]]:
    items = value if isinstance(value, list) else [value]
    return [item for item in items[:limit] if isinstance(item, dict)]


def first_subject(document: dict[str, Any] | None) -> dict[str, Any]:
    subject = (document or {}).get("credentialSubject")
    subject = subject[0] if isinstance(subject, list) and subject else subject
    return _object(subject)


def achievement_of(document: dict[str, Any] | None) -> dict[str, Any]:
    return _object(first_subject(document).get("achievement"))


# ---------------------------------------------------------------- parts of a badge

def skills(document: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The achievement's alignments: name, framework, code and an http(s) link (at most 20)."""
    out = []
    for item in _objects(achievement_of(document).get("alignment")):
        if shown(item.get("targetName")):
            link = safe_link(item.get("targetUrl"))
            out.append({"name": shown(item["targetName"]), "framework": shown(item.get("targetFramework"), 80),
                        "code": shown(item.get("targetCode"), 80), "url": link, "host": link_host(link)})
    return out


def results(document: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Assessed results, named after their result description, levels after their rubric level."""
    descriptions = {d.get("id"): d for d in _objects(achievement_of(document).get("resultDescription"))
                    if isinstance(d.get("id"), str)}
    rows = []
    for result in _objects(first_subject(document).get("result")):
        description = _object(descriptions.get(result.get("resultDescription")))
        levels = {level.get("id"): level for level in _objects(description.get("rubricCriterionLevel"))
                  if isinstance(level.get("id"), str)}
        level = _object(levels.get(result.get("achievedLevel")))
        value = shown(level.get("name"), 120) or shown(result.get("value"), 120)
        status = shown(result.get("status"), 40)
        if value or status:
            rows.append({"name": shown(description.get("name"), 120) or "Result", "value": value,
                         "level_description": shown_text(level.get("description"), 400),
                         "status": _words(status) if status else None})
    return rows


def evidence(document: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The evidence the badge lists: name, description, narrative and a link to it (at most 20)."""
    out = []
    for item in _objects((document or {}).get("evidence")):
        entry = {"name": shown(item.get("name"), 200), "description": shown_text(item.get("description"), 1000),
                 "narrative": shown_text(item.get("narrative"), 1000), "url": safe_link(item.get("id"))}
        if any(entry.values()):
            entry["host"] = link_host(entry["url"])
            out.append(entry)
    return out


def _words(kind: str) -> str:
    """``LearningProgram`` as ``Learning program``; anything else as written."""
    if not re.fullmatch(r"[A-Z][A-Za-z]+", kind):
        return kind
    parts = re.findall(r"[A-Z][a-z]*", kind)
    return " ".join([parts[0], *(p.lower() for p in parts[1:])]) if parts else kind


def date_text(value: Any) -> str | None:
    """A credential date as people read it (``31 January 2026, 09:00 UTC``); else the text as written."""
    if not isinstance(value, str):
        return None
    try:
        return plain_date(parse_datetime(value, require_zone=False, lenient=True))
    except DateError:
        return shown(value, 60)


def dates(document: dict[str, Any] | None, summary_dates: Any) -> list[tuple[str, str]]:
    """(label, date) for each validity date the badge gives."""
    given = summary_dates if isinstance(summary_dates, dict) else {}
    source = document if isinstance(document, dict) else {}
    return [(label, text) for key, label in DATE_LABELS.items()
            if (text := date_text(given.get(key) if key in given else source.get(key)))]


def badge_image(document: dict[str, Any] | None) -> str | None:
    """The credential's image as a safe ``<img src>``: an https URL or a checked data: URI, else None."""
    for holder in (achievement_of(document), document or {}):
        value = holder.get("image")
        value = value.get("id") if isinstance(value, dict) else value
        if isinstance(value, str) and value:
            return _safe_image(value)
    return None


def _safe_image(value: str) -> str | None:
    if value[:8].lower() == "https://":
        return value if safe_link(value) else None
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


def _moment(value: Any) -> datetime | None:
    try:
        return parse_datetime(value, require_zone=False, lenient=True) if isinstance(value, str) else None
    except DateError:
        return None


def withdrawn(report: VerificationReport, document: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """When the issuer revoked or suspended the badge: which, the reason the status gives, and the
    date of the issuer's list (it was withdrawn on or before it; not shown when the list is older than
    the badge, which would say nothing true)."""
    status = report.check("status")
    if status is None or status.status != FAILED or status.reason not in ("revoked", "suspended"):
        return None
    details = status.details
    reason = details.get("revocation_reason") or details.get("revocationReason") or details.get("status_message")
    listed, start = _moment(details.get("list_published")), None
    for name in ("validFrom", "issuanceDate", "awardedDate"):
        start = start or _moment((document or {}).get(name))
    if listed is not None and (start is None or listed.tzinfo is None or start.tzinfo is None or listed < start):
        listed = None
    return {"word": "Revoked" if status.reason == "revoked" else "Suspended",
            "reason": shown_text(reason, 500), "listed": plain_date(listed) if listed else None}


# ---------------------------------------------------------------- everything

def badge_facts(document: dict[str, Any] | None, report: VerificationReport) -> dict[str, Any]:
    """What the badge says, safe to show (see the module docstring)."""
    summary = report.summary
    achievement = achievement_of(document)
    summary_achievement = _object(summary.get("achievement"))
    criteria = _object(achievement.get("criteria"))
    issuer = _object((document or {}).get("issuer"))
    credential_id = (document or {}).get("id")
    kind = shown(achievement.get("achievementType") or summary_achievement.get("type"), 80)
    name = shown(achievement.get("name") or summary_achievement.get("name"))
    return {
        "name": name, "kind": _words(kind) if kind else None,
        "credential_name": shown(summary.get("name")),
        "description": shown_text(achievement.get("description"), 2000),
        "criteria": shown_text(criteria.get("narrative"), 2000),
        "criteria_url": safe_link(criteria.get("id")),
        "achievement_url": safe_link(achievement.get("id")),
        "badge_url": credential_id if isinstance(credential_id, str) and credential_id[:8].lower() == "https://"
        and safe_link(credential_id) else None,
        "issuer_url": safe_link(issuer.get("url")),   # its home page (its id may be a JSON profile)
        "skills": skills(document), "results": results(document), "evidence": evidence(document),
        "dates": (shown_dates := dates(document, summary.get("dates"))),
        "has_end": any(label in ("Valid until", "Expires") for label, _ in shown_dates),
        "image": badge_image(document),
        "withdrawn": withdrawn(report, document),
    }
