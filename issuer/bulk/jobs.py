"""Bulk issuance jobs (an upload, its dry run, its background run on the task queue, its results).

    jobs = BulkJobs(runtime, indexes)                    # one per process (BulkService holds it)
    job = jobs.create(session, issuer, filename="awards.csv", raw=data, actor="staff:hana")
    jobs.start(job.id, issuer.id, actor="staff:hana")    # True: handed to the task queue
    jobs.cancel(job.id, issuer.id, actor="staff:hana")   # True: stops after the chunk it is issuing
    jobs.run(job.id, actor)                              # the task itself (a worker, or a thread inline)
    job.state, job.done, job.total, job.summary, job.result_csv

:meth:`BulkJobs.create` stores the upload and its dry run (:func:`issuer.bulk.reading.validate_csv`):
the counts and, for every row in file order, its main cells and "ready", "already issued" or
the reason it is refused (the ``summary`` JSON). :meth:`BulkJobs.start` hands the
job to the runtime's task queue (:mod:`issuer.tasks`: a thread of this process by default, a
``microcred worker`` with the PostgreSQL queue), which calls :meth:`BulkJobs.run`:
:func:`issuer.bulk.run.issue_csv` with the runtime and the process's status indexes, writing
the progress to the job row, then a result CSV (one line per row: its credential URL or its
error), then the award emails queued. Everything a page shows is in the row, so any app server
shows any job's progress. :meth:`BulkJobs.cancel` asks a running job to stop: the progress
write after each chunk only succeeds while the row says ``running``, so the run stops at the
next chunk (``cancelling``, then ``cancelled``).

Bulk issuance is idempotent, so a job that failed or was cancelled may simply be started
again: rows issued before are found and not issued twice. With the PostgreSQL queue a job whose
worker died is given to another worker by the queue; with the in-process queue, a job left
``queued``/``running`` by a server that stopped (no progress for :data:`STALL_SECONDS`) may be
started again by hand. The start itself is a conditional UPDATE (compare-and-set on the state,
progress and start time read), so two clicks, even on two server processes, start it once.
"""
from __future__ import annotations

import csv
import hashlib
import io
import logging
import threading
import time
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from issuer.awards.allocation import StatusIndexes
from issuer.awards.rules import FORMULA_START
from issuer.bulk import reading
from issuer.bulk import run as bulk
from issuer.bulk.limits import MAX_UPLOAD_BYTES, BulkMode, mib
from issuer.db.models import Achievement, Issuer
from issuer.db.models_staff import BulkJob
from issuer.errors import InvalidInput, IssuerError
from issuer.runtime import Runtime
from issuer.tasks.names import QueueKind, TaskName
from issuer.tasks.queue import InlineQueue
from verifier.errors import CredentialError

log = logging.getLogger(__name__)

MAX_TABLE_ROWS = 10_000                      # dry-run rows kept for the page; error rows beyond are kept too
MAX_FILENAME = 255
IN_PROCESS_ROWS = 300                        # up to this many rows: sign in the job's thread, no worker processes
RESULT_COLUMNS = ("line", "email", "achievement", "status", "award_id", "credential_url", "error")
TABLE_COLUMNS = ("email", "name", "achievement", "awarded_date")
UNEXPECTED = ("Issuing stopped because of an unexpected error (it is logged on the server). Awards issued before "
              "it stopped are kept; start the job again to issue the rest: nothing is issued twice.")

STALL_SECONDS = 120.0                        # queued/running with no progress this long: may be resumed


class BulkJobError(InvalidInput):
    """An upload the person uploading can fix (shown as is): empty or too large."""

    default_code = "bulk_upload_invalid"


# --------------------------------------------------------------------------- the dry run

def dry_run_table(raw: bytes, report: reading.ValidationReport,
                  existing: set[str]) -> tuple[list[dict[str, Any]], int]:
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
    table: list[dict[str, Any]] = []
    left_out = 0
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
        row: dict[str, Any] = {"line": line, **cells.get(line, dict.fromkeys(TABLE_COLUMNS, "")), "status": status}
        if status == "error":
            row["reason"] = reasons[line]
        table.append(row)
    return table, left_out


def clean_filename(name: str | None) -> str:
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    return (name or "upload.csv")[:MAX_FILENAME]


def check_upload(raw: bytes) -> None:
    """Refuse an empty or too large upload (:class:`BulkJobError`)."""
    if len(raw) > MAX_UPLOAD_BYTES:
        raise BulkJobError(f"The file is larger than {mib(MAX_UPLOAD_BYTES)} MiB. "
                           "Split it into smaller files and upload them one by one.", code="too_large")
    if not raw.strip():
        raise BulkJobError("The file is empty. Choose a CSV file with a header row and one row per award.",
                           code="empty")


# --------------------------------------------------------------------------- reading jobs

def get_job(session: Session, issuer_id: str, job_id: str) -> BulkJob | None:
    """The job, if it is one of this issuer's."""
    job = session.get(BulkJob, job_id) if isinstance(job_id, str) and len(job_id) <= 36 else None
    return job if job is not None and job.issuer_id == issuer_id else None


def recent_jobs(session: Session, issuer_id: str, limit: int = 20) -> list[dict[str, Any]]:
    """The latest jobs (newest first), without their files: id, filename, state, counts, who, when."""
    rows = session.execute(select(BulkJob.id, BulkJob.filename, BulkJob.state, BulkJob.total, BulkJob.done,
                                  BulkJob.created_by, BulkJob.created_at, BulkJob.finished_at)
                           .where(BulkJob.issuer_id == issuer_id)
                           .order_by(BulkJob.created_at.desc(), BulkJob.id).limit(limit)).all()
    return [row._asdict() for row in rows]


def counts(summary: dict[str, Any] | None) -> dict[str, Any]:
    """The summary without its table (what the progress JSON and the job list show)."""
    return {k: v for k, v in (summary or {}).items() if k != "table"}


# --------------------------------------------------------------------------- the jobs of a process

class Cancelled(Exception):
    """The job was cancelled while it ran (raised from its progress callback between chunks)."""

    def __init__(self, done: int) -> None:
        super().__init__(f"cancelled after {done} rows")
        self.done = done                 # rows stored when it stopped


def job_lock(job_id: str) -> str:
    """The queue lock of a job's task: at most one waits, none runs twice at once."""
    return f"bulk:{job_id}"


class BulkJobs:
    """Creating, starting, cancelling and running bulk jobs (on the runtime's task queue)."""

    def __init__(self, runtime: Runtime, indexes: StatusIndexes) -> None:
        self.runtime = runtime
        self.indexes = indexes
        self._seen: dict[str, tuple[tuple[Any, ...], float]] = {}   # id -> ((state, done, started), first seen)
        self._lock = threading.RLock()

    def create(self, session: Session, issuer: Issuer, *, filename: str | None, raw: bytes, actor: str,
               report: reading.ValidationReport | None = None) -> BulkJob:
        """Store an upload and its dry run. Raises :class:`BulkJobError` for an empty or too large
        file (nothing is stored then). A file with bad rows is stored too: its page lists them
        (and it cannot be started). ``report``: the file's dry run when the caller has just made
        it (it is not made again)."""
        check_upload(raw)
        now = self.runtime.now()
        report = report or reading.validate_csv(raw, session, issuer, now=now)
        table, left_out = dry_run_table(raw, report, report.existing_keys)
        summary = {"rows": report.total_rows, "ready": report.to_issue, "already_issued": report.already_issued,
                   "errors": len(report.problems), "fatal": report.fatal, "table": table, "left_out": left_out}
        job = BulkJob(issuer_id=issuer.id, created_by=actor, filename=clean_filename(filename), source=raw,
                      source_sha256=hashlib.sha256(raw).hexdigest(), state="validated", total=report.total_rows,
                      done=0, summary=summary, created_at=now)
        session.add(job)
        session.flush()
        return job

    def is_running_here(self, job_id: str) -> bool:
        return self.runtime.queue.running_here(job_lock(job_id))

    def stalled(self, job: BulkJob) -> bool:
        """In-process queue only: True when this process has seen the job queued/running with no
        progress for :data:`STALL_SECONDS` (and does not run it itself): its server probably stopped.
        Measured from the first time this process looked, so it needs no clock shared between
        processes. (With the PostgreSQL queue the workers give a dead worker's job to another.)"""
        if self.runtime.queue.kind is not QueueKind.INLINE:
            return False
        if job.state not in ("queued", "running") or self.is_running_here(job.id):
            return False
        mark, now = (job.state, job.done, job.started_at), time.monotonic()
        with self._lock:
            seen = self._seen.get(job.id)
            if seen is None or seen[0] != mark:
                self._seen[job.id] = seen = (mark, now)
        return now - seen[1] >= STALL_SECONDS

    def can_start(self, job: BulkJob, mode: BulkMode | None = None) -> bool:
        """A dry run not started yet, or a job that stopped (failed, cancelled, or stalled: its
        server stopped) and can be resumed; never one that runs in this process. A file with bad
        rows only in ``valid-rows`` mode (``mode``, or the mode it was started in), when it has
        valid rows and no problem with the file as a whole."""
        if self.is_running_here(job.id):
            return False
        summary = job.summary or {}
        if summary.get("errors"):
            chosen = mode or BulkMode(summary.get("mode", BulkMode.ALL_OR_NOTHING))
            valid = summary.get("ready", 0) + summary.get("already_issued", 0)
            if chosen is not BulkMode.VALID_ROWS or summary.get("fatal") or not valid:
                return False
        return job.state in ("validated", "failed", "cancelled") or self.stalled(job)

    @staticmethod
    def can_cancel(job: BulkJob) -> bool:
        return job.state in ("queued", "running")

    def wait(self, job_id: str, timeout: float | None = None) -> bool:
        """Wait for the job's thread in this process (in-process queue; tests, shutdown); True when none runs."""
        queue = self.runtime.queue
        return queue.wait(job_lock(job_id), timeout) if isinstance(queue, InlineQueue) else True

    def wait_all(self, timeout: float | None = None) -> bool:
        """Wait for every task thread of this process (each up to ``timeout``); True when none runs."""
        queue = self.runtime.queue
        return queue.wait_all(timeout) if isinstance(queue, InlineQueue) else True

    # ---- starting and cancelling (compare-and-set on the row: any server, any number of clicks)

    def start(self, job_id: str, issuer_id: str, *, actor: str, mode: BulkMode | None = None) -> bool:
        """Start (or resume) issuing the job on the task queue; False when it may not start (bad
        rows in all-or-nothing mode, already done, running, or someone else started it first).
        ``mode``: what to do with its bad rows (default: the mode it was started in before, else
        all-or-nothing)."""
        with self._lock:
            with self.runtime.transaction() as session:
                job = get_job(session, issuer_id, job_id)
                if job is None or not self.can_start(job, mode):
                    return False
                summary = dict(job.summary or {})
                summary["mode"] = str(mode or summary.get("mode") or BulkMode.ALL_OR_NOTHING)
                summary.pop("cancelled_by", None)
                # compare-and-set: of two concurrent starts only one finds the row as it read it
                result = session.execute(
                    update(BulkJob).where(BulkJob.id == job.id, BulkJob.state == job.state,
                                          BulkJob.done == job.done, _same(BulkJob.started_at, job.started_at))
                    .values(state="queued", started_at=self.runtime.now(), finished_at=None, error=None,
                            summary=summary)
                    .execution_options(synchronize_session=False))
                claimed = cast("CursorResult[Any]", result).rowcount
            if claimed != 1:
                return False
            try:
                self.runtime.queue.defer(TaskName.BULK_JOB, lock=job_lock(job_id), job_id=job_id, actor=actor)
            except Exception:   # noqa: BLE001 - logged; the job says so and can be started again
                log.exception("bulk job %s could not be queued", job_id)
                self._fail(job_id, "The job could not be queued (the task queue did not answer). Nothing was "
                                   "issued; start it again in a moment.")
                return False
        return True

    def cancel(self, job_id: str, issuer_id: str, *, actor: str) -> bool:
        """Stop a job: one waiting is cancelled at once, one running stops after the chunk it is
        issuing (state ``cancelling``, then ``cancelled``). Awards issued stay issued; starting
        it again issues the rest. False when it neither waits nor runs."""
        with self.runtime.transaction() as session:
            job = get_job(session, issuer_id, job_id)
            if job is None or not self.can_cancel(job):
                return False
            summary = {**(job.summary or {}), "cancelled_by": actor}
            values: dict[str, Any] = {"state": "cancelling", "summary": summary}
            if job.state == "queued":
                values.update(state="cancelled", finished_at=self.runtime.now(), error=cancelled_message(job.done))
            result = session.execute(update(BulkJob).where(BulkJob.id == job_id, BulkJob.state == job.state)
                                     .values(**values).execution_options(synchronize_session=False))
            return cast("CursorResult[Any]", result).rowcount == 1

    # ---- running (the task: any process, any number of times)

    def _set(self, job_id: str, *, when: tuple[str, ...] | None = None, **values: Any) -> bool:
        with self.runtime.transaction() as session:
            statement = update(BulkJob).where(BulkJob.id == job_id)
            if when is not None:
                statement = statement.where(BulkJob.state.in_(when))
            result = session.execute(statement.values(**values).execution_options(synchronize_session=False))
            return cast("CursorResult[Any]", result).rowcount == 1

    def run(self, job_id: str, actor: str) -> None:
        """Issue the job's rows not issued yet (the BULK_JOB task). Safe to run again after a crash:
        rows issued before are found and counted, never issued twice. Does nothing for a job that
        is not queued or running (cancelled while it waited, or finished)."""
        try:
            with self.runtime.reading() as session:
                job = session.get(BulkJob, job_id)
                if job is None or job.state not in ("queued", "running"):
                    return
                raw, summary, total, filename = job.source, dict(job.summary or {}), job.total, job.filename
            if not self._set(job_id, when=("queued", "running"), state="running"):
                return

            def progress(done: int, rows: int) -> None:
                if not self._set(job_id, when=("running",), done=done, total=rows):
                    raise Cancelled(done)        # the rows counted here are stored; the chunks after are not

            result = bulk.issue_csv(raw, self.runtime, actor=actor, progress=progress, indexes=self.indexes,
                                    workers=0 if total <= IN_PROCESS_ROWS else None,
                                    source_name=f"upload {filename} (bulk job {job_id})",
                                    mode=BulkMode(summary.get("mode", BulkMode.ALL_OR_NOTHING)))
            if not result.started:
                self._finish_invalid(job_id, summary, raw, result.report)
                return
            summary.update(issued=result.issued, already_issued=result.already_issued, ready=0,
                           errors=len(result.rejected), seconds=round(result.seconds, 1))
            if not self._set(job_id, when=("running",), state="done", done=len(result.awards), summary=summary,
                             result_csv=result_csv(result, raw), finished_at=self.runtime.now(), error=None):
                raise Cancelled(len(result.awards))   # cancelled after its last chunk: it stays cancelled
        except Cancelled as stop:
            self._cancelled(job_id, stop.done)
        except (IssuerError, CredentialError) as exc:     # a plain message meant for people
            log.warning("bulk job %s failed: %s", job_id, exc, exc_info=True)
            self._fail(job_id, f"Issuing stopped: {exc}. Awards issued before it stopped are kept; start the job "
                               "again to issue the rest: nothing is issued twice.")
        except Exception:   # noqa: BLE001 - logged with its traceback; the page shows a plain message
            log.exception("bulk job %s failed", job_id)
            self._fail(job_id, UNEXPECTED)
        finally:           # the award emails queued with each chunk; never raises
            self.runtime.mail_after_commit()

    def _cancelled(self, job_id: str, done: int) -> None:
        self._set(job_id, when=("cancelling",), state="cancelled", done=done, finished_at=self.runtime.now(),
                  error=cancelled_message(done))
        log.info("bulk job %s cancelled after %d rows", job_id, done)

    def _fail(self, job_id: str, message: str) -> None:
        try:
            self._set(job_id, state="failed", error=message, finished_at=self.runtime.now())
        except Exception:   # noqa: BLE001 - the database itself is failing: the job stays resumable
            log.exception("bulk job %s: could not record its failure", job_id)

    def _finish_invalid(self, job_id: str, summary: dict[str, Any], raw: bytes,
                        report: reading.ValidationReport) -> None:
        """The file was clean at upload but not any more (e.g. an achievement was deleted meanwhile)."""
        table, left_out = dry_run_table(raw, report, report.existing_keys)
        summary.update(table=table, left_out=left_out, errors=len(report.problems), fatal=report.fatal)
        first = report.problems[0]
        more = f" and {len(report.problems) - 1} more" if len(report.problems) > 1 else ""
        self._set(job_id, state="failed", summary=summary, finished_at=self.runtime.now(),
                  error=f"Nothing was issued: the file is no longer valid ({first}{more}). Fix it and upload it again.")


def cancelled_message(done: int) -> str:
    return (f"Cancelled after {done} row(s). Awards issued before it stopped are kept; start the job again to "
            "issue the rest: nothing is issued twice.")


def _same(column: InstrumentedAttribute[Any], value: Any) -> ColumnElement[bool]:
    return column.is_(None) if value is None else column == value


# --------------------------------------------------------------------------- the result CSV

def safe_cell(value: object) -> str:
    """A CSV cell a spreadsheet shows as text: a leading = + - @ (tab, CR) gets a ' before it."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def result_csv(result: bulk.BulkResult, raw: bytes | None = None) -> bytes:
    """One line per row of the file: line, email, achievement, status, award_id, credential_url, error.

    ``raw``: the file, to give a refused row its email and achievement as the file wrote them."""
    cells = reading.read_cells(raw, ("email", "achievement"))[0] if raw is not None else {}
    requests = {row.line: row.request for row in result.report.rows}
    awards = {award.line: award for award in result.awards}
    errors = {problem.line: problem.reason for problem in result.report.problems}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(RESULT_COLUMNS)
    for line in sorted(set(requests) | set(errors)):
        request, award = requests.get(line), awards.get(line)
        email, achievement = (request.email, request.achievement) if request is not None else ("", "")
        row: tuple[object, ...]
        if award is not None:
            row = (line, email, achievement, "issued" if award.created else "already issued", award.award_id,
                   award.credential_url, "")
        else:
            given = cells.get(line, {})
            row = (line, email or given.get("email", ""), achievement or given.get("achievement", ""), "error", "", "",
                   errors.get(line, "not issued"))
        writer.writerow([safe_cell(cell) for cell in row])
    return out.getvalue().encode("utf-8")


TEMPLATE_CSV = ("email,name,employee_id,achievement,evidence_url,evidence_narrative,awarded_date,external_id\r\n"
                "alex.doe@example.com,Alex Doe,E1001,{slug},https://example.com/evidence/1,"
                "Led the onboarding project,2026-03-31,hr-2026-0001\r\n")


def template_csv(session: Session, issuer: Issuer) -> bytes:
    """A small example file naming one of the issuer's achievements."""
    slug = session.scalar(select(Achievement.slug).where(Achievement.issuer_id == issuer.id)
                          .order_by(Achievement.slug).limit(1)) or "your-achievement-slug"
    return ("\ufeff" + TEMPLATE_CSV.format(slug=slug)).encode("utf-8")
