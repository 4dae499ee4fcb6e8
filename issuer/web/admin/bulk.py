"""Bulk issue: upload a CSV, check every row (dry run), confirm, watch the progress, download the results.

The work is done by :mod:`issuer.bulk.jobs` (the job, its dry run and its background run) on top
of :mod:`issuer.bulk.run` (the CSV format and the idempotent issuance): uploading the same file
again finds every row already issued and issues nothing twice.
"""
from __future__ import annotations

from flask import Response, abort, flash, jsonify, redirect, render_template, request, url_for

from issuer.bulk import jobs as bulk_jobs
from issuer.bulk.reading import COLUMNS, MAX_ROWS, REQUIRED
from issuer.web.admin.blueprint import accepts_upload, actor, bp, issuer_of, state


def _issuer_id() -> str:
    with state().sessions() as db:
        return issuer_of(db).id


def _render_index(error: str | None = None, status: int = 200):
    with state().sessions() as db:
        jobs = bulk_jobs.recent_jobs(db, issuer_of(db).id)
    return render_template("admin/bulk.html", jobs=jobs, error=error, columns=COLUMNS, required=REQUIRED,
                           max_rows=MAX_ROWS, max_mib=bulk_jobs.MAX_UPLOAD_BYTES // (1024 * 1024)), status


@bp.route("/bulk", methods=["GET", "POST"])
@accepts_upload(bulk_jobs.MAX_UPLOAD_BYTES)
def bulk() -> Response | tuple[str, int]:
    if request.method == "GET":
        return _render_index()
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _render_index("Choose a CSV file to upload.", 422)
    raw = upload.read(bulk_jobs.MAX_UPLOAD_BYTES + 1)
    try:
        with state().sessions.begin() as db:
            issuer = issuer_of(db)
            job_id = bulk_jobs.create_job(db, issuer, filename=upload.filename, raw=raw, actor=actor(),
                                          now=state().clock())
    except bulk_jobs.BulkJobError as exc:
        return _render_index(str(exc), 422)
    return redirect(url_for("admin.bulk_job", job_id=job_id), 303)


def _job_view(job_id: str) -> dict:
    """What the job page shows (404 for a job of another issuer or none)."""
    with state().sessions() as db:
        job = bulk_jobs.get_job(db, issuer_of(db).id, job_id)
        if job is None:
            abort(404, "There is no such bulk job.")
        summary = job.summary or {}
        return {"id": job.id, "filename": job.filename, "state": job.state, "done": job.done, "total": job.total,
                "error": job.error, "created_by": job.created_by, "created_at": job.created_at,
                "finished_at": job.finished_at, "has_results": job.result_csv is not None,
                "counts": bulk_jobs.counts(summary), "table": summary.get("table", []),
                "can_start": bulk_jobs.can_start(job)}


@bp.get("/bulk/<job_id>")
def bulk_job(job_id: str) -> str:
    job = _job_view(job_id)
    return render_template("admin/bulk_job.html", job=job, active=job["state"] in ("queued", "running"))


@bp.post("/bulk/<job_id>/confirm")
def bulk_confirm(job_id: str) -> Response:
    started = bulk_jobs.start_job(state().sessions, state().settings, job_id, _issuer_id(), actor=actor(),
                                  clock=state().clock)
    if started:
        flash("Issuing has started. You may leave this page: it goes on in the background.", "ok")
    else:
        flash("This job was not started: it has rows with problems, is already running or is finished.", "warn")
    return redirect(url_for("admin.bulk_job", job_id=job_id), 303)


@bp.get("/bulk/<job_id>/progress")
def bulk_progress(job_id: str) -> Response:
    job = _job_view(job_id)
    return jsonify(state=job["state"], done=job["done"], total=job["total"], summary=job["counts"],
                   error=job["error"], can_resume=job["state"] in ("queued", "running") and job["can_start"])


@bp.get("/bulk/<job_id>/results.csv")
def bulk_results(job_id: str) -> Response:
    with state().sessions() as db:
        job = bulk_jobs.get_job(db, issuer_of(db).id, job_id)
        data = job.result_csv if job is not None else None
    if data is None:
        abort(404, "This job has no results yet.")
    return _csv_download(data, f"bulk-results-{job_id[:8]}.csv")


@bp.get("/bulk/template.csv")
def bulk_template() -> Response:
    with state().sessions() as db:
        data = bulk_jobs.template_csv(db, issuer_of(db))
    return _csv_download(data, "bulk-template.csv")


def _csv_download(data: bytes, filename: str) -> Response:
    return Response(data, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{filename}"', "X-Content-Type-Options": "nosniff"})
