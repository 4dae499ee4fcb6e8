"""Award emails through a transactional outbox: queued with the award, sent after the commit.

::

    with factory.begin() as session:                  # the transaction that issues the award
        award, created = issue_award(session, ctx, request, actor="cli")
        if created:
            enqueue_award_mail(session, settings, award, "awarded")
    send_after_commit(factory, settings)              # after the commit; never raises

:func:`enqueue_award_mail` writes an :class:`~issuer.db.models.OutboxMessage` (subject, text,
the baked PNG attached) in the caller's transaction, so a rolled-back award sends nothing and a
committed one is never forgotten. :func:`deliver_pending` sends what is due; a failure (server
down, refused, timeout) is recorded on the message and retried later with backoff, so a
failing mail server never loses or blocks an award. Kinds: ``awarded``, ``renewed``,
``expiring`` (:func:`remind_expiring`). Each is sent once per award (the outbox ``key``).

Configuration (:meth:`MailConfig.from_env`): ``MICROCRED_SMTP_HOST`` (unset: messages are
written as ``.eml`` files to ``<instance>/outbox-mail/``), ``MICROCRED_SMTP_PORT`` (587),
``MICROCRED_SMTP_USER``, ``MICROCRED_SMTP_PASSWORD``, ``MICROCRED_SMTP_STARTTLS`` (default on),
``MICROCRED_MAIL_FROM``. Names and subjects lose CR/LF before they reach a header.
"""
from __future__ import annotations

import json
import logging
import os
import re
import secrets
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from issuer.config import Settings
from issuer.credentials import credential_url
from issuer.db.models import Award, Issuer, OutboxMessage, utcnow
from issuer.sharing import achievement_name, baked_png, download_name
from verifier.errors import CredentialError

KINDS = ("awarded", "renewed", "expiring")
MAX_ATTEMPTS = 10
BACKOFF_MINUTES = (1, 5, 15, 60, 180, 360, 720)     # then every 12 hours until MAX_ATTEMPTS
LEASE = timedelta(minutes=10)                        # a sender's claim on a message while it sends
SMTP_TIMEOUT = 30
MAIL_FOLDER = "outbox-mail"
_LOOPBACK = {"localhost", "127.0.0.1", "::1"}

log = logging.getLogger(__name__)


class MailError(CredentialError):
    code = "mail_failed"


def clean_header(text: str | None, limit: int = 200) -> str:
    """One header-safe line: CR, LF and other control characters become spaces (no header injection)."""
    return " ".join(re.sub(r"[\x00-\x1f\x7f]", " ", text or "").split())[:limit]


# ------------------------------------------------------------------ configuration and transports

def _flag(value: str | None, default: bool) -> bool:
    if value is None or not value.strip():
        return default
    if value.strip().lower() in ("1", "true", "yes", "on"):
        return True
    if value.strip().lower() in ("0", "false", "no", "off"):
        return False
    raise MailError(f"MICROCRED_SMTP_STARTTLS must be true or false, not {value!r}", code="invalid_config")


@dataclass(frozen=True)
class MailConfig:
    host: str | None
    port: int
    user: str | None
    password: str | None
    starttls: bool
    sender: str | None          # MICROCRED_MAIL_FROM; else the issuer's email, else no-reply@<base host>
    folder: Path                # where messages go when no SMTP host is configured

    @classmethod
    def from_env(cls, settings: Settings, env: dict | None = None) -> MailConfig:
        env = os.environ if env is None else env
        port = env.get("MICROCRED_SMTP_PORT") or "587"
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise MailError(f"MICROCRED_SMTP_PORT must be a port number, not {port!r}", code="invalid_config")
        return cls(host=env.get("MICROCRED_SMTP_HOST") or None, port=int(port),
                   user=env.get("MICROCRED_SMTP_USER") or None, password=env.get("MICROCRED_SMTP_PASSWORD") or None,
                   starttls=_flag(env.get("MICROCRED_SMTP_STARTTLS"), True),
                   sender=env.get("MICROCRED_MAIL_FROM") or None, folder=settings.instance / MAIL_FOLDER)


class Transport(Protocol):
    def send(self, message: EmailMessage) -> None: ...


class FolderTransport:
    """Local use: every message becomes one ``.eml`` file (mode 0600) in ``folder``."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    def send(self, message: EmailMessage) -> None:
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        name = f"{utcnow():%Y%m%dT%H%M%SZ}-{secrets.token_hex(4)}.eml"
        tmp = self.folder / f".{name}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(message.as_bytes())
        os.replace(tmp, self.folder / name)


class SmtpTransport:
    """SMTP with STARTTLS (certificate checked) unless turned off; never logs in over plain text to a remote host.

    One connection serves a whole delivery run; after any error it is dropped and the next
    message opens a fresh one. Call :meth:`close` when done.
    """

    def __init__(self, config: MailConfig):
        self.config = config
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        config = self.config
        if config.user and not config.starttls and config.host not in _LOOPBACK:
            raise MailError("refusing to send the SMTP password without STARTTLS", code="invalid_config")
        smtp = smtplib.SMTP(config.host, config.port, timeout=SMTP_TIMEOUT)
        try:
            if config.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if config.user:
                smtp.login(config.user, config.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, message: EmailMessage) -> None:
        try:
            if self._smtp is None:
                self._smtp = self._connect()
            self._smtp.send_message(message)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()


def transport_for(config: MailConfig) -> Transport:
    return SmtpTransport(config) if config.host else FolderTransport(config.folder)


# ------------------------------------------------------------------ composing

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


def compose(settings: Settings, award: Award, kind: str) -> dict:
    """Subject, text and attachment of the ``kind`` email for ``award`` (OutboxMessage fields)."""
    if kind not in KINDS:
        raise MailError(f"unknown email kind {kind!r}", code="invalid_input")
    credential = json.loads(award.credential)
    issuer = credential.get("issuer")
    issuer_name = clean_header(str(issuer.get("name") or "") if isinstance(issuer, dict) else "", 120)
    values = {"badge": clean_header(achievement_name(credential), 150), "issuer": issuer_name or "Your employer",
              "until": award.valid_until.date().isoformat() if award.valid_until else "further notice"}
    subject_template, lead_template = _TEXTS[kind]
    body = _BODY.format(greeting=clean_header(award.recipient.name, 100) or "there",
                        lead=lead_template.format(**values), url=credential_url(settings, award.id),
                        issuer=values["issuer"])
    return {"subject": clean_header(subject_template.format(**values), 250), "body": body,
            "attachment_name": download_name(values["badge"], "png"),
            "attachment": baked_png(award.credential, credential)}


def build_message(row: OutboxMessage, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = Address(display_name=clean_header(row.to_name, 100), addr_spec=row.to_address)
    message["Subject"] = clean_header(row.subject, 250)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=parseaddr(sender)[1].rpartition("@")[2] or None)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(row.body)
    if row.attachment:
        message.add_attachment(row.attachment, maintype="image", subtype="png", filename=row.attachment_name)
    return message


def sender_address(config: MailConfig, settings: Settings, issuer: Issuer | None) -> str:
    """``"Issuer name" <address>``: MICROCRED_MAIL_FROM, else the issuer's email, else no-reply@<host>."""
    name, address = parseaddr(config.sender or "")
    if not address:
        address = (issuer.email if issuer and issuer.email else f"no-reply@{urlsplit(settings.base_url).hostname}")
    name = clean_header(name or (issuer.name if issuer else ""), 100)
    return str(Address(display_name=name, addr_spec=clean_header(address, 320)))


# ------------------------------------------------------------------ the outbox

def enqueue_award_mail(session: Session, settings: Settings, award: Award,
                       kind: str = "awarded") -> OutboxMessage | None:
    """Queue the ``kind`` email for ``award`` in the caller's transaction; None if it was queued before."""
    key = f"{kind}:{award.id}"
    if session.scalars(select(OutboxMessage.id).where(OutboxMessage.key == key)).first() is not None:
        return None
    session.flush()                                  # the award row exists before the message refers to it
    row = OutboxMessage(key=key, award_id=award.id, to_address=award.recipient.email,
                        to_name=award.recipient.name, attempts=0, next_attempt_at=utcnow(),
                        **compose(settings, award, kind))
    session.add(row)
    return row


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
        return result.rowcount == 1


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
        issuer = session.scalars(select(Issuer).where(Issuer.did == settings.did)).one_or_none()
        sender = sender_address(config, settings, issuer)
    sent, errors = 0, []
    try:
        for message_id in due:
            if not _claim(factory, message_id, now, force):
                continue
            with factory() as session:
                message = build_message(session.get(OutboxMessage, message_id), sender)
            try:
                transport.send(message)
            except (OSError, smtplib.SMTPException, MailError, ValueError) as exc:
                errors.append(_record_failure(factory, message_id, now, exc))
                continue
            with factory.begin() as session:
                row = session.get(OutboxMessage, message_id)
                row.sent_at, row.attempts, row.last_error, row.attachment = now, row.attempts + 1, None, None
            sent += 1
    finally:
        getattr(transport, "close", lambda: None)()
    with factory() as session:
        waiting = session.scalar(select(func.count()).select_from(OutboxMessage)
                                 .where(OutboxMessage.sent_at.is_(None)))
    return Delivery(sent, len(errors), waiting, tuple(errors))


def send_after_commit(factory: sessionmaker[Session], settings: Settings) -> Delivery | None:
    """For commands that just committed awards: try to send now; never raises (the outbox keeps them).

    Returns None when delivery could not even start (e.g. invalid mail configuration); the
    reason is logged and the messages wait for ``microcred mail send-pending``.
    """
    try:
        return deliver_pending(factory, settings)
    except Exception:   # noqa: BLE001 - the award is committed; mail trouble must not turn it into an error
        log.warning("award emails stay queued: delivery could not start", exc_info=True)
        return None


def _record_failure(factory: sessionmaker[Session], message_id: int, now: datetime, exc: Exception) -> str:
    error = clean_header(f"{type(exc).__name__}: {exc}", 500)
    with factory.begin() as session:
        row = session.get(OutboxMessage, message_id)
        row.attempts += 1
        row.last_error = error
        row.next_attempt_at = now + _backoff(row.attempts)
    return error


def remind_expiring(factory: sessionmaker[Session], settings: Settings, days: int, *,
                    now: datetime | None = None) -> int:
    """Queue one reminder for every active award that expires within ``days`` days; the number queued."""
    from issuer.lifecycle import expiring  # lazy: issuance may import this module to queue award emails

    with factory.begin() as session:
        issuer = session.scalars(select(Issuer).where(Issuer.did == settings.did)).one_or_none()
        if issuer is None:
            raise MailError(f"no issuer is set up for {settings.base_url}; run 'microcred init'",
                            code="not_initialized")
        queued = [enqueue_award_mail(session, settings, award, "expiring")
                  for award in expiring(session, issuer, days, now=now)]
        return sum(1 for row in queued if row is not None)
