"""Bulk issuance (``POST /awards/bulk``) and background bulk jobs (``/bulk-jobs``): shells over
:class:`issuer.bulk.service.BulkService`.

``?dry_run=true`` checks the file (200, or 422 with every problem); ``?async=true`` stores it as a
job and issues it in the background (202 with the job); otherwise the file is issued within the
request (201 with every award, 200 when all were issued before, 422 if any row is bad: nothing
is issued then). ``?mode=valid-rows`` (:class:`~issuer.bulk.limits.BulkMode`) issues the good rows
of a file with bad ones and lists those under ``rejected`` (a problem with the whole file is
still 422); a job's rejected rows are a CSV at ``/bulk-jobs/{id}/rejected``.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, g, request

from issuer.bulk.limits import BulkMode
from issuer.bulk.reading import ValidationReport
from issuer.web.api.awards import send_mail_after
from issuer.web.api.common import BULK_LIMIT, ISSUE, READ, ApiProblem, bp, invalid, ok, query_bool, requires, state
from issuer.web.serialise import bulk_job_json


def _csv_bytes() -> bytes:
    mimetype = request.mimetype
    if mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise ApiProblem(400, "Send the CSV as the multipart field 'file'.")
        raw = upload.read(BULK_LIMIT + 1)
    elif mimetype in ("text/csv", "application/csv", "text/plain"):
        raw = request.get_data(cache=False)
    else:
        raise ApiProblem(415, "Send the CSV as 'Content-Type: text/csv' or as the multipart/form-data field 'file'.")
    if len(raw) > BULK_LIMIT:
        raise ApiProblem(413, f"The CSV is larger than {BULK_LIMIT // (1024 * 1024)} MiB; split it.")
    if not raw.strip():
        raise invalid("The CSV is empty.")
    return raw


def _filename() -> str:
    upload = request.files.get("file") if request.mimetype == "multipart/form-data" else None
    return (upload.filename if upload is not None else None) or "api.csv"


def _refused(report: ValidationReport, dry_run: bool, **extra: Any) -> ApiProblem:
    would = "would be" if dry_run else "was"
    return invalid(f"{len(report.problems)} row(s) of the CSV are not valid; nothing {would} issued.",
                   dry_run=dry_run, ok=False, total_rows=report.total_rows,
                   problems=[{"line": p.line, "reason": p.reason} for p in report.problems], **extra)


def _mode() -> BulkMode:
    value = request.args.get("mode", BulkMode.ALL_OR_NOTHING.value)
    try:
        return BulkMode(value)
    except ValueError:
        raise invalid(f"mode must be one of: {', '.join(m.value for m in BulkMode)}.") from None


def _rejected(report: ValidationReport) -> list[dict[str, Any]]:
    return [{"line": p.line, "reason": p.reason} for p in report.problems]


@bp.post("/awards/bulk")
@requires(ISSUE)
def bulk_issue() -> Response:
    dry_run, background, mode = query_bool("dry_run"), query_bool("async"), _mode()
    raw = _csv_bytes()
    bulk = state().use.bulk
    if dry_run:
        report = bulk.validate(raw)
        if not report.ok:
            raise _refused(report, True, to_issue=report.to_issue, already_issued=report.already_issued)
        return ok({"dry_run": True, "ok": True, "total_rows": report.total_rows, "to_issue": report.to_issue,
                   "already_issued": report.already_issued, "problems": []})
    if background:
        submitted = bulk.submit(raw, filename=_filename(), actor=g.caller.actor, mode=mode)
        if submitted.job is None:
            raise _refused(submitted.report, False)
        document = bulk_job_json(submitted.job)
        return ok(document | {"rejected": _rejected(submitted.report)}, 202, {"Location": document["url"]})
    result = bulk.run(raw, actor=g.caller.actor, mode=mode)
    if not result.started:
        raise _refused(result.report, False)
    response = ok({"dry_run": False, "ok": result.ok, "total_rows": result.report.total_rows, "issued": result.issued,
                   "already_issued": result.already_issued, "rejected": _rejected(result.report),
                   "awards": [{"line": a.line, "award_id": a.award_id, "credential_url": a.credential_url,
                               "created": a.created} for a in result.awards]},
                  201 if result.issued else 200)
    if result.issued:
        send_mail_after(response)
    return response


@bp.get("/bulk-jobs/<job_id>")
@requires(READ)
def get_bulk_job(job_id: str) -> Response:
    return ok(bulk_job_json(state().use.bulk.job(job_id)))


def _job_action(job_id: str, act: Callable[..., bool], refusal: str, code: str) -> Response:
    """``act(job_id, actor=...)``: 202 with the job, or 409 with ``refusal`` and the job as it is."""
    bulk = state().use.bulk
    if not act(job_id, actor=g.caller.actor):
        raise ApiProblem(409, refusal, code=code, job=bulk_job_json(bulk.job(job_id)))
    return ok(bulk_job_json(bulk.job(job_id)), 202)


@bp.post("/bulk-jobs/<job_id>/cancel")
@requires(ISSUE)
def cancel_bulk_job(job_id: str) -> Response:
    return _job_action(job_id, state().use.bulk.cancel, "The job neither waits nor runs: there is nothing to cancel.",
                       "bulk_job_not_running")


@bp.post("/bulk-jobs/<job_id>/start")
@requires(ISSUE)
def start_bulk_job(job_id: str) -> Response:
    return _job_action(job_id, state().use.bulk.start, "The job cannot start: it runs or waits already, is done, "
                       "or has rows with problems.", "bulk_job_not_startable")


@bp.get("/bulk-jobs/<job_id>/rejected")
@requires(READ)
def bulk_job_rejected(job_id: str) -> Response:
    data = state().use.bulk.rejected(job_id)
    return Response(data, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="bulk-rejected-{job_id[:8]}.csv"', "Cache-Control": "no-store"})


@bp.get("/bulk-jobs/<job_id>/results")
@requires(READ)
def bulk_job_results(job_id: str) -> Response:
    data = state().use.bulk.results(job_id)
    return Response(data, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="bulk-results-{job_id[:8]}.csv"', "Cache-Control": "no-store"})
