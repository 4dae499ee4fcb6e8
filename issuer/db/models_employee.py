"""Employees' own space: one-time sign-in links and the sessions they open (:mod:`issuer.employees`).

On the same declarative ``Base`` as :mod:`issuer.db.models` (same metadata, same migrations).
Neither table stores a token: the link in the email and the cookie hold a random token, the
database only its SHA-256 (a copy of the database signs nobody in). Both are bound to the
recipient's normalised email address, the identity awards are issued to; there is no
employee account table, so nothing else about the person is kept here. The per-award privacy
choices are columns of :class:`issuer.db.models.Award` (``show_name``, ``on_profile``).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from issuer.db.base import Base, utcnow


class EmployeeSignInLink(Base):
    """One emailed sign-in link: usable once (``used_at``), until ``expires_at``."""

    __tablename__ = "employee_sign_in_links"
    __table_args__ = (Index("ix_employee_sign_in_links_email_created_at", "email", "created_at"),)

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    email: Mapped[str] = mapped_column(String(320))            # normalised, as in recipients.email
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column()


class EmployeeSession(Base):
    """One signed-in employee: ends at ``expires_at`` or when they sign out (``ended_at``)."""

    __tablename__ = "employee_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    email: Mapped[str] = mapped_column(String(320), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    ended_at: Mapped[datetime | None] = mapped_column()
