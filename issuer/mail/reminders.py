"""Expiry reminders: one "expiring" email per active award that expires soon, queued in the outbox.

:func:`queue_reminders` runs in the caller's transaction
(:meth:`issuer.mail.service.MailService.remind_expiring` owns it); each award gets its
reminder once (the outbox key ``expiring:<award id>``), however often it is asked.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from issuer.awards.lifecycle import expiring
from issuer.config import Settings
from issuer.db.models import Issuer
from issuer.mail.outbox import enqueue_award_mail


def queue_reminders(session: Session, settings: Settings, issuer: Issuer, days: int, now: datetime) -> int:
    """Queue one reminder for every active award that expires within ``days`` days; the number queued."""
    queued = [enqueue_award_mail(session, settings, award, "expiring", now=now)
              for award in expiring(session, issuer, days, now=now)]
    return sum(1 for row in queued if row is not None)
