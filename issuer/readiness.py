"""Readiness: named checks of what the issuer needs to answer requests (``/readyz``).

Each check is a function of the sessionmaker and the time that returns a :class:`CheckResult`
(``ok`` and a few numbers, never personal data); :data:`CHECKS` names them in order and
:func:`run_checks` runs them all, a check that raises counting as not ok (its error's class name
only). The task queue's check is added when the caller passes its queue.

* ``database``: ``SELECT 1`` answers. Not ok: the server is not ready (503).
* ``mail_outbox``: the transactional outbox, the one queue that exists today: how many messages are
  due now and how many have failed at least once and are still unsent. It never makes the server
  unready (``required=False``): a mail server that refuses does not stop issuing, verifying or
  serving credentials (the outbox keeps the messages and retries), and taking every app server
  out of the load balancer for it would turn a mail problem into an outage. The counts are for
  alerting (also the ``microcred_mail_outbox_messages`` gauge).
* ``task_queue`` (:mod:`issuer.tasks`): bulk jobs waiting and running (from their rows, whichever
  queue), and with the PostgreSQL queue its tasks waiting (``todo``), running (``doing``), failed,
  and the workers whose heartbeat is fresh (``workers``). Required with the PostgreSQL queue (its
  tables must answer); ``workers: 0`` does not make an app server unready (it still serves and
  queues; nothing is lost) but is the number to alert on, also as the ``microcred_queue_tasks``
  gauge.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import psycopg
from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from issuer.db.models import OutboxMessage
from issuer.db.models_staff import BulkJob
from issuer.mail.outbox import MAX_ATTEMPTS
from issuer.tasks.names import QueueKind
from issuer.tasks.queue import TaskQueue

__all__ = ["CHECKS", "CheckResult", "Readiness", "outbox_counts", "queue_counts", "run_checks"]


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    required: bool = True                    # False: reported, never makes the server unready
    details: dict[str, int | str] = field(default_factory=dict)


@dataclass(frozen=True)
class Readiness:
    checks: dict[str, CheckResult]

    @property
    def ready(self) -> bool:
        return all(c.ok for c in self.checks.values() if c.required)

    def to_dict(self) -> dict[str, object]:
        return {"status": "ready" if self.ready else "unavailable",
                "checks": {name: {"ok": c.ok, "required": c.required, **c.details} for name, c in self.checks.items()}}


def _database(sessions: sessionmaker[Session], now: datetime) -> CheckResult:
    with sessions() as session:
        session.execute(text("SELECT 1"))
    return CheckResult(True)


def outbox_counts(sessions: sessionmaker[Session], now: datetime) -> dict[str, int]:
    """``due``: unsent messages whose time has come (and that have not given up); ``failing``:
    unsent messages that failed at least once."""
    unsent = OutboxMessage.sent_at.is_(None)
    with sessions() as session:
        due = session.scalar(select(func.count()).select_from(OutboxMessage).where(
            unsent, OutboxMessage.next_attempt_at <= now, OutboxMessage.attempts < MAX_ATTEMPTS)) or 0
        failing = session.scalar(select(func.count()).select_from(OutboxMessage).where(
            unsent, OutboxMessage.attempts > 0)) or 0
    return {"due": due, "failing": failing}


def _mail_outbox(sessions: sessionmaker[Session], now: datetime) -> CheckResult:
    return CheckResult(True, required=False, details=dict(outbox_counts(sessions, now)))


def queue_counts(sessions: sessionmaker[Session], queue: TaskQueue) -> dict[str, int]:
    """Bulk jobs waiting and running; with the PostgreSQL queue also its tasks and live workers."""
    with sessions() as session:
        rows: dict[str, int] = {state: count for state, count in session.execute(
            select(BulkJob.state, func.count()).where(BulkJob.state.in_(("queued", "running", "cancelling")))
            .group_by(BulkJob.state))}
    return {"bulk_waiting": rows.get("queued", 0), "bulk_running": rows.get("running", 0) + rows.get("cancelling", 0),
            **queue.depth()}


Check = Callable[[sessionmaker[Session], datetime], CheckResult]
CHECKS: dict[str, tuple[Check, bool]] = {"database": (_database, True), "mail_outbox": (_mail_outbox, False)}


def run_checks(sessions: sessionmaker[Session], now: datetime,
               checks: dict[str, tuple[Check, bool]] | None = None, *, queue: TaskQueue | None = None) -> Readiness:
    """Run every check (default :data:`CHECKS`: name -> (check, required), and ``task_queue`` when
    ``queue`` is given); one that raises is not ok."""
    checks = dict(checks or CHECKS)
    if queue is not None:
        required = queue.kind is QueueKind.POSTGRES

        def task_queue(sessions: sessionmaker[Session], now: datetime) -> CheckResult:
            return CheckResult(True, required, {"queue": str(queue.kind), **queue_counts(sessions, queue)})
        checks["task_queue"] = (task_queue, required)
    results = {}
    for name, (check, required) in checks.items():
        try:
            results[name] = check(sessions, now)
        except (SQLAlchemyError, OSError, psycopg.Error) as exc:
            results[name] = CheckResult(False, required, {"error": type(exc).__name__})
    return Readiness(results)
