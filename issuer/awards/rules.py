"""The rules for an award request, in one place: the REST API, the console's form and the CLI use them.

Everything here takes plain values (a JSON-like ``dict`` body, a form as a ``Mapping`` of
strings) and raises one error type, :class:`AwardRuleError`, carrying a clear message and
the field it is about::

    request, jwt = award_request(body, external_id=None, now=clock())
    body = form_body(request.form, achievement.result_descriptions)   # a console form -> a body

The messages are the REST API's (quoted field names), so an API client sees the same text
whichever layer refuses. What only the issuer's data can tell (is the achievement known,
is the email an email address, is a result description the achievement's) is checked by
:func:`issuer.awards.issuance.issue_award`; :func:`issuance_error_field` names the field of its errors.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from issuer.awards.issuance import AwardRequest
from issuer.db.models import utcnow
from issuer.input_checks import unknown_fields
from verifier.errors import CredentialError

AWARD_FIELDS = ("achievement", "email", "name", "employee_id", "did", "evidence", "results", "awarded_at", "jwt")
EVIDENCE_KEYS = ("id", "narrative", "name", "description", "genre", "audience")
RESULT_KEYS = ("resultDescription", "value", "achievedLevel", "status")
HTTP_URL = re.compile(r"^https?://[^\s/?#]+[^\s]*$")
DID = re.compile(r"did:[a-z0-9]+:[A-Za-z0-9._:%-]+")
MAX_REASON = 1000
RESULT_FIELD = "result:"          # form fields "result:<result description id>"
# IssuanceError codes -> the field they are about
ISSUANCE_FIELDS = {"invalid_email": "email", "unknown_achievement": "achievement",
                   "unknown_result_description": "results"}


class AwardRuleError(ValueError):
    """An award request breaks a rule: ``str(error)`` says which; ``field`` names the input (or None)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


def string(body: Mapping, key: str, *, max_length: int, required: bool = False,
           field: str | None = None) -> str | None:
    """``body[key]``: None when absent (unless ``required``), else a string of at most ``max_length``."""
    field = field or key
    value = body.get(key)
    if value is None:
        if required:
            raise AwardRuleError(f"{key!r} is required.", field)
        return None
    if not isinstance(value, str):
        raise AwardRuleError(f"{key!r} must be a string.", field)
    if len(value) > max_length:
        raise AwardRuleError(f"{key!r} is longer than {max_length} characters.", field)
    if required and not value.strip():
        raise AwardRuleError(f"{key!r} must not be empty.", field)
    return value


def only(body: Mapping, allowed: tuple[str, ...], what: str, field: str | None = None) -> None:
    """Refuse keys of ``body`` outside ``allowed`` (``what``: "The award", "An evidence item", ...)."""
    message = unknown_fields(body, allowed, what)
    if message:
        raise AwardRuleError(message, field)


def parse_moment(value: Any, key: str, now: datetime | None = None) -> datetime:
    """An ISO 8601 date or date-time (UTC when no offset), whole seconds, from 1970 to ``now`` + 5 minutes."""
    if not isinstance(value, str) or len(value) > 40:
        raise AwardRuleError(f"{key!r} must be an ISO 8601 date-time string.", key)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise AwardRuleError(f"{key!r} {value!r} is not an ISO 8601 date or date-time.", key) from None
    parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    parsed = parsed.astimezone(UTC).replace(microsecond=0)
    if parsed.year < 1970:
        raise AwardRuleError(f"{key!r} is before 1970.", key)
    if parsed > (now or utcnow()) + timedelta(minutes=5):
        raise AwardRuleError(f"{key!r} is in the future.", key)
    return parsed


def evidence(value: Any) -> tuple[dict, ...]:
    """At most 20 evidence objects, each with an http(s) ``id`` or a ``narrative``."""
    if value is None:
        return ()
    if not isinstance(value, list) or len(value) > 20:
        raise AwardRuleError("'evidence' must be a list of at most 20 evidence objects.", "evidence")
    items = []
    for item in value:
        if not isinstance(item, dict) or not item:
            raise AwardRuleError("Each evidence item must be a non-empty object.", "evidence")
        only(item, EVIDENCE_KEYS, "An evidence item", "evidence")
        for key in EVIDENCE_KEYS:
            string(item, key, max_length=2048 if key == "id" else 10_000, field="evidence")
        if "id" in item and not HTTP_URL.match(item["id"]):
            raise AwardRuleError("An evidence 'id' must be an http(s) URL.", "evidence")
        if "id" not in item and "narrative" not in item:
            raise AwardRuleError("An evidence item needs an 'id' (URL) or a 'narrative'.", "evidence")
        items.append(dict(item))
    return tuple(items)


def results(value: Any) -> tuple[dict, ...]:
    """At most 20 result objects of ``resultDescription``, ``value``, ``achievedLevel``, ``status``."""
    if value is None:
        return ()
    if not isinstance(value, list) or len(value) > 20:
        raise AwardRuleError("'results' must be a list of at most 20 results.", "results")
    items = []
    for item in value:
        if not isinstance(item, dict) or not item:
            raise AwardRuleError("Each result must be a non-empty object.", "results")
        only(item, RESULT_KEYS, "A result", "results")
        for key in RESULT_KEYS:
            string(item, key, max_length=1024, field="results")
        items.append(dict(item))
    return tuple(items)


def award_request(body: Mapping, external_id: str | None = None, *,
                  now: datetime | None = None) -> tuple[AwardRequest, bool]:
    """(the award request, whether a VC-JWT is wanted) from a JSON-like body; raises AwardRuleError."""
    only(body, AWARD_FIELDS, "The award")
    achievement = string(body, "achievement", max_length=100, required=True)
    email = string(body, "email", max_length=320, required=True)
    name = string(body, "name", max_length=255)
    employee_id = string(body, "employee_id", max_length=100)
    did = string(body, "did", max_length=255)
    if did is not None and not DID.fullmatch(did):
        raise AwardRuleError("'did' must be a DID (did:method:identifier).", "did")
    jwt = body.get("jwt", False)
    if not isinstance(jwt, bool):
        raise AwardRuleError("'jwt' must be true or false.", "jwt")
    awarded = parse_moment(body["awarded_at"], "awarded_at", now) if body.get("awarded_at") is not None else None
    request = AwardRequest(achievement=achievement, email=email, name=name, employee_id=employee_id, did=did,
                           evidence=evidence(body.get("evidence")), results=results(body.get("results")),
                           awarded_at=awarded, external_id=external_id)
    return request, jwt


def status_reason(body: Mapping, *, required: bool = True) -> str | None:
    """The ``reason`` of a revoke / suspend / unsuspend: at most 1000 characters (kept in the audit log)."""
    return string(body, "reason", max_length=MAX_REASON, required=required)


def issuance_error_field(exc: CredentialError) -> str | None:
    """The field an error of :func:`issuer.awards.issuance.issue_award` is about (None: not one field)."""
    return ISSUANCE_FIELDS.get(getattr(exc, "code", None))


# ---------------------------------------------------------------- a console form -> a body

def _text(form: Mapping, key: str) -> str | None:
    value = (form.get(key) or "").strip()
    return value or None


def _form_evidence(form: Mapping) -> list[dict] | None:
    item = {"id": _text(form, "evidence_url"), "narrative": _text(form, "evidence_narrative"),
            "name": _text(form, "evidence_name")}
    item = {k: v for k, v in item.items() if v is not None}
    return [item] if item else None


def _level(description: dict, chosen: str) -> dict:
    """A rubric's level by id: the result names it (``achievedLevel``) and shows its name (``value``)."""
    for level in description.get("rubricCriterionLevel") or []:
        if isinstance(level, dict) and level.get("id") == chosen:
            return {"achievedLevel": chosen, "value": str(level.get("name") or chosen)}
    raise AwardRuleError(f"Choose one of the levels of {description.get('name') or 'this result'}.", "results")


def form_result(description: dict | None, ref: str, chosen: str) -> dict:
    """One result from a form field: a rubric level (by its id) or a value."""
    result = {"resultDescription": ref}
    if description is not None and description.get("rubricCriterionLevel"):
        return result | _level(description, chosen)
    allowed = (description or {}).get("allowedValue")
    if allowed and chosen not in allowed:
        raise AwardRuleError(f"Choose one of the values of {description.get('name') or 'this result'}.", "results")
    return result | {"value": chosen}


def _form_results(form: Mapping, result_descriptions: list[dict]) -> list[dict] | None:
    known = {rd.get("id"): rd for rd in result_descriptions if isinstance(rd, dict)}
    items = []
    for key in form:
        if key.startswith(RESULT_FIELD) and _text(form, key):
            ref = key[len(RESULT_FIELD):]
            items.append(form_result(known.get(ref), ref, _text(form, key)))
    return items or None


def form_body(form: Mapping, result_descriptions: list[dict] | None = None) -> dict:
    """The JSON-like body of a console issue form (fields: achievement, email, name, employee_id, did,
    awarded_at (a date), evidence_url / evidence_narrative / evidence_name, result:<id>); empty fields
    are left out. Pass it to :func:`award_request`."""
    body: dict[str, Any] = {key: _text(form, key) for key in
                            ("achievement", "email", "name", "employee_id", "did", "awarded_at")}
    body["achievement"] = body["achievement"] or ""
    body["email"] = body["email"] or ""
    body["evidence"] = _form_evidence(form)
    body["results"] = _form_results(form, result_descriptions or [])
    return {k: v for k, v in body.items() if v is not None}
