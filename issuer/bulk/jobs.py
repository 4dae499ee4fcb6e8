"""Bulk issuance jobs started from the web console: upload, dry run, confirm, progress, results.

    job_id = create_job(session, issuer, filename="awards.csv", raw=data, actor="staff:hana", now=now)
    start_job(sessions, settings, job_id, issuer_id, actor="staff:hana", clock=clock)   # True: started
    job.state, job.done, job.total, job.summary, job.result_csv

:func:`create_job` stores the upload and its dry run (:func:`issuer.bulk.run.validate_csv`): the
counts and, for every row in file order, its main cells and "ready", "already issued" or the
reason it is refused (the ``summary`` JSON). :func:`start_job` runs
:func:`issuer.bulk.run.issue_csv` in a background thread of this process, writing the progress to
the job row, then stores a result CSV (one line per row: its credential URL or its error).

Bulk issuance is idempotent, so a job that failed, or was left ``queued``/``running`` by a
server that stopped (no progress for :data:`STALL_SECONDS`), may simply be started again: rows
issued before are found and not issued twice. A job whose thread is alive in this process is
never started a second time, and the start itself is a conditional UPDATE (compare-and-set on
the state, progress and start time read), so two clicks, even on two server processes, start it once.
"""
from __future__ import annotations

import csv
import hashlib
import io
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from issuer.bulk import reading
from issuer.bulk import run as bulk
from issuer.config import Settings
from issuer.db.models import Issuer
from issuer.db.models_staff import BulkJob
from issuer.errors import IssuerError
from issuer.mail.outbox import send_after_commit
from issuer.runtime import Runtime
from verifier.errors import CredentialError

log = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 10 * 1024 * 1024          # as the REST API's bulk endpoint
MAX_TABLE_ROWS = 10_000                      # dry-run rows kept for the page; error rows beyond are kept too
MAX_FILENAME = 255
IN_PROCESS_ROWS = 300                        # up to this many rows: sign in the job's thread, no worker processes
RESULT_COLUMNS = ("line", "email", "achievement", "status", "award_id", "credential_url", "error")
TABLE_COLUMNS = ("email", "name", "achievement", "awarded_date")
UNEXPECTED = ("Issuing stopped because of an unexpected error (it is logged on the server). Awards issued before "
              "it stopped are kept; start the job again to issue the rest: nothing is issued twice.")

STALL_SECONDS = 120.0                        # queued/running with no progress this long: may be resumed

_threads: dict[str, threading.Thread] = {}
_seen: dict[str, tuple[tuple, float]] = {}   # job id -> ((state, done, started_at), when first seen so)
_threads_lock = threading.RLock()


class BulkJobError(Exception):
    """A problem the person uploading can fix (shown as is)."""


# --------------------------------------------------------------------------- the dry run

def dry_run_table(raw: bytes, report: reading.ValidationReport, existing: set[str]) -> tuple[list[dict], int]:
    """(rows for the page, rows left out): every data row in file order with its status.

    A row is ``ready``, ``already issued`` or ``error`` (with its ``reason``). Problems that are
    not about a data row (the header, a quote left open) appear as rows of their own. Beyond
    :data:`MAX_TABLE_ROWS` only error rows are kept (up to as many again).
    """
    cells, header_line = reading.read_cells(raw, TABLE_COLUMNS)
    reasons: dict[int, str] = {}
    for problem in report.problems:
        reasons.setdefault(problem.line, problem.reason)
    valid = {row.line: row for row in report.rows}
    header_bad = header_line is None or header_line in reasons
    lines = sorted(set(reasons) | (set() if header_bad else set(cells)))
    table, left_out = [], 0
    for line in lines:
        if line in reasons:
            status = "error"
        elif line in valid:
            status = "already issued" if valid[line].key in existing else "ready"
        else:
            continue            # not read by validate_csv (after a CSV error): not part of the file's rows
        if len(table) >= MAX_TABLE_ROWS and (status != "error" or len(table) >= 2 * MAX_TABLE_ROWS):
            left_out += 1
            continue
        row = {"line": line, **cells.get(line, dict.fromkeys(TABLE_COLUMNS, "")), "status": status}
        if status == "error":
            row["reason"] = reasons[line]
        table.append(row)
    return table, left_out


def clean_filename(name: str | None) -> str:
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    return (name or "upload.csv")[:MAX_FILENAME]


def create_job(session: Session, issuer: Issuer, *, filename: str | None, raw: bytes, actor: str,
               now: datetime, report: reading.ValidationReport | None = None) -> str:
    """Store an upload and its dry run; the job's id. Raises :class:`BulkJobError` for an
    empty or too large file (nothing is stored then). A file with bad rows is stored too: its
    page lists them (and it cannot be started). ``report``: the file's dry run when the caller
    has just made it (it is not made again)."""
    if len(raw) > MAX_UPLOAD_BYTES:
        raise BulkJobError(f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MiB. "
                           "Split it into smaller files and upload them one by one.")
    if not raw.strip():
        raise BulkJobError("The file is empty. Choose a CSV file with a header row and one row per award.")
    report = report or reading.validate_csv(raw, session, issuer, now=now)
    table, left_out = dry_run_table(raw, report, report.existing_keys)
    summary = {"rows": report.total_rows, "ready": report.to_issue, "already_issued": report.already_issued,
               "errors": len(report.problems), "table": table, "left_out": left_out}
    job = BulkJob(issuer_id=issuer.id, created_by=actor, filename=clean_filename(filename), source=raw,
                  source_sha256=hashlib.sha256(raw).hexdigest(), state="validated", total=report.total_rows,
                  done=0, summary=summary, created_at=now)
    session.add(job)
    session.flush()
    return job.id


# --------------------------------------------------------------------------- reading jobs

def get_job(session: Session, issuer_id: str, job_id: str) -> BulkJob | None:
    """The job, if it is one of this issuer's."""
    job = session.get(BulkJob, job_id) if isinstance(job_id, str) and len(job_id) <= 36 else None
    return job if job is not None and job.issuer_id == issuer_id else None


def recent_jobs(session: Session, issuer_id: str, limit: int = 20) -> list[dict]:
    """The latest jobs (newest first), without their files: id, filename, state, counts, who, when."""
    rows = session.execute(select(BulkJob.id, BulkJob.filename, BulkJob.state, BulkJob.total, BulkJob.done,
                                  BulkJob.created_by, BulkJob.created_at, BulkJob.finished_at)
                           .where(BulkJob.issuer_id == issuer_id)
                           .order_by(BulkJob.created_at.desc(), BulkJob.id).limit(limit)).all()
    return [row._asdict() for row in rows]


def counts(summary: dict | None) -> dict:
    """The summary without its table (what the progress JSON and the job list show)."""
    return {k: v for k, v in (summary or {}).items() if k != "table"}


def is_running_here(job_id: str) -> bool:
    with _threads_lock:
        thread = _threads.get(job_id)
        return thread is not None and thread.is_alive()


def stalled(job: BulkJob) -> bool:
    """True when this process has seen the job queued/running with no progress for :data:`STALL_SECONDS`
    (and does not run it itself): its server probably stopped. Measured from the first time this
    process looked, so it needs no clock shared between processes."""
    if job.state not in ("queued", "running") or is_running_here(job.id):
        return False
    mark, now = (job.state, job.done, job.started_at), time.monotonic()
    with _threads_lock:
        seen = _seen.get(job.id)
        if seen is None or seen[0] != mark:
            _seen[job.id] = seen = (mark, now)
    return now - seen[1] >= STALL_SECONDS


def can_start(job: BulkJob) -> bool:
    """A clean dry run not started yet, or a job that stopped (failed, or stalled: its server
    stopped) and can be resumed; never one whose thread runs in this process."""
    if (job.summary or {}).get("errors") or is_running_here(job.id):
        return False
    return job.state in ("validated", "failed") or stalled(job)


def wait(job_id: str, timeout: float | None = None) -> bool:
    """Wait for the job's thread in this process (tests, shutdown); True when none is running."""
    with _threads_lock:
        thread = _threads.get(job_id)
    if thread is not None:
        thread.join(timeout)
        return not thread.is_alive()
    return True


# --------------------------------------------------------------------------- running

def start_job(sessions: sessionmaker[Session], settings: Settings, job_id: str, issuer_id: str, *, actor: str,
              clock: Callable[[], datetime]) -> bool:
    """Start (or resume) issuing the job in a background thread; False when it may not start
    (bad rows, already done, running in this process, or someone else started it first)."""
    with _threads_lock:
        with sessions.begin() as session:
            job = get_job(session, issuer_id, job_id)
            if job is None or not can_start(job):
                return False
            # compare-and-set: of two concurrent starts only one finds the row as it read it
            claimed = session.execute(
                update(BulkJob).where(BulkJob.id == job.id, BulkJob.state == job.state,
                                      BulkJob.done == job.done, _same(BulkJob.started_at, job.started_at))
                .values(state="queued", started_at=clock(), finished_at=None, error=None)
                .execution_options(synchronize_session=False)).rowcount
            issuer_did = session.get(Issuer, issuer_id).did
        if claimed != 1:
            return False
        thread = threading.Thread(target=_run, name=f"bulk-job-{job_id}", daemon=True,
                                  args=(sessions, settings, job_id, issuer_did, actor, clock))
        _threads[job_id] = thread
        thread.start()
    return True


def _same(column, value):
    return column.is_(None) if value is None else column == value


def _set(sessions: sessionmaker[Session], job_id: str, **values) -> None:
    with sessions.begin() as session:
        session.execute(update(BulkJob).where(BulkJob.id == job_id).values(**values)
                        .execution_options(synchronize_session=False))


def _run(sessions: sessionmaker[Session], settings: Settings, job_id: str, issuer_did: str, actor: str,
         clock: Callable[[], datetime]) -> None:
    try:
        with sessions() as session:
            job = session.get(BulkJob, job_id)
            raw, summary, total, filename = job.source, dict(job.summary or {}), job.total, job.filename
        _set(sessions, job_id, state="running", done=0)

        def progress(done: int, rows: int) -> None:
            _set(sessions, job_id, done=done, total=rows)

        result = bulk.issue_csv(raw, Runtime(settings, sessions, clock), actor=actor, progress=progress,
                                workers=0 if total <= IN_PROCESS_ROWS else None, now=clock(),
                                source_name=f"upload {filename} (bulk job {job_id})")
        if not result.started:
            _finish_invalid(sessions, job_id, summary, raw, result.report, clock)
            return
        summary.update(issued=result.issued, already_issued=result.already_issued, ready=0, errors=0,
                       seconds=round(result.seconds, 1))
        _set(sessions, job_id, state="done", done=len(result.awards), summary=summary,
             result_csv=result_csv(result), finished_at=clock(), error=None)
    except (IssuerError, CredentialError) as exc:     # a plain message meant for people
        log.warning("bulk job %s failed: %s", job_id, exc, exc_info=True)
        _fail(sessions, job_id, f"Issuing stopped: {exc}. Awards issued before it stopped are kept; start the job "
                                "again to issue the rest: nothing is issued twice.", clock)
    except Exception:   # noqa: BLE001 - logged with its traceback; the page shows a plain message
        log.exception("bulk job %s failed", job_id)
        _fail(sessions, job_id, UNEXPECTED, clock)
    finally:
        _after_run(sessions, settings)


def _after_run(sessions: sessionmaker[Session], settings: Settings) -> None:
    send_after_commit(sessions, settings)   # the award emails queued with each chunk; never raises


def _fail(sessions, job_id: str, message: str, clock) -> None:
    try:
        _set(sessions, job_id, state="failed", error=message, finished_at=clock())
    except Exception:   # noqa: BLE001 - the database itself is failing: the job stays resumable
        log.exception("bulk job %s: could not record its failure", job_id)


def _finish_invalid(sessions, job_id: str, summary: dict, raw: bytes, report: reading.ValidationReport,
                    clock) -> None:
    """The file was clean at upload but not any more (e.g. an achievement was deleted meanwhile)."""
    table, left_out = dry_run_table(raw, report, report.existing_keys)
    summary.update(table=table, left_out=left_out, errors=len(report.problems))
    first = report.problems[0]
    more = f" and {len(report.problems) - 1} more" if len(report.problems) > 1 else ""
    _set(sessions, job_id, state="failed", summary=summary, finished_at=clock(),
         error=f"Nothing was issued: the file is no longer valid ({first}{more}). Fix it and upload it again.")


# --------------------------------------------------------------------------- the result CSV

def safe_cell(value) -> str:
    """A CSV cell a spreadsheet shows as text: a leading = + - @ (tab, CR) gets a ' before it."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(bulk.FORMULA_START) else text


def result_csv(result: bulk.BulkResult) -> bytes:
    """One line per row of the file: line, email, achievement, status, award_id, credential_url, error."""
    requests = {row.line: row.request for row in result.report.rows}
    awards = {award.line: award for award in result.awards}
    errors = {problem.line: problem.reason for problem in result.report.problems}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(RESULT_COLUMNS)
    for line in sorted(set(requests) | set(errors)):
        request, award = requests.get(line), awards.get(line)
        email, achievement = (request.email, request.achievement) if request is not None else ("", "")
        if award is not None:
            row = (line, email, achievement, "issued" if award.created else "already issued", award.award_id,
                   award.credential_url, "")
        else:
            row = (line, email, achievement, "error", "", "", errors.get(line, "not issued"))
        writer.writerow([safe_cell(cell) for cell in row])
    return out.getvalue().encode("utf-8")


TEMPLATE_CSV = ("email,name,employee_id,achievement,evidence_url,evidence_narrative,awarded_date,external_id\r\n"
                "alex.doe@example.com,Alex Doe,E1001,{slug},https://example.com/evidence/1,"
                "Led the onboarding project,2026-03-31,hr-2026-0001\r\n")


def template_csv(session: Session, issuer: Issuer) -> bytes:
    """A small example file naming one of the issuer's achievements."""
    from issuer.db.models import Achievement

    slug = session.scalar(select(Achievement.slug).where(Achievement.issuer_id == issuer.id)
                          .order_by(Achievement.slug).limit(1)) or "your-achievement-slug"
    return ("\ufeff" + TEMPLATE_CSV.format(slug=slug)).encode("utf-8")
