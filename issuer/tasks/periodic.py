"""The in-process scheduler: the periodic tasks (:data:`~issuer.tasks.names.SCHEDULE`) inside ``microcred serve``.

    scheduler = Scheduler(runtime, queue)    # the runtime's InlineQueue, bound to this process's services
    runs = scheduler.run_due(now)            # claim and run each entry whose latest tick is new here
    scheduler.start(); scheduler.stop()      # the thread: wakes at the next tick (at least once a minute)
    start_schedule(runtime)                  # what create_app(schedule=True) calls; None with the PostgreSQL queue

With the embedded default (``MICROCRED_QUEUE=inline``: SQLite, ``./scripts/demo.sh``) there is no
worker process, so every gunicorn worker of ``microcred serve`` runs one scheduler thread. With
``MICROCRED_QUEUE=postgres`` the ``microcred worker`` processes run the same schedule through
procrastinate (:mod:`issuer.tasks.pg_queue`) and no scheduler starts here.

Contract and decisions:

* **Once per tick across processes.** Before running an entry's tick a scheduler inserts the row
  ``(task, tick)`` into ``task_runs`` (:class:`~issuer.db.models_staff.TaskRun`) in a transaction of
  its own; the primary key lets one insert win, and the others get an IntegrityError and leave the
  tick (:attr:`Outcome.TAKEN`). The same on SQLite and PostgreSQL, with no leader to elect: every
  worker schedules and the database picks one per tick.
* **At most once.** A process that dies while running a tick leaves its claim (``finished_at``
  NULL) and nobody runs that tick again; the next tick does the work, because every handler looks
  at the whole state (reminders for everything expiring within N days, every email that is due,
  everything past its retention), and each is safe to repeat (:mod:`issuer.tasks.handlers`).
* **Catch-up of one.** Each pass considers only the most recent tick of each entry at or before
  now: a server that was stopped for a week runs each entry once when it starts, not once per
  missed tick; ticks older than that are never run.
* **Failures.** A handler that raises is logged and recorded (``task_runs.error``: the exception's
  class and message, email addresses replaced by ``[address]``); the other entries still run. A
  database that cannot be reached leaves the tick unclaimed, and the next pass tries again.
* **Time.** Ticks are in UTC and computed with the runtime's clock (:meth:`Runtime.now`), so tests
  drive :meth:`Scheduler.run_due` with any time. ``task_runs`` rows older than
  :data:`KEEP_RUNS` (30 days) are deleted by the scheduler itself, at most once an hour.

Why hand-written rather than a scheduling library: APScheduler 3 (the stable one) gives each process
its own job store state, so every gunicorn worker would send every reminder; APScheduler 4 shares a
data store but is pre-release; ``schedule`` has no cron expressions or coordination. What is
needed here is the latest tick of a cron expression (croniter, which procrastinate already uses)
and one INSERT, in about a hundred lines.
"""
from __future__ import annotations

import atexit
import logging
import os
import socket
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from croniter import croniter
from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from issuer.db.models_staff import TaskRun
from issuer.personal_data.logs import ADDRESS
from issuer.runtime import Runtime
from issuer.tasks.names import SCHEDULE, Periodic, TaskName
from issuer.tasks.queue import InlineQueue

log = logging.getLogger(__name__)

KEEP_RUNS = timedelta(days=30)          # task_runs rows older than this are deleted
CLEAN_EVERY = timedelta(hours=1)
MAX_SLEEP = 60.0                        # seconds: the thread looks at the clock at least this often
MIN_SLEEP = 0.5
ERROR_CHARS = 1000


class Outcome(StrEnum):
    """What one pass did with one entry's tick."""

    RAN = "ran"              # claimed here and the handler returned
    FAILED = "failed"        # claimed here and the handler raised (recorded in task_runs.error)
    TAKEN = "taken"          # another process (or an earlier pass) claimed this tick


@dataclass(frozen=True)
class TickRun:
    task: TaskName
    tick: datetime
    outcome: Outcome


def latest_tick(cron: str, now: datetime) -> datetime:
    """The most recent time at or before ``now`` that ``cron`` names (UTC)."""
    after = now.astimezone(UTC) + timedelta(microseconds=1)    # croniter's get_prev is strictly before
    tick: datetime = croniter(cron, after).get_prev(datetime)
    return tick.astimezone(UTC)


def next_tick(cron: str, now: datetime) -> datetime:
    """The first time strictly after ``now`` that ``cron`` names (UTC)."""
    tick: datetime = croniter(cron, now.astimezone(UTC)).get_next(datetime)
    return tick.astimezone(UTC)


def _error_text(exc: BaseException) -> str:
    return ADDRESS.sub("[address]", f"{type(exc).__name__}: {exc}")[:ERROR_CHARS]


class Scheduler:
    """Runs ``schedule`` through ``queue``'s handlers, each tick once across every process on the database."""

    def __init__(self, runtime: Runtime, queue: InlineQueue, schedule: Sequence[Periodic] = SCHEDULE, *,
                 max_sleep: float = MAX_SLEEP) -> None:
        self.runtime = runtime
        self.queue = queue
        self.schedule = tuple(schedule)
        self.max_sleep = max_sleep
        self._seen: dict[int, datetime] = {}       # entry index -> the latest tick this scheduler dealt with
        self._cleaned: datetime | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- one pass (what the thread does at each tick; tests call it with any time) --

    def run_due(self, now: datetime | None = None) -> list[TickRun]:
        """Claim and run every entry whose most recent tick (at or before ``now``) is new to this scheduler."""
        now = now or self.runtime.now()
        runs: list[TickRun] = []
        for index, entry in enumerate(self.schedule):
            tick = latest_tick(entry.cron, now)
            seen = self._seen.get(index)
            if seen is not None and seen >= tick:
                continue
            claimed = self._claim(entry.task, tick)
            if claimed is None:
                continue                      # the database did not answer: the next pass tries again
            self._seen[index] = tick
            runs.append(self._run(entry, tick) if claimed else TickRun(entry.task, tick, Outcome.TAKEN))
        self._clean(now)
        return runs

    def _claim(self, task: TaskName, tick: datetime) -> bool | None:
        """True: this process runs the tick; False: another has it; None: the database failed."""
        try:
            with self.runtime.transaction() as session:
                session.add(TaskRun(task=str(task), tick=tick, claimed_by=f"{socket.gethostname()}:{os.getpid()}",
                                    started_at=self.runtime.now()))
        except IntegrityError:
            return False
        except SQLAlchemyError as exc:
            log.warning("periodic task %s could not be claimed (%s); trying again shortly", task, type(exc).__name__)
            return None
        return True

    def _run(self, entry: Periodic, tick: datetime) -> TickRun:
        error: str | None = None
        try:
            self.queue.handler(entry.task)(**entry.kwargs)
        except Exception as exc:   # noqa: BLE001 - recorded and logged; the other entries still run
            error = _error_text(exc)
            log.exception("periodic task %s (tick %s) failed", entry.task, tick.isoformat())
        if error is None:
            log.info("periodic task %s ran for its %s tick", entry.task, tick.isoformat())
        try:
            with self.runtime.transaction() as session:
                session.execute(update(TaskRun).where(TaskRun.task == str(entry.task), TaskRun.tick == tick)
                                .values(finished_at=self.runtime.now(), error=error))
        except SQLAlchemyError as exc:
            log.warning("the end of periodic task %s could not be recorded (%s)", entry.task, type(exc).__name__)
        return TickRun(entry.task, tick, Outcome.FAILED if error else Outcome.RAN)

    def _clean(self, now: datetime) -> None:
        if self._cleaned is not None and now - self._cleaned < CLEAN_EVERY:
            return
        try:
            with self.runtime.transaction() as session:
                session.execute(delete(TaskRun).where(TaskRun.tick < now - KEEP_RUNS))
        except SQLAlchemyError as exc:
            log.warning("old periodic task runs could not be deleted (%s)", type(exc).__name__)
            return
        self._cleaned = now

    # -- the thread --

    def sleep_seconds(self, now: datetime) -> float:
        """How long the thread may sleep after a pass at ``now``: until just after the next tick, capped."""
        if not self.schedule:
            return self.max_sleep
        soonest = min(next_tick(entry.cron, now) for entry in self.schedule)
        return min(self.max_sleep, max(MIN_SLEEP, (soonest - now).total_seconds() + 0.05))

    def start(self) -> None:
        """Run passes in a daemon thread until :meth:`stop`."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name="microcred scheduler", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_due()
            except Exception:   # noqa: BLE001 - the thread must outlive one bad pass (a clock or cron error)
                log.exception("a pass of the periodic task scheduler failed")
            self._stop.wait(self.sleep_seconds(self.runtime.now()))

    def stop(self, timeout: float = 5.0) -> bool:
        """Stop the thread (after the task it runs, waiting up to ``timeout``); True when it has stopped."""
        self._stop.set()
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()


def start_schedule(runtime: Runtime) -> Scheduler | None:
    """Start this process's scheduler (inline queue only: with ``MICROCRED_QUEUE=postgres`` the workers run
    the schedule, and this returns None). Stopped when the process exits."""
    queue = runtime.queue
    if not isinstance(queue, InlineQueue):
        return None
    scheduler = Scheduler(runtime, queue)
    scheduler.start()
    atexit.register(scheduler.stop)
    return scheduler
