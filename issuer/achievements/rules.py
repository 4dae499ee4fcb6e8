"""The one set of rules for achievement definitions: the REST API, the CLI and the console use it
(through :class:`issuer.achievements.service.AchievementService`, which owns the transaction).

    fields = achievement_fields(definition)                      # a new achievement
    fields = achievement_fields(definition, slug=existing.slug)  # an edit: the slug stays fixed
    achievement = create_achievement(session, settings, issuer, fields, now=now)
    update_achievement(session, settings, issuer, existing, fields, now=now)

Every broken rule raises :class:`AchievementError` (an :class:`~issuer.errors.InvalidInput`:
422, exit 2) with a plain-language message, the definition key it concerns (``field``, e.g.
``"criteria_url"`` or ``"alignments.1"``) and a reason ``code``; a slug already taken is a
:class:`~issuer.errors.Conflict` (409, exit 1, code ``duplicate``, field ``slug``). Before
anything is stored, :func:`dry_run` builds the credential the achievement would be awarded in
and checks it against the Open Badges 3.0 schema and canonicalization, so a saved achievement
can always be issued.
"""
from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from issuer.awards.credentials import build_credential
from issuer.config import Settings
from issuer.db.models import Achievement, Issuer, new_id
from issuer.errors import Conflict, InvalidInput
from issuer.identity import profile
from issuer.images import MAX_IMAGE_BYTES, PNG_SIGNATURE, ImageError, check_svg
from issuer.input_checks import unknown_fields
from verifier.canonicalize import canonicalize
from verifier.errors import CredentialError
from verifier.schema import validate_credential
from verifier.schema_bundle import SCHEMAS_DIR

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}$")
HTTP_URL = re.compile(r"^https?://[^\s/?#]+[^\s]*$")
ABSOLUTE_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")
EXTENSION_TERM = re.compile(r"^ext:[A-Za-z0-9._|-]+$")
ALIGNMENT_KEYS = ("targetName", "targetUrl", "targetDescription", "targetFramework", "targetCode", "targetType")
ACHIEVEMENT_FIELDS = ("slug", "name", "description", "criteria_narrative", "criteria_url", "image",
                      "achievement_type", "validity_months", "version", "alignments", "tags", "result_descriptions")
ACHIEVEMENT_LENGTHS = {"slug": 100, "name": 255, "description": 20_000, "criteria_narrative": 20_000,
                       "criteria_url": 1024, "image": 4 * MAX_IMAGE_BYTES // 3 + 64, "achievement_type": 64,
                       "version": 32}
LABELS = {"slug": "The slug", "name": "The name", "description": "The description",
          "criteria_narrative": "The criteria", "criteria_url": "The criteria URL", "image": "The image",
          "achievement_type": "The achievement type", "version": "The version"}
MAX_ALIGNMENTS = 50
MAX_TAGS = 50
MAX_RESULT_DESCRIPTIONS = 20
MAX_LEVELS = 20

Definition = dict[str, Any]     # an achievement definition as sent (JSON-like)
Fields = dict[str, Any]         # the model fields of an Achievement, checked


class AchievementError(InvalidInput):
    """An achievement definition breaks a rule. ``field``: the definition key it concerns (or None);
    a failed dry run lists the schema violations in ``details["errors"]``."""


# ---------------------------------------------------------------- vocabularies (from the OB 3.0 schema)

@lru_cache(maxsize=1)
def _common_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((SCHEMAS_DIR / "ob-v3p0-common.schema.json").read_text(encoding="utf-8"))
    return schema


def _enum(definition: str, prop: str) -> tuple[str, ...]:
    for option in _common_schema()["$defs"][definition]["properties"][prop]["anyOf"]:
        if "enum" in option:
            return tuple(option["enum"])
    return ()


def achievement_types() -> tuple[str, ...]:
    """The OB 3.0 achievementType values (``ext:`` terms are allowed too)."""
    return _enum("AchievementProperties", "achievementType")


def result_types() -> tuple[str, ...]:
    """The OB 3.0 resultType values of a result description."""
    return _enum("ResultDescription", "resultType")


# ---------------------------------------------------------------- single values

def _string(body: Definition, key: str, *, max_length: int, label: str, required: bool = False,
            field: str | None = None) -> str | None:
    value = body.get(key)
    field = field or key
    if value is None:
        if required:
            raise AchievementError(f"{label} is required.", field=field)
        return None
    if not isinstance(value, str):
        raise AchievementError(f"{label} must be text.", field=field)
    if len(value) > max_length:
        raise AchievementError(f"{label} is longer than {max_length} characters.", field=field)
    if required and not value.strip():
        raise AchievementError(f"{label} must not be empty.", field=field)
    return value


def _only(body: Definition, allowed: tuple[str, ...], what: str, field: str | None) -> None:
    message = unknown_fields(body, allowed, what)
    if message:
        raise AchievementError(message, field=field)


def check_image(value: str) -> None:
    """An https URL, or a data: URI of a PNG or a clean SVG (no scripts, handlers, external links)."""
    if HTTP_URL.match(value):
        if not value.startswith("https://"):
            raise AchievementError("An image URL must use https.", field="image")
        return
    match = re.fullmatch(r"data:(image/png|image/svg\+xml);base64,([A-Za-z0-9+/=\s]+)", value)
    if not match:
        raise AchievementError("The image must be an https URL or a data: URI of a base64 PNG or SVG image.",
                               field="image")
    try:
        data = base64.b64decode(match.group(2), validate=False)
    except (binascii.Error, ValueError):
        raise AchievementError("The image data is not valid base64.", field="image") from None
    if len(data) > MAX_IMAGE_BYTES:
        raise AchievementError(f"The image is larger than {MAX_IMAGE_BYTES // 1024} KiB.", field="image")
    if match.group(1) == "image/png":
        if not data.startswith(PNG_SIGNATURE):
            raise AchievementError("The image data is not a PNG.", field="image")
        return
    try:
        check_svg(data)
    except ImageError as exc:
        raise AchievementError(f"The SVG image was refused: {exc}.", field="image", code=exc.code) from None


def image_from_upload(data: bytes) -> str:
    """An uploaded file's bytes as the data: URI the definition stores (PNG or SVG, checked)."""
    if len(data) > MAX_IMAGE_BYTES:
        raise AchievementError(f"The image is larger than {MAX_IMAGE_BYTES // 1024} KiB; "
                               "use a smaller PNG or SVG file.", field="image")
    if data.startswith(PNG_SIGNATURE):
        media_type = "image/png"
    elif b"<svg" in data[:1024]:
        media_type = "image/svg+xml"
    else:
        raise AchievementError("The image must be a PNG or SVG file.", field="image")
    uri = f"data:{media_type};base64," + base64.b64encode(data).decode("ascii")
    check_image(uri)
    return uri


def _validity(months: Any) -> int | None:
    if months is None:
        return None
    if isinstance(months, bool) or not isinstance(months, int) or not 1 <= months <= 600:
        raise AchievementError("The validity must be a whole number of months between 1 and 600 "
                               "(or none: never expires).", field="validity_months")
    return months


def _achievement_type(value: str | None) -> str | None:
    if value in (None, ""):
        return None
    if value not in achievement_types() and not EXTENSION_TERM.match(value):
        raise AchievementError(f"The achievement type {value!r} is not an Open Badges achievement type "
                               f"(e.g. {', '.join(achievement_types()[:4])}, … or an ext: term).",
                               field="achievement_type")
    return value


# ---------------------------------------------------------------- lists

def _alignments(value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_ALIGNMENTS:
        raise AchievementError(f"The skills (alignments) must be a list of at most {MAX_ALIGNMENTS}.",
                               field="alignments")
    for index, alignment in enumerate(value):
        field = f"alignments.{index}"
        if not isinstance(alignment, dict):
            raise AchievementError("Each skill alignment must be an object.", field=field)
        _only(alignment, ALIGNMENT_KEYS, "A skill alignment", field)
        for key in ALIGNMENT_KEYS:
            _string(alignment, key, max_length=2048, required=key in ("targetName", "targetUrl"), field=field,
                    label={"targetName": "The skill name", "targetUrl": "The skill URL"}.get(key, f"{key!r}"))
        if not HTTP_URL.match(alignment["targetUrl"]):
            raise AchievementError(f"The skill URL {alignment['targetUrl'][:100]!r} must be an http(s) URL.",
                                   field=field)
    return [dict(a) for a in value]


def _tags(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_TAGS \
            or not all(isinstance(t, str) and 0 < len(t) <= 100 for t in value):
        raise AchievementError(f"Tags must be a list of at most {MAX_TAGS} words of 1 to 100 characters.",
                               field="tags")
    return list(value)


def _result_descriptions(value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_RESULT_DESCRIPTIONS:
        raise AchievementError(f"The result descriptions must be a list of at most {MAX_RESULT_DESCRIPTIONS}.",
                               field="result_descriptions")
    ids = set()
    for index, rd in enumerate(value):
        field = f"result_descriptions.{index}"
        if not isinstance(rd, dict) or not all(isinstance(rd.get(k), str) and rd[k].strip()
                                               for k in ("id", "name", "resultType")):
            raise AchievementError("Each result description needs an id, a name and a result type.", field=field)
        if not ABSOLUTE_URI.match(rd["id"]) or len(rd["id"]) > 2048:
            raise AchievementError(f"The result description id {rd['id'][:100]!r} must be a URI, "
                                   "e.g. urn:uuid:… (leave it blank in the console to have one made).", field=field)
        if rd["id"] in ids:
            raise AchievementError(f"Two result descriptions have the id {rd['id'][:100]!r}.", field=field)
        ids.add(rd["id"])
        if rd["resultType"] not in result_types() and not EXTENSION_TERM.match(rd["resultType"]):
            raise AchievementError(f"The result type {rd['resultType'][:64]!r} is not an Open Badges result type.",
                                   field=field)
        levels = rd.get("rubricCriterionLevel")
        if levels is not None and (not isinstance(levels, list) or len(levels) > MAX_LEVELS):
            raise AchievementError(f"A rubric has at most {MAX_LEVELS} levels.", field=field)
    return [dict(rd) for rd in value]


# ---------------------------------------------------------------- the whole definition

def achievement_fields(definition: Definition, *, slug: str | None = None) -> Fields:
    """Check a definition (JSON-like dict) and return the model fields of :class:`Achievement`.

    ``slug``: the slug of the achievement being edited; the definition may repeat it but not
    change it (it is part of how HR and scripts refer to the achievement). The first broken
    rule is raised; :func:`definition_problems` lists them all."""
    fields, problems = check_definition(definition, slug=slug)
    if fields is None:
        raise problems[0]
    return fields


def definition_problems(definition: Definition, *, slug: str | None = None) -> list[AchievementError]:
    """Every broken rule of a definition (one per field), for a form that shows them all at once."""
    return check_definition(definition, slug=slug)[1]


def _slug(definition: Definition, slug: str | None) -> str:
    given = definition.get("slug")
    if slug is not None:
        if given not in (None, slug):
            raise AchievementError(f"The slug cannot be changed once the achievement exists (it is {slug!r}).",
                                   field="slug")
        return slug
    if not isinstance(given, str) or not SLUG.match(given):
        raise AchievementError(f"The slug {given!r} must be lower-case letters, digits and '-' "
                               "(starting with a letter or digit, at most 100 characters).", field="slug")
    return given


def _criteria(definition: Definition) -> tuple[str | None, str | None]:
    narrative, url = definition.get("criteria_narrative"), definition.get("criteria_url")
    if not (narrative or "").strip() and not (url or "").strip():
        raise AchievementError("An achievement needs criteria: a narrative of how it is earned, or a criteria URL.",
                               field="criteria_narrative")
    if url and not HTTP_URL.match(url):
        raise AchievementError("The criteria URL must be an http(s) URL.", field="criteria_url")
    return narrative or None, url or None


def _image(value: str | None) -> str | None:
    if value is not None:
        check_image(value)
    return value


def _required_text(definition: Definition, key: str) -> str:
    return _string(definition, key, max_length=ACHIEVEMENT_LENGTHS[key], label=LABELS[key], required=True) or ""


def check_definition(definition: object, *, slug: str | None = None) -> tuple[Fields | None, list[AchievementError]]:
    """(model fields, []) for a good definition, (None, problems) otherwise."""
    if not isinstance(definition, dict):
        return None, [AchievementError("An achievement definition must be an object.")]
    try:
        _only(definition, ACHIEVEMENT_FIELDS, "The achievement", None)
        for key, length in ACHIEVEMENT_LENGTHS.items():
            _string(definition, key, max_length=length, label=LABELS[key])
    except AchievementError as exc:
        return None, [exc]
    checks: dict[str, Callable[[], Any]] = {
        "slug": lambda: _slug(definition, slug),
        "name": lambda: _required_text(definition, "name").strip(),
        "description": lambda: _required_text(definition, "description"),
        "criteria": lambda: _criteria(definition),
        "image": lambda: _image(definition.get("image")),
        "achievement_type": lambda: _achievement_type(definition.get("achievement_type")),
        "validity_months": lambda: _validity(definition.get("validity_months")),
        "alignments": lambda: _alignments(definition.get("alignments")),
        "tags": lambda: _tags(definition.get("tags")),
        "result_descriptions": lambda: _result_descriptions(definition.get("result_descriptions")),
    }
    values: Fields = {}
    problems: list[AchievementError] = []
    for key, check in checks.items():
        try:
            values[key] = check()
        except AchievementError as exc:
            problems.append(exc)
    if problems:
        return None, problems
    narrative, url = values.pop("criteria")
    return {**values, "criteria_narrative": narrative, "criteria_url": url,
            "version": definition.get("version")}, []


def dry_run(settings: Settings, issuer: Issuer, achievement: Achievement, now: datetime) -> dict[str, Any]:
    """Build the credential this achievement would be awarded in and check it as issuance would.

    Returns the (unsigned) credential."""
    moment = now.replace(microsecond=0)
    credential = build_credential(settings, profile(issuer, settings), achievement, award_id=new_id(),
                                  email="probe@example.com", did=None, evidence=[], results=[], awarded=moment,
                                  valid_until=None, status_entries=[])
    violations = validate_credential(credential)
    if violations:
        raise AchievementError(f"Credentials for this achievement would not follow the Open Badges 3.0 schema: "
                               f"{violations[0].path}: {violations[0].message}", code="schema",
                               details={"errors": [{"path": v.path, "message": v.message} for v in violations[:20]]})
    try:
        canonicalize(credential)
    except CredentialError as exc:
        raise AchievementError(f"Credentials for this achievement could not be signed: {exc}",
                               code=exc.code) from None
    return credential


# ---------------------------------------------------------------- storing

def _duplicate(slug: str) -> Conflict:
    return Conflict(f"An achievement with the slug {slug!r} already exists.", field="slug", code="duplicate")


def slug_taken(session: Session, issuer: Issuer, slug: str) -> bool:
    return session.scalars(select(Achievement.id).where(Achievement.issuer_id == issuer.id,
                                                        Achievement.slug == slug)).first() is not None


def create_achievement(session: Session, settings: Settings, issuer: Issuer, fields: Fields, *,
                       now: datetime) -> Achievement:
    """Add a new achievement (fields from :func:`achievement_fields`) after the dry run."""
    if slug_taken(session, issuer, fields["slug"]):
        raise _duplicate(fields["slug"])
    achievement = Achievement(id=new_id(), issuer_id=issuer.id, created_at=now, updated_at=now, **fields)
    dry_run(settings, issuer, achievement, now)
    session.add(achievement)
    try:
        session.flush()
    except IntegrityError:      # a concurrent create of the same slug
        raise _duplicate(fields["slug"]) from None
    return achievement


def update_achievement(session: Session, settings: Settings, issuer: Issuer, achievement: Achievement,
                       fields: Fields, *, now: datetime) -> Achievement:
    """Change an achievement (fields from ``achievement_fields(..., slug=achievement.slug)``).

    Credentials already issued keep what they were signed with; awards issued from now on
    carry the new definition. The probe is built before anything is changed."""
    if fields["slug"] != achievement.slug:
        raise AchievementError("The slug cannot be changed once the achievement exists.", field="slug")
    probe = Achievement(id=achievement.id, issuer_id=issuer.id, created_at=achievement.created_at,
                        updated_at=now, **fields)
    dry_run(settings, issuer, probe, now)
    for key, value in fields.items():
        setattr(achievement, key, value)
    achievement.updated_at = now
    session.flush()
    return achievement
