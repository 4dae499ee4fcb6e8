"""Achievements (admins and issuers): the list, and the form that defines or edits one.

The form is plain HTML (no script): repeated rows for skills (alignments) and result
descriptions, a "more rows" button, a Preview button that shows the badge as it will look
without saving, and Save. The rules are those of :mod:`issuer.achievements.rules` (the API's
and the CLI's), including the dry run that builds and checks a credential before saving.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select

from issuer.achievements.rules import (
    HTTP_URL,
    AchievementError,
    achievement_types,
    check_definition,
    create_achievement,
    image_from_upload,
    result_types,
    update_achievement,
)
from issuer.badge_art import default_badge_data_uri
from issuer.db.models import Achievement, AuditEntry, Award, Issuer, new_id
from issuer.web.admin.blueprint import actor, bp, issuer_of, state

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


# ---------------------------------------------------------------- reading

def _achievement(db, issuer: Issuer, achievement_id: str) -> Achievement:
    achievement = db.get(Achievement, achievement_id) if len(achievement_id) <= 36 else None
    if achievement is None or achievement.issuer_id != issuer.id:
        abort(404, "There is no such achievement.")
    return achievement


def _award_counts(db, issuer: Issuer) -> dict[str, int]:
    rows = db.execute(select(Award.achievement_id, func.count()).where(Award.issuer_id == issuer.id)
                      .group_by(Award.achievement_id))
    return {achievement_id: count for achievement_id, count in rows}


def _frameworks(db, issuer: Issuer) -> list[str]:
    """The skill frameworks this issuer's achievements already use (offered in the form)."""
    names = {a.get("targetFramework") for alignments in db.scalars(
        select(Achievement.alignments).where(Achievement.issuer_id == issuer.id)) for a in alignments or []}
    return sorted(n for n in names if isinstance(n, str) and n.strip())


def image_src(image: str | None, name: str) -> str:
    return image or default_badge_data_uri(name or "Badge")


def validity_text(months: int | None) -> str:
    if not months:
        return "Never expires"
    return f"Valid for {months} month{'s' if months != 1 else ''}"


def _list_row(achievement: Achievement, awards: int) -> dict[str, Any]:
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
        row["id"] = row["id"] or f"urn:uuid:{new_id()}"
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
        rd["rubricCriterionLevel"] = [{"id": ids.get(line) or f"urn:uuid:{new_id()}", "type": ["RubricCriterionLevel"],
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
    """The model fields, or None with ``form.errors`` filled in."""
    fields, problems = check_definition(definition_from_form(form, existing),
                                        slug=existing.slug if existing is not None else None)
    if form.values["validity_months"] and not form.values["validity_months"].isdigit():
        problems = [p for p in problems if p.field != "validity_months"]
        form.errors["validity_months"] = ("The validity must be a whole number of months between 1 and 600; "
                                          "leave it blank if the badge never expires.")
    for problem in problems:
        form.errors.setdefault(_error_key(problem.field), str(problem))
    return fields if not form.errors else None


# ---------------------------------------------------------------- saving

def save(form: AchievementForm, fields: dict, achievement_id: str | None) -> str | None:
    """Create or update, with the dry run and an audit entry; the achievement's id, or None (errors in form)."""
    now = state().clock()
    try:
        with state().sessions.begin() as db:
            issuer = issuer_of(db)
            if achievement_id is None:
                achievement = create_achievement(db, state().settings, issuer, fields, now=now)
            else:
                achievement = update_achievement(db, state().settings, issuer,
                                                 _achievement(db, issuer, achievement_id), fields, now=now)
            db.add(AuditEntry(actor=actor(), at=now, award_id=None,
                              action="create_achievement" if achievement_id is None else "edit_achievement",
                              details={"achievement": achievement.id, "slug": achievement.slug}))
            return achievement.id
    except AchievementError as exc:
        form.errors[_error_key(exc.field)] = str(exc)
        return None


def preview(form: AchievementForm, fields: dict | None) -> dict:
    v = form.values
    months = fields["validity_months"] if fields else (int(v["validity_months"])
                                                       if v["validity_months"].isdigit() else None)
    return {"image": image_src(form.image, v["name"]), "name": v["name"] or "(no name yet)",
            "description": v["description"], "criteria": v["criteria_narrative"],
            "criteria_url": v["criteria_url"] if HTTP_URL.match(v["criteria_url"]) else "",
            "type": v["achievement_type"], "validity": validity_text(months), "alignments": form.alignments,
            "tags": [t.strip() for t in v["tags"].split(",") if t.strip()]}


# ---------------------------------------------------------------- views

def render_form(form: AchievementForm, existing: Achievement | None, *, status: int = 200,
                show_preview: bool = False, extra_rows: int = 0, fields: dict | None = None):
    with state().sessions() as db:
        frameworks = _frameworks(db, issuer_of(db))
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
        preview=preview(form, fields) if show_preview else None,
        current_image=image_src(form.image, form.values["name"]))
    return page, status


def handle_post(existing: Achievement | None, achievement_id: str | None):
    form = form_from_request(existing)
    action = request.form.get("action", "save")
    if action in ("more_alignments", "more_results"):
        return render_form(form, existing, extra_rows=MORE_ROWS)
    fields = check_form(form, existing)
    if action == "preview":
        return render_form(form, existing, status=422 if form.errors else 200, show_preview=True, fields=fields)
    if fields is None or (saved := save(form, fields, achievement_id)) is None:
        return render_form(form, existing, status=422)
    verb = "created" if achievement_id is None else "saved"
    flash(f"Achievement {fields['name']} ({fields['slug']}) {verb}.", "ok")
    return redirect(url_for("admin.achievements", _anchor=f"a-{saved}"), 303)


@bp.get("/achievements")
def achievements() -> str:
    with state().sessions() as db:
        issuer = issuer_of(db)
        counts = _award_counts(db, issuer)
        rows = [_list_row(a, counts.get(a.id, 0)) for a in db.scalars(
            select(Achievement).where(Achievement.issuer_id == issuer.id).order_by(Achievement.name))]
    return render_template("admin/achievements.html", achievements=rows)


@bp.route("/achievements/new", methods=["GET", "POST"])
def achievement_new():
    if request.method == "GET":
        return render_form(form_from_achievement(None), None)
    return handle_post(None, None)


@bp.route("/achievements/<achievement_id>/edit", methods=["GET", "POST"])
def achievement_edit(achievement_id: str):
    with state().sessions() as db:
        existing = _achievement(db, issuer_of(db), achievement_id)
        db.expunge(existing)
    if request.method == "GET":
        return render_form(form_from_achievement(existing), existing)
    return handle_post(existing, achievement_id)
