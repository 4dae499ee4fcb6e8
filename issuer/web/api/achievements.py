"""Achievements: list, get, create, replace (``/api/v1/achievements``)."""
from __future__ import annotations

from typing import Any

from flask import Response, g, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from issuer.achievements.rules import AchievementError, achievement_fields
from issuer.achievements.rules import create_achievement as new_achievement
from issuer.achievements.rules import update_achievement as change_achievement
from issuer.db.models import Achievement, AuditEntry
from issuer.web.api.common import (
    ADMIN,
    READ,
    ApiProblem,
    bp,
    current_time,
    find_achievement,
    json_object,
    load_issuer_row,
    ok,
    requires,
    settings,
    state,
)
from issuer.web.serialise import achievement_json


@bp.get("/achievements")
@requires(READ)
def list_achievements() -> Response:
    with state().sessions() as session:
        issuer = load_issuer_row(session)
        rows = session.scalars(select(Achievement).where(Achievement.issuer_id == issuer.id)
                               .order_by(Achievement.slug)).all()
        return ok({"items": [achievement_json(a) for a in rows]})


@bp.get("/achievements/<ref>")
@requires(READ)
def get_achievement(ref: str) -> Response:
    with state().sessions() as session:
        issuer = load_issuer_row(session)
        achievement = find_achievement(session, issuer, ref)
        if achievement is None:
            raise ApiProblem(404, f"There is no achievement {ref!r}.")
        return ok(achievement_json(achievement))


def _rule_problem(exc: AchievementError) -> ApiProblem:
    """An achievement rule broken: 409 for a taken slug, else 422 (with the field it concerns)."""
    extensions: dict[str, Any] = {"code": exc.code}
    if exc.field:
        extensions["field"] = exc.field
    if exc.errors:
        extensions["errors"] = exc.errors
    return ApiProblem(409 if exc.code == "duplicate" else 422, str(exc), **extensions)


@bp.post("/achievements")
@requires(ADMIN)
def create_achievement() -> Response:
    body = json_object()
    try:
        fields = achievement_fields(body)
        with state().sessions.begin() as session:
            issuer = load_issuer_row(session)
            achievement = new_achievement(session, settings(), issuer, fields, now=current_time())
            _audit_achievement(session, "create_achievement", achievement)
            document = achievement_json(achievement)
    except AchievementError as exc:
        raise _rule_problem(exc) from None
    return ok(document, 201, {"Location": f"{request.script_root}/api/v1/achievements/{document['id']}"})


@bp.put("/achievements/<ref>")
@requires(ADMIN)
def replace_achievement(ref: str) -> Response:
    """Replace the definition (the slug stays); awards issued from now on carry the new one."""
    body = json_object()
    try:
        with state().sessions.begin() as session:
            issuer = load_issuer_row(session)
            achievement = find_achievement(session, issuer, ref)
            if achievement is None:
                raise ApiProblem(404, f"There is no achievement {ref!r}.")
            fields = achievement_fields(body, slug=achievement.slug)
            change_achievement(session, settings(), issuer, achievement, fields, now=current_time())
            _audit_achievement(session, "edit_achievement", achievement)
            document = achievement_json(achievement)
    except AchievementError as exc:
        raise _rule_problem(exc) from None
    return ok(document)


def _audit_achievement(session: Session, action: str, achievement: Achievement) -> None:
    session.add(AuditEntry(actor=g.caller.actor, action=action, award_id=None,
                           details={"achievement": achievement.id, "slug": achievement.slug}))
