"""The background tasks by name, where they run, and the periodic schedule (one registry for both queues).

    TaskName.BULK_JOB                    # "microcred.bulk_job": issue a bulk job's rows (job_id, actor)
    QueueKind.from_setting("postgres")   # which queue: inline (in-process) or postgres (workers)
    for entry in SCHEDULE: entry.task, entry.cron, entry.kwargs

The names are what the PostgreSQL queue stores in its jobs table, so they are part of the
deployment's contract: renaming one strands the jobs queued under the old name.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from issuer.errors import ConfigError

QUEUE_ENV = "MICROCRED_QUEUE"
REMIND_DAYS_ENV = "MICROCRED_REMIND_DAYS"
STALLED_ENV = "MICROCRED_WORKER_STALLED_SECONDS"
DEFAULT_REMIND_DAYS = 30
DEFAULT_STALLED_SECONDS = 30.0


class QueueKind(StrEnum):
    """Where background work runs."""

    INLINE = "inline"        # threads of the process that asked (the embedded default: SQLite, one server)
    POSTGRES = "postgres"    # a PostgreSQL-backed queue (procrastinate) run by `microcred worker` processes

    @classmethod
    def from_setting(cls, value: str | None) -> QueueKind:
        try:
            return cls((value or cls.INLINE).strip().lower())
        except ValueError:
            raise ConfigError(f"{QUEUE_ENV} must be 'inline' or 'postgres', not {value!r}.",
                              code="bad_queue_setting") from None


class TaskName(StrEnum):
    """Every task a worker runs."""

    BULK_JOB = "microcred.bulk_job"                        # job_id, actor: issue (or resume) a bulk job
    DELIVER_MAIL = "microcred.deliver_mail"                # send the queued emails that are due
    REMIND_EXPIRING = "microcred.remind_expiring"          # queue reminders for awards expiring soon, send them
    PUBLISH_STATUS_LISTS = "microcred.publish_status_lists"  # re-sign lists not signed with the current key
    RETENTION_PURGE = "microcred.retention_purge"          # remove personal data past its retention period
    RETRY_STALLED = "microcred.retry_stalled"              # give the jobs of a dead worker to a live one


# Tasks that may take long: inline, they run in a thread of their own instead of the caller's.
BACKGROUND = frozenset({TaskName.BULK_JOB})


@dataclass(frozen=True)
class Periodic:
    """A task the queue starts on a schedule (cron: minute hour day month weekday [second])."""

    task: TaskName
    cron: str
    kwargs: dict[str, Any] = field(default_factory=dict)


# Expiry reminders once a day, retries of emails that failed every minute, status lists and
# retention daily. Each runs once per tick however many workers run (the queue's unique
# (task, tick) row; inline: the ``task_runs`` table).
SCHEDULE: tuple[Periodic, ...] = (
    Periodic(TaskName.DELIVER_MAIL, "* * * * *"),
    Periodic(TaskName.REMIND_EXPIRING, "0 8 * * *"),
    Periodic(TaskName.PUBLISH_STATUS_LISTS, "30 3 * * *"),
    Periodic(TaskName.RETENTION_PURGE, "0 4 * * *"),
)
