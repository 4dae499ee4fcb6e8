"""Staff accounts for the HR web console, the bulk issuance jobs started from it, and periodic task runs.

On the same declarative ``Base`` as :mod:`issuer.db.models` (same metadata, same migrations).
Passwords are stored only as salted hashes (:mod:`issuer.access.staff`); ``session_version`` is
bumped whenever a password changes or an account is disabled, which ends every session
signed in before.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from issuer.db.base import Base, new_id, utcnow

STAFF_ROLES = ("issuer", "admin")      # admin: everything, keys and users; issuer: achievements and awards
BULK_JOB_STATES = ("validated", "queued", "running", "done", "failed")


class StaffUser(Base):
    __tablename__ = "staff_users"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(100), unique=True)    # normalized: trimmed, lower-case
    name: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))                       # "issuer" | "admin"
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column()
    last_login_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StaffSession(Base):
    """One sign-in: the cookie holds a random token, the database only its SHA-256.

    Signing out ends it here, so a copy of the cookie is useless afterwards; a session also
    ends :data:`issuer.access.staff.SESSION_MAX_HOURS` after signing in, however active it is.
    """

    __tablename__ = "staff_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("staff_users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column()


class BulkJob(Base):
    """One uploaded bulk CSV: its dry run, then (once confirmed) its progress and results."""

    __tablename__ = "bulk_jobs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    issuer_id: Mapped[str] = mapped_column(ForeignKey("issuers.id"))
    created_by: Mapped[str] = mapped_column(String(255))                # the actor, "staff:<username>"
    filename: Mapped[str] = mapped_column(String(255))
    source: Mapped[bytes] = mapped_column(LargeBinary)                  # the CSV as uploaded
    source_sha256: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default="validated")
    total: Mapped[int] = mapped_column(Integer, default=0)              # data rows in the file
    done: Mapped[int] = mapped_column(Integer, default=0)               # rows handled so far
    summary: Mapped[dict] = mapped_column(JSON, default=dict)           # dry-run / result counts
    result_csv: Mapped[bytes | None] = mapped_column(LargeBinary)       # one line per row: URL or error
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()


class TaskRun(Base):
    """One tick of a periodic task run by the in-process scheduler (:mod:`issuer.tasks.periodic`).

    The row is the claim: the first process to insert ``(task, tick)`` runs it, every other one
    gets the primary key's IntegrityError and leaves it. Rows older than 30 days are deleted by
    the scheduler. ``error``: the failure's class and message (addresses redacted), NULL when it
    ran well or still runs (``finished_at`` NULL).
    """

    __tablename__ = "task_runs"

    task: Mapped[str] = mapped_column(String(64), primary_key=True)     # an issuer.tasks.names.TaskName
    tick: Mapped[datetime] = mapped_column(primary_key=True)            # the schedule's time (UTC)
    claimed_by: Mapped[str] = mapped_column(String(255))                # "host:pid" of the process that ran it
    started_at: Mapped[datetime] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    error: Mapped[str | None] = mapped_column(Text)
