"""The PostgreSQL task queue with real ``microcred worker`` processes (issue 15 §1).

Each test gets a throwaway database on the suite's PostgreSQL server, issuer apps built with
``MICROCRED_QUEUE=postgres`` (their background work goes to the queue, never to a thread) and
worker processes started with ``microcred worker``. A worker is killed with SIGKILL (with the
signing processes it started) to show that its job is finished by another worker, with every
row issued once. Skipped without PostgreSQL locally, failing under CI=true (tests/db_fixtures.py).
"""
from __future__ import annotations

import collections
import json

import psycopg
import pytest
from sqlalchemy import func, select

from issuer.access.tokens import create_token
from issuer.db.models import Award, OutboxMessage, Recipient, StatusAllocation
from issuer.db.models_staff import BulkJob
from issuer.tasks.pg_queue import QUEUE_SCHEMA, PostgresQueue, conninfo
from issuer.tasks.queue import InlineQueue
from tests.admin_support import Console, add_staff, console_app
from tests.db_fixtures import throwaway_database
from tests.issuer.tasks.worker_support import (
    kill_hard,
    queue_app,
    start_worker,
    stop,
    wait_until,
)

pytestmark = pytest.mark.xdist_group("pg-queue")

ROWS = 3000
DEADLINE = 240


def csv_rows(count: int, prefix: str = "p") -> bytes:
    lines = ["email,name,achievement,external_id"]
    lines += [f"{prefix}-row{i}@example.com,Person {i},team-leadership,{prefix}-{i}" for i in range(count)]
    return ("\r\n".join(lines) + "\r\n").encode()


@pytest.fixture()
def database(postgres_url):
    with throwaway_database(postgres_url, "microcred_q") as url:
        yield url


@pytest.fixture()
def two_apps(tmp_path, database):
    """Two app servers' apps (separate processes' worth of state) on one database and one keys folder."""
    first = queue_app(tmp_path, database)
    second = queue_app(tmp_path, database, demo=False)
    yield first, second


def use(app):
    return app.extensions["microcred"].use


def job_row(app, job_id: str) -> BulkJob:
    with app.extensions["microcred"].sessions() as session:
        job = session.get(BulkJob, job_id)
        session.expunge(job)
        return job


def awards_by_key(app, prefix: str = "p") -> collections.Counter[str]:
    """Awards per recipient address of the test's rows (a row issued twice would count 2)."""
    with app.extensions["microcred"].sessions() as session:
        return collections.Counter(session.scalars(
            select(Recipient.email).join(Award, Award.recipient_id == Recipient.id)
            .where(Recipient.email.like(f"{prefix}-row%@example.com"))))


def outbox_count(app, kind: str = "awarded") -> int:
    with app.extensions["microcred"].sessions() as session:
        return session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == kind)) or 0


def test_app_servers_queue_work_instead_of_running_it(two_apps):
    first, second = two_apps
    assert isinstance(first.extensions["microcred"].use.runtime.queue, PostgresQueue)
    job_id = use(first).bulk.upload(csv_rows(5), filename="five.csv", actor="staff:ann").id
    assert use(first).bulk.start(job_id, actor="staff:ann")
    job = job_row(second, job_id)                     # no worker runs: it waits in the queue, seen from B
    assert job.state == "queued" and job.done == 0
    assert use(second).bulk.page(job_id).can_start is False       # nobody can start it twice meanwhile
    with psycopg.connect(conninfo(first.extensions["microcred"].use.runtime.settings.database_url)) as db:
        waiting = db.execute(f"SELECT task_name, args FROM {QUEUE_SCHEMA}.procrastinate_jobs "
                             "WHERE status = 'todo'").fetchall()
    assert [(name, args["job_id"]) for name, args in waiting] == [("microcred.bulk_job", job_id)]


def test_a_worker_killed_mid_job_loses_nothing_and_duplicates_nothing(tmp_path, two_apps, database):
    first, second = two_apps
    job_id = use(first).bulk.upload(csv_rows(ROWS), filename="big.csv", actor="staff:ann").id
    worker = start_worker(tmp_path, database)
    try:
        assert use(second).bulk.start(job_id, actor="staff:ann")           # started through the other server
        wait_until(lambda: 0 < job_row(first, job_id).done < ROWS - 500, DEADLINE, "the job's first chunks")
        kill_hard(worker)
        killed_at = job_row(first, job_id)
        assert killed_at.state == "running" and 0 < killed_at.done < ROWS, "the kill did not land mid-job"
        partial = sum(awards_by_key(first).values())
        assert 0 < partial < ROWS
        worker = start_worker(tmp_path, database)                         # another worker takes it over
        finished = wait_until(lambda: (job := job_row(second, job_id)).state == "done" and job, DEADLINE,
                              "the second worker to finish the job")
    finally:
        stop(worker)
    keys = awards_by_key(first)
    assert len(keys) == ROWS and set(keys.values()) == {1}                # every row once
    assert finished.done == ROWS and finished.summary["issued"] + finished.summary["already_issued"] == ROWS
    assert finished.summary["already_issued"] >= partial                  # the rows before the kill were kept
    assert outbox_count(first) == ROWS                                    # one award email each, none twice
    lines = finished.result_csv.decode().splitlines()[1:]
    assert len(lines) == ROWS and all((",issued," in line or ",already issued," in line) for line in lines)


def test_cancel_on_one_server_stops_the_worker_and_start_again_finishes(tmp_path, two_apps, database):
    first, second = two_apps
    job_id = use(first).bulk.upload(csv_rows(ROWS, "c"), filename="cancel.csv", actor="staff:ann").id
    worker = start_worker(tmp_path, database)
    try:
        assert use(first).bulk.start(job_id, actor="staff:ann")
        wait_until(lambda: 0 < job_row(second, job_id).done < ROWS - 500, DEADLINE, "the job's first chunks")
        assert use(second).bulk.cancel(job_id, actor="staff:ben")
        stopped = wait_until(lambda: (job := job_row(first, job_id)).state == "cancelled" and job, DEADLINE,
                             "the worker to stop")
        assert stopped.done < ROWS and "Cancelled after" in stopped.error
        issued = sum(awards_by_key(first, "c").values())
        assert issued < ROWS and issued == stopped.done
        page = use(first).bulk.page(job_id)
        assert page.can_start and not page.can_cancel
        assert use(first).bulk.start(job_id, actor="staff:ann")           # resume: the rest, not the start again
        wait_until(lambda: job_row(second, job_id).state == "done", DEADLINE, "the resumed job")
    finally:
        stop(worker)
    keys = awards_by_key(first, "c")
    assert len(keys) == ROWS and set(keys.values()) == {1}
    assert job_row(first, job_id).summary["already_issued"] == issued


def test_emails_are_sent_by_the_worker_not_the_app_server(tmp_path, two_apps, database):
    first, _ = two_apps
    issued = use(first).awards.issue({"achievement": "team-leadership", "email": "mail@example.com",
                                      "name": "Mail Person"}, actor="api:t")
    assert use(first).awards.deliver_mail() is None                        # handed over, nothing sent here

    def sent() -> bool:
        with first.extensions["microcred"].sessions() as session:
            row = session.scalars(select(OutboxMessage).where(OutboxMessage.award_id == issued.award.id)).one()
            return row.sent_at is not None
    assert not sent()
    worker = start_worker(tmp_path, database)
    try:
        wait_until(sent, DEADLINE, "the worker to send the award email")
    finally:
        stop(worker)
    assert list((tmp_path / "instance").rglob("*.eml")), "the email was written by the worker's transport"


def test_periodic_tasks_run_once_per_tick_with_two_workers(tmp_path, two_apps, database):
    workers = [start_worker(tmp_path, database), start_worker(tmp_path, database)]
    try:
        def ticks() -> list[int]:
            with psycopg.connect(conninfo(database)) as db:
                if db.execute("SELECT to_regclass(%s)", (f"{QUEUE_SCHEMA}.procrastinate_jobs",)).fetchone()[0] is None:
                    return []                          # the first worker has not created the queue yet
                rows = db.execute(f"SELECT args FROM {QUEUE_SCHEMA}.procrastinate_jobs "
                                  "WHERE task_name = 'microcred.retry_stalled'").fetchall()
            return [args["timestamp"] for (args,) in rows]
        wait_until(lambda: len(ticks()) >= 4, DEADLINE, "four ticks of the every-second schedule")
        assert all(worker.poll() is None for worker in workers), "both workers ran the whole time"
    finally:
        for worker in workers:
            stop(worker)
    seen = ticks()
    assert len(seen) == len(set(seen)), f"a tick ran twice: {sorted(seen)}"


def test_the_embedded_default_needs_no_queue_server(tmp_path):
    app = console_app(tmp_path, f"sqlite:///{tmp_path / 'm.db'}", demo=True)
    assert isinstance(use(app).runtime.queue, InlineQueue)
    job_id = use(app).bulk.upload(csv_rows(3, "e"), filename="e.csv", actor="staff:ann").id
    assert use(app).bulk.start(job_id, actor="staff:ann")
    assert use(app).bulk.wait(job_id, DEADLINE)
    assert job_row(app, job_id).state == "done"
    assert json.loads(json.dumps(job_row(app, job_id).summary))["issued"] == 3


def test_readiness_and_metrics_report_the_queue_and_its_workers(tmp_path, two_apps, database):
    first, second = two_apps
    job_id = use(first).bulk.upload(csv_rows(2, "r"), filename="r.csv", actor="staff:ann").id
    assert use(first).bulk.start(job_id, actor="staff:ann")
    answer = second.test_client().get("/readyz")
    assert answer.status_code == 200
    queue = answer.get_json()["checks"]["task_queue"]
    assert queue == {"ok": True, "required": True, "queue": "postgres", "bulk_waiting": 1, "bulk_running": 0,
                     "waiting": 1, "running": 0, "failed": 0, "workers": 0}
    worker = start_worker(tmp_path, database)
    try:
        wait_until(lambda: job_row(first, job_id).state == "done", DEADLINE, "the worker to run the job")
        live = second.test_client().get("/readyz").get_json()["checks"]["task_queue"]
        assert live["workers"] == 1 and live["bulk_waiting"] == 0 and live["bulk_running"] == 0
        metrics = second.test_client().get("/metrics").get_data(as_text=True)
        assert 'microcred_queue_tasks{state="workers"} 1.0' in metrics
    finally:
        stop(worker)


def test_readiness_reports_the_inline_queue_without_requiring_it(tmp_path):
    app = console_app(tmp_path, f"sqlite:///{tmp_path / 'm.db'}", demo=True)
    queue = app.test_client().get("/readyz").get_json()["checks"]["task_queue"]
    assert queue == {"ok": True, "required": False, "queue": "inline", "bulk_waiting": 0, "bulk_running": 0}


def test_cancel_and_start_again_through_the_api_and_the_console(two_apps):
    first, second = two_apps
    with first.extensions["microcred"].sessions.begin() as session:
        token = create_token(session, scope="issue", name="bulk")[1]
    api = second.test_client()
    auth = {"Authorization": f"Bearer {token}"}
    job_id = use(first).bulk.upload(csv_rows(4, "a"), filename="a.csv", actor="staff:ann").id
    assert api.post(f"/api/v1/bulk-jobs/{job_id}/cancel", headers=auth).status_code == 409   # not started
    started = api.post(f"/api/v1/bulk-jobs/{job_id}/start", headers=auth)
    assert started.status_code == 202 and started.get_json()["state"] == "queued"      # no worker: it waits
    refused = api.post(f"/api/v1/bulk-jobs/{job_id}/start", headers=auth)
    assert refused.status_code == 409 and refused.get_json()["code"] == "bulk_job_not_startable"
    cancelled = api.post(f"/api/v1/bulk-jobs/{job_id}/cancel", headers=auth)
    assert cancelled.status_code == 202 and cancelled.get_json()["state"] == "cancelled"
    assert job_row(first, job_id).summary["cancelled_by"].startswith("api:")
    add_staff(first, "hana", "issuer")
    console = Console(first).login("hana")
    assert console.post(f"/admin/bulk/{job_id}/confirm", token_from=f"/admin/bulk/{job_id}").status_code == 303
    assert job_row(second, job_id).state == "queued"
    page = console.get(f"/admin/bulk/{job_id}").get_data(as_text=True)
    assert "Waiting for a worker" in page and "Cancel issuing" in page
    assert console.post(f"/admin/bulk/{job_id}/cancel", token_from=f"/admin/bulk/{job_id}").status_code == 303
    assert job_row(second, job_id).state == "cancelled"
    assert "Cancelled after 0 row(s)" in console.get(f"/admin/bulk/{job_id}").get_data(as_text=True)


def test_two_workers_issue_concurrent_jobs_without_a_shared_status_index(tmp_path, two_apps, database):
    """Two workers each running a bulk job at once: each chunk claims its status indexes before it is
    signed, so the workers never draw the same index (before claims, nearly every chunk collided with
    the other worker's and jobs failed after five retries)."""
    first, _ = two_apps
    ids = [use(first).bulk.upload(csv_rows(1000, f"k{n}"), filename=f"k{n}.csv", actor="staff:ann").id
           for n in range(4)]
    logs = [tmp_path / "claims-1.log", tmp_path / "claims-2.log"]
    workers = [start_worker(tmp_path, database, log=log) for log in logs]
    try:
        for job_id in ids:
            assert use(first).bulk.start(job_id, actor="staff:ann")
        wait_until(lambda: all(job_row(first, job_id).state in ("done", "failed") for job_id in ids), DEADLINE,
                   "the four jobs")
    finally:
        for worker in workers:
            stop(worker)
    assert [(job_row(first, job_id).state, job_row(first, job_id).error) for job_id in ids] == [("done", None)] * 4
    with first.extensions["microcred"].sessions() as session:
        rows = session.execute(select(StatusAllocation.list_id, StatusAllocation.index, StatusAllocation.award_id)
                               .join(Award, Award.id == StatusAllocation.award_id)
                               .join(Recipient, Recipient.id == Award.recipient_id)
                               .where(Recipient.email.like("k%-row%@example.com"))).all()
        unowned = session.scalar(select(func.count()).select_from(StatusAllocation)
                                 .where(StatusAllocation.award_id.is_(None),
                                        StatusAllocation.vcapi_credential_id.is_(None)))
    assert len(rows) == 2 * 4000 and len({award for _, _, award in rows}) == 4000
    assert unowned == 0                                               # every claim owned or given back
    assert not [log for log in logs if "planned again" in log.read_text()]   # no chunk ever collided
