"""Achievements (admins and issuers): the list, and the form that defines or edits one.

The form is plain HTML (no script): repeated rows for skills (alignments) and result
descriptions, a "more rows" button, a Preview button that shows the badge as it will look
without saving, and Save. The form becomes a definition; every rule broken is shown beside its
field at once (:func:`issuer.achievements.rules.check_definition`), then the achievements service
(:class:`issuer.achievements.service.AchievementService`) dry-runs (Preview) or stores and audits
it (Save): the API's and the CLI's rules and path. A refusal from the service (a slug already
taken, a failed dry run) is shown beside its field too.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flask import flash, redirect, render_template, request, url_for

from issuer.achievements.rules import (
    HTTP_URL,
    AchievementError,
    achievement_types,
    check_definition,
    image_from_upload,
    result_types,
)
from issuer.achievements.service import AchievementService, Listed
from issuer.badge_art import default_badge_data_uri
from issuer.errors import IssuerError
from issuer.web.admin.blueprint import actor, bp, state

if TYPE_CHECKING:
    from issuer.db.models import Achievement

EMPTY_ROWS = 3
MORE_ROWS = 3
MAX_ROWS = 50
TEXT_FIELDS = ("slug", "name", "description", "criteria_narrative", "criteria_url", "achievement_type",
               "validity_months", "tags")
RUBRIC = "RubricCriterionLevel"


@dataclass
class AchievementForm:
    """What the form shows: its text fields, rows, and the image it will save."""

    values: dict[str, str]
    alignments: list[dict[str, str]]        # framework, name, url, code (+ kept: the other alignment keys)
    results: list[dict[str, str]]           # id, name, type, levels (one per line)
    image: str | None = None                # what Save stores: data: URI / https URL, None = generated art
    image_data: str = ""                    # an upload carried over a preview or an error
    remove_image: bool = False
    errors: dict[str, str] = field(default_factory=dict)


def _service() -> AchievementService:
    return state().use.achievements


def _urn() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


# ---------------------------------------------------------------- reading

def image_src(image: str | None, name: str) -> str:
    return image or default_badge_data_uri(name or "Badge")


def validity_text(months: int | None) -> str:
    if not months:
        return "Never expires"
    return f"Valid for {months} month{'s' if months != 1 else ''}"


def _list_row(listed: Listed) -> dict[str, Any]:
    achievement, awards = listed.achievement, listed.awards
    return {"id": achievement.id, "slug": achievement.slug, "name": achievement.name,
            "image": image_src(achievement.image, achievement.name), "awards": awards,
            "validity": validity_text(achievement.validity_months),
            "skills": [a.get("targetName", "") for a in achievement.alignments or []]}


# ---------------------------------------------------------------- form <-> definition

def _levels_text(rd: dict) -> str:
    if rd.get("resultType") == RUBRIC:
        return "\n".join(str(level.get("name", "")) for level in rd.get("rubricCriterionLevel") or [])
    return "\n".join(str(v) for v in rd.get("allowedValue") or [])


def form_from_achievement(achievement: Achievement | None) -> AchievementForm:
    if achievement is None:
        return AchievementForm(values={k: "" for k in TEXT_FIELDS}, alignments=[], results=[])
    values = {k: "" if getattr(achievement, k) is None else str(getattr(achievement, k))
              for k in TEXT_FIELDS if k != "tags"}
    values["tags"] = ", ".join(achievement.tags or [])
    alignments = [{"framework": a.get("targetFramework", ""), "name": a.get("targetName", ""),
                   "url": a.get("targetUrl", ""), "code": a.get("targetCode", "")}
                  for a in achievement.alignments or []]
    results = [{"id": rd.get("id", ""), "name": rd.get("name", ""), "type": rd.get("resultType", ""),
                "levels": _levels_text(rd)} for rd in achievement.result_descriptions or []]
    return AchievementForm(values=values, alignments=alignments, results=results, image=achievement.image)


def _rows(prefix: str, keys: tuple[str, ...]) -> list[dict[str, str]]:
    columns = {k: request.form.getlist(f"{prefix}_{k}")[:MAX_ROWS] for k in keys}
    count = max((len(v) for v in columns.values()), default=0)
    return [{k: (columns[k][i] if i < len(columns[k]) else "").strip() for k in keys} for i in range(count)]


def _filled(rows: list[dict[str, str]], ignore: tuple[str, ...] = ()) -> list[dict[str, str]]:
    return [row for row in rows if any(v for k, v in row.items() if k not in ignore)]


def _upload(form: AchievementForm, current: str | None) -> None:
    """Which image Save will store: a new upload, one carried over, none (removed) or the current one."""
    upload = request.files.get("image")
    data = upload.read() if upload is not None and upload.filename else b""
    if form.remove_image:
        form.image = None
    elif data:
        try:
            form.image = form.image_data = image_from_upload(data)
        except AchievementError as exc:
            form.errors["image"] = str(exc)
            form.image = current
    elif form.image_data:
        form.image = form.image_data
    else:
        form.image = current


def form_from_request(existing: Achievement | None) -> AchievementForm:
    values = {k: request.form.get(k, "").strip() for k in TEXT_FIELDS}
    for key in ("description", "criteria_narrative"):
        values[key] = request.form.get(key, "").strip("\r\n")
    if existing is not None:
        values["slug"] = existing.slug
    results = _filled(_rows("rd", ("id", "name", "type", "levels")), ignore=("type",))
    for row in results:
        row["id"] = row["id"] or _urn()
    form = AchievementForm(values=values, alignments=_filled(_rows("align", ("framework", "name", "url", "code"))),
                           results=results, image_data=request.form.get("image_data", ""),
                           remove_image=request.form.get("remove_image") == "yes")
    _upload(form, existing.image if existing is not None else None)
    return form


def _alignment(row: dict[str, str], previous: dict[str, dict]) -> dict:
    kept = {k: v for k, v in previous.get(row["url"], {}).items()
            if k in ("targetType", "targetDescription")}
    alignment = {**kept, "targetName": row["name"], "targetUrl": row["url"]}
    if row["framework"]:
        alignment["targetFramework"] = row["framework"]
    if row["code"]:
        alignment["targetCode"] = row["code"]
    return alignment


def _result_description(row: dict[str, str], previous: dict[str, dict]) -> dict:
    before = previous.get(row["id"], {})
    rd = {k: v for k, v in before.items() if k not in ("name", "resultType", "rubricCriterionLevel", "allowedValue")}
    rd.update({"id": row["id"], "name": row["name"], "resultType": row["type"]})
    lines = [line.strip() for line in row["levels"].splitlines() if line.strip()]
    if row["type"] == RUBRIC and lines:
        ids = {level.get("name"): level.get("id") for level in before.get("rubricCriterionLevel") or []}
        rd["rubricCriterionLevel"] = [{"id": ids.get(line) or _urn(), "type": ["RubricCriterionLevel"],
                                       "name": line} for line in lines]
    elif lines:
        rd["allowedValue"] = lines
    return rd


def definition_from_form(form: AchievementForm, existing: Achievement | None) -> dict:
    """The form as a definition for :func:`issuer.achievements.rules.check_definition`."""
    v = form.values
    months: Any = v["validity_months"] or None
    if months is not None and months.isdigit() and len(months) < 7:
        months = int(months)
    old_alignments = {a.get("targetUrl"): a for a in (existing.alignments if existing else None) or []}
    old_results = {r.get("id"): r for r in (existing.result_descriptions if existing else None) or []}
    definition = {
        "slug": v["slug"], "name": v["name"], "description": v["description"],
        "criteria_narrative": v["criteria_narrative"] or None, "criteria_url": v["criteria_url"] or None,
        "achievement_type": v["achievement_type"] or None, "validity_months": months, "image": form.image,
        "tags": [t.strip() for t in v["tags"].split(",") if t.strip()],
        "alignments": [_alignment(row, old_alignments) for row in form.alignments],
        "result_descriptions": [_result_description(row, old_results) for row in form.results],
    }
    if existing is not None and existing.version:
        definition["version"] = existing.version
    return definition


def _error_key(problem_field: str | None) -> str:
    """The form element a rule's field belongs to (rows: ``align-<n>`` / ``rd-<n>``)."""
    if not problem_field:
        return "form"
    name, _, index = problem_field.partition(".")
    prefix = {"alignments": "align", "result_descriptions": "rd"}.get(name)
    if prefix:
        return f"{prefix}-{index}" if index else f"{prefix}-0"
    return name


def check_form(form: AchievementForm, existing: Achievement | None) -> dict | None:
    """The definition when it follows every rule, else None with ``form.errors`` filled in."""
    definition = definition_from_form(form, existing)
    _fields, problems = check_definition(definition, slug=existing.slug if existing is not None else None)
    if form.values["validity_months"] and not form.values["validity_months"].isdigit():
        problems = [p for p in problems if p.field != "validity_months"]
        form.errors["validity_months"] = ("The validity must be a whole number of months between 1 and 600; "
                                          "leave it blank if the badge never expires.")
    for problem in problems:
        form.errors.setdefault(_error_key(problem.field), str(problem))
    return definition if not form.errors else None


# ---------------------------------------------------------------- saving

def save(form: AchievementForm, definition: dict, existing: Achievement | None) -> Achievement | None:
    """Create or replace (dry run and audit entry in the service); None with the refusal in ``form.errors``."""
    try:
        if existing is None:
            return _service().create(definition, actor=actor())
        return _service().replace(existing.id, definition, actor=actor())
    except IssuerError as exc:
        form.errors[_error_key(exc.field)] = str(exc)
        return None


def dry_run(form: AchievementForm, definition: dict | None, existing: Achievement | None) -> None:
    """Preview: build and check the credential the definition would be awarded in; a refusal goes to the form."""
    if definition is None:
        return
    try:
        _service().preview(definition, ref=existing.id if existing is not None else None)
    except IssuerError as exc:
        form.errors[_error_key(exc.field)] = str(exc)


def preview(form: AchievementForm, definition: dict | None) -> dict:
    v = form.values
    months = definition["validity_months"] if definition else (int(v["validity_months"])
                                                               if v["validity_months"].isdigit() else None)
    return {"image": image_src(form.image, v["name"]), "name": v["name"] or "(no name yet)",
            "description": v["description"], "criteria": v["criteria_narrative"],
            "criteria_url": v["criteria_url"] if HTTP_URL.match(v["criteria_url"]) else "",
            "type": v["achievement_type"], "validity": validity_text(months), "alignments": form.alignments,
            "tags": [t.strip() for t in v["tags"].split(",") if t.strip()]}


# ---------------------------------------------------------------- views

def render_form(form: AchievementForm, existing: Achievement | None, *, status: int = 200,
                show_preview: bool = False, extra_rows: int = 0, definition: dict | None = None):
    frameworks = _service().frameworks()
    types = list(achievement_types())
    if form.values["achievement_type"] and form.values["achievement_type"] not in types:
        types.insert(0, form.values["achievement_type"])
    page = render_template(
        "admin/achievement_form.html", form=form, existing=existing, frameworks=frameworks,
        achievement_types=[("", "(none)")] + [(t, t) for t in types],
        result_types=[("", "Choose…")] + [(t, t) for t in result_types()],
        alignment_rows=form.alignments + [dict.fromkeys(("framework", "name", "url", "code"), "")]
        * (EMPTY_ROWS + extra_rows),
        result_rows=form.results + [dict.fromkeys(("id", "name", "type", "levels"), "")] * (1 + extra_rows),
        preview=preview(form, definition) if show_preview else None,
        current_image=image_src(form.image, form.values["name"]))
    return page, status


def handle_post(existing: Achievement | None):
    form = form_from_request(existing)
    action = request.form.get("action", "save")
    if action in ("more_alignments", "more_results"):
        return render_form(form, existing, extra_rows=MORE_ROWS)
    definition = check_form(form, existing)
    if action == "preview":
        dry_run(form, definition, existing)
        return render_form(form, existing, status=422 if form.errors else 200, show_preview=True,
                           definition=definition if not form.errors else None)
    if definition is None or (saved := save(form, definition, existing)) is None:
        return render_form(form, existing, status=422)
    verb = "created" if existing is None else "saved"
    flash(f"Achievement {saved.name} ({saved.slug}) {verb}.", "ok")
    return redirect(url_for("admin.achievements", _anchor=f"a-{saved.id}"), 303)


@bp.get("/achievements")
def achievements() -> str:
    rows = [_list_row(listed) for listed in _service().listing()]
    return render_template("admin/achievements.html", achievements=rows)


@bp.route("/achievements/new", methods=["GET", "POST"])
def achievement_new():
    if request.method == "GET":
        return render_form(form_from_achievement(None), None)
    return handle_post(None)


@bp.route("/achievements/<achievement_id>/edit", methods=["GET", "POST"])
def achievement_edit(achievement_id: str):
    existing = _service().get(achievement_id)
    if request.method == "GET":
        return render_form(form_from_achievement(existing), existing)
    return handle_post(existing)
