"""The text of an award email, composed from a plain :class:`AwardMail` (no database row needed).

Kinds: ``awarded``, ``renewed``, ``expiring``. The subject and greeting go through
:func:`~issuer.mail.transport.clean_header`; the baked PNG (the badge with its signed
credential inside) is attached when the email is sent (:func:`badge_attachment`). Pure.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from issuer.awards.credentials import credential_url
from issuer.config import Settings
from issuer.errors import InvalidInput
from issuer.mail.transport import clean_header
from issuer.sharing import achievement_name, baked_png, download_name

KINDS = ("awarded", "renewed", "expiring")


@dataclass(frozen=True)
class AwardMail:
    """What an award email is made of: the award's id, its signed credential (JSON text) and its recipient."""

    award_id: str
    credential: str
    to_address: str
    to_name: str | None
    valid_until: datetime | None


_TEXTS = {
    "awarded": ("Your new badge: {badge}",
                "{issuer} has awarded you the badge \u201c{badge}\u201d."),
    "renewed": ("Your badge has been renewed: {badge}",
                "{issuer} has renewed your badge \u201c{badge}\u201d. The new credential replaces the old one."),
    "expiring": ("Your badge expires on {until}: {badge}",
                 "Your badge \u201c{badge}\u201d from {issuer} is valid until {until}. Talk to {issuer} about "
                 "renewing it."),
}

_BODY = """Hello {greeting},

{lead}

See your badge, add it to LinkedIn, download it or share its link:
{url}

The attached image is your badge with the signed credential inside it: anyone can check it with
an Open Badges 3.0 verifier, and it shows whether the badge is still valid.

{issuer}
"""


def compose(settings: Settings, mail: AwardMail, kind: str) -> dict[str, object]:
    """Subject, text and the attachment's file name of the ``kind`` email (OutboxMessage fields).

    The attachment itself, the badge PNG with the credential baked in, is made when the email is
    sent (:func:`badge_attachment`), not when it is queued: queuing stays cheap for a bulk run of
    thousands, and the outbox does not hold a copy of every badge."""
    if kind not in KINDS:
        raise InvalidInput(f"unknown email kind {kind!r}")
    credential = json.loads(mail.credential)
    issuer = credential.get("issuer")
    issuer_name = clean_header(str(issuer.get("name") or "") if isinstance(issuer, dict) else "", 120)
    values = {"badge": clean_header(achievement_name(credential), 150), "issuer": issuer_name or "Your employer",
              "until": mail.valid_until.date().isoformat() if mail.valid_until else "further notice"}
    subject_template, lead_template = _TEXTS[kind]
    body = _BODY.format(greeting=clean_header(mail.to_name, 100) or "there",
                        lead=lead_template.format(**values), url=credential_url(settings, mail.award_id),
                        issuer=values["issuer"])
    return {"subject": clean_header(subject_template.format(**values), 250), "body": body,
            "attachment_name": download_name(values["badge"], "png")}


def badge_attachment(credential_text: str) -> bytes:
    """The badge PNG with ``credential_text`` (the credential exactly as stored) baked in."""
    return baked_png(credential_text, json.loads(credential_text))

