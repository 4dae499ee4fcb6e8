"""Achievements (admins and issuers): the list, and the form that defines or edits one.

The form is plain HTML: repeated rows for skills (alignments) and result descriptions, a "more
rows" button, a Preview button that shows the badge as it will look without saving, and Save.
Each skill row picks its framework from the issuer's frameworks (:mod:`issuer.web.admin.frameworks`
defines them) and can be filled from the skills catalogue: type in its search box and press Find
(the page comes back with the matches as buttons; Pick fills the row), or, with
``admin-skills.js``, pick from the matches shown as you type (the JSON search of the frameworks
module). Typing a skill's name and URL by hand stays possible. The form becomes a definition;
every rule broken is shown beside its field at once
(:func:`issuer.achievements.rules.check_definition`), then the achievements service
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
from issuer.skills.catalogue import SkillHit
from issuer.web.admin.blueprint import actor, bp, state

if TYPE_CHECKING:
    from issuer.db.models import Achievement

EMPTY_ROWS = 3
MORE_ROWS = 3
MAX_ROWS = 50
TEXT_FIELDS = ("slug", "name", "description", "criteria_narrative", "criteria_url", "achievement_type",
               "validity_months", "tags")
RUBRIC = "RubricCriterionLevel"
ALIGN_KEYS = ("framework", "name", "url", "code", "description")
MAX_TARGET_DESCRIPTION = 2000        # the rules allow 2048 characters per alignment value
FIND_RESULTS = 10


@dataclass
class AchievementForm:
    """What the form shows: its text fields, rows, and the image it will save."""

    values: dict[str, str]
    alignments: list[dict[str, str]]        # framework (id, or a name), name, url, code, description
    results: list[dict[str, str]]           # id, name, type, levels (one per line)
    image: str | None = None                # what Save stores: data: URI / https URL, None = generated art
    image_data: str = ""                    # an upload carried over a preview or an error
    remove_image: bool = False
    errors: dict[str, str] = field(default_factory=dict)
    searches: list[str] = field(default_factory=list)       # each row's catalogue search box
    found: dict[int, list[SkillHit]] = field(default_factory=dict)   # row -> matches (the Find button)


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


def _framework_ids() -> dict[str, str]:
    """framework id -> name, for the rows' pickers."""
    return {f.id: f.name for f in _service().frameworks()}


def form_from_achievement(achievement: Achievement | None) -> AchievementForm:
    if achievement is None:
        return AchievementForm(values={k: "" for k in TEXT_FIELDS}, alignments=[], results=[])
    values = {k: "" if getattr(achievement, k) is None else str(getattr(achievement, k))
              for k in TEXT_FIELDS if k != "tags"}
    values["tags"] = ", ".join(achievement.tags or [])
    ids = {name: key for key, name in _framework_ids().items()}
    alignments = [{"framework": ids.get(a.get("targetFramework", ""), a.get("targetFramework", "")),
                   "name": a.get("targetName", ""), "url": a.get("targetUrl", ""), "code": a.get("targetCode", ""),
                   "description": a.get("targetDescription", "")}
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
    rows = _rows("align", ALIGN_KEYS)           # every row as sent, empty ones too (see compact_rows)
    searches = [q.strip()[:100] for q in request.form.getlist("align_search")[:MAX_ROWS]]
    form = AchievementForm(values=values, alignments=rows, results=results,
                           image_data=request.form.get("image_data", ""),
                           remove_image=request.form.get("remove_image") == "yes",
                           searches=searches + [""] * (len(rows) - len(searches)))
    _upload(form, existing.image if existing is not None else None)
    return form


def _alignment(row: dict[str, str], previous: dict[str, dict], frameworks: dict[str, str]) -> dict:
    kept = {k: v for k, v in previous.get(row["url"], {}).items()
            if k in ("targetType", "targetDescription")}
    alignment = {**kept, "targetName": row["name"], "targetUrl": row["url"]}
    if row.get("description"):
        alignment["targetDescription"] = row["description"][:MAX_TARGET_DESCRIPTION]
    if row["framework"]:        # a framework's id from the picker (or a name, kept for old forms and scripts)
        alignment["targetFramework"] = frameworks.get(row["framework"], row["framework"])
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


def definition_from_form(form: AchievementForm, existing: Achievement | None,
                         frameworks: dict[str, str] | None = None) -> dict:
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
        "alignments": [_alignment(row, old_alignments, frameworks or {}) for row in form.alignments],
        "result_descriptions": [_result_description(row, old_results) for row in form.results],
    }
    if existing is not None and existing.version:
        definition["version"] = existing.version
    return definition


def _row_filled(row: dict[str, str]) -> bool:
    return any(v for k, v in row.items() if k != "description")


def compact_rows(form: AchievementForm, keep: int | None = None) -> int | None:
    """Drop the empty skill rows (but row ``keep``); returns ``keep``'s new position."""
    kept = [i for i, row in enumerate(form.alignments) if i == keep or _row_filled(row)]
    form.alignments = [form.alignments[i] for i in kept]
    form.searches = [form.searches[i] for i in kept]
    return kept.index(keep) if keep is not None and keep in kept else None


def catalogue_action(form: AchievementForm, action: str) -> None:
    """The skill picker without script: ``find:<row>`` lists the catalogue's matches for the row's
    search box; ``pick:<row>:<skill id>`` fills the row with that skill (framework, name, URL, code)."""
    index_text, _, skill_id = action.partition(":")[2].partition(":")
    if not index_text.isdigit() or int(index_text) >= len(form.alignments):
        compact_rows(form)
        return
    index = compact_rows(form, int(index_text))
    assert index is not None  # noqa: S101 - kept by compact_rows
    if not skill_id:
        query = form.searches[index]
        form.found[index] = state().use.skills.search(query, limit=FIND_RESULTS) if query else []
        if not form.found[index]:
            form.errors[f"align-{index}"] = (f"No skill in the catalogue matches {query!r}." if query else
                                             "Type part of a skill's name in the search box first.")
        return
    try:
        skill, framework = state().use.skills.skill(skill_id)
    except IssuerError as exc:
        form.errors[f"align-{index}"] = str(exc)
        return
    form.alignments[index] = {"framework": framework.id, "name": skill.name, "url": skill.url,
                              "code": skill.code or "", "description": skill.description or ""}
    form.searches[index] = ""


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
    definition = definition_from_form(form, existing, _framework_ids())
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
    names = _framework_ids()
    alignments = [{**row, "framework": names.get(row["framework"], row["framework"])} for row in form.alignments]
    months = definition["validity_months"] if definition else (int(v["validity_months"])
                                                               if v["validity_months"].isdigit() else None)
    return {"image": image_src(form.image, v["name"]), "name": v["name"] or "(no name yet)",
            "description": v["description"], "criteria": v["criteria_narrative"],
            "criteria_url": v["criteria_url"] if HTTP_URL.match(v["criteria_url"]) else "",
            "type": v["achievement_type"], "validity": validity_text(months), "alignments": alignments,
            "tags": [t.strip() for t in v["tags"].split(",") if t.strip()]}


# ---------------------------------------------------------------- views

def render_form(form: AchievementForm, existing: Achievement | None, *, status: int = 200,
                show_preview: bool = False, extra_rows: int = 0, definition: dict | None = None):
    frameworks = [(f.id, f.name) for f in _service().frameworks()]
    known = {key for key, _name in frameworks}
    frameworks += sorted({(row["framework"], row["framework"]) for row in form.alignments
                          if row["framework"] and row["framework"] not in known})   # a name typed elsewhere
    types = list(achievement_types())
    if form.values["achievement_type"] and form.values["achievement_type"] not in types:
        types.insert(0, form.values["achievement_type"])
    page = render_template(
        "admin/achievement_form.html", form=form, existing=existing, frameworks=frameworks,
        achievement_types=[("", "(none)")] + [(t, t) for t in types],
        result_types=[("", "Choose…")] + [(t, t) for t in result_types()],
        alignment_rows=form.alignments + [dict.fromkeys(ALIGN_KEYS, "")] * (EMPTY_ROWS + extra_rows),
        search_url=url_for("admin.skills_search"),
        result_rows=form.results + [dict.fromkeys(("id", "name", "type", "levels"), "")] * (1 + extra_rows),
        preview=preview(form, definition) if show_preview else None,
        current_image=image_src(form.image, form.values["name"]))
    return page, status


def handle_post(existing: Achievement | None):
    form = form_from_request(existing)
    action = request.form.get("action", "save")
    if action.startswith(("find:", "pick:")):
        catalogue_action(form, action)
        return render_form(form, existing)
    compact_rows(form)
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
