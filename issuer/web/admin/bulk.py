"""Bulk issue: upload a CSV, check every row (dry run), confirm, watch the progress, download the results.

Shells over :class:`issuer.bulk.service.BulkService` (the job, its dry run and its background
run, on top of the one issuing pipeline): uploading the same file again finds every row already
issued and issues nothing twice. A file with bad rows may be issued in the ``valid-rows`` mode
(:class:`~issuer.bulk.limits.BulkMode`: the good rows, the bad ones left out and downloadable as
a CSV with their reasons). A job of another issuer, or none, is a 404.
"""
from __future__ import annotations

from flask import Response, flash, jsonify, redirect, render_template, request, url_for

from issuer.bulk.limits import MAX_ROWS, MAX_UPLOAD_BYTES, BulkMode, mib
from issuer.bulk.reading import COLUMNS, REQUIRED
from issuer.errors import IssuerError
from issuer.web.admin.blueprint import accepts_upload, actor, bp, state


def _render_index(error: str | None = None, status: int = 200) -> tuple[str, int]:
    return render_template("admin/bulk.html", jobs=state().use.bulk.recent(), error=error, columns=COLUMNS,
                           required=REQUIRED, max_rows=MAX_ROWS, max_mib=mib(MAX_UPLOAD_BYTES)), status


@bp.route("/bulk", methods=["GET", "POST"])
@accepts_upload(MAX_UPLOAD_BYTES)
def bulk() -> Response | tuple[str, int]:
    if request.method == "GET":
        return _render_index()
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _render_index("Choose a CSV file to upload.", 422)
    try:
        job = state().use.bulk.upload(upload.read(MAX_UPLOAD_BYTES + 1), filename=upload.filename, actor=actor())
    except IssuerError as exc:
        return _render_index(str(exc), exc.http_status)
    return redirect(url_for("admin.bulk_job", job_id=job.id), 303)


@bp.get("/bulk/<job_id>")
def bulk_job(job_id: str) -> str:
    job = state().use.bulk.page(job_id)
    return render_template("admin/bulk_job.html", job=job, active=job.state in ("queued", "running", "cancelling"))


@bp.post("/bulk/<job_id>/confirm")
def bulk_confirm(job_id: str) -> Response:
    mode = BulkMode.VALID_ROWS if request.form.get("mode") == BulkMode.VALID_ROWS else None
    if state().use.bulk.start(job_id, actor=actor(), mode=mode):
        flash("Issuing has started. You may leave this page: it goes on in the background."
              + (" Rows with problems are left out." if mode else ""), "ok")
    else:
        flash("This job was not started: it has rows with problems, is already running or is finished.", "warn")
    return redirect(url_for("admin.bulk_job", job_id=job_id), 303)


@bp.post("/bulk/<job_id>/cancel")
def bulk_cancel(job_id: str) -> Response:
    if state().use.bulk.cancel(job_id, actor=actor()):
        flash("Cancelling: issuing stops after the rows it is on. Awards already issued stay issued; "
              "you can start the job again later to issue the rest.", "ok")
    else:
        flash("This job was not cancelled: it is not waiting or running.", "warn")
    return redirect(url_for("admin.bulk_job", job_id=job_id), 303)


@bp.get("/bulk/<job_id>/progress")
def bulk_progress(job_id: str) -> Response:
    job = state().use.bulk.page(job_id)
    return jsonify(state=job.state, done=job.done, total=job.total, summary=job.counts, error=job.error,
                   can_resume=job.state in ("queued", "running") and job.can_start, can_cancel=job.can_cancel)


@bp.get("/bulk/<job_id>/results.csv")
def bulk_results(job_id: str) -> Response:
    return _csv_download(state().use.bulk.results(job_id), f"bulk-results-{job_id[:8]}.csv")


@bp.get("/bulk/<job_id>/rejected.csv")
def bulk_rejected(job_id: str) -> Response:
    return _csv_download(state().use.bulk.rejected(job_id), f"bulk-rejected-{job_id[:8]}.csv")


@bp.get("/bulk/template.csv")
def bulk_template() -> Response:
    return _csv_download(state().use.bulk.template(), "bulk-template.csv")


def _csv_download(data: bytes, filename: str) -> Response:
    return Response(data, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{filename}"', "X-Content-Type-Options": "nosniff"})
