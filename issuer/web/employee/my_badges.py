"""My badges (``/me/``) and the employee's privacy choices: thin shells over
:class:`issuer.employees.service.EmployeeService`.

Each choice is a small POST form (CSRF-checked by the blueprint) that changes one thing, says
what changed (a flashed message) and returns to the badge it was made on. A badge id that is
not the employee's own is "no such badge" (404), like an unknown one.

``/me/data.json`` is the personal data export (:meth:`issuer.personal_data.service.PersonalDataService.export`)
of the signed-in employee's own address, never another: the address comes from the session only.
It is a download (``Content-Disposition: attachment``) and, like every ``/me`` answer, never cached.
"""
from __future__ import annotations

import json

from flask import Response, current_app, flash, redirect, render_template, request, url_for

from issuer.employees.service import Employee
from issuer.errors import Conflict, InvalidInput
from issuer.web.employee.blueprint import bp, current_employee, service


def _me() -> Employee:
    employee = current_employee()
    assert employee is not None  # noqa: S101 - the blueprint's guard lets only signed-in employees here
    return employee


def _yes(field: str) -> bool:
    return request.form.get(field) == "yes"


def _back(award_id: str | None = None) -> Response:
    return redirect(url_for("me.my_badges") + (f"#badge-{award_id}" if award_id else "#profile"), 303)


@bp.get("/")
def my_badges() -> str:
    return render_template("me/badges.html", mine=service().my_badges(_me()))


@bp.get("/data.json")
def my_data() -> Response:
    document = current_app.extensions["microcred"].use.people.export(_me().email)
    response = Response(json.dumps(document, ensure_ascii=False, indent=2) + "\n", mimetype="application/json")
    day = str(document.get("exported_at") or "")[:10]
    response.headers["Content-Disposition"] = f'attachment; filename="my-badges-data-{day}.json"'
    return response


@bp.post("/badges/<award_id>/name")
def badge_name(award_id: str) -> Response:
    show = _yes("show")
    badge = service().choose_badge_name(_me(), award_id, show)
    flash(f"Your name is now {'shown' if show else 'hidden'} on the public page of “{badge.name}”.", "ok")
    return _back(award_id)


@bp.post("/badges/<award_id>/profile")
def badge_listing(award_id: str) -> Response:
    listed = _yes("listed")
    badge = service().choose_profile_listing(_me(), award_id, listed)
    flash(f"“{badge.name}” is now {'listed on' if listed else 'left off'} your skill profile.", "ok")
    return _back(award_id)


@bp.post("/profile")
def publish_profile() -> Response:
    slug = request.form.get("slug", "").strip().lower()[:100] or None
    try:
        url = service().publish_profile(_me(), slug=slug, show_name=_yes("show_name"))
    except (InvalidInput, Conflict) as exc:
        flash(str(exc), "bad")                    # the service says it in a sentence
    else:
        flash(f"Your skill profile is published at {url}.", "ok")
    return _back()


@bp.post("/profile/unpublish")
def unpublish_profile() -> Response:
    service().unpublish_profile(_me())
    flash("Your skill profile is no longer published.", "ok")
    return _back()

