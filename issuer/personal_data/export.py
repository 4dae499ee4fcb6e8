"""Everything the installation holds about a person, as one machine-readable JSON document.

:func:`export_person` turns :func:`~.holdings.find_holdings` into JSON-safe dicts (dates as ISO 8601
UTC strings); the shells serialise it (``microcred person export``, the console's download, and
the employee space's "download my data"). The document (``format``: :data:`FORMAT`)::

    {"format": "microcred-personal-data/1", "exported_at": ..., "email": ...,
     "recipients": [{"issuer": {...}, "email", "name", "employee_id", "did", "created_at",
                     "profile": {"published", "url", "show_name"}}],
     "awards":     [{"id", "url", "achievement": {...}, "state", "state_reason", "awarded_at", "valid_from",
                     "valid_until", "superseded_by", "evidence", "results",
                     "credential": <the signed credential, parsed>, "credential_jwt": <as issued>, ...}],
     "messages":   [{"id", "award_id", "kind", "to_address", "to_name", "subject", "body", "html",
                     "state", "last_error", "created_at", "sent_at"}],
     "audit":      [{"at", "actor", "action", "award_id", "details"}],
     "bulk_uploads": [{"id", "filename", "uploaded_at", "uploaded_by", "rows": [{column: cell}]}],
     "vcapi_credentials": [{"id", "credential_id", "state", "created_at", "credential"}],
     "privacy":    [{"award_id", "show_name", "on_profile", "updated_at"}],
     "sign_in_links": [{"created_at", "expires_at", "used_at"}],
     "sessions":   [{"created_at", "expires_at", "ended_at", "active"}]}

A credential is given parsed (its proof still verifies: it signs the data, not the bytes) and the
VC-JWT as issued. Staff passwords, keys and API tokens are not about the person and are not
included. Sign-in links and sessions of the employee space are given by their times only: the
database holds no token, only its hash, and a hash is of no use to the person. The text of a
sign-in email ("Sign-in link") is withheld (:data:`SIGN_IN_WITHHELD`): until it is sent it holds
a working sign-in link, and HR exports too (``microcred person export``), so an export must never
be a way to sign in as the person; its HTML part is left out for the same reason. A message's
``kind`` is its name in plain words (:attr:`issuer.mail.kinds.MailKind.label`, "Sign-in link",
"Badge awarded"...; "Email" for one this version cannot name). A sign-in email is known by its
kind or, for one queued before kinds were stored, by its outbox key (``sign-in:<hash>``).
Reading only: nothing is written, and an address nothing is held about gives empty lists.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from issuer.awards.credentials import credential_url
from issuer.config import Settings
from issuer.db.models import Award, Issuer, OutboxMessage, Recipient
from issuer.employees.access import SIGN_IN_KEY
from issuer.mail.kinds import MailKind, label_of
from issuer.personal_data.holdings import Holdings, csv_rows_naming, find_holdings
from issuer.personal_data.markers import award_erased

FORMAT = "microcred-personal-data/1"
SIGN_IN_WITHHELD = "(A one-time sign-in link to the employee space; its text is not included.)"


def iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def message_state(message: OutboxMessage) -> str:
    """queued, sent or failed (the last attempt failed; it is retried until it gives up)."""
    if message.sent_at is not None:
        return "sent"
    return "failed" if message.last_error else "queued"


def _recipient(session: Session, settings: Settings, recipient: Recipient) -> dict[str, Any]:
    issuer = session.get(Issuer, recipient.issuer_id)
    slug = recipient.public_profile_slug
    return {
        "id": recipient.id,
        "issuer": {"id": issuer.id, "did": issuer.did, "name": issuer.name} if issuer else None,
        "email": recipient.email, "name": recipient.name, "employee_id": recipient.employee_id,
        "did": recipient.did, "created_at": iso(recipient.created_at),
        "profile": {"published": slug is not None, "url": settings.url(f"/profiles/{slug}") if slug else None,
                    "show_name": bool(recipient.show_name)},
    }


def _credential(text: str) -> Any:
    try:
        return json.loads(text) if text else None
    except ValueError:
        return text


def _award(settings: Settings, award: Award) -> dict[str, Any]:
    achievement = award.achievement
    return {
        "id": award.id, "url": credential_url(settings, award.id), "recipient_id": award.recipient_id,
        "achievement": {"id": achievement.id, "slug": achievement.slug, "name": achievement.name},
        "state": award.state, "state_reason": award.state_reason, "awarded_at": iso(award.awarded_at),
        "valid_from": iso(award.valid_from), "valid_until": iso(award.valid_until),
        "superseded_by": award.superseded_by, "evidence": award.evidence or [], "results": award.results or [],
        "credential": _credential(award.credential), "credential_jwt": award.credential_jwt,
        "created_at": iso(award.created_at), "withdrawn": award_erased(award),
    }


def is_sign_in(message: OutboxMessage) -> bool:
    """Whether ``message`` is a one-time sign-in email (by its kind, or its key for rows without one)."""
    return message.kind == MailKind.SIGN_IN.value or (message.key or "").startswith(SIGN_IN_KEY)


def _message(message: OutboxMessage) -> dict[str, Any]:
    sign_in = is_sign_in(message)
    return {
        "id": message.id, "award_id": message.award_id,
        "kind": MailKind.SIGN_IN.label if sign_in else label_of(message.kind),
        "to_address": message.to_address, "to_name": message.to_name, "subject": message.subject,
        "body": SIGN_IN_WITHHELD if sign_in else message.body, "html": None if sign_in else message.html,
        "attachment": message.attachment_name, "state": message_state(message),
        "attempts": message.attempts, "last_error": message.last_error,
        "created_at": iso(message.created_at), "sent_at": iso(message.sent_at),
    }


def _bulk_rows(holdings: Holdings, source: bytes | None) -> list[dict[str, str]]:
    naming, others = csv_rows_naming(source, holdings.email)
    header = others[0] if others else []
    return [{(header[i] if i < len(header) else f"column {i + 1}"): cell for i, cell in enumerate(row)}
            for row in naming]


def holdings_document(settings: Settings, session: Session, holdings: Holdings, now: datetime) -> dict[str, Any]:
    """The export document of ``holdings`` (see the module docstring)."""
    return {
        "format": FORMAT, "exported_at": iso(now), "email": holdings.email,
        "recipients": [_recipient(session, settings, r) for r in holdings.recipients],
        "awards": [_award(settings, a) for a in holdings.awards],
        "messages": [_message(m) for m in holdings.messages],
        "audit": [{"at": iso(e.at), "actor": e.actor, "action": e.action, "award_id": e.award_id,
                   "details": e.details or {}} for e in holdings.audit],
        "bulk_uploads": [{"id": job.id, "filename": job.filename, "uploaded_at": iso(job.created_at),
                          "uploaded_by": job.created_by, "rows": _bulk_rows(holdings, job.source)}
                         for job in holdings.bulk_jobs],
        "vcapi_credentials": [{"id": v.id, "credential_id": v.credential_id, "state": v.state,
                               "created_at": iso(v.created_at), "credential": _credential(v.credential)}
                              for v in holdings.vcapi],
        "privacy": [{"award_id": p.award_id, "show_name": bool(p.show_name), "on_profile": bool(p.on_profile),
                     "updated_at": iso(p.updated_at)} for p in holdings.privacy],
        "sign_in_links": [{"created_at": iso(link.created_at), "expires_at": iso(link.expires_at),
                           "used_at": iso(link.used_at)} for link in holdings.sign_in_links],
        "sessions": [{"created_at": iso(s.created_at), "expires_at": iso(s.expires_at), "ended_at": iso(s.ended_at),
                      "active": s.ended_at is None and s.expires_at > now} for s in holdings.sessions],
    }


def export_person(session: Session, settings: Settings, email: str, now: datetime) -> dict[str, Any]:
    """Everything held about ``email`` at ``now`` (see the module docstring); empty lists when nothing is."""
    return holdings_document(settings, session, find_holdings(session, email), now)
