"""PARSE: what was given, and is it a verifiable credential at all.

:func:`read_source` turns any accepted input form into one :class:`Parsed` value: a JSON-LD
credential (dict), a VC-JWT (compact JWS with its decoded, not yet trusted, payload) or an
Open Badges 2.0 assertion. Bytes may be JSON, a JWT or a baked PNG/SVG badge; a string may
also be an https URL, fetched through the verification's fetcher. :func:`check_parse` then
checks the credential's base shape (VC Data Model 2.0 §4.1 contexts, §4.4 types).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..baked import extract_baked, sniff_image
from ..errors import CredentialError
from ..fetcher import FetchError
from ..jsonutil import find_lone_surrogate, parse_json_object
from ..jws import parse_compact_jws
from ..limits import (
    JSONLD_LIMITS,
    MAX_DEPTH,
    MAX_VALUES,
    Survey,
    check_jsonld_limits,
    check_structure,
    survey_document,
)
from ..ob2 import is_ob2
from ..plain import fetch_facts
from ..registry import CheckId
from ..report import CheckResult
from .base import OB_TYPES, VC_V1, VC_V2, Verification, as_list, from_error, passed, reported, types_of

MAX_INPUT_BYTES = 10 * 1024 * 1024
MAX_JSON_BYTES = 2 * 1024 * 1024
CREDENTIAL_ACCEPT = ("application/vc+ld+json, application/ld+json;q=0.9, application/json;q=0.8, "
                     "application/vc+jwt;q=0.7, application/jwt;q=0.7, text/plain;q=0.5, "
                     "image/png;q=0.4, image/svg+xml;q=0.4")


@dataclass(frozen=True)
class Parsed:
    """An input, read: ``kind`` is ``jsonld``, ``jwt`` or ``ob2``; ``value`` the dict or token."""

    kind: str
    value: Any


def read_source(source: Any, v: Verification) -> Parsed:
    """Classify and decode ``source``. Raises :class:`CredentialError` (reported under PARSE)."""
    if isinstance(source, dict):
        return Parsed("ob2" if is_ob2(source) else "jsonld", source)
    if isinstance(source, str):
        text = source.strip()
        if text.startswith(("https://", "http://")):
            return _fetched(text, v)
        if looks_like_jwt(text):
            return Parsed("ob2" if _jws_carries_ob2(text) else "jwt", text)
        if len(text) > MAX_JSON_BYTES:
            raise CredentialError("the JSON is larger than 2 MiB", code="too_large")
        try:
            raw = text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise CredentialError("the text holds a lone surrogate (not valid Unicode)", code="not_json") from exc
        return read_source(parse_json_object(raw), v)
    data = bytes(source)
    if len(data) > MAX_INPUT_BYTES:
        raise CredentialError("the input is larger than 10 MiB", code="too_large")
    if sniff_image(data):
        baked = extract_baked(data)
        return _fetched(baked.value, v) if baked.kind == "url" else read_source(baked.value, v)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CredentialError("the input is not UTF-8 text or a PNG/SVG image", code="not_json") from exc
    return read_source(text, v)


def looks_like_jwt(text: str) -> bool:
    parts = text.split(".")
    return len(parts) in (3, 5) and all(parts[:2]) and " " not in text and "{" not in text


def _jws_carries_ob2(token: str) -> bool:
    """Whether a compact JWS (not yet verified) carries an Open Badges 2.0 assertion."""
    try:
        _, payload, _, _ = parse_compact_jws(token)
    except CredentialError:
        return False
    return isinstance(payload, dict) and is_ob2(payload)


def _fetched(url: str, v: Verification) -> Parsed:
    try:
        response = v.fetcher.fetch(url, accept=CREDENTIAL_ACCEPT, max_bytes=MAX_INPUT_BYTES)
    except FetchError as exc:
        raise CredentialError(f"could not retrieve {url}: {exc}", code="unreachable",
                              details={"url": url, "fetch_error": exc.code,
                                       **fetch_facts(exc.details)}
                              ) from exc
    v.add(passed(CheckId.FETCH, "Fetched from the address given.", url=response.final_url))
    return read_source(response.body, v)


# The JSON-LD caps are within the structural ones, so a document within the former is within both.
assert JSONLD_LIMITS.max_depth <= MAX_DEPTH and JSONLD_LIMITS.max_values <= MAX_VALUES  # noqa: S101


def check_readable(document: dict[str, Any]) -> CheckResult | None:
    """A failed PARSE for a document (credential or presentation) beyond the structural limits
    or holding text that is not valid Unicode; None when it can be read."""
    return survey_readable(document)[0]


def survey_readable(document: dict[str, Any]) -> tuple[CheckResult | None, Survey | None]:
    """:func:`check_readable`, and for a readable document what its walk noticed (else None).

    The usual case, a readable document, costs one walk (the JSON-LD caps, which imply the
    structural ones) and, when any of its text is not ASCII, one encoding of its JSON text
    (which fails on a lone surrogate);
    anything else is looked at again check by check, so the first problem is reported as the
    checks in order (:func:`_first_problem`) find it.
    """
    try:
        survey = survey_document(document)
        if not survey.ascii_only:
            json.dumps(document, ensure_ascii=False).encode("utf-8")
    except (CredentialError, UnicodeEncodeError, TypeError, ValueError):
        problem = _first_problem(document)
        if problem is not None:
            return problem, None
        survey = survey_document(document)  # nothing found checking again: readable after all
    return None, survey


def _first_problem(document: dict[str, Any]) -> CheckResult | None:
    try:
        check_structure(document)
    except CredentialError as exc:
        return from_error(CheckId.PARSE, exc)
    surrogate = find_lone_surrogate(document)     # before anything encodes the text
    if surrogate is not None:
        return reported(CheckId.PARSE, "not_json", f"the text at {surrogate[:200]} is not valid Unicode")
    try:
        check_jsonld_limits(document)   # values, strings and inline contexts, before any JSON-LD work
    except CredentialError as exc:
        return from_error(CheckId.PARSE, exc)
    return None


def check_parse(credential: dict[str, Any]) -> tuple[CheckResult, Survey | None]:
    """The credential's base shape: within the structural limits, the W3C base context first,
    one VC version, and ``VerifiableCredential`` among its types; with the survey of its walk
    (None when it cannot be read)."""
    unusable, survey = survey_readable(credential)
    if unusable is not None:
        return unusable, None
    return _base_shape(credential), survey


def _base_shape(credential: dict[str, Any]) -> CheckResult:
    contexts = as_list(credential.get("@context"))
    first = contexts[0] if contexts else None
    if first not in (VC_V1, VC_V2):
        return reported(CheckId.PARSE, "missing_base_context", f"the first @context is {str(first)[:200]!r}")
    if VC_V1 in contexts and VC_V2 in contexts:
        return reported(CheckId.PARSE, "mixed_base_contexts", "both the VC 1.1 and the VC 2.0 contexts are listed")
    types = types_of(credential)
    if "VerifiableCredential" not in types:
        return reported(CheckId.PARSE, "not_a_credential", "type does not include VerifiableCredential")
    kind = next((t for t in types if t in OB_TYPES), None)
    version = "2.0" if first == VC_V2 else "1.1"
    return passed(CheckId.PARSE, "An Open Badge, readable." if kind else "Readable, though not an Open Badge.",
                  kind=kind or "VerifiableCredential", vc_version=version)
