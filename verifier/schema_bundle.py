"""The bundled OB 3.0 JSON Schemas, loaded and compiled, and which one decides a credential.

No npm or PyPI package ships 1EdTech's OB 3.0 JSON Schemas, so microcred carries its
own, written from the OB 3.0 data model: ``contexts/schemas/*.schema.json``, installed
as package data of ``microcred_contexts`` (see ``schemas/index.json``). They are compiled
for JSON Schema draft 2019-09 with format checking on (date, date-time and uri, with the
small checkers below, so the result does not depend on jsonschema's optional extras);
``$ref`` resolves only against the bundled files, nothing is fetched.

:func:`schema_for` picks the schema by the credential's ``type``;
:func:`validator_for_credential` the compiled validator that decides it, and
:func:`fast_validator_for_credential` the jsonschema-rs one that may say "valid" quickly.

Everything is built on first use and kept. jsonschema and referencing (~35 ms to import, with
attrs) are imported only when a reference validator is built, i.e. when a credential is not
an OB credential of the VC 2.0 or 1.1 form or fails the jsonschema-rs check; a valid credential
costs jsonschema-rs alone (a few ms).
"""
from __future__ import annotations

import datetime as _dt
import json
import re
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import microcred_contexts

try:  # optional accelerator (a dependency of microcred; kept optional so the check never depends on it)
    import jsonschema_rs
except ImportError:  # pragma: no cover
    _HAVE_JSONSCHEMA_RS = False
else:
    _HAVE_JSONSCHEMA_RS = True

from .accessors import types_of

if TYPE_CHECKING:  # imported where a reference validator is built (module docstring)
    from jsonschema import Draft201909Validator, FormatChecker
    from referencing import Registry

SCHEMAS_DIR: Path = microcred_contexts.DIRECTORY / "schemas"

ACHIEVEMENT_CREDENTIAL = "ob-v3p0-achievementcredential"
ENDORSEMENT_CREDENTIAL = "ob-v3p0-endorsementcredential"
PROFILE = "ob-v3p0-profile"

VC_V1_CONTEXT = "https://www.w3.org/2018/credentials/v1"
VC_V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"


# --------------------------------------------------------------------------- formats

# The ranges of RFC 3339 §5.6 are in the patterns (month 01-12, day 01-31, hour 00-23, minute
# 00-59, second 00-60, offset hour 00-23 and minute 00-59), so only a day past the 28th and
# the year 0000 need the calendar.
_DATE_TIME_RE = re.compile(
    r"^(\d{4})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[Tt]([01]\d|2[0-3]):[0-5]\d:(?:[0-5]\d|60)(?:\.\d+)?"
    r"(?:[Zz]|[+-](?:[01]\d|2[0-3]):[0-5]\d)$",
    re.ASCII,
)
_DATE_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$", re.ASCII)
# RFC 3986: scheme ":" then only unreserved / reserved characters and %XX escapes (the
# characters in one class, then every "%" checked for its two hex digits: same verdicts as one
# pattern with the escape as an alternative, in a third of the time).
_URI_RE = re.compile(
    r"^[A-Za-z][A-Za-z0-9+.-]*:[A-Za-z0-9\-._~:/?\[\]@!$&'()*+,;=%]*(?:#[A-Za-z0-9\-._~:/?@!$&'()*+,;=%]*)?$",
    re.ASCII,
)
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


def _day_exists(year: str, month: str, day: str) -> bool:
    """Whether the date exists (month and day already within 01-12 and 01-31)."""
    if year == "0000":
        return False
    if day <= "28":
        return True
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
    return m is not None and _day_exists(*m.group(1, 2, 3))


def is_date(value: object) -> bool:
    """RFC 3339 ``full-date`` (YYYY-MM-DD)."""
    if not isinstance(value, str):
        return True
    m = _DATE_RE.match(value)
    return m is not None and _day_exists(*m.groups())


def is_uri(value: object) -> bool:
    """An absolute URI per RFC 3986 syntax (scheme, then URI characters only).

    Accepts ``https:``, ``urn:uuid:``, ``did:``, ``data:`` ... URIs; refuses relative
    references, spaces and raw non-ASCII (an IRI must be percent-encoded to be a URI).
    """
    if not isinstance(value, str):
        return True
    return _URI_RE.match(value) is not None and ("%" not in value or _BAD_PERCENT.search(value) is None)


def format_checker() -> FormatChecker:
    """A FormatChecker that really checks date, date-time and uri (and nothing else).

    jsonschema's default checker silently skips date-time and uri unless optional
    packages are installed; this one does not depend on them.
    """
    from jsonschema import FormatChecker  # lazy: module docstring

    checker = FormatChecker(formats=())
    checker.checks("date-time")(is_date_time)
    checker.checks("date")(is_date)
    checker.checks("uri")(is_uri)
    return checker


# --------------------------------------------------------------------------- loading

@lru_cache(maxsize=1)
def schema_index() -> dict[str, Any]:
    """The parsed ``schemas/index.json``: schema name -> file and $id."""
    index: dict[str, Any] = json.loads((SCHEMAS_DIR / "index.json").read_text(encoding="utf-8"))
    return index


@cache
def load_schema(name: str) -> dict[str, Any]:
    """The parsed bundled schema ``name`` (e.g. "ob-v3p0-achievementcredential").

    Raises KeyError for an unknown name. The caller must not mutate the result.
    """
    entry = schema_index()["schemas"][name]
    schema: dict[str, Any] = json.loads((SCHEMAS_DIR / entry["file"]).read_text(encoding="utf-8"))
    return schema


def _no_retrieval(uri: str) -> NoReturn:
    from referencing.exceptions import NoSuchResource  # lazy: module docstring

    # Every $ref must resolve to a bundled schema; never go to the network.
    # referencing declares its attrs classes through the __dataclass_transform__ hook, which
    # mypy does not read, so it sees no constructor arguments here and in Registry below.
    raise NoSuchResource(ref=uri)  # type: ignore[call-arg]


@lru_cache(maxsize=1)
def schema_registry() -> Registry:
    """A referencing Registry holding every bundled schema under its $id."""
    from referencing import Registry, Resource  # lazy: module docstring
    from referencing.jsonschema import DRAFT201909

    resources = []
    for name in schema_index()["schemas"]:
        contents = load_schema(name)
        resources.append((contents["$id"], Resource.from_contents(contents, default_specification=DRAFT201909)))
    return Registry(retrieve=_no_retrieval).with_resources(resources)  # type: ignore[call-arg]


@cache
def validator_for(name: str) -> Draft201909Validator:
    """A compiled (cached) validator for the bundled schema ``name``."""
    from jsonschema import Draft201909Validator  # lazy: module docstring

    schema = load_schema(name)
    return Draft201909Validator(schema, registry=schema_registry(), format_checker=format_checker())


@cache
def _fast_validator_for_def(name: str, definition: str) -> jsonschema_rs.Validator | None:
    """The same check compiled by jsonschema-rs (Rust), for the common case of a valid credential.

    Used only to say "valid" quickly: anything it rejects is re-checked, and explained, by the
    reference validator above. Same bundled schemas, no retrieval, our date and date-time
    checkers; ``uri`` is jsonschema-rs's own RFC 3986 check (a call back into Python per URI
    costs more than the rest), which accepts no text :func:`is_uri` refuses (a property test
    holds it so), so its "valid" stays right, and a URI only :func:`is_uri` accepts is decided
    by the reference validator. The schema tests compare its verdicts with 1EdTech's schemas on
    thousands of documents.
    """
    if not _HAVE_JSONSCHEMA_RS:
        return None
    resources = [(load_schema(n)["$id"], load_schema(n)) for n in schema_index()["schemas"]]
    base = load_schema(name)["$id"]
    schema = {"$schema": "https://json-schema.org/draft/2019-09/schema", "$ref": f"{base}#/$defs/{definition}"}
    return jsonschema_rs.Draft201909Validator(
        schema, registry=jsonschema_rs.Registry(resources), validate_formats=True, offline=True,
        formats={"date-time": is_date_time, "date": is_date})


@cache
def _validator_for_def(name: str, definition: str) -> Draft201909Validator:
    """A (cached) validator for one class ($defs entry) of the bundled schema ``name``."""
    from jsonschema import Draft201909Validator  # lazy: module docstring

    base = load_schema(name)["$id"]
    schema = {"$schema": "https://json-schema.org/draft/2019-09/schema", "$ref": f"{base}#/$defs/{definition}"}
    return Draft201909Validator(schema, registry=schema_registry(), format_checker=format_checker())


# --------------------------------------------------------------------------- which schema

def schema_for(credential: object) -> str | None:
    """The name of the bundled schema that applies to ``credential``, by its ``type``.

    "ob-v3p0-achievementcredential" for an AchievementCredential/OpenBadgeCredential,
    "ob-v3p0-endorsementcredential" for an EndorsementCredential, None otherwise
    (not an Open Badges 3.0 credential).
    """
    if not isinstance(credential, dict):
        return None
    types = types_of(credential)
    if "AchievementCredential" in types or "OpenBadgeCredential" in types:
        return ACHIEVEMENT_CREDENTIAL
    if "EndorsementCredential" in types:
        return ENDORSEMENT_CREDENTIAL
    return None


def _vc_version(credential: dict[str, Any]) -> str:
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


def validator_for_credential(credential: dict[str, Any]) -> Draft201909Validator | None:
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


def fast_validator_for_credential(credential: dict[str, Any]) -> jsonschema_rs.Validator | None:
    """The jsonschema-rs validator of the one form ``credential``'s @context selects, else None.

    Only for saying "valid" quickly (see :func:`_fast_validator_for_def`); None also when
    jsonschema-rs is missing or ``credential`` is not an OB credential.
    """
    name = schema_for(credential)
    context = credential.get("@context")
    first = context[0] if isinstance(context, list) and context else None
    if name is None or first not in (VC_V2_CONTEXT, VC_V1_CONTEXT):
        return None
    return _fast_validator_for_def("ob-v3p0-common", _CLASS_FOR[(name, "2.0" if first == VC_V2_CONTEXT else "1.1")])


def likely_form_validator(credential: dict[str, Any]) -> Draft201909Validator:
    """The validator of the form (VC 2.0 or VC 1.1) an OB ``credential`` most likely meant.

    Used to explain a credential that fits neither form of the whole schema.
    """
    name = schema_for(credential)
    if name is None:
        raise ValueError("not an Open Badges 3.0 credential")
    return _validator_for_def("ob-v3p0-common", _CLASS_FOR[(name, _vc_version(credential))])
