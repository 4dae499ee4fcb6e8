"""Where each email stands, for HR: queued, sent, failed (and retried) or given up. Pure.

:func:`delivery_of` reads one :class:`~issuer.db.models.OutboxMessage`; the award page lists an
award's emails this way (:meth:`issuer.mail.service.MailService.deliveries`). The states follow
the outbox's own rules (:mod:`issuer.mail.outbox`): a message is *sent* once ``sent_at`` is set;
*queued* while it waits for its first attempt (``next_attempt_at``); *failed* after an attempt
failed while it will still be retried (``last_error``, ``attempts``, ``next_attempt_at``); and
*given up* after :data:`~issuer.mail.outbox.MAX_ATTEMPTS` failures (``microcred mail send-pending
--force`` still tries it).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from issuer.db.models import OutboxMessage
from issuer.mail.kinds import label_of
from issuer.mail.outbox import MAX_ATTEMPTS


class DeliveryState(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"
    GIVEN_UP = "given up"


@dataclass(frozen=True)
class MailDelivery:
    """One email as HR sees it on the award page."""

    id: int
    kind: str | None
    label: str                          # the kind in plain words ("Badge awarded")
    to_address: str
    to_name: str | None
    subject: str
    queued_at: datetime
    state: DeliveryState
    attempts: int
    sent_at: datetime | None            # when sent
    last_error: str | None              # why the last attempt failed (failed, given up)
    next_attempt_at: datetime | None    # when it is tried (again): queued, failed


def delivery_of(row: OutboxMessage) -> MailDelivery:
    """The delivery state of an outbox message (see the module docstring)."""
    if row.sent_at is not None:
        state = DeliveryState.SENT
    elif row.attempts >= MAX_ATTEMPTS:
        state = DeliveryState.GIVEN_UP
    elif row.attempts > 0:
        state = DeliveryState.FAILED
    else:
        state = DeliveryState.QUEUED
    waiting = state in (DeliveryState.QUEUED, DeliveryState.FAILED)
    return MailDelivery(id=row.id, kind=row.kind, label=label_of(row.kind), to_address=row.to_address,
                        to_name=row.to_name, subject=row.subject, queued_at=row.created_at, state=state,
                        attempts=row.attempts, sent_at=row.sent_at,
                        last_error=row.last_error if state is not DeliveryState.SENT else None,
                        next_attempt_at=row.next_attempt_at if waiting else None)
