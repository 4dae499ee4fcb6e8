"""Expiry reminders: one "expiring" email per active award that expires soon, queued in the outbox."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from issuer.awards.lifecycle import expiring
from issuer.config import Settings
from issuer.db.models import Issuer
from issuer.errors import NotReady
from issuer.mail.outbox import enqueue_award_mail


def remind_expiring(factory: sessionmaker[Session], settings: Settings, days: int, *,
                    now: datetime | None = None) -> int:
    """Queue one reminder for every active award that expires within ``days`` days; the number queued."""
    with factory.begin() as session:
        issuer = session.scalars(select(Issuer).where(Issuer.did == settings.did)).one_or_none()
        if issuer is None:
            raise NotReady(f"no issuer is set up for {settings.base_url}; run 'microcred init'", code="not_initialized")
        queued = [enqueue_award_mail(session, settings, award, "expiring")
                  for award in expiring(session, issuer, days, now=now)]
        return sum(1 for row in queued if row is not None)

