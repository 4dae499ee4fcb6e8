"""Emails through a transactional outbox: queued with the change that causes them, sent after the commit.

::

    with runtime.transaction() as session:            # the transaction that stores the award
        session.execute(insert(OutboxMessage.__table__), [outbox_row(settings, mail, "awarded", now)])
    send_after_commit(runtime.sessions, settings)     # after the commit; never raises

:func:`outbox_row` (and :func:`enqueue_award_mail` for one award loaded in a session) writes an
:class:`~issuer.db.models.OutboxMessage` (kind, subject, text and HTML parts; the baked PNG is attached when it
is sent) in the caller's transaction, so a rolled-back award sends nothing and a committed one is never
forgotten. :func:`enqueue_status_notice` does the same for the notice of a revocation, a suspension or a
lifted suspension, and :func:`enqueue_sign_in` for the employees' one-time sign-in link.
:func:`deliver_pending` sends what is due, as multipart/alternative (text and HTML; text only for rows
queued before HTML existed); a failure (server down, refused, timeout) is recorded on the message and
retried later with backoff, so a failing mail server never loses or blocks an award. Each kind is sent
once per award and event (the outbox ``key``).
"""
from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from issuer.config import Settings
from issuer.db.models import Award, Issuer, OutboxMessage, utcnow
from issuer.errors import MailError
from issuer.identity import find_issuer
from issuer.mail.compose import AwardMail, badge_attachment, compose, compose_sign_in
from issuer.mail.kinds import MailKind
from issuer.mail.transport import MailConfig, Transport, clean_header, sender_address, transport_for
from issuer.metrics import count_mail_failure

MAX_ATTEMPTS = 10
BACKOFF_MINUTES = (1, 5, 15, 60, 180, 360, 720)     # then every 12 hours until MAX_ATTEMPTS
LEASE = timedelta(minutes=10)                        # a sender's claim on a message while it sends

log = logging.getLogger(__name__)


def _message(session: Session, message_id: int) -> OutboxMessage:
    row = session.get(OutboxMessage, message_id)
    if row is None:
        raise MailError(f"outbox message {message_id} is gone", code="message_gone")
    return row


def attachment_for(session: Session, row: OutboxMessage) -> bytes | None:
    """The badge PNG of the row's award, baked now from its stored credential (None: no attachment)."""
    if row.attachment or not row.attachment_name or row.award_id is None:
        return None
    award = session.get(Award, row.award_id)
    return badge_attachment(award.credential) if award is not None and award.credential else None


def award_mail(award: Award) -> AwardMail:
    """The :class:`AwardMail` of a stored award (its recipient loaded)."""
    return AwardMail(award_id=award.id, credential=award.credential, to_address=award.recipient.email,
                     to_name=award.recipient.name, valid_until=award.valid_until)


def outbox_row(settings: Settings, mail: AwardMail, kind: str, now: datetime, *, reason: str | None = None,
               key: str | None = None) -> dict[str, object]:
    """The OutboxMessage column values of the ``kind`` email for ``mail`` (for a bulk INSERT).

    ``key``: the idempotency key (default ``<kind>:<award id>``); ``reason``: HR's, for the notices."""
    return {"key": key or f"{kind}:{mail.award_id}", "award_id": mail.award_id, "to_address": mail.to_address,
            "to_name": mail.to_name, "attempts": 0, "next_attempt_at": now, "created_at": now,
            **compose(settings, mail, kind, reason=reason)}


def enqueue_award_mail(session: Session, settings: Settings, award: Award, kind: str = "awarded", *,
                       reason: str | None = None, key: str | None = None,
                       now: datetime | None = None) -> OutboxMessage | None:
    """Queue the ``kind`` email for a stored ``award`` in the caller's transaction; None if queued before."""
    key = key or f"{kind}:{award.id}"
    if session.scalars(select(OutboxMessage.id).where(OutboxMessage.key == key)).first() is not None:
        return None
    session.flush()                                  # the award row exists before the message refers to it
    row = OutboxMessage(**outbox_row(settings, award_mail(award), kind, now or utcnow(), reason=reason, key=key))
    session.add(row)
    return row


NOTICES = {"revoke": MailKind.REVOKED, "suspend": MailKind.SUSPENDED, "unsuspend": MailKind.REINSTATED}


def enqueue_status_notice(session: Session, settings: Settings, award: Award, action: str, *, reason: str | None,
                          occurrence: int = 1, now: datetime | None = None) -> OutboxMessage | None:
    """Queue the notice that ``award`` was revoked, suspended or unsuspended (``action``, a key of NOTICES).

    Called in the transaction of the status change, so the notice exists exactly when the change
    does. Its key names the award and ``occurrence`` (the how-manieth such change of this award: a
    suspension lifted and made again is a new notice), so a change retried on fresh data, or
    asked for twice, queues one notice. None: queued before."""
    kind = NOTICES[action]
    key = f"{kind.value}:{award.id}" + (f":{occurrence}" if occurrence > 1 else "")
    return enqueue_award_mail(session, settings, award, kind.value, reason=reason, key=key, now=now)


def sign_in_row(settings: Settings, *, to_address: str, link: str, minutes: int, now: datetime,
                issuer: Issuer | None, to_name: str | None = None, key: str | None = None) -> dict[str, object]:
    """The OutboxMessage column values of a one-time sign-in email (``link`` works for ``minutes`` minutes)."""
    return {"key": key, "award_id": None, "to_address": to_address, "to_name": to_name, "attempts": 0,
            "next_attempt_at": now, "created_at": now,
            **compose_sign_in(settings, organisation=issuer.name if issuer else None, link=link, minutes=minutes,
                              to_name=to_name, email=issuer.email if issuer else None,
                              url=issuer.url if issuer else None)}


def enqueue_sign_in(session: Session, settings: Settings, *, to_address: str, link: str, minutes: int,
                    now: datetime, to_name: str | None = None, key: str | None = None) -> OutboxMessage:
    """Queue the one-time sign-in email in the caller's transaction (send it with :func:`send_after_commit`).

    ``key``: an idempotency key (the employee space uses ``sign-in:<token hash>``,
    :data:`issuer.employees.access.SIGN_IN_KEY`); the issuer's name and contact come from this
    installation's issuer."""
    row = OutboxMessage(**sign_in_row(settings, to_address=to_address, link=link, minutes=minutes, now=now,
                                      issuer=find_issuer(session, settings), to_name=to_name, key=key))
    session.add(row)
    return row


def build_message(row: OutboxMessage, sender: str, attachment: bytes | None = None) -> EmailMessage:
    """The email of an outbox row: multipart/alternative (text, then HTML) when the row has an HTML part,
    inside multipart/mixed with the attachment; ``attachment``: the badge PNG (rows queued by older
    versions carry theirs)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = Address(display_name=clean_header(row.to_name, 100), addr_spec=row.to_address)
    message["Subject"] = clean_header(row.subject, 250)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=parseaddr(sender)[1].rpartition("@")[2] or None)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(row.body)
    if row.html:
        message.add_alternative(row.html, subtype="html")
    attachment = row.attachment or attachment
    if attachment:
        message.add_attachment(attachment, maintype="image", subtype="png", filename=row.attachment_name)
    return message



@dataclass(frozen=True)
class Delivery:
    sent: int
    failed: int              # failed this time; still queued (until MAX_ATTEMPTS)
    waiting: int             # queued, not due yet or given up
    errors: tuple[str, ...] = ()


def _backoff(attempts: int) -> timedelta:
    return timedelta(minutes=BACKOFF_MINUTES[min(attempts, len(BACKOFF_MINUTES)) - 1])


def _claim(factory: sessionmaker[Session], message_id: int, now: datetime, force: bool) -> bool:
    """Take the message for LEASE (a concurrent sender skips it); False if someone else has it."""
    condition = [OutboxMessage.id == message_id, OutboxMessage.sent_at.is_(None)]
    if not force:
        condition.append(OutboxMessage.next_attempt_at <= now)
    with factory.begin() as session:
        result = session.execute(update(OutboxMessage).where(*condition).values(next_attempt_at=now + LEASE))
        return cast("CursorResult[Any]", result).rowcount == 1


def deliver_pending(factory: sessionmaker[Session], settings: Settings, *, transport: Transport | None = None,
                    config: MailConfig | None = None, now: datetime | None = None, limit: int = 500,
                    force: bool = False) -> Delivery:
    """Send the queued messages that are due (``force``: all unsent ones, even those that gave up).

    Never raises for mail trouble: each failure is stored on its message (``attempts``,
    ``last_error``) and the message is retried after a backoff. Sent at least once: a crash
    between sending and recording it sends that one message again.
    """
    config = config or MailConfig.from_env(settings)
    transport = transport or transport_for(config)
    now = now or utcnow()
    with factory() as session:
        query = select(OutboxMessage.id).where(OutboxMessage.sent_at.is_(None))
        if not force:
            query = query.where(OutboxMessage.next_attempt_at <= now, OutboxMessage.attempts < MAX_ATTEMPTS)
        due = list(session.scalars(query.order_by(OutboxMessage.id).limit(limit)))
        issuer = find_issuer(session, settings)
        sender = sender_address(config, settings, issuer)
    sent, errors = 0, list[str]()
    try:
        for message_id in due:
            if not _claim(factory, message_id, now, force):
                continue
            with factory() as session:
                row = _message(session, message_id)
                message, kind = build_message(row, sender, attachment_for(session, row)), row.kind
            try:
                transport.send(message)
            except (OSError, smtplib.SMTPException, MailError, ValueError) as exc:
                errors.append(_record_failure(factory, message_id, now, exc))
                count_mail_failure(kind)                 # microcred_mail_failures_total (issuer.metrics)
                continue
            with factory.begin() as session:
                row = _message(session, message_id)
                row.sent_at, row.attempts, row.last_error, row.attachment = now, row.attempts + 1, None, None
            sent += 1
    finally:
        getattr(transport, "close", lambda: None)()
    with factory() as session:
        waiting = session.scalar(select(func.count()).select_from(OutboxMessage)
                                 .where(OutboxMessage.sent_at.is_(None))) or 0
    return Delivery(sent, len(errors), waiting, tuple(errors))


def send_after_commit(factory: sessionmaker[Session], settings: Settings, *,
                      transport: Transport | None = None) -> Delivery | None:
    """For commands that just committed awards: try to send now; never raises (the outbox keeps them).

    Returns None when delivery could not even start (e.g. invalid mail configuration); the
    reason is logged and the messages wait for ``microcred mail send-pending``.
    """
    try:
        return deliver_pending(factory, settings, transport=transport)
    except Exception:   # noqa: BLE001 - the award is committed; mail trouble must not turn it into an error
        log.warning("award emails stay queued: delivery could not start", exc_info=True)
        return None


def _record_failure(factory: sessionmaker[Session], message_id: int, now: datetime, exc: Exception) -> str:
    error = clean_header(f"{type(exc).__name__}: {exc}", 500)
    with factory.begin() as session:
        row = _message(session, message_id)
        row.attempts += 1
        row.last_error = error
        row.next_attempt_at = now + _backoff(row.attempts)
    return error

