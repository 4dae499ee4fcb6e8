"""Skills held and skills coverage (``/api/v1/skills``, from the achievements service)."""
from __future__ import annotations

from flask import Response, request

from issuer.web.api.common import (
    MAX_SKILLS_ASKED,
    READ,
    ApiProblem,
    bp,
    ok,
    requires,
    state,
)
from issuer.web.serialise import coverage_json, skills_json


@bp.get("/skills")
@requires(READ)
def skills() -> Response:
    return ok(skills_json(state().use.achievements.skills_held()))


@bp.get("/skills/coverage")
@requires(READ)
def skills_coverage() -> Response:
    asked = request.args.getlist("skill")
    if not asked:
        raise ApiProblem(400, "Name at least one skill: ?skill=...&skill=... (a skill name, target URL or code).")
    if len(asked) > MAX_SKILLS_ASKED or any(not s or len(s) > 1024 or "\x00" in s for s in asked):
        raise ApiProblem(400, f"Ask for 1 to {MAX_SKILLS_ASKED} skills of 1 to 1024 characters.")
    return ok(coverage_json(state().use.achievements.coverage(asked)))
