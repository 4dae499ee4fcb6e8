"""The pages employees share: the badge page, its downloads, and the opt-in skill profile.

==========================================  ===============================================
path                                        what
==========================================  ===============================================
``/credentials/<id>`` (``Accept: text/html``)  the badge page (see :mod:`issuer.web.public`)
``/credentials/<id>/badge.png``             the baked PNG (credential JSON in an iTXt chunk)
``/credentials/<id>/badge.svg``             the baked SVG (``<openbadges:credential>``)
``/credentials/<id>/credential.json``       the credential exactly as issued, as a download
``/credentials/<id>/credential.jwt``        its VC-JWT, as a download (when one was issued)
``/credentials/<id>/qr.svg``                a QR code of the credential URL
``/credentials/<id>/image.png``             the badge art as PNG (link previews)
``/profiles/<slug>``                        an employee's public skill profile (opt-in)
``/profiles/<slug>.json``                   their shown credentials, as issued, in one JSON
==========================================  ===============================================

Pages are server-rendered Jinja templates (autoescaped) and need no script. What a page
says about the credential comes from the signed credential as stored; its verdict comes
from the verifier, run in-process against the issuer's own published documents (DID
document, status lists), so it is what any verifier would conclude right now. Recipient
names appear only where the employee allowed it (``Recipient.show_name``).
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, render_template
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.exceptions import NotFound

from issuer.awards.credentials import credential_url
from issuer.awards.status_lists import list_url
from issuer.db.models import AuditEntry, Award, Issuer, Recipient, StatusList
from issuer.identity import did_document, did_document_url
from issuer.keys.keyring import all_keys
from issuer.sharing import (
    SLUG,
    achievement_name,
    achievement_of,
    art_data_uri,
    badge_art,
    badge_png,
    baked_png,
    baked_svg,
    download_name,
    linkedin_url,
    parse_timestamp,
    qr_svg,
)
from issuer.web.public import UUID, VC_JWT, VC_LD, issuer_session, stored_response
from verifier import verify_credential
from verifier.report import CHECK_TITLES, FAILED, VerificationReport

bp = Blueprint("pages", __name__)

SHOWN_STATES = ("active", "expired")        # on a profile: revoked, suspended and superseded awards are not


def _state():
    return current_app.extensions["microcred"]


@contextmanager
def _award(award_id: str) -> Iterator[tuple[Session, Issuer, Award]]:
    if not UUID.fullmatch(award_id):
        raise NotFound("There is no such credential.")
    with issuer_session() as (session, issuer):
        award = session.scalars(select(Award).where(Award.id == award_id, Award.issuer_id == issuer.id)
                                ).one_or_none()
        if award is None:
            raise NotFound("There is no such credential.")
        yield session, issuer, award


def verify_stored(session: Session, issuer: Issuer, credential: dict, now: datetime) -> VerificationReport:
    """Verify offline against the issuer's own DID document and status lists, as they are served now."""
    settings = _state().settings
    documents: dict = {did_document_url(issuer): did_document(issuer, all_keys(session, issuer))}
    for status_list in session.scalars(select(StatusList).where(StatusList.issuer_id == issuer.id)):
        if status_list.credential:
            documents[list_url(settings, status_list)] = status_list.credential
    return verify_credential(credential, now=now, offline=True, documents=documents, flag_supplied=False)


def _status_since(session: Session, award: Award) -> datetime | None:
    """When the award got its current revoked/suspended state (from the audit log)."""
    action = {"revoked": "revoke", "suspended": "suspend"}.get(award.state)
    if action is None:
        return None
    return session.scalar(select(AuditEntry.at).where(AuditEntry.award_id == award.id, AuditEntry.action == action)
                          .order_by(AuditEntry.at.desc()).limit(1))


# ------------------------------------------------------------------ what the templates show

def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _http_url(value: Any) -> str | None:
    """Only http(s) links reach a page (no javascript:, data: or relative URLs)."""
    return value if isinstance(value, str) and re.match(r"https?://[^\s]+$", value, re.I) else None


def _objects(value: Any) -> list[dict]:
    value = value if isinstance(value, list) else [value]
    return [item for item in value if isinstance(item, dict)]


def long_date(value: datetime | None) -> str:
    return f"{value.day} {value:%B %Y}" if value else ""


@dataclass(frozen=True)
class Verdict:
    state: str       # verified | revoked | suspended | expired | not_verified | indeterminate
    title: str
    summary: str
    checks: tuple[tuple[str, str, str], ...]    # (title, status, plain-language message)


def _signer(report: VerificationReport) -> str:
    """Who proved to have signed, in full (a did:web with the host and path it stands for)."""
    return (report.summary.get("issuer") or {}).get("proven") or "the issuer"


def verdict(report: VerificationReport, valid_until: datetime | None, since: datetime | None) -> Verdict:
    """The page's verdict, drawn only from the verifier's report (the audit log only dates it)."""
    checks = tuple((CHECK_TITLES.get(c.check, c.check), c.status, c.message) for c in report.checks)
    failed = {c.check: c for c in report.checks if c.status == FAILED}
    status, validity = failed.pop("status", None), failed.pop("validity", None)
    when = f" on {long_date(since)}" if since else ""
    if report.verified:
        return Verdict("verified", "Verified", f"Genuine and current: signed by {_signer(report)}, unchanged since "
                                               "it was issued, and neither revoked nor suspended.", checks)
    if failed:
        return Verdict("not_verified", "Not verified", report.headline, checks)
    if status is not None and status.reason == "revoked":
        return Verdict("revoked", "Revoked", f"The issuer revoked this credential{when}. It no longer counts as "
                                             "proof of this achievement.", checks)
    if status is not None and status.reason == "suspended":
        return Verdict("suspended", "Suspended", f"The issuer suspended this credential{when}. It does not count "
                                                 "as proof of this achievement while it is suspended.", checks)
    if validity is not None and validity.reason == "expired":
        ended = f" on {long_date(valid_until)}" if valid_until else ""
        return Verdict("expired", "Expired", f"This credential expired{ended}. It was issued genuinely, but it is "
                                             "no longer valid.", checks)
    if status is not None or validity is not None:
        return Verdict("not_verified", "Not verified", report.headline, checks)
    return Verdict("indeterminate", "Could not be fully checked", report.headline, checks)


def _skills(achievement: dict) -> list[dict]:
    return [{"name": _text(a.get("targetName")), "url": _http_url(a.get("targetUrl")),
             "framework": _text(a.get("targetFramework")), "code": _text(a.get("targetCode"))}
            for a in _objects(achievement.get("alignment")) if _text(a.get("targetName"))]


def _results(credential: dict, achievement: dict) -> list[dict]:
    """Results named after their result description, levels after their rubric level."""
    descriptions = {d.get("id"): d for d in _objects(achievement.get("resultDescription"))}
    subject = _objects(credential.get("credentialSubject"))
    rows = []
    for result in _objects(subject[0].get("result") if subject else None):
        description = descriptions.get(result.get("resultDescription"), {})
        levels = {level.get("id"): level for level in _objects(description.get("rubricCriterionLevel"))}
        level = levels.get(result.get("achievedLevel"), {})
        value = _text(level.get("name")) or _text(result.get("value"))
        if value:
            rows.append({"name": _text(description.get("name")) or "Result", "value": value})
    return rows


def _evidence(credential: dict) -> list[dict]:
    return [{"name": _text(e.get("name")) or "Evidence", "narrative": _text(e.get("narrative")),
             "description": _text(e.get("description")), "url": _http_url(e.get("id"))}
            for e in _objects(credential.get("evidence"))]


def badge_view(settings, award: Award, credential: dict, report: VerificationReport,
               since: datetime | None) -> dict:
    achievement = achievement_of(credential)
    issuer = credential.get("issuer") if isinstance(credential.get("issuer"), dict) else {}
    criteria = achievement.get("criteria") if isinstance(achievement.get("criteria"), dict) else {}
    url, base = credential_url(settings, award.id), f"/credentials/{award.id}"
    valid_until = parse_timestamp(credential.get("validUntil"))
    recipient = award.recipient
    downloads = [("Badge image (PNG)", "badge.png", "the signed credential is baked into the image"),
                 ("Badge image (SVG)", "badge.svg", "the signed credential is baked into the image"),
                 ("Credential (JSON)", "credential.json", "the signed credential exactly as issued")]
    if award.credential_jwt:
        downloads.append(("Credential (VC-JWT)", "credential.jwt", "the same credential as a signed token"))
    return {
        "id": award.id, "url": url, "name": achievement_name(credential),
        "description": _text(achievement.get("description")), "criteria": _text(criteria.get("narrative")),
        "criteria_url": _http_url(criteria.get("id")), "image": art_data_uri(badge_art(credential)),
        "skills": _skills(achievement), "results": _results(credential, achievement),
        "evidence": _evidence(credential),
        "issuer": {"name": _text(issuer.get("name")) or "Unnamed issuer", "url": _http_url(issuer.get("url")),
                   "id": _text(issuer.get("id")), "proven": (report.summary.get("issuer") or {}).get("proven")},
        "recipient": recipient.name if recipient.show_name and recipient.name else None,
        "profile_url": settings.url(f"/profiles/{recipient.public_profile_slug}")
        if recipient.public_profile_slug else None,
        "issued": parse_timestamp(credential.get("awardedDate")) or parse_timestamp(credential.get("validFrom")),
        "valid_until": valid_until, "verdict": verdict(report, valid_until, since),
        "linkedin": linkedin_url(credential, organization=_text(issuer.get("name")) or "", cert_id=award.id),
        "verify_url": settings.url("/verify") + "?" + urlencode({"url": url}),
        "qr": settings.url(f"{base}/qr.svg"), "preview_image": settings.url(f"{base}/image.png"),
        "downloads": [(label, settings.url(f"{base}/{name}"), hint) for label, name, hint in downloads],
        "superseded_by": credential_url(settings, award.superseded_by) if award.superseded_by else None,
    }


def profile_view(settings, issuer: Issuer, recipient: Recipient, awards: list[Award], now: datetime) -> dict:
    """Badges (current first, expired marked) and their skills grouped by framework."""
    badges, frameworks = [], {}
    for award in awards:
        credential = json.loads(award.credential)
        expired = award.state == "expired" or (award.valid_until is not None and award.valid_until <= now)
        badge = {"name": achievement_name(credential), "url": credential_url(settings, award.id),
                 "image": art_data_uri(badge_art(credential)), "expired": expired,
                 "issued": parse_timestamp(credential.get("awardedDate")),
                 "valid_until": parse_timestamp(credential.get("validUntil"))}
        badges.append(badge)
        for skill in _skills(achievement_of(credential)):
            group = frameworks.setdefault(skill["framework"] or "Other skills", {})
            entry = group.setdefault((skill["name"], skill["url"]), {**skill, "badges": [], "expired": True})
            entry["badges"].append(badge["name"])
            entry["expired"] = entry["expired"] and expired
    return {
        "name": recipient.name if recipient.show_name and recipient.name else None, "issuer": issuer.name,
        "url": settings.url(f"/profiles/{recipient.public_profile_slug}"),
        "json_url": settings.url(f"/profiles/{recipient.public_profile_slug}.json"),
        "badges": sorted(badges, key=lambda b: b["expired"]),
        "frameworks": [(name, sorted(group.values(), key=lambda s: s["name"].lower()))
                       for name, group in sorted(frameworks.items(), key=lambda item: item[0].lower())],
    }


@bp.app_template_filter("long_date")
def _long_date_filter(value: datetime | None) -> str:
    return long_date(value)


@bp.app_template_global()
def static_url(name: str) -> str:
    return _state().settings.url(f"/static/{name}")


def credential_page(award_id: str) -> Response:
    """The badge page: what was awarded, the live verdict, and the ways to share it."""
    with _award(award_id) as (session, issuer, award):
        credential = json.loads(award.credential)
        report = verify_stored(session, issuer, credential, _state().clock())
        page = badge_view(_state().settings, award, credential, report, _status_since(session, award))
        html = render_template("credential.html", page=page)
    return _html(html)


def _html(html: str, status: int = 200) -> Response:
    response = Response(html, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-cache"      # the verdict must never be stale (revocations)
    response.headers["Vary"] = "Accept"
    return response


def _download(body: bytes | str, mimetype: str, filename: str, cache: str = "no-cache") -> Response:
    response = stored_response(body, mimetype, cache)
    response.headers.set("Content-Disposition", "attachment", filename=filename)
    if mimetype == "image/svg+xml":      # opened directly, the SVG still runs nothing
        response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; " \
                                                      "img-src data:; sandbox"
    return response


_BAKERS = {"png": (baked_png, "image/png"), "svg": (baked_svg, "image/svg+xml")}


def _baked_download(award_id: str, extension: str) -> Response:
    bake, mimetype = _BAKERS[extension]
    with _award(award_id) as (_session, _issuer, award):
        credential = json.loads(award.credential)
        return _download(bake(award.credential, credential), mimetype,
                         download_name(achievement_name(credential), extension))


@bp.get("/credentials/<award_id>/badge.png")
def download_png(award_id: str) -> Response:
    return _baked_download(award_id, "png")


@bp.get("/credentials/<award_id>/badge.svg")
def download_svg(award_id: str) -> Response:
    return _baked_download(award_id, "svg")


@bp.get("/credentials/<award_id>/credential.json")
def download_json(award_id: str) -> Response:
    with _award(award_id) as (_session, _issuer, award):
        return _download(award.credential, VC_LD, download_name(achievement_name(json.loads(award.credential)),
                                                                "json"))


@bp.get("/credentials/<award_id>/credential.jwt")
def download_jwt(award_id: str) -> Response:
    with _award(award_id) as (_session, _issuer, award):
        if not award.credential_jwt:
            raise NotFound("This credential was not issued as a VC-JWT.")
        return _download(award.credential_jwt, VC_JWT,
                         download_name(achievement_name(json.loads(award.credential)), "jwt"))


@bp.get("/credentials/<award_id>/qr.svg")
def qr_code(award_id: str) -> Response:
    with _award(award_id) as (_session, _issuer, award):
        return stored_response(qr_svg(credential_url(_state().settings, award.id)), "image/svg+xml",
                               "public, max-age=86400")


@bp.get("/credentials/<award_id>/image.png")
def preview_image(award_id: str) -> Response:
    with _award(award_id) as (_session, _issuer, award):
        return stored_response(badge_png(json.loads(award.credential)), "image/png", "public, max-age=3600")


# ------------------------------------------------------------------ profiles

@contextmanager
def _profile(slug: str) -> Iterator[tuple[Issuer, Recipient, list[Award]]]:
    if not SLUG.match(slug):
        raise NotFound("There is no such profile.")
    with issuer_session() as (session, issuer):
        recipient = session.scalars(select(Recipient).where(Recipient.issuer_id == issuer.id,
                                                            Recipient.public_profile_slug == slug)).one_or_none()
        if recipient is None:
            raise NotFound("There is no such profile.")
        awards = list(session.scalars(select(Award).where(Award.recipient_id == recipient.id,
                                                          Award.state.in_(SHOWN_STATES))
                                      .order_by(Award.awarded_at.desc())))
        yield issuer, recipient, awards


@bp.get("/profiles/<slug>")
def profile_page(slug: str) -> Response:
    with _profile(slug) as (issuer, recipient, awards):
        page = profile_view(_state().settings, issuer, recipient, awards, _state().clock())
        return _html(render_template("profile.html", page=page))


@bp.get("/profiles/<slug>.json")
def profile_json(slug: str) -> Response:
    """Every credential the profile shows, each exactly as issued (parsed into one JSON document)."""
    with _profile(slug) as (issuer, recipient, awards):
        settings = _state().settings
        document: dict = {"profile": settings.url(f"/profiles/{slug}"),
                          "issuer": {"id": issuer.did, "name": issuer.name}}
        if recipient.show_name and recipient.name:
            document["name"] = recipient.name
        document["credentials"] = [json.loads(award.credential) for award in awards]
        return stored_response(json.dumps(document, ensure_ascii=False), "application/json", "no-cache")

