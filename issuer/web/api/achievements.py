"""Achievements: list, get, create, replace (``/api/v1/achievements``).

Shells over :class:`issuer.achievements.service.AchievementService`: a broken rule is a 422
problem with its ``code`` and ``field``, a slug already taken 409, an unknown achievement 404
(the app's one handler of the error tree, :func:`issuer.web.http.issuer_error`).
"""
from __future__ import annotations

from flask import Response, g, request

from issuer.achievements.service import AchievementService
from issuer.web.api.common import ADMIN, READ, bp, json_object, ok, requires, state
from issuer.web.serialise import achievement_json


def _service() -> AchievementService:
    return state().use.achievements


@bp.get("/achievements")
@requires(READ)
def list_achievements() -> Response:
    return ok({"items": [achievement_json(a) for a in _service().all()]})


@bp.get("/achievements/<ref>")
@requires(READ)
def get_achievement(ref: str) -> Response:
    return ok(achievement_json(_service().get(ref)))


@bp.post("/achievements")
@requires(ADMIN)
def create_achievement() -> Response:
    document = achievement_json(_service().create(json_object(), actor=g.caller.actor))
    return ok(document, 201, {"Location": f"{request.script_root}/api/v1/achievements/{document['id']}"})


@bp.put("/achievements/<ref>")
@requires(ADMIN)
def replace_achievement(ref: str) -> Response:
    """Replace the definition (the slug stays); awards issued from now on carry the new one."""
    return ok(achievement_json(_service().replace(ref, json_object(), actor=g.caller.actor)))
