"""Skill frameworks (admins and issuers): the list, a new framework, edit one, import a catalogue CSV,
and the JSON search the achievement form's skill pickers use.

Shells over :class:`issuer.skills.service.SkillService`:

* ``GET /admin/frameworks``: every framework (name, publisher, web address, skills, achievements),
  the "new framework" form and the "import skills" upload (the formats: ``docs/skills-csv.md``);
* ``POST /admin/frameworks``: create one; ``GET|POST /admin/frameworks/<id>/edit``: change one
  (a new name reaches the achievements aligned to it);
* ``POST /admin/frameworks/adopt``: make frameworks of the names achievements use that are not
  frameworks yet (data stored around the service, such as the demo's), shown as a notice;
* ``POST /admin/frameworks/import``: upload a file into a framework picked from the list or named
  anew; a file with bad rows imports nothing and the page lists every bad row, unless "skip the
  bad rows" is ticked;
* ``GET /admin/skills/search?q=...&framework=<id>``: JSON ``{"items": [...]}`` (at most 20 skills),
  for ``admin-skills.js``; the form itself works without it (its Find buttons).
"""
from __future__ import annotations

from flask import Response, flash, jsonify, redirect, render_template, request, url_for

from issuer.errors import IssuerError
from issuer.skills.catalogue import MAX_QUERY, FrameworkFields
from issuer.skills.readers import HEADINGS, MAX_FILE_BYTES, MAX_ROWS, MAX_SKILLS, CsvFormat
from issuer.skills.service import SkillService
from issuer.web.admin.blueprint import accepts_upload, actor, bp, state

SEARCH_RESULTS = 20
NEW = "~new"        # the framework picker's value for "a new framework named ..."


def _service() -> SkillService:
    return state().use.skills


def _fields() -> FrameworkFields:
    return FrameworkFields(request.form.get("name", "")[:1000], request.form.get("publisher", "")[:1000],
                           request.form.get("url", "")[:2000])


def _formats() -> list[tuple[str, str]]:
    return [(fmt.label, ", ".join(HEADINGS[fmt])) for fmt in CsvFormat]


def render_index(*, status: int = 200, create_error: str | None = None, import_error: str | None = None,
                 problems: list[dict] | None = None) -> tuple[str, int]:
    return render_template(
        "admin/frameworks.html", frameworks=_service().listing(), unregistered=_service().unregistered(),
        form=request.form, create_error=create_error,
        import_error=import_error, problems=problems or [], formats=_formats(), new_value=NEW,
        max_mib=MAX_FILE_BYTES // (1024 * 1024), max_rows=MAX_ROWS, max_skills=MAX_SKILLS), status


@bp.get("/frameworks")
def frameworks() -> tuple[str, int]:
    return render_index()


@bp.post("/frameworks")
def frameworks_create() -> Response | tuple[str, int]:
    try:
        framework = _service().create_framework(_fields(), actor=actor())
    except IssuerError as exc:
        return render_index(status=exc.http_status, create_error=str(exc))
    flash(f"Framework {framework.name} created. Import its skills below, or pick it when defining an achievement.",
          "ok")
    return redirect(url_for("admin.frameworks", _anchor=f"f-{framework.id}"), 303)


@bp.post("/frameworks/adopt")
def frameworks_adopt() -> Response:
    created = _service().adopt_names(actor=actor())
    names = ", ".join(f.name for f in created)
    flash(f"Frameworks added: {names}." if created else "Every framework name is a framework already.", "ok")
    return redirect(url_for("admin.frameworks"), 303)


@bp.route("/frameworks/<framework_id>/edit", methods=["GET", "POST"])
def frameworks_edit(framework_id: str) -> Response | tuple[str, int]:
    framework = _service().framework(framework_id)
    error = None
    if request.method == "POST":
        try:
            framework = _service().update_framework(framework.id, _fields(), actor=actor())
        except IssuerError as exc:
            error = str(exc)
        else:
            flash(f"Framework {framework.name} saved.", "ok")
            return redirect(url_for("admin.frameworks", _anchor=f"f-{framework.id}"), 303)
    values = request.form if request.method == "POST" else \
        {"name": framework.name, "publisher": framework.publisher or "", "url": framework.url or ""}
    return render_template("admin/framework_edit.html", framework=framework, form=values, error=error), \
        422 if error else 200


@bp.post("/frameworks/import")
@accepts_upload(MAX_FILE_BYTES)
def frameworks_import() -> Response | tuple[str, int]:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return render_index(status=422, import_error="Choose the skills file (CSV) to import.")
    picked = request.form.get("framework", "")
    try:        # a framework from the list (which must still exist), or a new one by the name typed
        name = request.form.get("new_framework", "") if picked in ("", NEW) else _service().framework(picked).id
        report = _service().import_csv(upload.read(MAX_FILE_BYTES + 1), framework=name[:1000], actor=actor(),
                                       skip_bad_rows=request.form.get("skip_bad_rows") == "yes")
    except IssuerError as exc:
        return render_index(status=exc.http_status, import_error=str(exc),
                            problems=exc.details.get("problems") if isinstance(exc.details, dict) else None)
    for problem in report.problems[:20]:
        flash(f"Skipped line {problem.line}: {problem.reason}.", "warn")
    flash(report.summary(), "ok")
    return redirect(url_for("admin.frameworks", _anchor=f"f-{report.framework.id}"), 303)


@bp.get("/skills/search")
def skills_search() -> Response:
    """Search-as-you-type: the catalogue skills matching ``q`` (optionally within ``framework``)."""
    query = request.args.get("q", "")[:MAX_QUERY]
    framework = request.args.get("framework", "")[:36] or None
    hits = _service().search(query, framework_id=framework if framework != NEW else None, limit=SEARCH_RESULTS)
    return jsonify(items=[hit.to_json() for hit in hits])
