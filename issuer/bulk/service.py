"""The bulk issuing use case: dry runs, runs, background jobs (upload, confirm, progress, results).

    bulk = services.bulk
    report = bulk.validate("awards.csv")                          # a dry run: nothing is issued
    result = bulk.run("awards.csv", actor="cli:alex")             # issue the file (none if a row is bad)
    job = bulk.upload(data, filename="awards.csv", actor="staff:hana")   # a job with its dry run
    bulk.start(job.id, actor="staff:hana")                        # issue it on the task queue
    bulk.cancel(job.id, actor="staff:hana")                       # stop it after the current chunk

Every entry point (``microcred issue-bulk``, ``POST /api/v1/awards/bulk``, the console's
``/admin/bulk`` pages) calls one method here and renders what it returns. The rows go through
the REST API's rules (:mod:`issuer.bulk.reading`) and are issued by the one issuing pipeline
(:func:`issuer.bulk.run.issue_csv`) with this service's runtime and the process's
:class:`~issuer.awards.allocation.StatusIndexes`. Jobs run on the runtime's task queue
(:class:`issuer.bulk.jobs.BulkJobs`; a thread of the web process by default, ``microcred
worker`` processes with the PostgreSQL queue); they are idempotent, resumable and cancellable.

Errors: :class:`~issuer.errors.NotFound` for a job of another issuer or none, or results not
there yet; :class:`~issuer.bulk.jobs.BulkJobError` (invalid input) for an empty or too large
upload; :class:`~issuer.errors.NotReady` before ``microcred init``. A file with bad rows is not
an error: the report (or the result's report) lists every problem by line.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from issuer.awards.allocation import StatusIndexes
from issuer.bulk import jobs as bulk_jobs
from issuer.bulk import run as bulk_run
from issuer.bulk.limits import BulkMode
from issuer.bulk.people import PeopleRun, outcomes_of, people_csv, read_people
from issuer.bulk.reading import ValidationReport, validate_csv
from issuer.bulk.rejected import rejected_csv
from issuer.bulk.run import BulkResult, ProgressCallback
from issuer.db.models_staff import BulkJob
from issuer.errors import InvalidInput, NotFound
from issuer.runtime import Runtime

Source = str | os.PathLike[str] | bytes


@dataclass(frozen=True)
class Submitted:
    """A file sent to be issued in the background: its dry run, and its job when it is clean (started)."""

    report: ValidationReport
    job: BulkJob | None


@dataclass(frozen=True)
class JobPage:
    """What a job's page and its progress show."""

    id: str
    filename: str
    state: str
    done: int
    total: int
    error: str | None
    created_by: str
    created_at: datetime
    finished_at: datetime | None
    has_results: bool
    counts: dict[str, Any]              # the summary without its table
    table: list[dict[str, Any]]         # every row of the dry run (or of the run that found it invalid)
    can_start: bool                     # confirm (clean, not started) or resume (failed, cancelled, server stopped)
    can_cancel: bool                    # waiting or running
    can_issue_valid_rows: bool          # bad rows, but issuing the others is possible (valid-rows mode)
    mode: str                           # the mode it was started in (all-or-nothing before it starts)


class BulkService:
    """Bulk issuing: dry runs, runs, background jobs (upload, confirm, progress, results)."""

    def __init__(self, runtime: Runtime, indexes: StatusIndexes) -> None:
        self.runtime = runtime
        self.indexes = indexes
        self.jobs = bulk_jobs.BulkJobs(runtime, indexes)

    # ---- a file, at once

    def validate(self, source: Source) -> ValidationReport:
        """Check every row of a file (a path, or its content as bytes); nothing is issued."""
        with self.runtime.reading() as session:
            issuer = self.runtime.load_issuer(session)
            return validate_csv(source, session, issuer, now=self.runtime.now())

    def run(self, source: Source, *, actor: str, progress: ProgressCallback | None = None,
            chunk_size: int = 500, workers: int | None = None, source_name: str | None = None,
            mode: BulkMode = BulkMode.ALL_OR_NOTHING) -> BulkResult:
        """Issue every row of a file, or nothing if any row is bad (``result.started`` is then False);
        with ``mode=BulkMode.VALID_ROWS`` the good rows, leaving the bad ones (``result.rejected``).

        Rows issued before are counted as already issued, not issued again. The award emails are
        queued with the awards (send them with :meth:`issuer.awards.service.AwardService.deliver_mail`).
        """
        return bulk_run.issue_csv(source, self.runtime, actor=actor, progress=progress, chunk_size=chunk_size,
                                  workers=workers, source_name=source_name, indexes=self.indexes, mode=mode)

    def issue_people(self, text: str, *, achievement: str, shared: dict[str, str | None], actor: str,
                     mode: BulkMode = BulkMode.ALL_OR_NOTHING) -> PeopleRun:
        """Issue ``achievement`` to each person of ``text`` (one per line: an email, optionally a name),
        with the same evidence and date (``shared``: bulk CSV columns), as one bulk run
        (:mod:`issuer.bulk.people`). All or nothing by default; ``valid-rows`` issues to everyone
        who passes. InvalidInput when the list names nobody."""
        people, problems = read_people(text)
        if not people and not problems:
            raise InvalidInput("Add the people to issue to: an email address per line.", code="no_people",
                               field="people")
        data, lines = people_csv(people, achievement=achievement, shared=shared)
        if people and (mode is BulkMode.VALID_ROWS or not problems):
            result = self.run(data, actor=actor, mode=mode, workers=0, source_name="console: several people")
        else:              # nothing will be issued: check everyone anyway, to answer for each person
            result = BulkResult(self.validate(data) if people else ValidationReport(), started=False)
        return PeopleRun(outcomes_of(people, problems, lines, result), result.started and result.issued > 0)

    # ---- background jobs

    def upload(self, raw: bytes, *, filename: str | None, actor: str) -> BulkJob:
        """Store an upload as a job with its dry run (a file with bad rows too: its page lists them)."""
        bulk_jobs.check_upload(raw)
        with self.runtime.transaction() as session:
            issuer = self.runtime.load_issuer(session)
            return self.jobs.create(session, issuer, filename=filename, raw=raw, actor=actor)

    def submit(self, raw: bytes, *, filename: str | None, actor: str,
               mode: BulkMode = BulkMode.ALL_OR_NOTHING) -> Submitted:
        """Check a file and, if it may be issued in ``mode`` (every row good, or in ``valid-rows``
        mode some), store it as a job and start it; otherwise store nothing."""
        bulk_jobs.check_upload(raw)
        with self.runtime.transaction() as session:
            issuer = self.runtime.load_issuer(session)
            report = validate_csv(raw, session, issuer, now=self.runtime.now())
            if not report.issuable(mode) or not report.rows:
                return Submitted(report, None)
            job = self.jobs.create(session, issuer, filename=filename, raw=raw, actor=actor, report=report)
            issuer_id, job_id = issuer.id, job.id
        self.jobs.start(job_id, issuer_id, actor=actor, mode=mode)
        return Submitted(report, self.job(job_id))

    def start(self, job_id: str, *, actor: str, mode: BulkMode | None = None) -> bool:
        """Start (or resume) a job in the background; False when it may not start (bad rows in
        all-or-nothing mode, running, done, or started meanwhile by someone else). ``mode``: what
        to do with bad rows (default: as when it was started before, else all-or-nothing)."""
        with self.runtime.reading() as session:
            issuer_id = self.runtime.load_issuer(session).id
        return self.jobs.start(job_id, issuer_id, actor=actor, mode=mode)

    def cancel(self, job_id: str, *, actor: str) -> bool:
        """Stop a job that waits or runs (awards issued stay; starting it again issues the rest);
        False when it neither waits nor runs."""
        with self.runtime.reading() as session:
            issuer_id = self.runtime.load_issuer(session).id
        return self.jobs.cancel(job_id, issuer_id, actor=actor)

    def job(self, job_id: str) -> BulkJob:
        """The job (NotFound unless it is one of this issuer's)."""
        with self.runtime.reading() as session:
            job = bulk_jobs.get_job(session, self.runtime.load_issuer(session).id, job_id)
            if job is None:
                raise NotFound("There is no such bulk job.", code="unknown_bulk_job")
            session.expunge(job)
            return job

    def page(self, job_id: str) -> JobPage:
        """What the job's page shows (NotFound for a job of another issuer or none)."""
        job = self.job(job_id)
        summary = job.summary or {}
        return JobPage(id=job.id, filename=job.filename, state=job.state, done=job.done, total=job.total,
                       error=job.error, created_by=job.created_by, created_at=job.created_at,
                       finished_at=job.finished_at, has_results=job.result_csv is not None,
                       counts=bulk_jobs.counts(summary), table=list(summary.get("table", [])),
                       can_start=self.jobs.can_start(job), can_cancel=self.jobs.can_cancel(job),
                       can_issue_valid_rows=bool(summary.get("errors"))
                       and self.jobs.can_start(job, BulkMode.VALID_ROWS),
                       mode=str(summary.get("mode", BulkMode.ALL_OR_NOTHING)))

    def recent(self, limit: int = 20) -> list[dict[str, Any]]:
        """The latest jobs, newest first (id, filename, state, total, done, created_by, created_at, finished_at)."""
        with self.runtime.reading() as session:
            return bulk_jobs.recent_jobs(session, self.runtime.load_issuer(session).id, limit)

    def results(self, job_id: str) -> bytes:
        """The result CSV of a finished job (NotFound before it is done)."""
        job = self.job(job_id)
        if job.result_csv is None:
            raise NotFound(f"The job has no results yet (it is {job.state}); wait until it is done.",
                           code="no_results_yet")
        return job.result_csv

    def rejected(self, job_id: str) -> bytes:
        """The job's bad rows with their reasons, as a CSV to fix and upload again (:mod:`issuer.bulk.rejected`).

        The file is checked again for it (nothing is issued), so the list is complete however long
        the page's table is; rows issued since count as good.
        """
        job = self.job(job_id)
        with self.runtime.reading() as session:
            report = validate_csv(job.source, session, self.runtime.load_issuer(session), now=self.runtime.now())
        return rejected_csv(job.source, report.problems)

    def template(self) -> bytes:
        """A small example file naming one of the issuer's achievements."""
        with self.runtime.reading() as session:
            return bulk_jobs.template_csv(session, self.runtime.load_issuer(session))

    def wait(self, job_id: str, timeout: float | None = None) -> bool:
        """Wait for a job's thread in this process (in-process queue); True when it is not running."""
        return self.jobs.wait(job_id, timeout)
