"""The emails about one award, composed from a plain :class:`AwardMail` (no database row needed).

Kinds (:class:`~issuer.mail.kinds.MailKind`): ``awarded``, ``renewed``, ``expiring``, and the
notices ``revoked``, ``suspended`` (with HR's reason when one was given) and ``reinstated`` (the
hold is lifted); plus the one-time
``sign_in`` link of the employees' space (:func:`compose_sign_in`). Each is rendered from its
template pair (:mod:`issuer.mail.render`): a text part and an HTML part with the same links, a
link to the recipient's "My badges" page, and the issuer's contact (its email, else its web
address) taken from the issuer profile inside the signed badge. The badge PNG (the badge with
its signed data baked in) is attached to the kinds that carry it when the email is sent
(:func:`badge_attachment`), not when it is queued. Pure.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from issuer.awards.credentials import credential_url
from issuer.config import Settings
from issuer.errors import InvalidInput
from issuer.mail.kinds import AWARD_KINDS, MailKind
from issuer.mail.render import MailContext, contact_for, render
from issuer.mail.transport import clean_header
from issuer.sharing import achievement_name, baked_png, download_name

KINDS = tuple(kind.value for kind in AWARD_KINDS)
MY_BADGES = "/me/"
DEFAULT_ORGANISATION = "Your employer"


@dataclass(frozen=True)
class AwardMail:
    """What an award email is made of: the award's id, its signed credential (JSON text) and its recipient."""

    award_id: str
    credential: str
    to_address: str
    to_name: str | None
    valid_until: datetime | None


def award_kind(kind: str) -> MailKind:
    """The award email kind named ``kind``; InvalidInput for any other name."""
    if kind not in KINDS:
        raise InvalidInput(f"unknown email kind {kind!r}")
    return MailKind(kind)


def _fields(kind: MailKind, context: MailContext, attachment_name: str | None) -> dict[str, object]:
    rendered = render(kind, context)
    return {"kind": kind.value, "subject": rendered.subject, "body": rendered.text, "html": rendered.html,
            "attachment_name": attachment_name}


def compose(settings: Settings, mail: AwardMail, kind: str, *, reason: str | None = None) -> dict[str, object]:
    """Kind, subject, text, HTML and the attachment's file name of the ``kind`` email (OutboxMessage fields).

    ``reason``: why HR revoked or suspended the badge (the notices say it). The attachment
    itself is made when the email is sent (:func:`badge_attachment`): queuing stays cheap for a
    bulk run of thousands, and the outbox does not hold a copy of every badge."""
    chosen = award_kind(kind)
    credential = json.loads(mail.credential)
    issuer = credential.get("issuer")
    issuer = issuer if isinstance(issuer, dict) else {}
    badge = clean_header(achievement_name(credential), 150)
    context = MailContext(
        greeting=clean_header(mail.to_name, 100) or "there",
        organisation=clean_header(str(issuer.get("name") or ""), 120) or DEFAULT_ORGANISATION,
        my_badges_url=settings.url(MY_BADGES),
        contact=contact_for(_text(issuer.get("email")), _text(issuer.get("url"))),
        badge=badge, badge_url=credential_url(settings, mail.award_id),
        until=mail.valid_until.date().isoformat() if mail.valid_until else "",
        reason=" ".join((reason or "").split())[:1000])
    if chosen is MailKind.EXPIRING and not context.until:
        raise InvalidInput("an expiry reminder needs the badge's end date")
    return _fields(chosen, context, download_name(badge, "png") if chosen.attaches_badge else None)


def compose_sign_in(settings: Settings, *, organisation: str | None, link: str, minutes: int,
                    to_name: str | None = None, email: str | None = None,
                    url: str | None = None) -> dict[str, object]:
    """The one-time sign-in email (OutboxMessage fields): ``link`` works once, for ``minutes`` minutes.

    ``organisation``, ``email``, ``url``: the issuer's name and contact."""
    if not link.startswith(("https://", "http://")) or minutes <= 0:
        raise InvalidInput("a sign-in email needs an http(s) link and a positive number of minutes")
    context = MailContext(greeting=clean_header(to_name, 100) or "there",
                          organisation=clean_header(organisation, 120) or DEFAULT_ORGANISATION,
                          my_badges_url=settings.url(MY_BADGES), contact=contact_for(email, url),
                          link=link, minutes=minutes)
    return _fields(MailKind.SIGN_IN, context, None)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def badge_attachment(credential_text: str) -> bytes:
    """The badge PNG with ``credential_text`` (the credential exactly as stored) baked in."""
    return baked_png(credential_text, json.loads(credential_text))
