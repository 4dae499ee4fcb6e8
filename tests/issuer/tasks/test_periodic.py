"""The in-process scheduler (issuer.tasks.periodic): each tick of SCHEDULE runs once, across processes.

Every scheduler here is what one gunicorn worker of ``microcred serve`` builds: its own engine,
runtime, services and InlineQueue on one real database (SQLite and PostgreSQL), with the real
handlers (reminders, mail delivery, status lists, retention) wrapped only to count their calls. The
time is the runtime's clock, driven by the tests (:meth:`Scheduler.run_due` takes any time); the
demo data is seeded 350 days before it, so its two 12-month badges expire within the reminders'
30 days. The last test runs a real ``microcred serve`` with two workers and no command.
"""
from __future__ import annotations

import email
import email.policy
import json
import os
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from issuer.config import Settings, load_settings
from issuer.db.engine import make_engine, session_factory
from issuer.db.models import OutboxMessage
from issuer.db.models_staff import TaskRun
from issuer.instance import open_database, sessions_for
from issuer.runtime import Runtime
from issuer.services import build_services
from issuer.tasks.handlers import task_handlers
from issuer.tasks.names import SCHEDULE, TaskName
from issuer.tasks.periodic import Outcome, Scheduler, latest_tick, next_tick, start_schedule
from issuer.tasks.queue import Handler, InlineQueue
from issuer.web import create_app
from tests.issuer.serve_support import serve_instance

SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
BASE = "https://hr.example.com"
# A pass of the scheduler, 30 s into a minute, tomorrow: after the real time at which the outbox queues
# emails (their first attempt is due then), and close to it (the retention purge judges the .eml files by
# their real age).
T = (datetime.now(UTC) + timedelta(days=1)).replace(hour=9, minute=15, second=30, microsecond=0)
SEEDED = T - timedelta(days=350)                           # the demo's 12-month badges expire 15 days after T
DELIVER, REMIND = TaskName.DELIVER_MAIL, TaskName.REMIND_EXPIRING
PUBLISH, PURGE = TaskName.PUBLISH_STATUS_LISTS, TaskName.RETENTION_PURGE
ONCE_EACH = Counter({entry.task: 1 for entry in SCHEDULE})


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Calls:
    """Every handler call of every scheduler in a test; the tasks in ``fail`` raise instead (with an address)."""

    def __init__(self) -> None:
        self.tasks: list[TaskName] = []
        self.fail: set[TaskName] = set()
        self._lock = threading.Lock()

    def wrap(self, handlers: dict[TaskName, Handler]) -> dict[TaskName, Handler]:
        def counted(task: TaskName, handler: Handler) -> Handler:
            def run(**kwargs: object) -> object:
                with self._lock:
                    self.tasks.append(task)
                if task in self.fail:
                    raise RuntimeError("the mail server refused alex.morgan@example.com")
                return handler(**kwargs)
            return run
        return {task: counted(task, handler) for task, handler in handlers.items()}

    def counts(self) -> Counter[TaskName]:
        with self._lock:
            return Counter(self.tasks)

    def clear(self) -> None:
        with self._lock:
            self.tasks.clear()


class Installation:
    """One database and instance folder; :meth:`scheduler` is one more server process's scheduler."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.clock = Clock(SEEDED)
        self.calls = Calls()
        self.engines: list[Engine] = []

    def runtime(self) -> Runtime:
        engine = make_engine(self.settings.database_url)
        self.engines.append(engine)
        return Runtime(self.settings, session_factory(engine), self.clock)

    def scheduler(self, **options: float) -> Scheduler:
        runtime = self.runtime()
        services = build_services(runtime)
        queue = runtime.queue
        assert isinstance(queue, InlineQueue)
        queue.bind(self.calls.wrap(task_handlers(bulk=services.bulk, mail=services.mail, status=services.status,
                                                 people=services.people, employees=services.employees)))
        return Scheduler(runtime, queue, **options)

    def task_runs(self) -> list[TaskRun]:
        with self.runtime().reading() as session:
            return list(session.scalars(select(TaskRun).order_by(TaskRun.tick, TaskRun.task)))

    def reminders(self) -> list[OutboxMessage]:
        with self.runtime().reading() as session:
            return list(session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "expiring")))


@pytest.fixture()
def inst(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Installation]:
    monkeypatch.delenv("MICROCRED_SMTP_HOST", raising=False)     # emails are written to instance/outbox-mail
    monkeypatch.delenv("MICROCRED_REMIND_DAYS", raising=False)
    settings = load_settings({}, instance=tmp_path / "instance", keys_dir=tmp_path / "keys", database_url=db_url,
                             base_url=BASE)
    installation = Installation(settings)
    runtime = installation.runtime()
    open_database(settings).dispose()                     # migrated, as create_app does
    build_services(runtime).setup.seed_demo()             # at SEEDED
    installation.clock.now = T
    yield installation
    for engine in installation.engines:
        engine.dispose()


def at(hour: int, minute: int = 0, days: int = 0) -> datetime:
    """A time on T's day (``days`` later), on the minute."""
    return T.replace(hour=hour, minute=minute, second=0) + timedelta(days=days)


def outcomes(runs: list) -> list[tuple[TaskName, Outcome]]:
    return [(run.task, run.outcome) for run in runs]


def wait_until(condition: Callable[[], bool], timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def expiry_mails(folder: Path) -> list[email.message.EmailMessage]:
    messages = [email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
                for path in sorted(folder.glob("*.eml"))]
    return [m for m in messages if str(m["Subject"]).startswith("Your badge expires on")]


# ---------------------------------------------------------------- ticks

def test_latest_and_next_tick_of_a_cron_expression():
    assert latest_tick("0 8 * * *", T) == at(8, 0)
    assert latest_tick("0 8 * * *", at(8, 0)) == at(8, 0)
    assert latest_tick("0 8 * * *", at(7, 59) + timedelta(seconds=59)) == at(8, 0, days=-1)
    assert latest_tick("* * * * *", T) == at(9, 15)
    assert next_tick("* * * * *", T) == at(9, 16)
    assert next_tick("0 8 * * *", at(8, 0)) == at(8, 0, days=1)


# ---------------------------------------------------------------- one scheduler

def test_a_due_tick_runs_each_entry_once_and_does_its_work(inst: Installation):
    scheduler = inst.scheduler()
    runs = scheduler.run_due(T)
    assert outcomes(runs) == [(entry.task, Outcome.RAN) for entry in SCHEDULE]
    assert {run.task: run.tick for run in runs} == {DELIVER: at(9, 15), REMIND: at(8, 0), PUBLISH: at(3, 30),
                                                    PURGE: at(4, 0)}
    assert inst.calls.counts() == ONCE_EACH
    rows = inst.task_runs()
    assert sorted((row.task, row.tick) for row in rows) == sorted((str(run.task), run.tick) for run in runs)
    assert all(row.started_at == T and row.finished_at == T and row.error is None for row in rows)
    assert all(row.claimed_by.endswith(f":{os.getpid()}") for row in rows)
    # the real work: each 12-month demo badge got its expiry reminder, sent (written to the outbox folder)
    reminders = inst.reminders()
    assert len(reminders) == 2 and all(message.sent_at == T for message in reminders)
    sent = expiry_mails(inst.settings.instance / "outbox-mail")
    assert sorted(str(m["To"]) for m in sent) == sorted(
        f"{m.to_name} <{m.to_address}>" if m.to_name else m.to_address for m in reminders)
    # the same pass again, or a restarted process at the same time: nothing runs twice
    assert scheduler.run_due(T) == []
    assert outcomes(inst.scheduler().run_due(T + timedelta(seconds=5))) == \
        [(entry.task, Outcome.TAKEN) for entry in SCHEDULE]
    assert inst.calls.counts() == ONCE_EACH and len(inst.reminders()) == 2


@SQLITE_ONLY
def test_a_tick_not_due_does_nothing(inst: Installation):
    scheduler = inst.scheduler()
    scheduler.run_due(T)
    inst.calls.clear()
    assert scheduler.run_due(T + timedelta(seconds=20)) == []          # 09:15:50: still the 09:15 tick
    assert inst.calls.counts() == Counter()
    runs = scheduler.run_due(T + timedelta(seconds=40))                  # 09:16:10: only the every-minute entry
    assert outcomes(runs) == [(DELIVER, Outcome.RAN)] and runs[0].tick == at(9, 16)
    assert inst.calls.counts() == Counter({DELIVER: 1})


@SQLITE_ONLY
def test_after_a_long_downtime_each_entry_runs_once(inst: Installation):
    inst.scheduler().run_due(T)
    inst.calls.clear()
    later = T + timedelta(days=7, hours=3)                               # a week later, 12:15:30
    inst.clock.now = later
    runs = inst.scheduler().run_due(later)                               # the server started again a week later
    assert outcomes(runs) == [(entry.task, Outcome.RAN) for entry in SCHEDULE]
    assert inst.calls.counts() == ONCE_EACH                              # not once per missed tick
    assert {run.task: run.tick for run in runs}[REMIND] == at(8, 0, days=7)
    assert [row.tick for row in inst.task_runs() if row.task == REMIND] == [at(8, 0), at(8, 0, days=7)]
    assert len(inst.task_runs()) == 8


@SQLITE_ONLY
def test_a_failing_handler_is_recorded_and_the_others_still_run(inst: Installation):
    inst.calls.fail.add(REMIND)
    scheduler = inst.scheduler()
    runs = scheduler.run_due(T)
    assert outcomes(runs) == [(DELIVER, Outcome.RAN), (REMIND, Outcome.FAILED), (PUBLISH, Outcome.RAN),
                              (PURGE, Outcome.RAN)]
    errors = {row.task: row.error for row in inst.task_runs()}
    assert errors == {DELIVER: None, PUBLISH: None, PURGE: None,
                      REMIND: "RuntimeError: the mail server refused [address]"}      # no address kept
    assert all(row.finished_at == T for row in inst.task_runs())
    assert inst.reminders() == []
    # a failed tick is not retried by the other processes; the next day's tick runs it again
    assert scheduler.run_due(T + timedelta(seconds=10)) == []
    inst.calls.fail.clear()
    next_day = T + timedelta(days=1)
    inst.clock.now = next_day
    assert (REMIND, Outcome.RAN) in outcomes(scheduler.run_due(next_day))
    assert len(inst.reminders()) == 2


@SQLITE_ONLY
def test_when_the_claim_fails_nothing_runs_and_the_next_pass_tries_again(inst: Installation, caplog):
    engine = make_engine(inst.settings.database_url)
    inst.engines.append(engine)
    TaskRun.__table__.drop(engine)                     # every claim now fails with a database error
    scheduler = inst.scheduler()
    assert scheduler.run_due(T) == []
    assert inst.calls.counts() == Counter()
    assert "could not be claimed (OperationalError)" in caplog.text
    TaskRun.__table__.create(engine)                   # the database is back
    assert outcomes(scheduler.run_due(T + timedelta(seconds=1))) == [(entry.task, Outcome.RAN) for entry in SCHEDULE]
    assert inst.calls.counts() == ONCE_EACH


@SQLITE_ONLY
def test_runs_older_than_30_days_are_deleted_by_the_scheduler(inst: Installation):
    for days in (0, 29, 31):
        inst.clock.now = T + timedelta(days=days)
        inst.scheduler().run_due(inst.clock.now)
    left = {row.tick.date() for row in inst.task_runs()}
    assert left == {(T + timedelta(days=29)).date(), (T + timedelta(days=31)).date()}
    assert len(inst.task_runs()) == 8


# ---------------------------------------------------------------- several processes

def test_two_schedulers_on_one_database_run_each_tick_once(inst: Installation):
    schedulers = [inst.scheduler(), inst.scheduler()]
    results: dict[int, list] = {}
    for minute in range(4):
        now = T + timedelta(minutes=minute)
        inst.clock.now = now
        barrier = threading.Barrier(2)

        def one_pass(index: int, now: datetime = now, barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            results[index] = schedulers[index].run_due(now)

        threads = [threading.Thread(target=one_pass, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        ran = [run for index in (0, 1) for run in results[index] if run.outcome is Outcome.RAN]
        taken = [run for index in (0, 1) for run in results[index] if run.outcome is Outcome.TAKEN]
        assert sorted(run.task for run in ran) == sorted(run.task for run in taken)     # one ran, the other saw it
    assert inst.calls.counts() == ONCE_EACH + Counter({DELIVER: 3})      # four minutes: four deliveries
    assert len(inst.task_runs()) == 7 and all(row.error is None for row in inst.task_runs())
    assert len(inst.reminders()) == 2


def test_two_scheduler_threads_run_each_tick_once_and_stop(inst: Installation):
    first, second = inst.scheduler(max_sleep=0.05), inst.scheduler(max_sleep=0.05)
    first.start()
    second.start()
    try:
        assert wait_until(lambda: sum(row.finished_at is not None for row in inst.task_runs()) == 4)
        time.sleep(0.5)                                  # each thread made several more passes
        inst.clock.now = T + timedelta(minutes=1)
        assert wait_until(lambda: sum(row.finished_at is not None for row in inst.task_runs()) == 5)
        time.sleep(0.5)
    finally:
        stopped = [first.stop(), second.stop()]
    assert stopped == [True, True] and not first.running and not second.running
    assert inst.calls.counts() == ONCE_EACH + Counter({DELIVER: 1})
    assert all(row.error is None for row in inst.task_runs())


# ---------------------------------------------------------------- where it starts

@SQLITE_ONLY
def test_only_create_app_with_schedule_starts_a_scheduler(inst: Installation):
    app = create_app(inst.settings)
    assert "microcred.scheduler" not in app.extensions
    app.extensions["microcred"].engine.dispose()
    app = create_app(inst.settings, schedule=True)
    scheduler = app.extensions["microcred.scheduler"]
    try:
        assert scheduler.running
        assert wait_until(lambda: {row.task for row in inst.task_runs()} == {str(e.task) for e in SCHEDULE})
    finally:
        assert scheduler.stop()
        app.extensions["microcred"].engine.dispose()


def test_with_the_postgresql_queue_no_scheduler_starts_here(tmp_path: Path):
    settings = load_settings({}, instance=tmp_path / "instance", queue="postgres",
                             database_url="postgresql+psycopg://nobody@127.0.0.1:9/none")
    runtime = Runtime(settings, session_factory(make_engine(settings.database_url)))
    assert start_schedule(runtime) is None           # the microcred worker processes run the schedule


def _seed_a_year_ago(settings: Settings) -> None:
    engine = open_database(settings)
    past = datetime.now(UTC) - timedelta(days=350)
    try:
        build_services(Runtime(settings, sessions_for(engine), lambda: past)).setup.seed_demo()
    finally:
        engine.dispose()


def test_microcred_serve_sends_expiry_reminders_with_no_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Two gunicorn workers, each with a scheduler: the reminders go out once, and nobody ran a command."""
    monkeypatch.delenv("MICROCRED_SMTP_HOST", raising=False)
    monkeypatch.delenv("MICROCRED_QUEUE", raising=False)
    process, _base = serve_instance(tmp_path, monkeypatch, workers=2, env={"MICROCRED_LOG_FORMAT": "json"},
                                    stderr=subprocess.PIPE, prepare=_seed_a_year_ago)
    folder = tmp_path / "instance" / "outbox-mail"
    try:
        assert wait_until(lambda: folder.is_dir() and len(expiry_mails(folder)) == 2, timeout=60)
        time.sleep(3)                                   # both workers have made their first pass
        mails = expiry_mails(folder)
    finally:
        process.terminate()
        output, errors = process.communicate(timeout=30)
    assert len(mails) == 2 and len({str(m["To"]) for m in mails}) == 2
    assert errors.count("Booting worker") == 2
    records = [json.loads(line) for line in errors.splitlines() if line.startswith("{")]
    ran = [r["message"] for r in records if r["logger"] == "issuer.tasks.periodic" and " ran " in r["message"]]
    assert sum(str(REMIND) in message for message in ran) == 1          # one worker ran it, the other found it taken
    assert sum(str(PURGE) in message for message in ran) == 1
    assert not [r for r in records if r["level"] == "ERROR"], errors
