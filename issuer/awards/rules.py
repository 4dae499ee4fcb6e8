"""The rules of an award request, in one place: every entry point feeds them the same body.

The REST API passes its JSON body, the console its form (:func:`form_body`), the CLI its
options and the bulk CSV each row (:func:`issuer.bulk.reading.row_body`), all as the same
JSON-like body::

    request, jwt = award_request(body, external_id, now=now)      # the shape: types, sizes, syntax
    achievement = check_award(request, catalog, now=now)          # against the issuer's achievements

so a request valid in one entry point is valid in every other, and the reverse. Both raise
:class:`AwardRuleError` (an :class:`~issuer.errors.InvalidInput`) with a plain message and the
``field`` it is about. ``labels`` names the fields as the person sees them (the API's quoted
keys by default; the CSV's column names for a file), so only the wording differs.

The rules, for every entry point:

* text: no control characters (line breaks only in narratives and descriptions), length
  limits; a name, employee id, evidence name or external id may not start with ``= + - @``
  (a spreadsheet would run it as a formula: CSV injection in HR exports);
* ``email`` an email address (normalised), ``did`` a DID, evidence ``id`` an http(s) URL;
* ``awarded_at`` an ISO 8601 date, or a date-time with its time zone, from 1970 to now
  (5 minutes of clock skew allowed);
* every result names one of the achievement's result descriptions; its ``value`` is one of
  the description's allowed values and its ``achievedLevel`` one of its rubric levels;
* the achievement is the issuer's, and the award would not already have expired.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from issuer.awards.request import AwardRequest, add_months
from issuer.db.models import Achievement, Issuer
from issuer.errors import InvalidInput
from issuer.input_checks import unknown_fields
from verifier.recipient import normalize_identity
from verifier.schema_bundle import is_uri

AWARD_FIELDS = ("achievement", "email", "name", "employee_id", "did", "evidence", "results", "awarded_at", "jwt")
EVIDENCE_KEYS = ("id", "narrative", "name", "description", "genre", "audience")
RESULT_KEYS = ("resultDescription", "value", "achievedLevel", "status")
MAX_ITEMS = 20
MAX_REASON = 1000
MAX_EXTERNAL_ID = 200
RESULT_FIELD = "result:"          # console form fields "result:<result description id>"
SKEW = timedelta(minutes=5)
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
DID = re.compile(r"^did:[a-z0-9]+:(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2})*(?::(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2})*)*$")
DATE_TIME = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?(Z|z|[+-]\d\d:?\d\d)")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")     # C0 controls except tab, LF, CR; DEL
LINE_BREAK = re.compile(r"[\t\n\r]")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# field -> longest text; fields whose text may hold line breaks; fields a spreadsheet must not run
MAX_LENGTH = {"achievement": 100, "email": 320, "name": 255, "employee_id": 100, "did": 255,
              "evidence.id": 2048, "evidence.narrative": 10_000, "evidence.name": 255,
              "evidence.description": 10_000, "evidence.genre": 255, "evidence.audience": 255,
              "results.resultDescription": 1024, "results.value": 255, "results.achievedLevel": 255,
              "results.status": 255, "external_id": MAX_EXTERNAL_ID, "reason": MAX_REASON}
MULTILINE = ("evidence.narrative", "evidence.description", "reason")
FORMULA_CHECKED = ("name", "employee_id", "evidence.name", "external_id")


class AwardRuleError(InvalidInput):
    """An award request breaks a rule: ``str(error)`` says which; ``field`` names the input (or None)."""

    default_code = "invalid_award"

    def __init__(self, message: str, field: str | None = None, *, code: str | None = None) -> None:
        super().__init__(message, field=field, code=code)


class Labels:
    """How the fields are named in messages: the API's quoted keys, or a CSV file's column names."""

    def __init__(self, names: Mapping[str, str] | None = None) -> None:
        self.names = dict(names or {})

    def __call__(self, field: str) -> str:
        return self.names.get(field) or repr(field.rpartition(".")[2])


API_LABELS = Labels()


def text(body: Mapping[str, Any], key: str, *, field: str | None = None, required: bool = False,
         labels: Labels = API_LABELS) -> str | None:
    """``body[key]``: None when absent (unless ``required``), else a string that keeps the field's rules."""
    field = field or key
    label = labels(field)
    value = body.get(key)
    if value is None:
        if required:
            raise AwardRuleError(f"{label} is required.", field.partition(".")[0])
        return None
    if not isinstance(value, str):
        raise AwardRuleError(f"{label} must be a string.", field.partition(".")[0])
    return check_text(value, field, required=required, labels=labels)


def check_text(value: str, field: str, *, required: bool = False, labels: Labels = API_LABELS) -> str:
    """The text rules of ``field`` (length, control characters, formulas) applied to ``value``."""
    label, top = labels(field), field.partition(".")[0]
    limit = MAX_LENGTH.get(field, 255)
    if len(value) > limit:
        raise AwardRuleError(f"{label} is longer than {limit} characters.", top)
    if required and not value.strip():
        raise AwardRuleError(f"{label} must not be empty.", top)
    if CONTROL.search(value) or (field not in MULTILINE and LINE_BREAK.search(value)):
        raise AwardRuleError(f"{label} contains a control character or line break.", top)
    if field in FORMULA_CHECKED and value.startswith(FORMULA_START):
        raise AwardRuleError(f"{label} {value!r} starts with {value[0]!r}: refused, a spreadsheet would run it as "
                             "a formula (CSV injection).", top)
    return value


def string(body: Mapping[str, Any], key: str, *, max_length: int, required: bool = False,
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


def only(body: Mapping[str, Any], allowed: tuple[str, ...], what: str, field: str | None = None) -> None:
    """Refuse keys of ``body`` outside ``allowed`` (``what``: "The award", "An evidence item", ...)."""
    message = unknown_fields(body, allowed, what)
    if message:
        raise AwardRuleError(message, field)


def parse_moment(value: Any, key: str = "awarded_at", now: datetime | None = None, *,
                 labels: Labels = API_LABELS) -> datetime:
    """An ISO 8601 date, or date-time with its time zone, in UTC whole seconds, from 1970 to ``now`` + 5 min."""
    label = labels(key)
    if not isinstance(value, str) or len(value) > 40:
        raise AwardRuleError(f"{label} must be an ISO 8601 date or date-time string.", key)
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            parsed = datetime(day.year, day.month, day.day, tzinfo=UTC)
        elif DATE_TIME.fullmatch(value):
            parsed = datetime.fromisoformat(value.replace("z", "Z"))
        elif re.fullmatch(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?", value):
            raise AwardRuleError(f"{label} {value!r} has a time but no time zone; add one (e.g. {value}Z for UTC), "
                                 "or give only the date.", key)
        else:
            raise ValueError(value)
    except ValueError:
        raise AwardRuleError(f"{label} {value!r} is not an ISO 8601 date (2026-03-31) or date-time "
                             "(2026-03-31T09:00:00Z).", key) from None
    parsed = parsed.astimezone(UTC).replace(microsecond=0)
    if parsed < EARLIEST:
        raise AwardRuleError(f"{label} {value!r} is before 1970.", key)
    if parsed > (now or datetime.now(UTC)) + SKEW:
        raise AwardRuleError(f"{label} {value!r} is in the future.", key)
    return parsed


def _url(value: str, labels: Labels) -> None:
    label = labels("evidence.id")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  (raises ValueError for a bad port)
    except ValueError:
        raise AwardRuleError(f"{label} {value!r} is not a valid URL.", "evidence") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise AwardRuleError(f"{label} {value!r} is not an http(s) URL.", "evidence")
    if not is_uri(value):
        raise AwardRuleError(f"{label} {value!r} has characters a URL may not contain (spaces, non-ASCII: "
                             "percent-encode them).", "evidence")


def _objects(value: Any, field: str, keys: tuple[str, ...], *, plural: str, each: str,
             labels: Labels) -> list[dict[str, Any]]:
    """At most 20 non-empty objects of ``keys`` whose texts keep their field's rules."""
    if not isinstance(value, list) or len(value) > MAX_ITEMS:
        raise AwardRuleError(f"{labels(field)} must be a list of at most {MAX_ITEMS} {plural}.", field)
    for item in value:
        if not isinstance(item, dict) or not item:
            raise AwardRuleError(f"Each {each} must be a non-empty object.", field)
        only(item, keys, f"A{'n' if each[0] in 'aeiou' else ''} {each}", field)
        for key in keys:
            text(item, key, field=f"{field}.{key}", labels=labels)
    return [dict(item) for item in value]


def evidence(value: Any, labels: Labels = API_LABELS) -> tuple[dict[str, Any], ...]:
    """At most 20 evidence objects, each with an http(s) ``id`` or a ``narrative``."""
    if value is None:
        return ()
    items = _objects(value, "evidence", EVIDENCE_KEYS, plural="evidence objects", each="evidence item",
                     labels=labels)
    for item in items:
        if "id" in item:
            _url(item["id"], labels)
        elif "narrative" not in item:
            raise AwardRuleError(f"An evidence item needs {labels('evidence.id')} (a URL) or "
                                 f"{labels('evidence.narrative')}.", "evidence")
    return tuple(items)


def results(value: Any, labels: Labels = API_LABELS) -> tuple[dict[str, Any], ...]:
    """At most 20 results, each naming its ``resultDescription``, with ``value``, ``achievedLevel``, ``status``."""
    if value is None:
        return ()
    items = _objects(value, "results", RESULT_KEYS, plural="results", each="result", labels=labels)
    for item in items:
        if "resultDescription" not in item:
            raise AwardRuleError(f"{labels('results.value')} is given without {labels('results.resultDescription')}"
                                 " (which of the achievement's results it is).", "results")
    return tuple(items)


def award_request(body: Mapping[str, Any], external_id: str | None = None, *, now: datetime | None = None,
                  labels: Labels = API_LABELS) -> tuple[AwardRequest, bool]:
    """(the award request, whether a VC-JWT is wanted) from a JSON-like body; raises AwardRuleError."""
    only(body, AWARD_FIELDS, "The award")
    achievement = text(body, "achievement", required=True, labels=labels)
    email_given = text(body, "email", required=True, labels=labels)
    assert achievement is not None and email_given is not None  # noqa: S101 - required=True
    email = normalize_identity(email_given)
    if not EMAIL.match(email):
        raise AwardRuleError(f"{email_given!r} is not an email address.", "email")
    name = text(body, "name", labels=labels)
    employee_id = text(body, "employee_id", labels=labels)
    did = text(body, "did", labels=labels)
    if did is not None and not DID.match(did):
        raise AwardRuleError(f"{labels('did')} {did!r} is not a DID (did:method:identifier).", "did")
    jwt = body.get("jwt", False)
    if not isinstance(jwt, bool):
        raise AwardRuleError(f"{labels('jwt')} must be true or false.", "jwt")
    awarded = parse_moment(body["awarded_at"], "awarded_at", now, labels=labels) \
        if body.get("awarded_at") is not None else None
    if external_id is not None:
        check_text(external_id, "external_id", required=True, labels=labels)
    request = AwardRequest(achievement=achievement, email=email, name=name, employee_id=employee_id, did=did,
                           evidence=evidence(body.get("evidence"), labels),
                           results=results(body.get("results"), labels), awarded_at=awarded, external_id=external_id)
    return request, jwt


# ---------------------------------------------------------------- against the issuer's achievements

class Catalog:
    """An issuer's achievements, by id and by slug (a bulk run loads it once)."""

    def __init__(self, achievements: Iterable[Achievement]) -> None:
        self.by_ref: dict[str, Achievement] = {}
        for achievement in achievements:
            self.by_ref[achievement.id] = achievement
        for achievement in list(self.by_ref.values()):
            self.by_ref.setdefault(achievement.slug, achievement)

    @classmethod
    def load(cls, session: Session, issuer: Issuer, refs: Iterable[str] | None = None) -> Catalog:
        query = select(Achievement).where(Achievement.issuer_id == issuer.id)
        if refs is not None:
            wanted = sorted(set(refs))
            query = query.where(Achievement.id.in_(wanted) | Achievement.slug.in_(wanted))
        return cls(session.scalars(query))

    def get(self, ref: str) -> Achievement | None:
        return self.by_ref.get(ref)


def _check_result(result: dict[str, Any], achievement: Achievement, labels: Labels) -> None:
    descriptions = {d.get("id"): d for d in achievement.result_descriptions or [] if isinstance(d, dict)}
    ref = result["resultDescription"]
    description = descriptions.get(ref)
    if description is None:
        known = ", ".join(repr(k) for k in descriptions if k) or "none"
        raise AwardRuleError(f"The result refers to {ref!r}, which is not one of the result descriptions of "
                             f"{achievement.slug!r} (it has: {known}).", "results", code="unknown_result_description")
    named = str(description.get("name") or ref)
    allowed = description.get("allowedValue")
    value = result.get("value")
    if value is not None and isinstance(allowed, list) and allowed and value not in allowed:
        raise AwardRuleError(f"{labels('results.value')} {value!r} is not one of the values of {named} "
                             f"({', '.join(map(str, allowed))}).", "results")
    levels = [level.get("id") for level in description.get("rubricCriterionLevel") or [] if isinstance(level, dict)]
    level = result.get("achievedLevel")
    if level is not None and levels and level not in levels:
        raise AwardRuleError(f"{labels('results.achievedLevel')} {level!r} is not one of the levels of {named} "
                             f"({', '.join(map(str, levels))}).", "results")


def check_award(request: AwardRequest, catalog: Catalog, *, now: datetime,
                labels: Labels = API_LABELS) -> Achievement:
    """The request's achievement, once the request keeps the rules only the issuer's data can tell."""
    achievement = catalog.get(request.achievement)
    if achievement is None:
        raise AwardRuleError(f"There is no achievement {request.achievement!r}.", "achievement",
                             code="unknown_achievement")
    for result in request.results:
        _check_result(result, achievement, labels)
    if achievement.validity_months:
        until = add_months(request.awarded_at or now, achievement.validity_months)
        if until <= now:
            raise AwardRuleError(f"The award would already have expired on {until.date().isoformat()} "
                                 f"({achievement.slug!r} is valid for {achievement.validity_months} months).",
                                 "awarded_at", code="already_expired")
    return achievement


def status_reason(body: Mapping[str, Any], *, required: bool = True) -> str | None:
    """The ``reason`` of a revoke / suspend / unsuspend: at most 1000 characters (kept in the audit log)."""
    return text(body, "reason", required=required)


# ---------------------------------------------------------------- a console form -> a body

def _text(form: Mapping[str, str], key: str) -> str | None:
    value = (form.get(key) or "").strip()
    return value or None


def _form_evidence(form: Mapping[str, str]) -> list[dict[str, Any]] | None:
    item = {"id": _text(form, "evidence_url"), "narrative": _text(form, "evidence_narrative"),
            "name": _text(form, "evidence_name")}
    item = {k: v for k, v in item.items() if v is not None}
    return [item] if item else None


def form_result(description: dict[str, Any] | None, ref: str, chosen: str) -> dict[str, Any]:
    """One result from a form field: a rubric level (by its id; the result shows the level's name as its
    ``value``) or a value. Whether the level or value is one the description allows is the rules' to say
    (:func:`check_award`), as for every other entry point."""
    result = {"resultDescription": ref}
    if description is not None and description.get("rubricCriterionLevel"):
        for level in description["rubricCriterionLevel"]:
            if isinstance(level, dict) and level.get("id") == chosen:
                return result | {"achievedLevel": chosen, "value": str(level.get("name") or chosen)}
        return result | {"achievedLevel": chosen}
    return result | {"value": chosen}


def _form_results(form: Mapping[str, str], result_descriptions: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    known = {rd.get("id"): rd for rd in result_descriptions if isinstance(rd, dict)}
    items = []
    for key in form:
        chosen = _text(form, key) if key.startswith(RESULT_FIELD) else None
        if chosen:
            ref = key[len(RESULT_FIELD):]
            items.append(form_result(known.get(ref), ref, chosen))
    return items or None


def form_body(form: Mapping[str, str], result_descriptions: list[dict[str, Any]] | None = None) -> dict[str, Any]:
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
