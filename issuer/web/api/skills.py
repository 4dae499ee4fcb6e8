"""Skills held and skills coverage; credentials signed through the VC-API (``/vcapi-credentials``)."""
from __future__ import annotations

from flask import Response, request

from issuer.achievements.inventory import coverage, skills_held
from issuer.awards.credentials import timestamp
from issuer.awards.vcapi_records import STATES, allocations, list_query
from issuer.web.api.common import (
    DEFAULT_PAGE,
    MAX_PAGE,
    MAX_SKILLS_ASKED,
    READ,
    ApiProblem,
    bp,
    current_time,
    decode_cursor,
    load_issuer_row,
    ok,
    page,
    paged,
    query_int,
    query_str,
    requires,
    state,
)
from issuer.web.serialise import vcapi_credential_json


@bp.get("/vcapi-credentials")
@requires(READ)
def list_vcapi_credentials() -> Response:

    limit = query_int("limit", DEFAULT_PAGE, 1, MAX_PAGE)
    cursor = decode_cursor()
    state_filter = query_str("state", 20)
    if state_filter is not None and state_filter not in STATES:
        raise ApiProblem(400, f"'state' must be one of {', '.join(STATES)}.")
    with state().sessions() as session:
        issuer = load_issuer_row(session)
        query = list_query(issuer, state_filter)
        model = query.column_descriptions[0]["entity"]
        rows = list(session.scalars(page(model, query, limit, cursor)))
        return paged(rows, limit, lambda r: vcapi_credential_json(r, allocations(session, r.id)))


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
