"""The 1EdTech JSON Schema check for Open Badges 3.0 credentials.

No npm or PyPI package ships 1EdTech's OB 3.0 JSON Schemas, so microcred carries its
own, written from the OB 3.0 data model: ``contexts/schemas/*.schema.json``, installed
as package data of ``microcred_contexts`` (see ``schemas/index.json``). Their verdicts
are tested against the official schemas (tests/verifier/test_schema.py).

``validate_credential`` picks the schema by the credential's ``type``, validates with
JSON Schema draft 2019-09 and format checking on (date, date-time and uri, with the
small checkers below, so the result does not depend on jsonschema's optional extras),
and returns plain-language violations with JSON-pointer paths. ``$ref`` resolves only
against the bundled files; nothing is fetched.
"""
from __future__ import annotations

import datetime as _dt
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Iterator

import microcred_contexts
from jsonschema import Draft201909Validator, FormatChecker

try:  # optional accelerator (a dependency of microcred; kept optional so the check never depends on it)
    import jsonschema_rs
except ImportError:  # pragma: no cover
    jsonschema_rs = None
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource
from referencing.jsonschema import DRAFT201909

SCHEMAS_DIR: Path = microcred_contexts.DIRECTORY / "schemas"

ACHIEVEMENT_CREDENTIAL = "ob-v3p0-achievementcredential"
ENDORSEMENT_CREDENTIAL = "ob-v3p0-endorsementcredential"
PROFILE = "ob-v3p0-profile"

VC_V1_CONTEXT = "https://www.w3.org/2018/credentials/v1"
VC_V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"


@dataclass(frozen=True)
class SchemaViolation:
    path: str      # JSON pointer-ish path, e.g. "/credentialSubject/achievement/name"
    message: str   # plain language

    def __str__(self) -> str:
        return f"{self.path or '/'}: {self.message}"


# --------------------------------------------------------------------------- formats

_DATE_TIME_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-](\d{2}):(\d{2}))$",
    re.ASCII,
)
_DATE_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$", re.ASCII)
# RFC 3986: scheme ":" then only unreserved / reserved characters and %XX escapes.
_URI_RE = re.compile(
    r"^[A-Za-z][A-Za-z0-9+.-]*:"
    r"(?:[A-Za-z0-9\-._~:/?\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*"
    r"(?:#(?:[A-Za-z0-9\-._~:/?@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*)?$",
    re.ASCII,
)


def _valid_ymd(year: str, month: str, day: str) -> bool:
    try:
        _dt.date(int(year), int(month), int(day))
    except ValueError:
        return False
    return True


def is_date_time(value: object) -> bool:
    """RFC 3339 ``date-time`` (what JSON Schema's "date-time" format means).

    Requires a time zone (``Z`` or ``+hh:mm``); allows a leap second (``:60``) and
    lower-case ``t``/``z`` as RFC 3339 does. Non-strings pass (``type`` checks those).
    """
    if not isinstance(value, str):
        return True
    m = _DATE_TIME_RE.match(value)
    if not m:
        return False
    year, month, day, hour, minute, second = m.group(1, 2, 3, 4, 5, 6)
    if not _valid_ymd(year, month, day):
        return False
    if int(hour) > 23 or int(minute) > 59 or int(second) > 60:
        return False
    if m.group(9) is not None and (int(m.group(9)) > 23 or int(m.group(10)) > 59):
        return False
    return True


def is_date(value: object) -> bool:
    """RFC 3339 ``full-date`` (YYYY-MM-DD)."""
    if not isinstance(value, str):
        return True
    m = _DATE_RE.match(value)
    return bool(m) and _valid_ymd(*m.groups())


def is_uri(value: object) -> bool:
    """An absolute URI per RFC 3986 syntax (scheme, then URI characters only).

    Accepts ``https:``, ``urn:uuid:``, ``did:``, ``data:`` ... URIs; refuses relative
    references, spaces and raw non-ASCII (an IRI must be percent-encoded to be a URI).
    """
    if not isinstance(value, str):
        return True
    return bool(_URI_RE.match(value))


def format_checker() -> FormatChecker:
    """A FormatChecker that really checks date, date-time and uri (and nothing else).

    jsonschema's default checker silently skips date-time and uri unless optional
    packages are installed; this one does not depend on them.
    """
    checker = FormatChecker(formats=())
    checker.checks("date-time")(is_date_time)
    checker.checks("date")(is_date)
    checker.checks("uri")(is_uri)
    return checker


# --------------------------------------------------------------------------- loading

@lru_cache(maxsize=1)
def schema_index() -> dict:
    """The parsed ``schemas/index.json``: schema name -> file and $id."""
    return json.loads((SCHEMAS_DIR / "index.json").read_text(encoding="utf-8"))


@lru_cache(maxsize=None)
def load_schema(name: str) -> dict:
    """The parsed bundled schema ``name`` (e.g. "ob-v3p0-achievementcredential").

    Raises KeyError for an unknown name. The caller must not mutate the result.
    """
    entry = schema_index()["schemas"][name]
    return json.loads((SCHEMAS_DIR / entry["file"]).read_text(encoding="utf-8"))


def _no_retrieval(uri: str):
    # Every $ref must resolve to a bundled schema; never go to the network.
    raise NoSuchResource(ref=uri)


@lru_cache(maxsize=1)
def schema_registry() -> Registry:
    """A referencing Registry holding every bundled schema under its $id."""
    resources = []
    for name in schema_index()["schemas"]:
        contents = load_schema(name)
        resources.append((contents["$id"], Resource.from_contents(contents, default_specification=DRAFT201909)))
    return Registry(retrieve=_no_retrieval).with_resources(resources)


@lru_cache(maxsize=None)
def validator_for(name: str) -> Draft201909Validator:
    """A compiled (cached) validator for the bundled schema ``name``."""
    schema = load_schema(name)
    return Draft201909Validator(schema, registry=schema_registry(), format_checker=format_checker())


@lru_cache(maxsize=None)
def _fast_validator_for_def(name: str, definition: str):
    """The same check compiled by jsonschema-rs (Rust), for the common case of a valid credential.

    Used only to say "valid" quickly: anything it rejects is re-checked, and explained, by the
    reference validator above. Same bundled schemas, same format checkers, no retrieval; the
    schema tests compare its verdicts with 1EdTech's schemas on thousands of documents.
    """
    if jsonschema_rs is None:
        return None
    resources = [(load_schema(n)["$id"], load_schema(n)) for n in schema_index()["schemas"]]
    base = load_schema(name)["$id"]
    schema = {"$schema": "https://json-schema.org/draft/2019-09/schema", "$ref": f"{base}#/$defs/{definition}"}
    return jsonschema_rs.Draft201909Validator(
        schema, registry=jsonschema_rs.Registry(resources), validate_formats=True, offline=True,
        formats={"date-time": is_date_time, "date": is_date, "uri": is_uri})


@lru_cache(maxsize=None)
def _validator_for_def(name: str, definition: str) -> Draft201909Validator:
    """A (cached) validator for one class ($defs entry) of the bundled schema ``name``."""
    base = load_schema(name)["$id"]
    schema = {"$schema": "https://json-schema.org/draft/2019-09/schema", "$ref": f"{base}#/$defs/{definition}"}
    return Draft201909Validator(schema, registry=schema_registry(), format_checker=format_checker())


# --------------------------------------------------------------------------- API

def _types(credential: dict) -> list[str]:
    value = credential.get("type")
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [t for t in value if isinstance(t, str)]
    return []


def schema_for(credential: dict) -> str | None:
    """The name of the bundled schema that applies to ``credential``, by its ``type``.

    "ob-v3p0-achievementcredential" for an AchievementCredential/OpenBadgeCredential,
    "ob-v3p0-endorsementcredential" for an EndorsementCredential, None otherwise
    (not an Open Badges 3.0 credential).
    """
    if not isinstance(credential, dict):
        return None
    types = _types(credential)
    if "AchievementCredential" in types or "OpenBadgeCredential" in types:
        return ACHIEVEMENT_CREDENTIAL
    if "EndorsementCredential" in types:
        return ENDORSEMENT_CREDENTIAL
    return None


def _vc_version(credential: dict) -> str:
    """"1.1" when the credential is written against VC Data Model 1.1, else "2.0"."""
    context = credential.get("@context")
    first = context[0] if isinstance(context, list) and context else context
    if first == VC_V1_CONTEXT:
        return "1.1"
    if first == VC_V2_CONTEXT:
        return "2.0"
    return "1.1" if "issuanceDate" in credential and "validFrom" not in credential else "2.0"


_CLASS_FOR = {
    (ACHIEVEMENT_CREDENTIAL, "2.0"): "AchievementCredential",
    (ACHIEVEMENT_CREDENTIAL, "1.1"): "AchievementCredentialV1p1",
    (ENDORSEMENT_CREDENTIAL, "2.0"): "EndorsementCredential",
    (ENDORSEMENT_CREDENTIAL, "1.1"): "EndorsementCredentialV1p1",
}


def validator_for_credential(credential: dict) -> Draft201909Validator | None:
    """The validator that decides ``credential`` (None if it is not an OB credential).

    Each credential schema is anyOf [VC 2.0 form, VC 1.1 form]. An @context array whose
    first item is the VC 2.0 context can only satisfy the VC 2.0 form (that form wants
    it first; the VC 1.1 form wants the VC 1.1 context first), and vice versa, so for
    such credentials validating against that one form gives the same verdict as the
    whole schema, several times faster and with errors about the right form. Anything
    else (e.g. a single @context string) gets the whole schema.
    """
    name = schema_for(credential)
    if name is None:
        return None
    context = credential.get("@context")
    first = context[0] if isinstance(context, list) and context else None
    if first == VC_V2_CONTEXT:
        return _validator_for_def("ob-v3p0-common", _CLASS_FOR[(name, "2.0")])
    if first == VC_V1_CONTEXT:
        return _validator_for_def("ob-v3p0-common", _CLASS_FOR[(name, "1.1")])
    return validator_for(name)


def validate_credential(credential: dict) -> list[SchemaViolation]:
    """Check ``credential`` against the bundled OB 3.0 schema for its type.

    Returns [] when it is valid; otherwise one SchemaViolation per problem found.
    A credential that is not an OB 3.0 credential (see ``schema_for``) gets a single
    violation at "/type".
    """
    if not isinstance(credential, dict):
        return [SchemaViolation("", "a credential must be a JSON object")]
    name = schema_for(credential)
    if name is None:
        return [SchemaViolation(
            "/type",
            "not an Open Badges 3.0 credential: type must include 'OpenBadgeCredential', "
            "'AchievementCredential' or 'EndorsementCredential'",
        )]
    context = credential.get("@context")
    first = context[0] if isinstance(context, list) and context else None
    if first in (VC_V2_CONTEXT, VC_V1_CONTEXT):
        fast = _fast_validator_for_def("ob-v3p0-common",
                                       _CLASS_FOR[(name, "2.0" if first == VC_V2_CONTEXT else "1.1")])
        if fast is not None and fast.is_valid(credential):
            return []
    validator = validator_for_credential(credential)
    if validator.is_valid(credential):
        return []
    if validator is validator_for(name):
        # The schema is anyOf [VC 2.0 form, VC 1.1 form] and neither fits: explain the
        # failure against the form this credential most likely meant.
        validator = _validator_for_def("ob-v3p0-common", _CLASS_FOR[(name, _vc_version(credential))])
    errors = list(validator.iter_errors(credential)) or list(validator_for(name).iter_errors(credential))
    violations: list[SchemaViolation] = []
    for error in errors:
        for leaf in _leaves(error):
            violation = _describe(leaf)
            if violation not in violations:
                violations.append(violation)
    # "must not be empty" already says that an empty type array lacks the class name
    empty = {v.path for v in violations if v.message == _EMPTY}
    violations = [v for v in violations if not (v.path in empty and v.message.startswith("must include"))]
    violations.sort(key=lambda v: v.path)
    return violations


# --------------------------------------------------------------------------- messages

def _pointer(parts: Iterable[Any]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _is_mismatch(error: ValidationError) -> bool:
    """Does this error say the value is of another kind than the branch expects?"""
    if error.relative_path:
        return False
    if error.validator == "type" or "propertyNames" in error.relative_schema_path:
        # wrong JSON type, or an object read as a language map (its keys are not
        # language tags): the value was not meant to be this alternative
        return True
    if error.validator in ("oneOf", "anyOf") and error.context:
        return all(_branch_mismatch(branch) for branch in _branches(error).values())
    return False


def _branch_mismatch(errors: list[ValidationError]) -> bool:
    return any(_is_mismatch(e) for e in errors)


def _branches(error: ValidationError) -> dict[int, list[ValidationError]]:
    branches: dict[int, list[ValidationError]] = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    return branches


def _leaves(error: ValidationError) -> Iterator[ValidationError]:
    """The specific errors behind ``error``.

    For oneOf/anyOf, keep only the alternative the value was most likely meant to
    be (the one whose basic shape it has, that got furthest): an issuer object with
    no "type" is reported as a Profile missing "type", not also as "not a string".
    """
    if error.validator in ("oneOf", "anyOf") and error.context:
        branches = _branches(error)

        def score(item):
            index, errs = item
            depth = max(len(e.relative_path) for e in errs)
            return (_branch_mismatch(errs), -depth, len(errs), index)

        _, chosen = min(branches.items(), key=score)
        if _branch_mismatch(chosen):
            yield error  # nothing fits even in shape: report the combinator itself
            return
        for sub in chosen:
            yield from _leaves(sub)
        return
    yield error


_JSON_TYPE_NAMES = {
    "string": "a string", "object": "an object", "array": "an array", "number": "a number",
    "integer": "an integer", "boolean": "true or false", "null": "null",
}
_EMPTY = "must not be empty"
_FORMAT_HINTS = {
    "date-time": "a date-time (RFC 3339, e.g. 2024-05-01T12:00:00Z)",
    "date": "a date (YYYY-MM-DD)",
    "uri": "an absolute URI (e.g. https://… or urn:uuid:…)",
}


def _short(value: Any, limit: int = 60) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _expected_types(error: ValidationError) -> list[str]:
    """The JSON types the alternatives of a failed oneOf/anyOf asked for."""
    found: list[str] = []
    for sub in error.context:
        if sub.relative_path:
            continue
        if sub.validator == "type":
            wanted = sub.validator_value if isinstance(sub.validator_value, list) else [sub.validator_value]
        elif sub.validator in ("oneOf", "anyOf"):
            wanted = _expected_types(sub)
        else:
            wanted = []
        found.extend(t for t in wanted if t not in found)
    return found


def _describe(error: ValidationError) -> SchemaViolation:
    path = list(error.absolute_path)
    kind = error.validator
    value = error.validator_value
    if kind == "required":
        missing = next((p for p in value if f"{p!r} is a required property" == error.message), None)
        if missing is None:
            missing = next((p for p in value if isinstance(error.instance, dict) and p not in error.instance), "?")
        return SchemaViolation(_pointer(path + [missing]), f"required property '{missing}' is missing")
    if kind == "type":
        wanted = value if isinstance(value, list) else [value]
        language_map = "object" in wanted and isinstance(error.schema, dict) and "propertyNames" in error.schema
        names = " or ".join(_JSON_TYPE_NAMES.get(t, t) for t in wanted if not (language_map and t == "object"))
        if language_map:
            names += " (or a JSON-LD language map)"
        return SchemaViolation(_pointer(path), f"must be {names}, not {_short(error.instance)}")
    if kind == "format":
        return SchemaViolation(_pointer(path), f"{_short(error.instance)} is not {_FORMAT_HINTS.get(value, value)}")
    if kind == "contains":
        wanted = value.get("const", value.get("enum")) if isinstance(value, dict) else value
        if isinstance(wanted, list):
            wanted = " or ".join(f"'{w}'" for w in wanted)
        else:
            wanted = f"'{wanted}'"
        return SchemaViolation(_pointer(path), f"must include {wanted}")
    if kind == "minItems":
        if value == 1:
            return SchemaViolation(_pointer(path), _EMPTY)
        return SchemaViolation(_pointer(path), f"must have at least {value} items")
    if kind == "const":
        return SchemaViolation(_pointer(path), f"must be {_short(value)}, not {_short(error.instance)}")
    if kind == "enum":
        allowed = ", ".join(_short(v, 40) for v in value[:8]) + (", …" if len(value) > 8 else "")
        siblings = error.parent.context if error.parent is not None else []
        if any(e.validator == "pattern" and str(e.validator_value).startswith("ext:") for e in siblings):
            allowed += "; or an extension term 'ext:…'"
        return SchemaViolation(_pointer(path), f"{_short(error.instance)} is not one of the allowed values ({allowed})")
    if kind == "pattern":
        if "propertyNames" in error.relative_schema_path:
            return SchemaViolation(
                _pointer(path), f"unexpected property {_short(error.instance)} (this object is read as a language map)")
        if len(path) >= 2 and path[-2] == "@context":
            return SchemaViolation(
                _pointer(path),
                "the second @context entry must be an Open Badges 3.0 context "
                "(https://purl.imsglobal.org/spec/ob/v3p0/context-3.x.y.json)",
            )
        return SchemaViolation(_pointer(path), f"{_short(error.instance)} does not have the expected form ({value})")
    if kind in ("additionalProperties", "unevaluatedProperties"):
        names = error.message.rsplit("(", 1)[-1].rstrip(")")
        names = names.replace(" were unexpected", "").replace(" was unexpected", "")
        return SchemaViolation(_pointer(path), f"properties not allowed here: {names}")
    if kind in ("oneOf", "anyOf"):
        kinds = _expected_types(error)
        if kinds:
            names = " or ".join(_JSON_TYPE_NAMES.get(t, t) for t in kinds)
            return SchemaViolation(_pointer(path), f"must be {names}, not {_short(error.instance)}")
        return SchemaViolation(_pointer(path), f"{_short(error.instance)} does not fit any allowed form for this property")
    return SchemaViolation(_pointer(path), error.message)
