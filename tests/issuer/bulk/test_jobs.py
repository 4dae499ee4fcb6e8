"""Bulk issuance jobs (issuer.bulk.jobs through BulkService): dry run, background run, results, resuming.

Run on SQLite and PostgreSQL (the ``db_url`` fixture), on an app seeded with the demo data.
"""
from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import func, select, update

from issuer.awards.credentials import credential_url
from issuer.awards.request import AwardRequest
from issuer.bulk import jobs as bulk_jobs
from issuer.bulk import reading
from issuer.bulk import run as bulk
from issuer.db.models import Achievement, AuditEntry, Award
from issuer.db.models_staff import BulkJob
from issuer.errors import Conflict
from tests.admin_support import console_app

DEADLINE = 180          # seconds to wait for a job's thread; never a timing assertion

GOOD = (b"email,name,achievement,awarded_date,external_id\r\n"
        b"ana@example.com,Ana Lopez,team-leadership,2026-01-15,hr-1\r\n"
        b"ben@example.com,Ben Okafor,coaching-feedback,2026-02-01,hr-2\r\n"
        b"cho@example.com,Cho Park,team-leadership,,hr-3\r\n")
BAD = GOOD + b"dee@example.com,Dee,no-such-badge,2026-02-01,hr-4\r\n"


@pytest.fixture()
def app(tmp_path, db_url):
    app = console_app(tmp_path, db_url, demo=True)
    yield app
    assert jobs(app).wait_all(DEADLINE)


def web(app):
    return app.extensions["microcred"]


def jobs(app) -> bulk_jobs.BulkJobs:
    """The app's bulk jobs (one BulkJobs per process: the one of its BulkService)."""
    return web(app).use.bulk.jobs


def upload(app, data: bytes, filename: str = "awards.csv") -> str:
    return web(app).use.bulk.upload(data, filename=filename, actor="staff:hana").id


def start(app, job_id: str) -> bool:
    return web(app).use.bulk.start(job_id, actor="staff:hana")


def run(app, job_id: str) -> BulkJob:
    assert start(app, job_id)
    assert web(app).use.bulk.wait(job_id, DEADLINE), "the job did not finish"
    return load(app, job_id)


def load(app, job_id: str) -> BulkJob:
    with web(app).sessions() as session:
        job = session.get(BulkJob, job_id)
        session.expunge(job)
        return job


def award_count(app) -> int:
    with web(app).sessions() as session:
        return session.scalar(select(func.count()).select_from(Award))


def results(job: BulkJob) -> list[dict]:
    return list(csv.DictReader(io.StringIO(job.result_csv.decode("utf-8"))))


def test_dry_run_table_lists_every_row_with_its_status_or_reason(app):
    before = award_count(app)
    job = load(app, upload(app, BAD + b"=eve@example.com,=HYPERLINK(\"x\"),team-leadership,,hr-5\r\n"))
    assert job.state == "validated" and job.total == 5 and job.done == 0
    assert job.filename == "awards.csv" and job.source == BAD + b"=eve@example.com,=HYPERLINK(\"x\"),team-leadership,,hr-5\r\n"
    table = job.summary["table"]
    assert [(r["line"], r["email"], r["status"]) for r in table] == [
        (2, "ana@example.com", "ready"), (3, "ben@example.com", "ready"), (4, "cho@example.com", "ready"),
        (5, "dee@example.com", "error"), (6, "=eve@example.com", "error")]
    assert table[0] == {"line": 2, "email": "ana@example.com", "name": "Ana Lopez", "achievement": "team-leadership",
                        "awarded_date": "2026-01-15", "status": "ready"}
    assert table[3]["reason"] == "There is no achievement 'no-such-badge'."
    assert "spreadsheet would run it as a formula" in table[4]["reason"]
    assert {k: job.summary[k] for k in ("rows", "ready", "already_issued", "errors")} == \
        {"rows": 5, "ready": 3, "already_issued": 0, "errors": 2}
    assert award_count(app) == before      # a dry run issues nothing


def test_header_problems_and_unreadable_files_are_rows_of_the_table(app):
    job = load(app, upload(app, b"email;achievement\r\nana@example.com;team-leadership\r\n"))
    assert [(r["line"], r["status"]) for r in job.summary["table"]] == [(1, "error")]
    assert "separated by ';'" in job.summary["table"][0]["reason"]
    assert job.summary["errors"] == 1 and not jobs(app).can_start(job)


def test_empty_or_too_large_uploads_are_refused_and_store_nothing(app, monkeypatch):
    with pytest.raises(bulk_jobs.BulkJobError, match="empty"):
        upload(app, b"  \r\n")
    monkeypatch.setattr(bulk_jobs, "MAX_UPLOAD_BYTES", len(GOOD) - 1)
    with pytest.raises(bulk_jobs.BulkJobError, match="larger than"):
        upload(app, GOOD)
    with web(app).sessions() as session:
        assert session.scalar(select(func.count()).select_from(BulkJob)) == 0


def test_table_is_capped_but_keeps_error_rows(app, monkeypatch):
    monkeypatch.setattr(bulk_jobs, "MAX_TABLE_ROWS", 2)
    job = load(app, upload(app, BAD))
    assert [(r["line"], r["status"]) for r in job.summary["table"]] == [(2, "ready"), (3, "ready"), (5, "error")]
    assert job.summary["left_out"] == 1 and job.summary["rows"] == 4


def test_confirm_issues_every_row_and_stores_a_result_csv_of_stored_awards(app):
    before = award_count(app)
    job = run(app, upload(app, GOOD))
    assert (job.state, job.done, job.total, job.error) == ("done", 3, 3, None)
    assert job.started_at is not None and job.finished_at is not None
    assert job.summary["issued"] == 3 and job.summary["already_issued"] == 0
    assert award_count(app) == before + 3
    rows = results(job)
    assert list(rows[0]) == list(bulk_jobs.RESULT_COLUMNS)
    assert [(r["line"], r["email"], r["achievement"], r["status"], r["error"]) for r in rows] == [
        ("2", "ana@example.com", "team-leadership", "issued", ""),
        ("3", "ben@example.com", "coaching-feedback", "issued", ""),
        ("4", "cho@example.com", "team-leadership", "issued", "")]
    with web(app).sessions() as session:
        for row in rows:
            award = session.get(Award, row["award_id"])
            assert award is not None and award.credential
            assert row["credential_url"] == credential_url(web(app).settings, award.id)
            assert award.recipient.email == row["email"]
        issued = session.scalars(select(AuditEntry).where(AuditEntry.award_id == rows[0]["award_id"])).one()
        assert issued.actor == "staff:hana"
        assert issued.details["bulk"] == f"upload awards.csv (bulk job {job.id})"
    client = app.test_client()
    for row in rows:
        path = row["credential_url"].removeprefix(web(app).settings.base_url)
        assert client.get(path, headers={"Accept": "application/ld+json"}).status_code == 200


def test_the_same_file_again_finds_every_row_already_issued_and_issues_nothing(app):
    first = run(app, upload(app, GOOD))
    count = award_count(app)
    again = load(app, upload(app, GOOD, "awards-again.csv"))
    assert [r["status"] for r in again.summary["table"]] == ["already issued"] * 3
    assert again.summary["ready"] == 0 and again.summary["already_issued"] == 3 and again.summary["errors"] == 0
    again = run(app, again.id)
    assert again.state == "done" and again.summary["issued"] == 0 and again.summary["already_issued"] == 3
    assert award_count(app) == count
    assert [r["status"] for r in results(again)] == ["already issued"] * 3
    assert [r["award_id"] for r in results(again)] == [r["award_id"] for r in results(first)]


def test_a_file_with_bad_rows_cannot_be_started(app):
    before = award_count(app)
    job_id = upload(app, BAD)
    assert not start(app, job_id)
    job = load(app, job_id)
    assert job.state == "validated" and job.started_at is None and not jobs(app).is_running_here(job_id)
    assert award_count(app) == before


def test_starting_twice_runs_once(app):
    job_id = upload(app, GOOD)
    before = award_count(app)
    assert start(app, job_id)
    assert not start(app, job_id)            # running here, or already done
    assert web(app).use.bulk.wait(job_id, DEADLINE)
    assert not start(app, job_id)            # done: never again
    job = load(app, job_id)
    assert job.state == "done" and job.summary["issued"] == 3
    assert award_count(app) == before + 3


def test_another_process_does_not_start_a_job_that_is_making_progress(app):
    before = award_count(app)
    job_id = upload(app, GOOD)
    with web(app).sessions.begin() as session:      # as if a thread of another server process runs it
        session.execute(update(BulkJob).where(BulkJob.id == job_id).values(state="running", done=1,
                                                                           started_at=web(app).clock()))
    assert not start(app, job_id)
    assert load(app, job_id).state == "running" and award_count(app) == before


def test_a_job_left_running_by_a_stopped_server_can_be_resumed_and_issues_nothing_twice(app, monkeypatch):
    run(app, upload(app, GOOD))
    count = award_count(app)
    more = GOOD + (b"dee@example.com,Dee,team-leadership,2026-02-01,hr-4\r\n"
                   b"eve@example.com,Eve,coaching-feedback,2026-02-01,hr-5\r\n")
    job_id = upload(app, more)
    with web(app).sessions.begin() as session:      # its server stopped after the first three rows
        session.execute(update(BulkJob).where(BulkJob.id == job_id).values(state="running", done=3,
                                                                           started_at=web(app).clock()))
    assert not jobs(app).can_start(load(app, job_id))      # not stalled yet: no Resume
    monkeypatch.setattr(bulk_jobs, "STALL_SECONDS", 0.0)
    assert jobs(app).can_start(load(app, job_id))
    job = run(app, job_id)
    assert job.state == "done" and job.summary["issued"] == 2 and job.summary["already_issued"] == 3
    assert award_count(app) == count + 2
    assert [r["status"] for r in results(job)] == ["already issued"] * 3 + ["issued"] * 2


def test_an_unexpected_failure_leaves_the_job_failed_with_a_plain_message(app, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("connection reset by peer at 0xdeadbeef")

    monkeypatch.setattr(bulk, "issue_csv", broken)
    job = run(app, upload(app, GOOD))
    assert job.state == "failed" and job.finished_at is not None and job.result_csv is None
    assert job.error == bulk_jobs.UNEXPECTED and "0xdeadbeef" not in job.error
    assert "connection reset" in caplog.text            # the details are in the log
    assert jobs(app).can_start(job)                     # and it may be started again
    monkeypatch.undo()
    assert run(app, job.id).state == "done"


def test_an_issuance_error_is_shown_with_its_message(app, monkeypatch):
    def rotated(*args, **kwargs):
        raise Conflict("the issuer's key was rotated during the run", code="key_rotated")

    monkeypatch.setattr(bulk, "issue_csv", rotated)
    job = run(app, upload(app, GOOD))
    assert job.state == "failed" and "the issuer's key was rotated during the run" in job.error


def test_a_file_that_is_no_longer_valid_when_started_fails_and_lists_the_rows(app):
    before = award_count(app)
    job_id = upload(app, GOOD)
    with web(app).sessions.begin() as session:      # meanwhile the achievement got a new slug
        session.execute(update(Achievement).where(Achievement.slug == "coaching-feedback")
                        .values(slug="coaching-and-feedback"))
    job = run(app, job_id)
    assert job.state == "failed" and "no longer valid" in job.error and "line 3" in job.error
    assert [(r["line"], r["status"]) for r in job.summary["table"]] == [(2, "ready"), (3, "error"), (4, "ready")]
    assert job.summary["errors"] == 1 and not jobs(app).can_start(job)
    assert award_count(app) == before


def test_result_csv_cells_are_neutralised_against_formulas():
    report = reading.ValidationReport()
    report.rows = [reading.BulkRow(2, AwardRequest(achievement="team-leadership", email="-x@example.com"), "a", "k")]
    result = bulk.BulkResult(report, started=True, issued=1,
                             awards=[bulk.BulkAward(2, "id-1", "https://hr.example.com/credentials/id-1", True)])
    rows = list(csv.reader(io.StringIO(bulk_jobs.result_csv(result).decode())))
    assert rows[1][:4] == ["2", "'-x@example.com", "team-leadership", "issued"]
    assert [bulk_jobs.safe_cell(v) for v in ("=1+1", "+1", "@SUM(A1)", "\tx", "plain", None)] == \
        ["'=1+1", "'+1", "'@SUM(A1)", "'\tx", "plain", ""]
