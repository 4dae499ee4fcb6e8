"""Skills held and skills coverage."""
from __future__ import annotations

from flask import Response, request

from issuer.achievements.inventory import coverage, skills_held
from issuer.awards.credentials import timestamp
from issuer.web.api.common import (
    MAX_SKILLS_ASKED,
    READ,
    ApiProblem,
    bp,
    current_time,
    load_issuer_row,
    ok,
    requires,
    state,
)


@bp.get("/skills")
@requires(READ)
def skills() -> Response:
    now = current_time()
    with state().sessions() as session:
        items = [s.to_json() for s in skills_held(session, load_issuer_row(session), now)]
    return ok({"as_of": timestamp(now), "items": items})


@bp.get("/skills/coverage")
@requires(READ)
def skills_coverage() -> Response:
    asked = request.args.getlist("skill")
    if not asked:
        raise ApiProblem(400, "Name at least one skill: ?skill=...&skill=... (a skill name, target URL or code).")
    if len(asked) > MAX_SKILLS_ASKED or any(not s or len(s) > 1024 or "\x00" in s for s in asked):
        raise ApiProblem(400, f"Ask for 1 to {MAX_SKILLS_ASKED} skills of 1 to 1024 characters.")
    now = current_time()
    with state().sessions() as session:
        result = coverage(session, load_issuer_row(session), asked, now)
        people = [{"recipient": {"id": p.recipient.id, "email": p.recipient.email, "name": p.recipient.name},
                   "has": p.has, "missing": p.missing} for p in result.people]
    return ok({
        "as_of": timestamp(now), "skills": result.skills, "unknown_skills": result.unknown_skills,
        "has_all": [p["recipient"] for p in people if not p["missing"]],
        "people": people,
    })
