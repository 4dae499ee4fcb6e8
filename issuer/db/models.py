"""The issuer's data: issuers, keys, achievements, recipients, awards, status lists, audit log, mail outbox.

SQLAlchemy 2 declarative models, the same on SQLite and PostgreSQL. Identifiers that
appear in public URLs (awards, achievements) are random 128-bit UUIDs. The signed
credential of an award is stored exactly as issued (JSON text), never rebuilt.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from issuer.db.base import Base, new_id, utcnow

AWARD_STATES = ("active", "suspended", "revoked", "expired", "superseded")
STATUS_PURPOSES = ("revocation", "suspension")
KEY_STATES = ("current", "retired", "withdrawn")   # see issuer.keys.keyring; no CHECK constraint, so no migration


class Issuer(Base):
    __tablename__ = "issuers"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    did: Mapped[str] = mapped_column(String(255), unique=True)
    base_url: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255))
    url: Mapped[str | None] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    image: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # the company page's numeric LinkedIn id (HR sets it): "Add to LinkedIn" then shows the logo
    linkedin_organization_id: Mapped[str | None] = mapped_column(String(20))

    keys: Mapped[list[IssuerKey]] = relationship(back_populates="issuer", order_by="IssuerKey.created_at")


class IssuerKey(Base):
    __tablename__ = "issuer_keys"
    __table_args__ = (UniqueConstraint("issuer_id", "key_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    issuer_id: Mapped[str] = mapped_column(ForeignKey("issuers.id"))
    key_id: Mapped[str] = mapped_column(String(64))            # fragment of the verification method, "key-1"
    key_type: Mapped[str] = mapped_column(String(16))          # "Ed25519" | "P-256" | "RSA"
    key_file: Mapped[str] = mapped_column(String(255))         # file name in the keys folder (private part)
    public_multibase: Mapped[str] = mapped_column(String(1024))
    public_jwk: Mapped[dict] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16), default="current")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column()

    issuer: Mapped[Issuer] = relationship(back_populates="keys")


class Achievement(Base):
    __tablename__ = "achievements"
    __table_args__ = (UniqueConstraint("issuer_id", "slug"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    issuer_id: Mapped[str] = mapped_column(ForeignKey("issuers.id"))
    slug: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text)
    criteria_narrative: Mapped[str | None] = mapped_column(Text)
    criteria_url: Mapped[str | None] = mapped_column(String(1024))
    image: Mapped[str | None] = mapped_column(Text)            # data: URI (PNG/SVG) or https URL; None = generated
    achievement_type: Mapped[str | None] = mapped_column(String(64))
    alignments: Mapped[list] = mapped_column(JSON, default=list)           # OB Alignment objects
    tags: Mapped[list] = mapped_column(JSON, default=list)
    result_descriptions: Mapped[list] = mapped_column(JSON, default=list)  # OB ResultDescription objects
    validity_months: Mapped[int | None] = mapped_column(Integer)
    version: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Recipient(Base):
    __tablename__ = "recipients"
    __table_args__ = (UniqueConstraint("issuer_id", "email"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    issuer_id: Mapped[str] = mapped_column(ForeignKey("issuers.id"))
    email: Mapped[str] = mapped_column(String(320))            # normalized: trimmed, lower-case
    name: Mapped[str | None] = mapped_column(String(255))
    employee_id: Mapped[str | None] = mapped_column(String(100))
    did: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Sharing is opt-in: no slug means no public profile; the name is shown only with show_name.
    public_profile_slug: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)
    show_name: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")  # '0': false everywhere


class Award(Base):
    __tablename__ = "awards"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    issuer_id: Mapped[str] = mapped_column(ForeignKey("issuers.id"))
    achievement_id: Mapped[str] = mapped_column(ForeignKey("achievements.id"))
    recipient_id: Mapped[str] = mapped_column(ForeignKey("recipients.id"))
    external_key: Mapped[str] = mapped_column(String(64), unique=True)  # idempotency: same request, same award
    evidence: Mapped[list] = mapped_column(JSON, default=list)
    results: Mapped[list] = mapped_column(JSON, default=list)
    awarded_at: Mapped[datetime] = mapped_column()
    valid_from: Mapped[datetime] = mapped_column()
    valid_until: Mapped[datetime | None] = mapped_column()
    state: Mapped[str] = mapped_column(String(16), default="active")
    state_reason: Mapped[str | None] = mapped_column(Text)
    superseded_by: Mapped[str | None] = mapped_column(ForeignKey("awards.id"))
    credential: Mapped[str] = mapped_column(Text)              # the signed credential, exactly as issued
    credential_jwt: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    achievement: Mapped[Achievement] = relationship()
    recipient: Mapped[Recipient] = relationship()


class StatusList(Base):
    __tablename__ = "status_lists"
    __table_args__ = (UniqueConstraint("issuer_id", "purpose", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    issuer_id: Mapped[str] = mapped_column(ForeignKey("issuers.id"))
    purpose: Mapped[str] = mapped_column(String(16))
    number: Mapped[int] = mapped_column(Integer, default=1)
    size: Mapped[int] = mapped_column(Integer, default=131_072)
    bits: Mapped[bytes] = mapped_column(LargeBinary)
    version: Mapped[int] = mapped_column(Integer, default=0)   # bumped on every change (optimistic locking)
    credential: Mapped[str | None] = mapped_column(Text)       # the signed BitstringStatusListCredential
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __mapper_args__ = {"version_id_col": version}


class StatusAllocation(Base):
    """One row per used index: two awards can never share an index of a list."""

    __tablename__ = "status_allocations"

    list_id: Mapped[int] = mapped_column(ForeignKey("status_lists.id"), primary_key=True)
    index: Mapped[int] = mapped_column(Integer, primary_key=True)
    award_id: Mapped[str | None] = mapped_column(ForeignKey("awards.id"))
    # or a credential signed through the VC-API (exactly one of the two is set)
    vcapi_credential_id: Mapped[str | None] = mapped_column(ForeignKey("vcapi_credentials.id"))


class VcapiCredential(Base):
    """A credential the issuer signed through the VC-API ``/credentials/issue``, exactly as signed.

    ``credential_id`` is the credential's ``id`` (``{base_url}/credentials/{id}`` for the
    installation's own identity; whatever the caller sent in did:key suite mode). Its status
    entries are ``StatusAllocation`` rows; ``state`` follows them (active/suspended/revoked).
    """

    __tablename__ = "vcapi_credentials"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    issuer_id: Mapped[str] = mapped_column(ForeignKey("issuers.id"))
    credential_id: Mapped[str | None] = mapped_column(String(2048), index=True)
    signed_as: Mapped[str] = mapped_column(String(255))       # the issuer identity: did:web or did:key
    types: Mapped[list] = mapped_column(JSON, default=list)
    credential: Mapped[str] = mapped_column(Text)              # the signed credential, exactly as issued
    token_id: Mapped[str | None] = mapped_column(String(36))   # the API token that asked
    actor: Mapped[str] = mapped_column(String(255))
    state: Mapped[str] = mapped_column(String(16), default="active")
    state_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEntry(Base):
    """Append-only: who did what to which award, when."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(64))
    award_id: Mapped[str | None] = mapped_column(String(36))
    details: Mapped[dict] = mapped_column(JSON, default=dict)


class OutboxMessage(Base):
    """An email waiting to be sent (or sent): written in the transaction that caused it, sent after commit.

    ``key`` makes enqueueing idempotent (one award email per award and event). A failed
    attempt is recorded (``attempts``, ``last_error``) and retried from ``next_attempt_at``.
    ``kind``: an :class:`issuer.mail.kinds.MailKind` value (None for messages whose kind was not
    known when migration 0008 ran); ``body`` is the text part, ``html`` the HTML part (None: the
    message is sent as text only, as rows queued before 0008 are).
    """

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str | None] = mapped_column(String(128), unique=True)
    kind: Mapped[str | None] = mapped_column(String(32))
    award_id: Mapped[str | None] = mapped_column(ForeignKey("awards.id"), index=True)
    to_address: Mapped[str] = mapped_column(String(320))
    to_name: Mapped[str | None] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    html: Mapped[str | None] = mapped_column(Text)
    attachment_name: Mapped[str | None] = mapped_column(String(255))
    attachment: Mapped[bytes | None] = mapped_column(LargeBinary)     # dropped once sent
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column()

__all__ = ["Base", "new_id", "utcnow"]  # re-exported: most code takes them from here
