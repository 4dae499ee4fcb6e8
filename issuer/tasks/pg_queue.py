"""The PostgreSQL-backed task queue (procrastinate) and the worker that runs it (``microcred worker``).

    queue = PostgresQueue(settings.database_url)      # what the app servers defer to
    queue.defer(TaskName.BULK_JOB, lock="bulk:J1", job_id="J1", actor="staff:ann")
    run_worker(settings, handlers, concurrency=2)     # a worker process: runs tasks until stopped

Why procrastinate (docs/architecture.md): the issuer already needs PostgreSQL to run on more than
one machine, and procrastinate keeps its queue there (``FOR UPDATE SKIP LOCKED``, LISTEN/NOTIFY),
so no new server is needed; it records a heartbeat per worker, so the jobs of a worker that died
(``kill -9``, a lost machine) are found and given to another; its periodic tasks are deferred
once per tick whatever the number of workers (a unique row per task and tick).

Decisions:

* The queue's tables live in their own PostgreSQL schema, :data:`QUEUE_SCHEMA`, created on first
  use (:func:`ensure_schema`, under an advisory lock so two processes starting together create
  it once), apart from the issuer's own tables and their migrations. procrastinate's version is
  pinned to one minor release in ``pyproject.toml`` because its schema is tied to it.
* A task that dies with its worker is retried by :data:`~issuer.tasks.names.TaskName.RETRY_STALLED`,
  a periodic task, once the worker's heartbeat is older than ``MICROCRED_WORKER_STALLED_SECONDS``
  (30). Every handler may run again after a crash: bulk jobs skip the rows already issued, emails
  are claimed one by one, reminders are keyed per award.
* ``procrastinate`` is imported when this queue is first used (it costs about 0.2 s), so the
  embedded default and the command line start without it.
"""
from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import psycopg
from sqlalchemy.engine import make_url

from issuer.tasks.names import (
    DEFAULT_STALLED_SECONDS,
    SCHEDULE,
    STALLED_ENV,
    QueueKind,
    TaskName,
)
from issuer.tasks.queue import Handlers

if TYPE_CHECKING:
    import procrastinate

log = logging.getLogger(__name__)

QUEUE_SCHEMA = "microcred_queue"
SCHEMA_LOCK = 7_271_101                  # pg_advisory_xact_lock key: one process creates the schema
JOB_COUNTS = ("SELECT status::text, count(*) FROM microcred_queue.procrastinate_jobs "
              "WHERE status IN ('todo', 'doing', 'failed') GROUP BY status")
LIVE_WORKERS = ("SELECT count(*) FROM microcred_queue.procrastinate_workers "
                "WHERE last_heartbeat > now() - make_interval(secs => %s)")


def conninfo(database_url: str) -> str:
    """The libpq connection string of a SQLAlchemy PostgreSQL URL."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        raise ValueError("the PostgreSQL queue needs a PostgreSQL database")
    return str(url.set(drivername="postgresql").render_as_string(hide_password=False))


def _pool_kwargs(database_url: str) -> dict[str, Any]:
    return {"conninfo": conninfo(database_url), "kwargs": {"options": f"-c search_path={QUEUE_SCHEMA}"}}


def ensure_schema(database_url: str) -> bool:
    """Create the queue's schema and tables if missing; True when created now."""
    from procrastinate.schema import SchemaManager  # noqa: PLC0415 - third-party, loaded only when used

    with psycopg.connect(conninfo(database_url)) as connection, connection.transaction():
        connection.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
        if _has_queue_tables(connection):
            return False
        connection.execute(f"CREATE SCHEMA IF NOT EXISTS {QUEUE_SCHEMA}")
        connection.execute(f"SET LOCAL search_path TO {QUEUE_SCHEMA}")
        connection.execute(SchemaManager.get_schema())
        log.info("created the task queue's tables (schema %s)", QUEUE_SCHEMA)
        return True


def _has_queue_tables(connection: psycopg.Connection[Any]) -> bool:
    row = connection.execute("SELECT to_regclass(%s)", (f"{QUEUE_SCHEMA}.procrastinate_jobs",)).fetchone()
    return row is not None and row[0] is not None


def stalled_seconds(env: Mapping[str, str] | None = None) -> float:
    """How long a worker may miss its heartbeat before its tasks are given to another."""
    value = (os.environ if env is None else env).get(STALLED_ENV)
    try:
        seconds = float(value) if value else DEFAULT_STALLED_SECONDS
    except ValueError:
        seconds = DEFAULT_STALLED_SECONDS
    return max(2.0, seconds)


class PostgresQueue:
    """Tasks stored in PostgreSQL for ``microcred worker`` processes (app servers only defer)."""

    kind = QueueKind.POSTGRES

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self._app: procrastinate.App | None = None
        self._lock = threading.Lock()

    def bind(self, handlers: Handlers) -> None:
        """Nothing to bind: the workers run the tasks (:func:`run_worker`)."""

    def _opened(self) -> procrastinate.App:
        with self._lock:
            if self._app is None:
                import procrastinate  # noqa: PLC0415 - see the module docstring

                ensure_schema(self.database_url)
                connector = procrastinate.SyncPsycopgConnector(min_size=1, max_size=4,
                                                               **_pool_kwargs(self.database_url))
                self._app = procrastinate.App(connector=connector).open()
            return self._app

    def defer(self, task: TaskName, *, lock: str | None = None, **kwargs: Any) -> None:
        import procrastinate  # noqa: PLC0415 - see the module docstring

        deferrer = self._opened().configure_task(str(task), lock=lock, queueing_lock=lock)
        try:
            deferrer.defer(**kwargs)
        except procrastinate.exceptions.AlreadyEnqueued:
            log.debug("task %s already waits (lock %s)", task, lock)

    def running_here(self, lock: str) -> bool:
        return False                      # app servers run no tasks

    def depth(self) -> dict[str, int]:
        """Tasks ``waiting``, ``running``, ``failed`` and live ``workers``: readiness and metrics."""
        with psycopg.connect(conninfo(self.database_url)) as connection:
            if not _has_queue_tables(connection):
                return {"waiting": 0, "running": 0, "failed": 0, "workers": 0}
            rows = connection.execute(JOB_COUNTS).fetchall()
            workers = connection.execute(LIVE_WORKERS, (stalled_seconds(),)).fetchone()
        by_status = {str(status): int(count) for status, count in rows}
        return {"waiting": by_status.get("todo", 0), "running": by_status.get("doing", 0),
                "failed": by_status.get("failed", 0), "workers": int(workers[0] if workers else 0)}


def worker_app(database_url: str, handlers: Handlers) -> procrastinate.App:
    """A procrastinate App with every task and the periodic schedule registered, for a worker."""
    import procrastinate  # noqa: PLC0415 - see the module docstring

    app = procrastinate.App(connector=procrastinate.PsycopgConnector(min_size=1, max_size=4,
                                                                      **_pool_kwargs(database_url)))
    for name, handler in handlers.items():
        app.task(name=str(name), pass_context=False)(_sync_task(handler))
    for entry in SCHEDULE:
        task = app.tasks[str(entry.task)]
        app.periodic(cron=entry.cron, periodic_id=f"{entry.task}:{entry.cron}")(task)
    every = max(1, int(stalled_seconds() // 3))

    async def retry_stalled(timestamp: int) -> None:
        """Give the tasks of workers whose heartbeat stopped back to the queue (another worker takes them)."""
        for job in await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=stalled_seconds()):
            log.warning("task %s (job %s) was running on a worker that stopped: retrying it", job.task_name, job.id)
            await app.job_manager.retry_job(job)

    stalled_task = app.task(name=str(TaskName.RETRY_STALLED), queueing_lock=str(TaskName.RETRY_STALLED),
                            pass_context=False)(retry_stalled)
    app.periodic(cron=f"* * * * * */{every}", periodic_id="retry-stalled")(stalled_task)
    return app


def _sync_task(handler: Any) -> Any:
    """The handler as a procrastinate task body: periodic runs pass ``timestamp``, which handlers do not take."""

    def run(timestamp: int | None = None, **kwargs: Any) -> None:
        handler(**kwargs)

    run.__name__ = getattr(handler, "__name__", "task")
    return run


def run_worker(database_url: str, handlers: Handlers, *, concurrency: int = 1) -> None:
    """Run a worker until SIGINT/SIGTERM: tasks, the periodic schedule, and the retry of stalled tasks."""
    ensure_schema(database_url)
    stalled = stalled_seconds()
    worker_app(database_url, handlers).run_worker(
        concurrency=concurrency, update_heartbeat_interval=max(0.5, stalled / 3), stalled_worker_timeout=stalled,
        listen_notify=True, fetch_job_polling_interval=2.0)
