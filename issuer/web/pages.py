"""The pages employees share: the credential URL, the badge page, its downloads, and the opt-in skill profile.

==========================================  ===============================================
path                                        what
==========================================  ===============================================
``/credentials/<id>``                       negotiated (``Accept``): see below
``/credentials/<id>.jwt``                   its VC-JWT, when issued (``application/vc+jwt``)
``/credentials/<id>/badge.png``             the baked PNG (credential JSON in an iTXt chunk)
``/credentials/<id>/badge.svg``             the baked SVG (``<openbadges:credential>``)
``/credentials/<id>/credential.json``       the credential exactly as issued, as a download
``/credentials/<id>/credential.jwt``        its VC-JWT, as a download (when one was issued)
``/credentials/<id>/qr.svg``                a QR code of the credential URL
``/credentials/<id>/certificate.pdf``       a printable one-page certificate (A4, with the QR code)
``/credentials/<id>/image.png``             the badge art as PNG (link previews, the embed snippet)
``/profiles/<slug>``                        an employee's public skill profile (opt-in)
``/profiles/<slug>.json``                   their shown credentials, as issued, in one JSON
==========================================  ===============================================

The credential URL (the credential's ``id``) answers by content negotiation: a browser
(``text/html`` preferred) gets the badge page; ``application/vc+ld+json`` (also the default, for
``*/*`` or no ``Accept``), ``application/ld+json`` and ``application/json`` get the signed
credential byte for byte as issued, labelled with the type asked for; ``application/vc+jwt``
and ``text/plain`` get the VC-JWT when one was issued. Anything else is 406. Revoked
credentials still resolve.

Revoked and suspended badges show what was awarded and the state with its date (not HR's
reason: it is documented as kept in the audit log), but no share kit and no downloads; the
download routes (``badge.*``, ``credential.*``, ``qr.svg``, ``certificate.pdf``) answer 410 (a
page, or problem JSON): they exist for handing the badge on. The credential URL (HTML, JSON,
VC-JWT, ``<id>.jwt``) keeps answering, so a verifier with the link or an old copy learns that
it was revoked; ``image.png`` (art only) stays so embeds and previews lead to that page.

The share kit (:class:`issuer.sharing_service.SharingService`, :mod:`issuer.sharing`), right
after the verdict (near the top on a phone): Add to LinkedIn (with HR's company id when set),
post on the LinkedIn feed, email (``mailto:``), copy link (``copy.js``; without script the
link stays a selectable field), and an embeddable HTML snippet shown as text.
``certificate.pdf`` is rate-limited per client address (``CERTIFICATE_RATE_LIMIT``, default
30 a minute; then 429 with ``Retry-After``).

Pages are server-rendered Jinja templates (autoescaped) and need no script. What a page
says about the credential comes from the signed credential as stored; its verdict comes
from the verifier, run in-process against the issuer's own published documents (DID
document, status lists), so it is what any verifier would conclude right now
(:meth:`issuer.public_service.PublicService.badge`). Recipient names appear only where the
employee allowed it (``Recipient.show_name``). The views read through the public service and
build on :mod:`issuer.web.public` (never the other way round). Cache headers, ETags and 304s:
:mod:`issuer.web.caching` (the times and their reasons: ``docs/caching.md``).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, render_template, request
from werkzeug.exceptions import NotAcceptable, NotFound, TooManyRequests

from issuer.awards.credentials import credential_url
from issuer.config import Settings
from issuer.personal_data.markers import Withdrawn
from issuer.public_service import Profile, PublicService, StoredCredential
from issuer.sharing import (
    NotShared,
    achievement_name,
    achievement_of,
    art_data_uri,
    badge_art,
    badge_png,
    baked_png,
    baked_svg,
    download_name,
    parse_timestamp,
    qr_svg,
)
from issuer.sharing_service import SharedBadge, SharingService, shown_name
from issuer.web.caching import Freshness, send
from issuer.web.http import error_page, prefers_html, problem
from issuer.web.public import HTML, LD, VC_JWT, VC_LD, stored_response
from issuer.web.ratelimit import over_limit
from verifier.plain import issuer_words
from verifier.report import CHECK_TITLES, FAILED, VerificationReport

bp = Blueprint("pages", __name__)

JSON_TYPES = (VC_LD, LD, "application/json")
JWT_TYPES = (VC_JWT, "text/plain")
CERTIFICATE_RATE_LIMIT = "30/minute"     # per client address: a certificate costs about half a second of CPU


def _service() -> PublicService:
    return current_app.extensions["microcred"].use.public


def _sharing() -> SharingService:
    return current_app.extensions["microcred"].use.sharing


def _settings() -> Settings:
    return current_app.extensions["microcred"].settings


# ------------------------------------------------------------------ what the templates show

def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _http_url(value: Any) -> str | None:
    """Only http(s) links reach a page (no javascript:, data: or relative URLs)."""
    return value if isinstance(value, str) and re.match(r"https?://[^\s]+\Z", value, re.I) else None


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
    """Who proved to have signed, in the verifier's plain words (``Example Corp — proven:
    example.com``; the DID stays in the verifier's technical details)."""
    return issuer_words(report.summary.get("issuer")) or "the issuer"


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


def badge_view(settings: Settings, shared: SharedBadge) -> dict:
    badge = shared.badge
    award, credential, report, since = badge.award, badge.credential, badge.report, badge.since
    achievement = achievement_of(credential)
    issuer = credential.get("issuer") if isinstance(credential.get("issuer"), dict) else {}
    criteria = achievement.get("criteria") if isinstance(achievement.get("criteria"), dict) else {}
    url, base = credential_url(settings, award.id), f"/credentials/{award.id}"
    valid_until = parse_timestamp(credential.get("validUntil"))
    recipient = award.recipient
    downloads = [("Certificate (PDF)", "certificate.pdf", "a one-page certificate to print, with the QR code"),
                 ("Badge image (PNG)", "badge.png", "the signed credential is baked into the image"),
                 ("Badge image (SVG)", "badge.svg", "the signed credential is baked into the image"),
                 ("Credential (JSON)", "credential.json", "the signed credential exactly as issued")]
    if award.credential_jwt:
        downloads.append(("Credential (VC-JWT)", "credential.jwt", "the same credential as a signed token"))
    issuer_name = _text(issuer.get("name")) or "Unnamed issuer"
    return {
        "id": award.id, "url": url, "name": achievement_name(credential),
        "description": _text(achievement.get("description")), "criteria": _text(criteria.get("narrative")),
        "criteria_url": _http_url(criteria.get("id")), "image": art_data_uri(badge_art(credential)),
        "skills": _skills(achievement), "results": _results(credential, achievement),
        "evidence": _evidence(credential),
        "issuer": {"name": issuer_name, "url": _http_url(issuer.get("url")),
                   "id": _text(issuer.get("id")), "proven": (report.summary.get("issuer") or {}).get("proven")},
        "recipient": shown_name(badge),
        "profile_url": settings.url(f"/profiles/{recipient.public_profile_slug}")
        if recipient.public_profile_slug else None,
        "issued": parse_timestamp(credential.get("awardedDate")) or parse_timestamp(credential.get("validFrom")),
        "valid_until": valid_until, "verdict": verdict(report, valid_until, since),
        "kit": shared.kit, "withheld": shared.withheld,
        "verify_url": settings.url("/verify") + "?" + urlencode({"url": url}),
        "qr": settings.url(f"{base}/qr.svg"), "preview_image": settings.url(f"{base}/image.png"),
        "downloads": [(label, settings.url(f"{base}/{file}"), hint) for label, file, hint in downloads],
        "superseded_by": credential_url(settings, award.superseded_by) if award.superseded_by else None,
    }


def profile_view(settings: Settings, shown: Profile) -> dict:
    """Badges (current first, expired marked) and their skills grouped by framework."""
    recipient = shown.recipient
    badges, frameworks = [], {}
    for award in shown.awards:
        credential = json.loads(award.credential)
        expired = award.state == "expired" or (award.valid_until is not None and award.valid_until <= shown.as_of)
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
        "name": recipient.name if recipient.show_name and recipient.name else None, "issuer": shown.issuer.name,
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
    return _settings().url(f"/static/{name}")


def negotiate(has_jwt: bool) -> str | None:
    """The representation to send for the request's ``Accept``: a media type, ``text/html``, or None (406)."""
    offers = [*JSON_TYPES, HTML, *(JWT_TYPES if has_jwt else ())]
    if not request.accept_mimetypes:
        return VC_LD
    return request.accept_mimetypes.best_match(offers)


@bp.get("/credentials/<ref>")
def credential(ref: str) -> Response:
    """The credential URL: the badge page, the credential as issued, or its VC-JWT (``Accept``).

    ``<id>.jwt`` is always the VC-JWT. Caching (:mod:`issuer.web.caching`): the signed JSON and
    JWT never change once issued (a revocation is a bit in the status list, which the credential
    names), so they are ``Freshness.CREDENTIAL`` (public, 300 s, must-revalidate) with
    ``Last-Modified`` = when they were stored. They are not immutable, though: an award whose
    personal data is erased answers 410 (never cached), so a cache drops its copy at the latest
    when it revalidates, within that max-age. The page (``text/html``) carries the live verdict and
    is revalidated on every use (``no-cache``, ETag). Every answer at ``<id>`` depends on
    ``Accept``: ``Vary: Accept``, so a cache never hands a browser the JSON or a verifier the page.
    """
    award_id, as_jwt = (ref[:-4], True) if ref.endswith(".jwt") else (ref, False)
    stored = _service().credential(award_id)
    if as_jwt and not stored.jwt:
        raise NotFound("There is no such credential.")
    mimetype = VC_JWT if as_jwt else negotiate(bool(stored.jwt))
    if mimetype == HTML:
        return credential_page(award_id)
    if mimetype is None:
        raise NotAcceptable("This credential is available as text/html, " + ", ".join(JSON_TYPES)
                            + (", " + ", ".join(JWT_TYPES) if stored.jwt else "") + ".")
    body = stored.jwt if mimetype in JWT_TYPES and stored.jwt else stored.credential
    return stored_response(body, mimetype, Freshness.CREDENTIAL, last_modified=stored.issued_at,
                           vary=None if as_jwt else "Accept")


@bp.errorhandler(Withdrawn)
def withdrawn(exc: Withdrawn) -> Response:
    """An erased award (issuer.personal_data): 410 Gone, a page that says "withdrawn" and nothing personal."""
    if prefers_html():
        return _html(render_template("withdrawn.html"), 410)
    return problem(410, "Gone", str(exc), code=exc.code)


def credential_page(award_id: str) -> Response:
    """The badge page: what was awarded, the live verdict, and the ways to share it."""
    page = badge_view(_settings(), _sharing().page(award_id))
    return _html(render_template("credential.html", page=page))


@bp.errorhandler(NotShared)
def _not_shared(exc: NotShared) -> Response:
    """A file of a revoked or suspended badge: 410, a plain page for a browser (problem JSON otherwise)."""
    if prefers_html():
        return error_page(exc.http_status, "No longer available", str(exc))
    return problem(exc.http_status, "Gone", str(exc), code=exc.code)


def _html(html: str, status: int = 200) -> Response:
    """A page: the verdict must never be stale (revocations), so revalidated on every use by its ETag
    (an error status: not cached at all)."""
    return send(html, HTML, Freshness.LIVE, vary="Accept", status=status)


def _download(body: bytes | str, mimetype: str, filename: str) -> Response:
    response = stored_response(body, mimetype, Freshness.LIVE)
    response.headers.set("Content-Disposition", "attachment", filename=filename)
    if mimetype == "image/svg+xml":      # opened directly, the SVG still runs nothing
        response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; " \
                                                      "img-src data:; sandbox"
    return response


_BAKERS = {"png": (baked_png, "image/png"), "svg": (baked_svg, "image/svg+xml")}


def _baked_download(award_id: str, extension: str) -> Response:
    bake, mimetype = _BAKERS[extension]
    stored = _sharing().files(award_id)
    credential = json.loads(stored.credential)
    return _download(bake(stored.credential, credential), mimetype, download_name(achievement_name(credential),
                                                                                  extension))


def _name(stored: StoredCredential, extension: str) -> str:
    return download_name(achievement_name(json.loads(stored.credential)), extension)


@bp.get("/credentials/<award_id>/badge.png")
def download_png(award_id: str) -> Response:
    return _baked_download(award_id, "png")


@bp.get("/credentials/<award_id>/badge.svg")
def download_svg(award_id: str) -> Response:
    return _baked_download(award_id, "svg")


@bp.get("/credentials/<award_id>/credential.json")
def download_json(award_id: str) -> Response:
    stored = _sharing().files(award_id)
    return _download(stored.credential, VC_LD, _name(stored, "json"))


@bp.get("/credentials/<award_id>/credential.jwt")
def download_jwt(award_id: str) -> Response:
    stored = _sharing().files(award_id)
    if not stored.jwt:
        raise NotFound("This credential was not issued as a VC-JWT.")
    return _download(stored.jwt, VC_JWT, _name(stored, "jwt"))


@bp.get("/credentials/<award_id>/qr.svg")
def qr_code(award_id: str) -> Response:
    stored = _sharing().files(award_id)
    return stored_response(qr_svg(credential_url(_settings(), stored.award_id)), "image/svg+xml", Freshness.LIVE)


@bp.get("/credentials/<award_id>/certificate.pdf")
def certificate(award_id: str) -> Response:
    """The printable one-page certificate (refused, 410, for a revoked or suspended badge)."""
    wait = over_limit("certificate", current_app.config.get("CERTIFICATE_RATE_LIMIT", CERTIFICATE_RATE_LIMIT),
                      request.remote_addr or "-")
    if wait is not None:
        raise TooManyRequests(f"Too many certificates were asked for from your address; try again in {wait} seconds.",
                              retry_after=wait)
    made = _sharing().certificate(award_id)
    return _download(made.pdf, "application/pdf", made.filename)


@bp.get("/credentials/<award_id>/image.png")
def preview_image(award_id: str) -> Response:
    stored = _service().credential(award_id)
    return stored_response(badge_png(json.loads(stored.credential)), "image/png", Freshness.ART)


# ------------------------------------------------------------------ profiles

@bp.get("/profiles/<slug>")
def profile_page(slug: str) -> Response:
    page = profile_view(_settings(), _service().profile(slug))
    return _html(render_template("profile.html", page=page))


@bp.get("/profiles/<slug>.json")
def profile_json(slug: str) -> Response:
    """Every credential the profile shows, each exactly as issued (parsed into one JSON document)."""
    shown = _service().profile(slug)
    document: dict = {"profile": _settings().url(f"/profiles/{slug}"),
                      "issuer": {"id": shown.issuer.did, "name": shown.issuer.name}}
    if shown.recipient.show_name and shown.recipient.name:
        document["name"] = shown.recipient.name
    document["credentials"] = [json.loads(award.credential) for award in shown.awards]
    return stored_response(json.dumps(document, ensure_ascii=False), "application/json", Freshness.LIVE)

