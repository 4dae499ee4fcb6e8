"""Where each email stands, for HR: queued, sent, failed (and retried) or given up. Pure.

:func:`delivery_of` reads one :class:`~issuer.db.models.OutboxMessage`; the award page lists an
award's emails this way (:meth:`issuer.mail.service.MailService.deliveries`). The states follow
the outbox's own rules (:mod:`issuer.mail.outbox`): a message is *sent* once ``sent_at`` is set;
*queued* while it waits for its first attempt (``next_attempt_at``); *failed* after an attempt
failed while it will still be retried (``last_error``, ``attempts``, ``next_attempt_at``); and
*given up* after :data:`~issuer.mail.outbox.MAX_ATTEMPTS` failures (``microcred mail send-pending
--force`` still tries it). A failure's stored error (``"SMTPDataError: (554, ...)"``) is also said
in plain words (:func:`plain_reason`), by the kind of error the outbox recorded.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from issuer.db.models import OutboxMessage
from issuer.mail.kinds import label_of
from issuer.mail.outbox import MAX_ATTEMPTS

# the error's class name, as the outbox records it ("<class>: <message>") -> what it means
_REASONS = {
    "ConnectionRefusedError": "The mail server could not be reached (nothing answers at its address).",
    "TimeoutError": "The mail server did not answer in time.",
    "socket.gaierror": "The mail server's name could not be found.",
    "gaierror": "The mail server's name could not be found.",
    "SMTPServerDisconnected": "The mail server closed the connection.",
    "SMTPConnectError": "The mail server refused the connection.",
    "SMTPAuthenticationError": "The mail server refused the user name or password.",
    "SMTPNotSupportedError": "The mail server does not support a secure connection (STARTTLS).",
    "SMTPSenderRefused": "The mail server refused the sender's address.",
    "SMTPRecipientsRefused": "The mail server refused the recipient's address.",
    "SMTPDataError": "The mail server refused the message.",
    "SSLCertVerificationError": "The mail server's certificate could not be checked.",
    "MailError": "The mail settings do not allow sending.",
}


def plain_reason(error: str | None) -> str | None:
    """What a recorded error means, in a sentence (None without an error)."""
    if not error:
        return None
    name = error.split(":", 1)[0].strip()
    return _REASONS.get(name, "The email could not be sent.")


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
    max_attempts: int                   # tries before it gives up
    sent_at: datetime | None            # when sent
    last_error: str | None              # why the last attempt failed (failed, given up), as recorded
    reason: str | None                  # the same in plain words
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
                        attempts=row.attempts, max_attempts=MAX_ATTEMPTS, sent_at=row.sent_at,
                        last_error=row.last_error if state is not DeliveryState.SENT else None,
                        reason=plain_reason(row.last_error) if state is not DeliveryState.SENT else None,
                        next_attempt_at=row.next_attempt_at if waiting else None)
