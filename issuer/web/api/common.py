"""What every /api/v1 view shares: the blueprint, problems, bearer tokens and scopes, strict JSON bodies,
query parameters and cursor pages, and finding objects of this installation's issuer."""
from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import wraps
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, g, request
from werkzeug.exceptions import HTTPException

from issuer.access.tokens import scope_allows
from issuer.awards.credentials import timestamp
from issuer.bulk.limits import MAX_UPLOAD_BYTES
from issuer.config import Settings
from issuer.web.ratelimit import over_limit
from verifier.errors import CredentialError
from verifier.limits import check_structure

bp = Blueprint("api", __name__, url_prefix="/api/v1")

PROBLEM = "application/problem+json"
JSON_LIMIT = 2 * 1024 * 1024
BULK_LIMIT = MAX_UPLOAD_BYTES     # issuer/bulk/limits.py: the one source of the bulk limits
DEFAULT_PAGE = 50
MAX_PAGE = 100
MAX_SKILLS_ASKED = 50
API_RATE_LIMIT = "600/minute"      # requests per token (app.config API_RATE_LIMIT), per server process
MAX_IDEMPOTENCY_KEY = 200
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")
READ, ISSUE, ADMIN = "read", "issue", "admin"
UNAVAILABLE_CODES = {"not_initialized", "other_base_url", "no_current_key", "key_mismatch"}




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
    """The caller of this request (its token, checked by :meth:`issuer.access.service.AccessService.verify_token`),
    or raise 401/403/429. ``optional``: no header is fine."""
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
    holder = state().use.access.verify_token(value.strip())
    if holder is None:
        raise ApiProblem(401, "The API token is unknown or was revoked.",
                         headers={"WWW-Authenticate": f'{challenge}, error="invalid_token"'})
    caller = Caller(holder.token_id, holder.name, holder.scope)
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


def query_int(name: str, default: int | None, low: int, high: int) -> int | None:
    values = request.args.getlist(name)
    if not values:
        return default
    if len(values) > 1:
        raise ApiProblem(400, f"Give {name!r} once.")
    value = values[0].strip()
    if not re.fullmatch(r"\d{1,6}", value) or not low <= int(value) <= high:
        raise ApiProblem(400, f"{name!r} must be a whole number from {low} to {high}.")
    return int(value)


def query_str(name: str, max_length: int = 320) -> str | None:
    values = request.args.getlist(name)
    if not values:
        return None
    if len(values) > 1:
        raise ApiProblem(400, f"Give {name!r} once.")
    value = values[0]
    if not value or len(value) > max_length or "\x00" in value:
        raise ApiProblem(400, f"{name!r} must be 1 to {max_length} characters.")
    return value


def query_choice(name: str, choices: Sequence[str]) -> str | None:
    """An optional query parameter that must be one of ``choices`` (e.g. a state filter)."""
    value = query_str(name, 20)
    if value is not None and value not in choices:
        raise ApiProblem(400, f"{name!r} must be one of {', '.join(choices)}.")
    return value


def query_bool(name: str) -> bool:
    value = query_str(name, 5)
    if value is None:
        return False
    if value.lower() not in ("true", "false", "1", "0"):
        raise ApiProblem(400, f"{name!r} must be true or false.")
    return value.lower() in ("true", "1")


def _encode_cursor(created_at: datetime, row_id: str) -> str:
    raw = json.dumps([created_at.astimezone(UTC).isoformat(), row_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode("utf-8")).decode("ascii").rstrip("=")


def decode_cursor() -> tuple[datetime, str] | None:
    value = query_str("cursor", 200)
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


def paged(rows: list, limit: int, serialize: Callable) -> Response:
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = _encode_cursor(rows[-1].created_at, rows[-1].id) if more and rows else None
    headers = {}
    if next_cursor:
        pairs = [(k, v) for k, v in request.args.items(multi=True) if k != "cursor"] + [("cursor", next_cursor)]
        headers["Link"] = f'<{request.path}?{urlencode(pairs)}>; rel="next"'
    return ok({"items": [serialize(row) for row in rows], "next_cursor": next_cursor}, headers=headers)


def iso(value: datetime | None) -> str | None:
    return timestamp(value) if value is not None else None


def current_time() -> datetime:
    """Now, by the app's clock (the runtime's)."""
    return state().use.runtime.now()


STATUS_ACTIONS = ("revoke", "suspend", "unsuspend")


def status_routes(path: str, id_name: str, change: Callable[..., Any]) -> None:
    """``POST {path}/<id_name>/revoke|suspend|unsuspend`` (scope ``issue``, body ``{"reason": ...}``) for one
    kind of record: ``change(services)`` names the status service method that does the rest
    (``(record_id, action, body, *, actor)``, returning the change made)."""
    for action in STATUS_ACTIONS:
        def view(action: str = action, **ids: str) -> Response:
            done = change(state().use)(ids[id_name], action, json_object(), actor=g.caller.actor)
            response = ok({"id": done.id, "action": done.action, "state": done.state, "changed": done.changed})
            if done.changed:                # an award's recipient notice was queued with the change
                response.call_on_close(state().use.awards.deliver_mail)
            return response
        bp.add_url_rule(f"{path}/<{id_name}>/{action}", endpoint=f"{action}_{id_name.removesuffix('_id')}",
                        methods=["POST"], view_func=requires(ISSUE)(view))
