"""Employees' own space: one-time sign-in links and the sessions they open (:mod:`issuer.employees`).

On the same declarative ``Base`` as :mod:`issuer.db.models` (same metadata, same migrations).
Neither table stores a token: the link in the email and the cookie hold a random token, the
database only its SHA-256 (a copy of the database signs nobody in). Both are bound to the
recipient's normalised email address, the identity awards are issued to; there is no
employee account table, so nothing else about the person is kept here. The per-award privacy
choices are :class:`AwardPrivacy` rows (none: the defaults).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String
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


class AwardPrivacy(Base):
    """The holder's choices for one award; no row means the defaults (name hidden, listed on the profile).

    A table of its own rather than columns of ``awards``: the signed award rows stay exactly as
    issued, and the choices are the employee's data, not HR's.
    """

    __tablename__ = "award_privacy"

    award_id: Mapped[str] = mapped_column(ForeignKey("awards.id"), primary_key=True)
    show_name: Mapped[bool] = mapped_column(Boolean, default=False)     # their name on the badge's public page
    on_profile: Mapped[bool] = mapped_column(Boolean, default=True)     # listed on their public skill profile
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
