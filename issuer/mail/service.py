"""The email use case: deliver what is queued, queue expiry reminders, say where an award's emails stand.

    mail = services.mail
    delivery = mail.deliver_pending()                  # sent, failed (still queued), waiting
    reminded = mail.remind_expiring(30)                # queued, then sent (reminded.delivery)
    for email in mail.deliveries(award_id): ...        # each email's kind, recipient and delivery state

``microcred mail send-pending`` and ``microcred mail remind-expiring`` call these and print
what they return. Messages are queued in the outbox (:mod:`issuer.mail.outbox`) and sent with
the runtime's transport (from the environment when it has none: SMTP, or ``.eml`` files in the
instance folder). A failing mail server is not an error here: each failure is recorded on its
message, which stays queued for a retry, and counted in the :class:`~issuer.mail.outbox.Delivery`.
A mail configuration that is wrong raises :class:`~issuer.errors.ConfigError`; asking for
reminders before ``microcred init`` :class:`~issuer.errors.NotReady`.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from issuer.db.models import OutboxMessage
from issuer.mail.outbox import Delivery, deliver_pending
from issuer.mail.reminders import queue_reminders
from issuer.mail.states import MailDelivery, delivery_of
from issuer.runtime import Runtime


@dataclass(frozen=True)
class Reminded:
    queued: int                      # reminders queued now (each award is reminded once)
    delivery: Delivery | None        # what was sent right after, when asked to send


class MailService:
    """Emails: deliver what is queued, queue expiry reminders, each award's emails and their delivery state."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def deliver_pending(self, *, force: bool = False) -> Delivery:
        """Send the queued emails that are due (``force``: every unsent one, those that gave up too)."""
        return deliver_pending(self.runtime.sessions, self.runtime.settings, transport=self.runtime.transport,
                               now=self.runtime.now(), force=force)

    def remind_expiring(self, days: int, *, send: bool = True) -> Reminded:
        """Queue a reminder for every active award expiring within ``days`` days, then (``send``) send
        what is due."""
        with self.runtime.transaction() as session:
            queued = queue_reminders(session, self.runtime.settings, self.runtime.load_issuer(session), days,
                                     self.runtime.now())
        return Reminded(queued, self.deliver_pending() if send else None)

    def deliveries(self, award_id: str) -> list[MailDelivery]:
        """The emails about one award, oldest first, each with its delivery state (the award page shows them)."""
        with self.runtime.reading() as session:
            rows = session.scalars(select(OutboxMessage).where(OutboxMessage.award_id == award_id)
                                   .order_by(OutboxMessage.created_at, OutboxMessage.id))
            return [delivery_of(row) for row in rows]
