"""Hosted verification of an Open Badges 2.0 assertion: the issuer's website is the source of truth.

OB 2.0 §Verification, "Hosted verification"
(https://www.imsglobal.org/sites/default/files/Badges/OBv2p0Final/index.html#HostedBadge):

1. The assertion is fetched from its ``id`` and must be hosted there (:mod:`.documents`); the
   hosted copy must agree with the copy given (``id``, ``recipient``, ``issuedOn``, ``badge``) and
   is then the one checked. HTTP ``410 Gone`` or ``"revoked": true`` means revoked (§Assertion,
   ``revoked``; §Verification, "Revocation").
2. The assertion's ``id`` must be within the issuer's verification scope (§VerificationObject):
   the issuer Profile's ``verification.startsWith`` prefixes and ``allowedOrigins`` (host, and
   port when not the default), by default the origin of the issuer's ``id`` or ``url``. Origins
   are compared with :func:`verifier.urls.origin`, so ``http`` and ``https`` differ (the 1EdTech
   validator compares host and port only; see the README).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ..accessors import as_list
from ..checks.base import passed, reported
from ..registry import CheckId
from ..report import CheckResult
from ..urls import DEFAULT_PORTS, origin
from .documents import ASSERTION, Documents
from .parse import (
    HOSTED_TYPES,
    Given,
    Ob2Problem,
    is_ob2,
    missing_properties,
    ref_id,
    verification_types,
)

COMPARED = ("id", "recipient", "issuedOn")


@dataclass(frozen=True)
class Hosted:
    """The hosted assertion (or, when revoked, what is known of it) and whether the issuer revoked it."""

    assertion: dict[str, Any]
    revoked: bool = False
    revocation_reason: str | None = None


def fetch_hosted(given: Given, documents: Documents) -> Hosted:
    """(1) The assertion as the issuer hosts it at its id; raises :class:`Ob2Problem` (FETCH)."""
    url = given.url if given.assertion is None else given.assertion.get("id")
    try:
        hosted = documents.get_at_id(url, ASSERTION, follow=given.assertion is None)
    except Ob2Problem as problem:
        if problem.details.get("http_status") == 410:
            return Hosted(given.assertion or {"id": url}, revoked=True)
        raise
    if hosted.get("revoked") is True:
        reason = hosted.get("revocationReason")
        return Hosted(given.assertion or hosted, True, reason if isinstance(reason, str) else None)
    if given.assertion is None and not is_ob2(hosted):
        raise Ob2Problem(CheckId.FETCH, "malformed_assertion", f"the document at {url} is not an OB 2.0 assertion")
    missing = missing_properties(hosted)
    if missing:
        raise Ob2Problem(CheckId.FETCH, "malformed_assertion",
                         f"the hosted assertion lacks required properties: {', '.join(missing)}", {"missing": missing})
    if given.assertion is None and not verification_types(hosted) & HOSTED_TYPES:
        raise Ob2Problem(CheckId.FETCH, "verification_type_mismatch",
                         "the document at the URL does not declare hosted verification")
    if given.assertion is not None:
        differing = _differences(given.assertion, hosted)
        if differing:
            raise Ob2Problem(CheckId.FETCH, "assertion_mismatch",
                             f"the assertion differs from the one the issuer hosts at its id ({', '.join(differing)})",
                             {"fields": differing})
    return Hosted(hosted)


def check_hosted_scope(assertion: dict[str, Any], issuer: dict[str, Any]) -> CheckResult:
    """ISSUER_BINDING (2): the assertion's id is within the issuer's verification scope."""
    assertion_id = assertion["id"]
    declared = issuer.get("verification")
    policy: dict[str, Any] = declared if isinstance(declared, dict) else {}
    allowed = [o for o in as_list(policy.get("allowedOrigins")) if isinstance(o, str)]
    prefixes = [p for p in as_list(policy.get("startsWith")) if isinstance(p, str) and p]
    problems = []
    if allowed and not any(_in_allowed_origin(entry, assertion_id) for entry in allowed):
        problems.append(f"its host is not in the issuer's allowedOrigins {allowed}")
    if prefixes and not any(assertion_id.startswith(p) for p in prefixes):
        problems.append(f"it does not start with any of the issuer's startsWith {prefixes}")
    if not allowed and not prefixes:
        issuer_origins = {o for o in (origin(issuer.get("id")), origin(issuer.get("url"))) if o}
        if origin(assertion_id) not in issuer_origins:
            problems.append("it is not on the origin of the issuer's id or url")
    if problems:
        return reported(CheckId.ISSUER_BINDING, "assertion_from_another_origin",
                        f"the assertion at {assertion_id} is outside the issuer's verification scope: "
                        + "; ".join(problems), assertion=assertion_id, issuer=issuer.get("id"))
    return passed(CheckId.ISSUER_BINDING,
                  "The badge is hosted on the issuer's own website.",
                  assertion=assertion_id, issuer=issuer.get("id"))


def _in_allowed_origin(entry: str, assertion_id: str) -> bool:
    """An ``allowedOrigins`` entry (a host with an optional port; or a whole origin) admits the id."""
    entry = entry.strip()
    if "://" in entry:
        return origin(entry) is not None and origin(entry) == origin(assertion_id)
    scheme = urlsplit(assertion_id).scheme.lower()
    return _host_port(f"{scheme}://{entry}") == _host_port(assertion_id) is not None


def _host_port(url: str) -> tuple[str, int] | None:
    try:
        parts = urlsplit(url)
        port = parts.port or DEFAULT_PORTS.get(parts.scheme.lower())
    except ValueError:
        return None
    if not parts.hostname or port is None or "@" in parts.netloc:
        return None
    return parts.hostname.lower(), port


def _differences(given: dict[str, Any], hosted: dict[str, Any]) -> list[str]:
    differing = [name for name in COMPARED if given.get(name) != hosted.get(name)]
    if ref_id(given.get("badge")) != ref_id(hosted.get("badge")):
        differing.append("badge")
    return differing
