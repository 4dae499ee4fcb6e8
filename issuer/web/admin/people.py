"""People (data-protection requests): find a person by email, download their data, erase them.

Every step is a POST, so an address never appears in a URL (nor in a server's access log or a
browser's history): ``/admin/people`` finds (one service call,
:meth:`issuer.personal_data.service.PersonalDataService.export`) and shows what is held;
``/admin/people/export`` downloads it as JSON; ``/admin/people/erase`` (administrators only)
erases, once the address is typed again and the box ticked. The erasure's counts are flashed
(every one the service returns, :func:`issuer.personal_data.summary.erasure_counts`), never the
address.
"""
from __future__ import annotations

import json

from flask import Response, flash, redirect, render_template, request, url_for

from issuer.errors import Conflict, InvalidInput
from issuer.personal_data.summary import erasure_counts
from issuer.web.admin.blueprint import actor, admin_only, bp, state

MAX_EMAIL = 320


def _email(field: str = "email") -> str:
    return " ".join((request.form.get(field) or "").split())[:MAX_EMAIL]


def _page(email: str = "", error: str | None = None, confirm_error: str | None = None,
          status: int = 200) -> tuple[str, int]:
    held = None
    if email and error is None:
        try:
            held = state().use.people.export(email)
        except InvalidInput as exc:
            error, status = str(exc), 422
    return render_template("admin/people.html", email=email, held=held, error=error,
                           confirm_error=confirm_error), status


@bp.get("/people")
def people() -> tuple[str, int]:
    return _page()


@bp.post("/people")
def people_find() -> tuple[str, int]:
    email = _email()
    return _page(email, None if email else "Give the person's email address.", status=200 if email else 422)


@bp.post("/people/export")
def people_export() -> Response:
    document = state().use.people.export(_email())
    response = Response(json.dumps(document, indent=2, ensure_ascii=False), mimetype="application/json")
    response.headers.set("Content-Disposition", "attachment", filename="personal-data.json")
    return response


@bp.post("/people/erase")
@admin_only
def people_erase() -> Response | tuple[str, int]:
    email = _email()
    if _email("confirm_email").lower() != email.lower() or request.form.get("confirm") != "yes":
        return _page(email, confirm_error="Type the same email address again and tick the box; nothing was "
                                          "erased.", status=422)
    try:
        erasure = state().use.people.erase(email, actor=actor())
    except (InvalidInput, Conflict) as exc:
        return _page(email, confirm_error=str(exc), status=422)
    if erasure.nothing:
        flash("Nothing is held about that address (never awarded, or erased already); nothing changed.", "info")
    else:
        flash(f"Erased: {', '.join(erasure_counts(erasure))}. The audit log records the erasure, not the person.",
              "ok")
    if erasure.files_left:
        flash(f"{erasure.files_left} mail file(s) could not be deleted yet; the next erasure or retention purge "
              "deletes them.", "warn")
    return redirect(url_for("admin.people"), 303)
