"""How award emails leave: the mail configuration and the transports (SMTP, or a folder of .eml files).

Configuration (:meth:`MailConfig.from_env`): ``MICROCRED_SMTP_HOST`` (unset: messages are
written as ``.eml`` files to ``<instance>/outbox-mail/``), ``MICROCRED_SMTP_PORT`` (587),
``MICROCRED_SMTP_USER``, ``MICROCRED_SMTP_PASSWORD``, ``MICROCRED_SMTP_STARTTLS`` (default on),
``MICROCRED_MAIL_FROM``. Names and subjects lose CR/LF before they reach a header
(:func:`clean_header`). :class:`Transport` is the port: tests pass a recording one.
"""
from __future__ import annotations

import os
import re
import secrets
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from issuer.config import Settings
from issuer.db.models import Issuer, utcnow
from issuer.errors import ConfigError, MailError

SMTP_TIMEOUT = 30
MAIL_FOLDER = "outbox-mail"
_LOOPBACK = {"localhost", "127.0.0.1", "::1"}


def clean_header(text: str | None, limit: int = 200) -> str:
    """One header-safe line: CR, LF and other control characters become spaces (no header injection)."""
    return " ".join(re.sub(r"[\x00-\x1f\x7f]", " ", text or "").split())[:limit]


def _flag(value: str | None, default: bool) -> bool:
    if value is None or not value.strip():
        return default
    if value.strip().lower() in ("1", "true", "yes", "on"):
        return True
    if value.strip().lower() in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"MICROCRED_SMTP_STARTTLS must be true or false, not {value!r}")


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
    def from_env(cls, settings: Settings, env: Mapping[str, str] | None = None) -> MailConfig:
        env = os.environ if env is None else env
        port = env.get("MICROCRED_SMTP_PORT") or "587"
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise ConfigError(f"MICROCRED_SMTP_PORT must be a port number, not {port!r}")
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
        smtp = smtplib.SMTP(config.host or "localhost", config.port, timeout=SMTP_TIMEOUT)
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



def sender_address(config: MailConfig, settings: Settings, issuer: Issuer | None) -> str:
    """``"Issuer name" <address>``: MICROCRED_MAIL_FROM, else the issuer's email, else no-reply@<host>."""
    name, address = parseaddr(config.sender or "")
    if not address:
        address = (issuer.email if issuer and issuer.email else f"no-reply@{urlsplit(settings.base_url).hostname}")
    name = clean_header(name or (issuer.name if issuer else ""), 100)
    return str(Address(display_name=name, addr_spec=clean_header(address, 320)))

