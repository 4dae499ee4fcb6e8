"""Bulk issuance (``POST /awards/bulk``) and background bulk jobs (``/bulk-jobs``)."""
from __future__ import annotations

import importlib

from flask import Response, g, request

from issuer.web.api.awards import send_mail_after
from issuer.web.api.common import (
    BULK_LIMIT,
    ISSUE,
    READ,
    UUID,
    ApiProblem,
    bp,
    current_time,
    invalid,
    load_issuer_row,
    ok,
    query_bool,
    requires,
    settings,
    state,
)
from issuer.web.serialise import bulk_job_json


def _bulk_module():
    try:
        module = importlib.import_module("issuer.bulk.run")
    except ImportError:
        return None
    if not (hasattr(module, "validate_csv") and hasattr(module, "issue_csv")):
        return None
    return module


def _csv_bytes() -> bytes:
    mimetype = request.mimetype
    if mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise ApiProblem(400, "Send the CSV as the multipart field 'file'.")
        return upload.read(BULK_LIMIT + 1)
    if mimetype in ("text/csv", "application/csv", "text/plain"):
        return request.get_data(cache=False)
    raise ApiProblem(415, "Send the CSV as 'Content-Type: text/csv' or as the multipart/form-data field 'file'.")


def _problems(report) -> list[dict]:
    return [{"line": p.line, "reason": p.reason} for p in report.problems]


@bp.post("/awards/bulk")
@requires(ISSUE)
def bulk_issue() -> Response:
    bulk = _bulk_module()
    if bulk is None:
        raise ApiProblem(501, "Bulk issuance is not available in this installation.")
    dry_run, background = query_bool("dry_run"), query_bool("async")
    raw = _csv_bytes()
    if len(raw) > BULK_LIMIT:
        raise ApiProblem(413, f"The CSV is larger than {BULK_LIMIT // (1024 * 1024)} MiB; split it.")
    if not raw.strip():
        raise invalid("The CSV is empty.")
    with state().sessions() as session:
        issuer = load_issuer_row(session)
        if dry_run or background:
            report = bulk.validate_csv(raw, session, issuer)
    if background and not dry_run:
        if not report.ok:
            raise invalid(f"{len(report.problems)} row(s) of the CSV are not valid; nothing was issued.",
                          dry_run=False, ok=False, total_rows=report.total_rows, problems=_problems(report))
        return _start_bulk_job(raw, report)
    if dry_run:
        summary = {"dry_run": True, "ok": report.ok, "total_rows": report.total_rows, "to_issue": report.to_issue,
                   "already_issued": report.already_issued, "problems": _problems(report)}
        if not report.ok:
            raise invalid(f"{len(report.problems)} row(s) of the CSV are not valid; nothing would be issued.",
                          **summary)
        return ok(summary)
    result = bulk.issue_csv(raw, state().use.runtime, actor=g.caller.actor, indexes=state().use.indexes)
    if not result.started:
        raise invalid(f"{len(result.report.problems)} row(s) of the CSV are not valid; nothing was issued.",
                      dry_run=False, ok=False, total_rows=result.report.total_rows, problems=_problems(result.report))
    response = ok({"dry_run": False, "ok": True, "total_rows": result.report.total_rows, "issued": result.issued,
                   "already_issued": result.already_issued,
                   "awards": [{"line": a.line, "award_id": a.award_id, "credential_url": a.credential_url,
                               "created": a.created} for a in result.awards]},
                  201 if result.issued else 200)
    if result.issued:
        send_mail_after(response)
    return response


def _start_bulk_job(raw: bytes, report) -> Response:
    """Store the file as a bulk job (as the console does) and issue it in the background: 202."""
    from issuer.bulk import jobs as bulk_jobs

    filename = request.files["file"].filename if request.mimetype == "multipart/form-data" else "api.csv"
    with state().sessions.begin() as session:
        issuer = load_issuer_row(session)
        issuer_id = issuer.id
        try:
            job_id = bulk_jobs.create_job(session, issuer, filename=filename, raw=raw, actor=g.caller.actor,
                                          now=current_time(), report=report)
        except bulk_jobs.BulkJobError as exc:
            raise invalid(str(exc)) from None
    bulk_jobs.start_job(state().sessions, settings(), job_id, issuer_id, actor=g.caller.actor, clock=current_time)
    with state().sessions() as session:
        document = bulk_job_json(bulk_jobs.get_job(session, issuer_id, job_id))
    return ok(document, 202, {"Location": document["url"]})


def _bulk_job_of_issuer(job_id: str):
    from issuer.bulk import jobs as bulk_jobs

    with state().sessions() as session:
        job = bulk_jobs.get_job(session, load_issuer_row(session).id, job_id) if UUID.match(job_id) else None
        if job is None:
            raise ApiProblem(404, "There is no such bulk job.")
        session.expunge(job)
    return job


@bp.get("/bulk-jobs/<job_id>")
@requires(READ)
def get_bulk_job(job_id: str) -> Response:
    return ok(bulk_job_json(_bulk_job_of_issuer(job_id)))


@bp.get("/bulk-jobs/<job_id>/results")
@requires(READ)
def bulk_job_results(job_id: str) -> Response:
    job = _bulk_job_of_issuer(job_id)
    if job.result_csv is None:
        raise ApiProblem(404, f"The job has no results yet (it is {job.state}); poll the job until it is done.")
    return Response(job.result_csv, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="bulk-results-{job.id[:8]}.csv"', "Cache-Control": "no-store"})
