"""The HR REST API, ``/api/v1``: achievements, awards, recipients, skills, bulk issuance.

Register it (and the VC-API endpoints of :mod:`issuer.web.vcapi`) on the app with::

    from issuer.web.api import register_api
    register_api(app)

========================================  =======  ======================================================
route                                     scope    what
========================================  =======  ======================================================
``GET  /achievements``                    read     every achievement
``POST /achievements``                    admin    define one (the CLI's rules, plus a dry-run issuance)
``GET  /achievements/{ref}``              read     one achievement, by id or slug
``PUT  /achievements/{ref}``              admin    replace its definition (same rules; the slug stays)
``GET  /awards``                          read     filter ``achievement``, ``state``, ``email``,
                                                   ``expiring_within_days``; cursor pagination
``POST /awards``                          issue    issue one; ``Idempotency-Key`` honoured
``POST /awards/bulk``                     issue    CSV body or multipart ``file``; ``?dry_run=true``;
                                                   ``?async=true``: 202 and a bulk job issued in the background
``GET  /bulk-jobs/{id}``                  read     a background bulk job: state, progress, counts
``GET  /bulk-jobs/{id}/results``          read     its result CSV (each row's credential URL or error)
``GET  /awards/{id}``                     read     one award with its signed credential
``POST /awards/{id}/revoke|suspend|``     issue    ``{"reason": "..."}``
``unsuspend``
``POST /awards/{id}/renew``               issue    a new credential; the old award is superseded
``GET  /recipients``                      read     filter ``email``; cursor pagination
``GET  /recipients/{id}``                 read     one recipient with their awards
``GET  /vcapi-credentials``               read     credentials signed through the VC-API, with who asked;
                                                   filter ``state``; cursor pagination
``GET  /skills``                          read     people per skill from active, valid awards
``GET  /skills/coverage?skill=..``        read     who has every skill asked for, who misses which
``GET  /openapi.json``                    (none)   the OpenAPI 3.1 description of all of this
========================================  =======  ======================================================

Authentication: ``Authorization: Bearer <token>`` (:mod:`issuer.access.tokens`); scopes
read < issue < admin. Every error is an RFC 9457 ``application/problem+json`` body with
``title``, ``status`` and ``detail`` (and sometimes ``code`` or ``errors``): 400 malformed
request, 401 no or bad token, 403 scope too small, 404 unknown object, 409 conflict,
413 body too large (JSON: 2 MiB, CSV: 10 MiB), 415 wrong media type, 422 invalid content,
429 too many requests with this token (600 a minute per server process; ``Retry-After``),
501 bulk issuance not available, 503 issuer not set up. Only objects of this installation's
issuer are ever visible or changeable.
"""
from __future__ import annotations

import base64
import binascii
import importlib
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import wraps
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Flask, Response, current_app, g, request
from limits import parse as parse_rate
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, selectinload
from werkzeug.exceptions import HTTPException

from issuer.access.tokens import scope_allows, verify_token
from issuer.achievements.inventory import coverage, skills_held
from issuer.achievements.rules import AchievementError, achievement_fields
from issuer.achievements.rules import create_achievement as new_achievement
from issuer.achievements.rules import update_achievement as change_achievement
from issuer.awards import rules as award_rules
from issuer.awards.credentials import credential_url, timestamp
from issuer.awards.vcapi_records import STATES, allocations, list_query
from issuer.config import ConfigError, Settings
from issuer.db import models_api  # noqa: F401  (ApiToken on Base.metadata)
from issuer.db.models import AWARD_STATES, Achievement, AuditEntry, Award, Issuer, Recipient, utcnow
from issuer.web.ratelimit import over_limit
from verifier.errors import CredentialError
from verifier.limits import check_structure
from verifier.recipient import normalize_identity

bp = Blueprint("api", __name__, url_prefix="/api/v1")

PROBLEM = "application/problem+json"
JSON_LIMIT = 2 * 1024 * 1024
BULK_LIMIT = 10 * 1024 * 1024
DEFAULT_PAGE = 50
MAX_PAGE = 100
MAX_SKILLS_ASKED = 50
API_RATE_LIMIT = "600/minute"      # requests per token (app.config API_RATE_LIMIT), per server process
MAX_IDEMPOTENCY_KEY = 200
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")
READ, ISSUE, ADMIN = "read", "issue", "admin"
UNAVAILABLE_CODES = {"not_initialized", "no_current_key", "key_mismatch"}


# ---------------------------------------------------------------- registration

def register_api(app: Flask) -> None:
    """Register ``/api/v1`` and the VC-API endpoints (with their configuration) on ``app``.

    Configuration (``app.config``, defaulting from the environment): ``VCAPI_ISSUER``
    (``$MICROCRED_VCAPI_ISSUER``: ``did:web``, the default, or ``did:key``), ``API_RATE_LIMIT``
    (``$MICROCRED_API_RATE_LIMIT``, default ``600/minute`` per token and process), ``VCAPI_OPEN``
    (``$MICROCRED_VCAPI_OPEN=1``: the verify endpoints need no token), ``VCAPI_ISSUING``
    (``$MICROCRED_VCAPI_ISSUING=1``: ``/credentials/issue`` is on; off by default), ``VCAPI_FETCH_POLICY``
    (a :class:`verifier.fetcher.FetchPolicy` for verification; default: public https only)
    and ``VCAPI_OFFLINE`` (verify without any network access).
    """
    from issuer.web import vcapi

    if "api" in app.blueprints:
        return
    app.config.setdefault("VCAPI_ISSUER", os.environ.get("MICROCRED_VCAPI_ISSUER") or "did:web")
    app.config.setdefault("VCAPI_OPEN", os.environ.get("MICROCRED_VCAPI_OPEN") == "1")
    app.config.setdefault("VCAPI_ISSUING", os.environ.get("MICROCRED_VCAPI_ISSUING") == "1")
    app.config.setdefault("VCAPI_FETCH_POLICY", None)
    app.config.setdefault("VCAPI_OFFLINE", False)
    app.config.setdefault("API_RATE_LIMIT", os.environ.get("MICROCRED_API_RATE_LIMIT") or API_RATE_LIMIT)
    try:
        parse_rate(app.config["API_RATE_LIMIT"])
    except ValueError:
        raise ConfigError(f"MICROCRED_API_RATE_LIMIT must be a rate such as '600/minute', not "
                          f"{app.config['API_RATE_LIMIT']!r}") from None
    if app.config["VCAPI_ISSUER"] not in ("did:web", "did:key"):
        raise ConfigError(f"MICROCRED_VCAPI_ISSUER must be 'did:web' or 'did:key', not "
                          f"{app.config['VCAPI_ISSUER']!r}")
    app.register_blueprint(bp)
    app.register_blueprint(vcapi.bp)


# ---------------------------------------------------------------- problems

class ApiProblem(Exception):
    """An error response: RFC 9457 problem JSON with ``title``, ``status``, ``detail`` and extensions."""

    def __init__(self, status: int, detail: str, *, title: str | None = None, headers: dict | None = None,
                 **extensions: Any):
        super().__init__(detail)
        self.status = status
        self.title = title or HTTPStatus(status).phrase
        self.detail = detail
        self.headers = headers or {}
        self.extensions = extensions


def problem_response(status: int, title: str, detail: str, headers: dict | None = None,
                     **extensions: Any) -> Response:
    body = {"title": title, "status": status, "detail": detail}
    body.update({k: v for k, v in extensions.items() if k not in body})
    response = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM,
                        headers=headers or {})
    response.headers["Cache-Control"] = "no-store"
    return response


def _api_problem(exc: ApiProblem) -> Response:
    return problem_response(exc.status, exc.title, exc.detail, exc.headers, **exc.extensions)


def _http_error(exc: HTTPException) -> Response:
    headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
    return problem_response(exc.code or 500, exc.name, exc.description or exc.name, headers)


def credential_problem(exc: CredentialError) -> ApiProblem:
    status = 503 if exc.code in UNAVAILABLE_CODES else 422
    return ApiProblem(status, str(exc), code=exc.code)


def _credential_error(exc: CredentialError) -> Response:
    return _api_problem(credential_problem(exc))


def install_error_handlers(blueprint: Blueprint) -> None:
    """Problem JSON for everything a view of ``blueprint`` raises (the app's handlers do the rest)."""
    blueprint.register_error_handler(ApiProblem, _api_problem)
    blueprint.register_error_handler(CredentialError, _credential_error)
    blueprint.register_error_handler(HTTPException, _http_error)


install_error_handlers(bp)


# ---------------------------------------------------------------- state, authentication

def state():
    return current_app.extensions["microcred"]


def settings() -> Settings:
    return state().settings


@dataclass(frozen=True)
class Caller:
    token_id: str
    name: str | None
    scope: str

    @property
    def actor(self) -> str:
        return f"api:{self.token_id}" + (f" ({self.name})" if self.name else "")


def authenticate(required: str, *, optional: bool = False) -> Caller | None:
    """The caller of this request (its token), or raise 401/403. ``optional``: no header is fine."""
    header = request.headers.get("Authorization")
    if header is None and optional:
        return None
    challenge = 'Bearer realm="microcred"'
    if not header:
        raise ApiProblem(401, "This endpoint needs an API token: send 'Authorization: Bearer <token>'.",
                         headers={"WWW-Authenticate": challenge})
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise ApiProblem(401, "Only bearer tokens are accepted: 'Authorization: Bearer <token>'.",
                         headers={"WWW-Authenticate": challenge})
    with state().sessions.begin() as session:
        row = verify_token(session, value.strip())
        caller = Caller(row.id, row.name, row.scope) if row is not None else None
    if caller is None:
        raise ApiProblem(401, "The API token is unknown or was revoked.",
                         headers={"WWW-Authenticate": f'{challenge}, error="invalid_token"'})
    wait = over_limit("api", current_app.config["API_RATE_LIMIT"], caller.token_id)
    if wait is not None:
        raise ApiProblem(429, f"Too many requests with this token; try again in {wait} seconds.",
                         headers={"Retry-After": str(wait)})
    if not scope_allows(caller.scope, required):
        raise ApiProblem(403, f"This needs a token with the {required!r} scope; this token has {caller.scope!r}.",
                         headers={"WWW-Authenticate": f'{challenge}, error="insufficient_scope", scope="{required}"'})
    return caller


def requires(scope: str) -> Callable:
    """Decorator: the view needs a token with at least ``scope``; the caller is ``g.caller``."""
    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            g.caller = authenticate(scope)
            return view(*args, **kwargs)
        wrapper.required_scope = scope
        return wrapper
    return decorator


@bp.before_request
def _limits() -> None:
    request.max_content_length = BULK_LIMIT if request.endpoint == "api.bulk_issue" else JSON_LIMIT


# ---------------------------------------------------------------- request bodies

def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"the number {text[:40]} is too large")
    return value


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict:
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("an object has the same key twice")
    return dict(pairs)


def _check_text(value: Any) -> None:
    """Strings must be encodable UTF-8 (no lone surrogates) without NUL characters."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                raise ApiProblem(400, "A string contains a NUL character (\\u0000), which is not accepted.")
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise ApiProblem(400, "A string contains a lone surrogate (invalid Unicode).") from None
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def parse_json_bytes(raw: bytes) -> Any:
    """Strict JSON: UTF-8, no NaN/Infinity, no duplicate keys, bounded depth and size, clean strings."""
    try:
        value = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant, parse_float=_finite_float,
                           object_pairs_hook=_no_duplicates)
    except RecursionError:
        raise ApiProblem(400, "The JSON body is nested too deeply.") from None
    except UnicodeDecodeError:
        raise ApiProblem(400, "The body is not UTF-8 text.") from None
    except ValueError as exc:
        raise ApiProblem(400, f"The body is not valid JSON: {exc}") from None
    try:
        check_structure(value)
    except CredentialError as exc:
        raise ApiProblem(400, f"The JSON body is too complex: {exc}") from None
    _check_text(value)
    return value


def is_json_mimetype(mimetype: str) -> bool:
    return mimetype == "application/json" or (mimetype.startswith("application/") and mimetype.endswith("+json"))


def json_body(*, required: bool = True) -> Any:
    """The request's JSON body (415 for another media type, 400 for malformed JSON)."""
    raw = request.get_data(cache=True)
    if not raw and not required:
        return None
    if not is_json_mimetype(request.mimetype):
        raise ApiProblem(415, "Send the body as JSON ('Content-Type: application/json').")
    if not raw:
        raise ApiProblem(400, "The request needs a JSON body.")
    return parse_json_bytes(raw)


def json_object(*, required: bool = True) -> dict:
    body = json_body(required=required)
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise ApiProblem(400, "The JSON body must be an object.")
    return body


def ok(document: Any, status: int = 200, headers: dict | None = None) -> Response:
    response = Response(json.dumps(document, ensure_ascii=False), status=status, mimetype="application/json",
                        headers=headers or {})
    response.headers["Cache-Control"] = "no-store"
    return response


def invalid(detail: str, **extensions: Any) -> ApiProblem:
    return ApiProblem(422, detail, **extensions)


# ---------------------------------------------------------------- query parameters

def _query_int(name: str, default: int | None, low: int, high: int) -> int | None:
    values = request.args.getlist(name)
    if not values:
        return default
    if len(values) > 1:
        raise ApiProblem(400, f"Give {name!r} once.")
    value = values[0].strip()
    if not re.fullmatch(r"\d{1,6}", value) or not low <= int(value) <= high:
        raise ApiProblem(400, f"{name!r} must be a whole number from {low} to {high}.")
    return int(value)


def _query_str(name: str, max_length: int = 320) -> str | None:
    values = request.args.getlist(name)
    if not values:
        return None
    if len(values) > 1:
        raise ApiProblem(400, f"Give {name!r} once.")
    value = values[0]
    if not value or len(value) > max_length or "\x00" in value:
        raise ApiProblem(400, f"{name!r} must be 1 to {max_length} characters.")
    return value


def _query_bool(name: str) -> bool:
    value = _query_str(name, 5)
    if value is None:
        return False
    if value.lower() not in ("true", "false", "1", "0"):
        raise ApiProblem(400, f"{name!r} must be true or false.")
    return value.lower() in ("true", "1")


def _encode_cursor(created_at: datetime, row_id: str) -> str:
    raw = json.dumps([created_at.astimezone(UTC).isoformat(), row_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode("utf-8")).decode("ascii").rstrip("=")


def _decode_cursor() -> tuple[datetime, str] | None:
    value = _query_str("cursor", 200)
    if value is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        when, row_id = json.loads(raw.decode("utf-8"))
        moment = datetime.fromisoformat(when)
        if moment.tzinfo is None or not isinstance(row_id, str) or not UUID.match(row_id):
            raise ValueError("bad cursor")
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, OverflowError):
        raise ApiProblem(400, "'cursor' is not a cursor this API returned.") from None
    return moment, row_id


def _page(model, query, limit: int, cursor: tuple[datetime, str] | None):
    if cursor is not None:
        moment, row_id = cursor
        query = query.where(or_(model.created_at < moment, and_(model.created_at == moment, model.id < row_id)))
    return query.order_by(model.created_at.desc(), model.id.desc()).limit(limit + 1)


def _paged(rows: list, limit: int, serialize: Callable) -> Response:
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = _encode_cursor(rows[-1].created_at, rows[-1].id) if more and rows else None
    headers = {}
    if next_cursor:
        pairs = [(k, v) for k, v in request.args.items(multi=True) if k != "cursor"] + [("cursor", next_cursor)]
        headers["Link"] = f'<{request.path}?{urlencode(pairs)}>; rel="next"'
    return ok({"items": [serialize(row) for row in rows], "next_cursor": next_cursor}, headers=headers)


# ---------------------------------------------------------------- issuer and serializers

def load_issuer_row(session: Session) -> Issuer:
    issuer = session.scalars(select(Issuer).where(Issuer.did == settings().did)).one_or_none()
    if issuer is None:
        raise ApiProblem(503, "No issuer is set up for this installation yet (run 'microcred init').")
    return issuer


def _iso(value: datetime | None) -> str | None:
    return timestamp(value) if value is not None else None


def _now() -> datetime:
    return utcnow()


def achievement_json(achievement: Achievement) -> dict:
    return {
        "id": achievement.id, "slug": achievement.slug, "name": achievement.name,
        "description": achievement.description, "criteria_narrative": achievement.criteria_narrative,
        "criteria_url": achievement.criteria_url, "image": achievement.image,
        "achievement_type": achievement.achievement_type, "alignments": list(achievement.alignments or []),
        "tags": list(achievement.tags or []), "result_descriptions": list(achievement.result_descriptions or []),
        "validity_months": achievement.validity_months, "version": achievement.version,
        "url": settings().url(f"/achievements/{achievement.id}"), "created_at": _iso(achievement.created_at),
    }


def recipient_json(recipient: Recipient) -> dict:
    return {"id": recipient.id, "email": recipient.email, "name": recipient.name,
            "employee_id": recipient.employee_id, "did": recipient.did, "created_at": _iso(recipient.created_at)}


def _expired(award: Award, now: datetime) -> bool:
    return award.valid_until is not None and award.valid_until <= now


def award_json(award: Award, *, with_credential: bool = False, now: datetime | None = None) -> dict:
    now = now or _now()
    document = {
        "id": award.id, "state": award.state, "state_reason": award.state_reason,
        "expired": _expired(award, now),
        "achievement": {"id": award.achievement.id, "slug": award.achievement.slug, "name": award.achievement.name},
        "recipient": {"id": award.recipient.id, "email": award.recipient.email, "name": award.recipient.name,
                      "employee_id": award.recipient.employee_id},
        "awarded_at": _iso(award.awarded_at), "valid_from": _iso(award.valid_from),
        "valid_until": _iso(award.valid_until), "created_at": _iso(award.created_at),
        "superseded_by": award.superseded_by, "evidence": list(award.evidence or []),
        "results": list(award.results or []),
        "credential_url": credential_url(settings(), award.id),
        "credential_jwt_url": credential_url(settings(), award.id) + ".jwt" if award.credential_jwt else None,
    }
    if with_credential:
        document["credential"] = json.loads(award.credential) if award.credential else None
    return document


def _find_achievement(session: Session, issuer: Issuer, ref: str) -> Achievement | None:
    if len(ref) > 100 or "\x00" in ref:
        return None
    return session.scalars(select(Achievement).where(
        Achievement.issuer_id == issuer.id, or_(Achievement.slug == ref, Achievement.id == ref))).one_or_none()


def _award_of_issuer(session: Session, issuer: Issuer, award_id: str) -> Award:
    award = session.get(Award, award_id) if UUID.match(award_id) else None
    if award is None or award.issuer_id != issuer.id:
        raise ApiProblem(404, f"There is no award {award_id!r}.")
    return award


# ---------------------------------------------------------------- achievements

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
        achievement = _find_achievement(session, issuer, ref)
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
            achievement = new_achievement(session, settings(), issuer, fields, now=_now())
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
            achievement = _find_achievement(session, issuer, ref)
            if achievement is None:
                raise ApiProblem(404, f"There is no achievement {ref!r}.")
            fields = achievement_fields(body, slug=achievement.slug)
            change_achievement(session, settings(), issuer, achievement, fields, now=_now())
            _audit_achievement(session, "edit_achievement", achievement)
            document = achievement_json(achievement)
    except AchievementError as exc:
        raise _rule_problem(exc) from None
    return ok(document)


def _audit_achievement(session: Session, action: str, achievement: Achievement) -> None:
    session.add(AuditEntry(actor=g.caller.actor, action=action, award_id=None,
                           details={"achievement": achievement.id, "slug": achievement.slug}))


# ---------------------------------------------------------------- awards

def _idempotency_key() -> str | None:
    value = request.headers.get("Idempotency-Key")
    if value is None:
        return None
    value = value.strip()
    if value.startswith('"') and value.endswith('"') and len(value) >= 2:   # RFC 8941 sf-string form
        value = value[1:-1]
    if not IDEMPOTENCY_KEY.match(value):
        raise ApiProblem(400, f"The Idempotency-Key header must be 1 to {MAX_IDEMPOTENCY_KEY} visible ASCII "
                              "characters.")
    return value


@bp.post("/awards")
@requires(ISSUE)
def issue() -> Response:
    issued = state().use.awards.issue(json_object(), actor=g.caller.actor, external_id=_idempotency_key())
    document = award_json(issued.award)
    response = ok(document, 201 if issued.created else 200,
                  {"Location": f"{request.script_root}/api/v1/awards/{document['id']}"}
                  | ({} if issued.created else {"Idempotent-Replayed": "true"}))
    if issued.created:
        _send_mail_after(response)
    return response


def _send_mail_after(response: Response) -> None:
    """Deliver queued award emails once the response has gone out (the outbox retries failures)."""
    response.call_on_close(state().use.awards.deliver_mail)


@bp.get("/awards")
@requires(READ)
def list_awards() -> Response:
    limit = _query_int("limit", DEFAULT_PAGE, 1, MAX_PAGE)
    cursor = _decode_cursor()
    achievement_ref = _query_str("achievement", 100)
    state_filter = _query_str("state", 20)
    if state_filter is not None and state_filter not in AWARD_STATES:
        raise ApiProblem(400, f"'state' must be one of {', '.join(AWARD_STATES)}.")
    email = _query_str("email", 320)
    days = _query_int("expiring_within_days", None, 0, 3650)
    now = _now()
    with state().sessions() as session:
        issuer = load_issuer_row(session)
        query = select(Award).where(Award.issuer_id == issuer.id).options(
            selectinload(Award.achievement), selectinload(Award.recipient))
        if achievement_ref is not None:
            query = query.join(Achievement, Award.achievement_id == Achievement.id).where(
                or_(Achievement.slug == achievement_ref, Achievement.id == achievement_ref))
        if state_filter is not None:
            query = query.where(Award.state == state_filter)
        if email is not None:
            query = query.join(Recipient, Award.recipient_id == Recipient.id).where(
                Recipient.email == normalize_identity(email))
        if days is not None:
            query = query.where(Award.state == "active", Award.valid_until.is_not(None), Award.valid_until >= now,
                                Award.valid_until <= now + timedelta(days=days))
        rows = list(session.scalars(_page(Award, query, limit, cursor)))
        return _paged(rows, limit, lambda a: award_json(a, now=now))


@bp.get("/awards/<award_id>")
@requires(READ)
def get_award(award_id: str) -> Response:
    with state().sessions() as session:
        issuer = load_issuer_row(session)
        return ok(award_json(_award_of_issuer(session, issuer, award_id), with_credential=True))


def _status_action(award_id: str, action: str) -> Response:
    from issuer.awards.lifecycle import LifecycleError, change_status

    with state().sessions() as session:
        issuer = load_issuer_row(session)
        _award_of_issuer(session, issuer, award_id)
    body = json_object()
    try:
        award_rules.only(body, ("reason",), "The request")
        reason = award_rules.status_reason(body)
    except award_rules.AwardRuleError as exc:
        raise invalid(str(exc)) from None
    try:
        change = change_status(state().sessions, settings(), award_id, action, reason=reason, actor=g.caller.actor)
    except LifecycleError as exc:
        if exc.code == "unknown_award":
            raise ApiProblem(404, f"There is no award {award_id!r}.") from None
        if exc.code == "reason_required":
            raise invalid(str(exc), code=exc.code) from None
        raise ApiProblem(409, str(exc), code=exc.code) from None
    return ok({"id": change.award_id, "action": change.action, "state": change.state, "changed": change.changed})


@bp.post("/awards/<award_id>/revoke")
@requires(ISSUE)
def revoke(award_id: str) -> Response:
    return _status_action(award_id, "revoke")


@bp.post("/awards/<award_id>/suspend")
@requires(ISSUE)
def suspend(award_id: str) -> Response:
    return _status_action(award_id, "suspend")


@bp.post("/awards/<award_id>/unsuspend")
@requires(ISSUE)
def unsuspend(award_id: str) -> Response:
    return _status_action(award_id, "unsuspend")


@bp.post("/awards/<award_id>/renew")
@requires(ISSUE)
def renew_award(award_id: str) -> Response:
    from issuer.awards.lifecycle import LifecycleError, renew

    with state().sessions() as session:
        issuer = load_issuer_row(session)
        already = _award_of_issuer(session, issuer, award_id).superseded_by
    body = json_body(required=False)
    if body not in (None, {}):
        raise invalid("Renewal takes no parameters (send no body or {}).")
    try:
        new = renew(state().sessions, settings(), award_id, actor=g.caller.actor)
    except LifecycleError as exc:
        if exc.code == "unknown_award":
            raise ApiProblem(404, f"There is no award {award_id!r}.") from None
        raise ApiProblem(409, str(exc), code=exc.code) from None
    with state().sessions() as session:
        award = session.scalars(select(Award).where(Award.id == new.id).options(
            selectinload(Award.achievement), selectinload(Award.recipient))).one()
        document = award_json(award)
    response = ok(document, 200 if already else 201,
                  {"Location": f"{request.script_root}/api/v1/awards/{document['id']}"})
    if not already:
        _send_mail_after(response)
    return response


# ---------------------------------------------------------------- bulk

def _bulk_module():
    try:
        module = importlib.import_module("issuer.bulk.run")
    except ImportError:
        return None
    if not (hasattr(module, "validate_csv") and hasattr(module, "issue_csv")):
        return None
    return module


def _csv_bytes() -> bytes:
    mimetype = request.mimetype
    if mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise ApiProblem(400, "Send the CSV as the multipart field 'file'.")
        return upload.read(BULK_LIMIT + 1)
    if mimetype in ("text/csv", "application/csv", "text/plain"):
        return request.get_data(cache=False)
    raise ApiProblem(415, "Send the CSV as 'Content-Type: text/csv' or as the multipart/form-data field 'file'.")


def _problems(report) -> list[dict]:
    return [{"line": p.line, "reason": p.reason} for p in report.problems]


@bp.post("/awards/bulk")
@requires(ISSUE)
def bulk_issue() -> Response:
    bulk = _bulk_module()
    if bulk is None:
        raise ApiProblem(501, "Bulk issuance is not available in this installation.")
    dry_run, background = _query_bool("dry_run"), _query_bool("async")
    raw = _csv_bytes()
    if len(raw) > BULK_LIMIT:
        raise ApiProblem(413, f"The CSV is larger than {BULK_LIMIT // (1024 * 1024)} MiB; split it.")
    if not raw.strip():
        raise invalid("The CSV is empty.")
    with state().sessions() as session:
        issuer = load_issuer_row(session)
        if dry_run or background:
            report = bulk.validate_csv(raw, session, issuer)
    if background and not dry_run:
        if not report.ok:
            raise invalid(f"{len(report.problems)} row(s) of the CSV are not valid; nothing was issued.",
                          dry_run=False, ok=False, total_rows=report.total_rows, problems=_problems(report))
        return _start_bulk_job(raw, report)
    if dry_run:
        summary = {"dry_run": True, "ok": report.ok, "total_rows": report.total_rows, "to_issue": report.to_issue,
                   "already_issued": report.already_issued, "problems": _problems(report)}
        if not report.ok:
            raise invalid(f"{len(report.problems)} row(s) of the CSV are not valid; nothing would be issued.",
                          **summary)
        return ok(summary)
    result = bulk.issue_csv(raw, state().use.runtime, actor=g.caller.actor, indexes=state().use.indexes)
    if not result.started:
        raise invalid(f"{len(result.report.problems)} row(s) of the CSV are not valid; nothing was issued.",
                      dry_run=False, ok=False, total_rows=result.report.total_rows, problems=_problems(result.report))
    response = ok({"dry_run": False, "ok": True, "total_rows": result.report.total_rows, "issued": result.issued,
                   "already_issued": result.already_issued,
                   "awards": [{"line": a.line, "award_id": a.award_id, "credential_url": a.credential_url,
                               "created": a.created} for a in result.awards]},
                  201 if result.issued else 200)
    if result.issued:
        _send_mail_after(response)
    return response


def _start_bulk_job(raw: bytes, report) -> Response:
    """Store the file as a bulk job (as the console does) and issue it in the background: 202."""
    from issuer.bulk import jobs as bulk_jobs

    filename = request.files["file"].filename if request.mimetype == "multipart/form-data" else "api.csv"
    with state().sessions.begin() as session:
        issuer = load_issuer_row(session)
        issuer_id = issuer.id
        try:
            job_id = bulk_jobs.create_job(session, issuer, filename=filename, raw=raw, actor=g.caller.actor,
                                          now=_now(), report=report)
        except bulk_jobs.BulkJobError as exc:
            raise invalid(str(exc)) from None
    bulk_jobs.start_job(state().sessions, settings(), job_id, issuer_id, actor=g.caller.actor, clock=_now)
    with state().sessions() as session:
        document = bulk_job_json(bulk_jobs.get_job(session, issuer_id, job_id))
    return ok(document, 202, {"Location": document["url"]})


def bulk_job_json(job) -> dict:
    from issuer.bulk import jobs as bulk_jobs

    url = f"{request.script_root}/api/v1/bulk-jobs/{job.id}"
    return {"id": job.id, "url": url, "state": job.state, "filename": job.filename, "done": job.done,
            "total": job.total, "counts": bulk_jobs.counts(job.summary), "error": job.error,
            "created_by": job.created_by, "created_at": _iso(job.created_at), "started_at": _iso(job.started_at),
            "finished_at": _iso(job.finished_at),
            "results_url": f"{url}/results" if job.result_csv is not None else None}


def _bulk_job_of_issuer(job_id: str):
    from issuer.bulk import jobs as bulk_jobs

    with state().sessions() as session:
        job = bulk_jobs.get_job(session, load_issuer_row(session).id, job_id) if UUID.match(job_id) else None
        if job is None:
            raise ApiProblem(404, "There is no such bulk job.")
        session.expunge(job)
    return job


@bp.get("/bulk-jobs/<job_id>")
@requires(READ)
def get_bulk_job(job_id: str) -> Response:
    return ok(bulk_job_json(_bulk_job_of_issuer(job_id)))


@bp.get("/bulk-jobs/<job_id>/results")
@requires(READ)
def bulk_job_results(job_id: str) -> Response:
    job = _bulk_job_of_issuer(job_id)
    if job.result_csv is None:
        raise ApiProblem(404, f"The job has no results yet (it is {job.state}); poll the job until it is done.")
    return Response(job.result_csv, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="bulk-results-{job.id[:8]}.csv"', "Cache-Control": "no-store"})


# ---------------------------------------------------------------- recipients

@bp.get("/recipients")
@requires(READ)
def list_recipients() -> Response:
    limit = _query_int("limit", DEFAULT_PAGE, 1, MAX_PAGE)
    cursor = _decode_cursor()
    email = _query_str("email", 320)
    with state().sessions() as session:
        issuer = load_issuer_row(session)
        query = select(Recipient).where(Recipient.issuer_id == issuer.id)
        if email is not None:
            query = query.where(Recipient.email == normalize_identity(email))
        rows = list(session.scalars(_page(Recipient, query, limit, cursor)))
        return _paged(rows, limit, recipient_json)


@bp.get("/recipients/<recipient_id>")
@requires(READ)
def get_recipient(recipient_id: str) -> Response:
    now = _now()
    with state().sessions() as session:
        issuer = load_issuer_row(session)
        recipient = session.get(Recipient, recipient_id) if UUID.match(recipient_id) else None
        if recipient is None or recipient.issuer_id != issuer.id:
            raise ApiProblem(404, f"There is no recipient {recipient_id!r}.")
        awards = session.scalars(select(Award).where(Award.recipient_id == recipient.id)
                                 .options(selectinload(Award.achievement), selectinload(Award.recipient))
                                 .order_by(Award.created_at.desc(), Award.id.desc())).all()
        return ok({**recipient_json(recipient), "awards": [award_json(a, now=now) for a in awards]})


# ---------------------------------------------------------------- skills

def vcapi_credential_json(record, status: list[dict]) -> dict:
    return {"id": record.id, "credential_id": record.credential_id, "signed_as": record.signed_as,
            "types": record.types or [], "actor": record.actor, "token_id": record.token_id, "state": record.state,
            "state_reason": record.state_reason, "created_at": _iso(record.created_at), "status": status,
            "credential": json.loads(record.credential)}


@bp.get("/vcapi-credentials")
@requires(READ)
def list_vcapi_credentials() -> Response:

    limit = _query_int("limit", DEFAULT_PAGE, 1, MAX_PAGE)
    cursor = _decode_cursor()
    state_filter = _query_str("state", 20)
    if state_filter is not None and state_filter not in STATES:
        raise ApiProblem(400, f"'state' must be one of {', '.join(STATES)}.")
    with state().sessions() as session:
        issuer = load_issuer_row(session)
        query = list_query(issuer, state_filter)
        model = query.column_descriptions[0]["entity"]
        rows = list(session.scalars(_page(model, query, limit, cursor)))
        return _paged(rows, limit, lambda r: vcapi_credential_json(r, allocations(session, r.id)))


@bp.get("/skills")
@requires(READ)
def skills() -> Response:
    now = _now()
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
    now = _now()
    with state().sessions() as session:
        result = coverage(session, load_issuer_row(session), asked, now)
        people = [{"recipient": {"id": p.recipient.id, "email": p.recipient.email, "name": p.recipient.name},
                   "has": p.has, "missing": p.missing} for p in result.people]
    return ok({
        "as_of": timestamp(now), "skills": result.skills, "unknown_skills": result.unknown_skills,
        "has_all": [p["recipient"] for p in people if not p["missing"]],
        "people": people,
    })


# ---------------------------------------------------------------- OpenAPI

@bp.get("/openapi.json")
def openapi_document() -> Response:
    from issuer.web.openapi import openapi

    response = Response(json.dumps(openapi(settings().base_url), ensure_ascii=False), mimetype="application/json")
    response.headers["Cache-Control"] = "public, max-age=300"
    return response

