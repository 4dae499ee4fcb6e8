"""API tokens for the REST API and the VC-API endpoints (``issuer.access.tokens``).

Kept apart from :mod:`issuer.db.models` but on the same declarative ``Base`` (so the same
metadata and migrations). Only a SHA-256 hash of each token is stored: the token itself is
shown once, when it is created, and cannot be recovered from the database.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from issuer.db.base import Base, new_id, utcnow

TOKEN_SCOPES = ("read", "issue", "admin")     # each scope includes the ones before it


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str | None] = mapped_column(String(255))
    scope: Mapped[str] = mapped_column(String(16))                  # "read" | "issue" | "admin"
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 hex of the token
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()

    @property
    def active(self) -> bool:
        return self.revoked_at is None
