"""One-time sign-in links and the sessions they open, in the caller's transaction.

    token = create_link(session, "alex@example.com", now)         # None: a link was asked too often
    email = consume_link(session, token, now)                      # once, before it expires; else None
    cookie = open_session(session, email, now)
    email = session_email(session, cookie, now)                    # None once expired or ended
    end_session(session, cookie, now)

Tokens are 32 random bytes (``secrets.token_urlsafe``); the database keeps only their SHA-256,
so neither a database copy nor a log of it signs anyone in. A link is bound to the address it
was sent to, works for :data:`LINK_MINUTES` and only once: consuming it is one conditional
``UPDATE`` (unused and unexpired), so two concurrent clicks cannot both succeed. A session lasts
:data:`SESSION_HOURS` however active it is, and signing out ends it in the database, so a copied
cookie is useless afterwards and every app server sees the same answer. At most
:data:`MAX_LINKS_PER_HOUR` links are made per address per hour, counted in the database (so
across app servers); beyond that nothing is made or sent, and the caller answers as usual.
Times come from the caller (the runtime's clock).
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.orm import Session

from issuer.db.models_employee import EmployeeSession, EmployeeSignInLink

LINK_MINUTES = 15
SESSION_HOURS = 12
MAX_LINKS_PER_HOUR = 5
TOKEN_BYTES = 32
MAX_TOKEN_LENGTH = 100          # longer input is never hashed nor looked up
LINK_CAP_WINDOW = timedelta(hours=1)   # MAX_LINKS_PER_HOUR counts the links made in this window
SIGN_IN_KEY = "sign-in:"        # + the token's hash: the outbox key of a sign-in email (no award)


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _well_formed(token: str | None) -> bool:
    return bool(token) and len(token or "") <= MAX_TOKEN_LENGTH


def create_link(session: Session, email: str, now: datetime) -> str | None:
    """A new sign-in link token for ``email`` (normalised); None when the hourly cap is reached."""
    recent = session.scalar(select(func.count()).select_from(EmployeeSignInLink).where(
        EmployeeSignInLink.email == email, EmployeeSignInLink.created_at > now - LINK_CAP_WINDOW)) or 0
    if recent >= MAX_LINKS_PER_HOUR:
        return None
    token = new_token()
    session.add(EmployeeSignInLink(token_hash=token_hash(token), email=email, created_at=now,
                                   expires_at=now + timedelta(minutes=LINK_MINUTES)))
    return token


def link_email(session: Session, token: str, now: datetime) -> str | None:
    """The address of a link that would still work now (for the page that asks to confirm), else None."""
    if not _well_formed(token):
        return None
    return session.scalar(select(EmployeeSignInLink.email).where(
        EmployeeSignInLink.token_hash == token_hash(token), EmployeeSignInLink.used_at.is_(None),
        EmployeeSignInLink.expires_at > now))


def consume_link(session: Session, token: str, now: datetime) -> str | None:
    """Use the link once: its address, or None when it is unknown, used or expired."""
    if not _well_formed(token):
        return None
    digest = token_hash(token)
    result = session.execute(update(EmployeeSignInLink).where(
        EmployeeSignInLink.token_hash == digest, EmployeeSignInLink.used_at.is_(None),
        EmployeeSignInLink.expires_at > now).values(used_at=now))
    if cast("CursorResult[Any]", result).rowcount != 1:
        return None
    return session.scalar(select(EmployeeSignInLink.email).where(EmployeeSignInLink.token_hash == digest))


def open_session(session: Session, email: str, now: datetime) -> str:
    """A new session for ``email``: the token for the cookie."""
    token = new_token()
    session.add(EmployeeSession(token_hash=token_hash(token), email=email, created_at=now,
                                expires_at=now + timedelta(hours=SESSION_HOURS)))
    return token


def session_email(session: Session, token: str | None, now: datetime) -> str | None:
    """The address signed in with ``token``, or None (unknown, ended or expired)."""
    if token is None or not _well_formed(token):
        return None
    return session.scalar(select(EmployeeSession.email).where(
        EmployeeSession.token_hash == token_hash(token), EmployeeSession.ended_at.is_(None),
        EmployeeSession.expires_at > now))


def end_session(session: Session, token: str | None, now: datetime) -> None:
    """Sign out: the session ends for good (nothing happens for an unknown token)."""
    if token is None or not _well_formed(token):
        return
    session.execute(update(EmployeeSession).where(EmployeeSession.token_hash == token_hash(token),
                                                  EmployeeSession.ended_at.is_(None)).values(ended_at=now))
