"""Reading an Open Badges 2.0 assertion: what was given, and how it is to be verified.

Open Badges 2.0 (https://www.imsglobal.org/sites/default/files/Badges/OBv2p0Final/index.html):

* §Assertion: an ``Assertion`` has ``id``, ``recipient`` (an IdentityObject), ``badge``,
  ``issuedOn`` and ``verification`` (``verify`` in older documents); it is recognised by the
  OB 2.0 ``@context`` or by ``type`` ``Assertion``.
* §VerificationObject: ``verification.type`` is ``hosted`` / ``HostedBadge`` or ``signed`` /
  ``SignedBadge``.
* §Verification, "Signed verification": a signed assertion is delivered as a compact JWS whose
  payload is the assertion; "Hosted verification": a hosted one is given as its JSON or its URL.

:func:`read_assertion` turns a dict, JSON text, a compact JWS or an assertion URL into a
:class:`Given` value, or raises :class:`Ob2Problem` for the PARSE check. Nothing here touches the
network or checks a signature.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..accessors import as_list, types_of
from ..checks.base import reported
from ..errors import CredentialError
from ..jsonutil import parse_json_object
from ..jws import parse_compact_jws
from ..limits import check_structure
from ..registry import CheckId
from ..report import CheckResult

OB2_CONTEXTS = frozenset({
    "https://w3id.org/openbadges/v2",
    "https://w3id.org/openbadges/v2/",
    "https://openbadgespec.org/v2/context.json",
})
HOSTED_TYPES = frozenset({"hosted", "HostedBadge"})
SIGNED_TYPES = frozenset({"signed", "SignedBadge"})
REQUIRED = ("id", "recipient", "badge", "issuedOn")

_COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_URL = re.compile(r"https?://\S+", re.IGNORECASE)


@dataclass(frozen=True)
class Given:
    """The assertion as given: ``mode`` ``hosted`` or ``signed``; ``assertion`` (None when only
    its ``url`` was given); ``token``, the compact JWS of a signed assertion."""

    mode: str
    assertion: dict[str, Any] | None
    token: str | None = None
    url: str | None = None


@dataclass
class Ob2Problem(Exception):
    """A finding that ends a step: the check, its registered reason, a specific detail."""

    check: CheckId
    reason: str
    detail: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def result(self) -> CheckResult:
        return reported(self.check, self.reason, self.detail, **self.details)


def ref_id(value: Any) -> str | None:
    """The id of an @id-valued property: the string itself or the embedded object's ``id``."""
    if isinstance(value, str):
        return value
    ident = value.get("id") if isinstance(value, dict) else None
    return ident if isinstance(ident, str) else None


def verification_of(document: dict[str, Any]) -> dict[str, Any]:
    """The VerificationObject (``verification``, or the 1.x-style ``verify``), or ``{}``."""
    value = document.get("verification", document.get("verify"))
    return value if isinstance(value, dict) else {}


def verification_types(document: dict[str, Any]) -> set[str]:
    return set(types_of(verification_of(document)))


def missing_properties(document: dict[str, Any]) -> list[str]:
    """The required Assertion properties (§Assertion) ``document`` lacks."""
    missing = [name for name in REQUIRED if not document.get(name)]
    if "Assertion" not in types_of(document):
        missing.append("type Assertion")
    return missing


def is_ob2(document: object) -> bool:
    """True for an OB 2.0 document: the OB 2.0 ``@context`` or ``type`` ``Assertion``.

    A string is looked into when it is JSON text or a compact JWS (payload decoded, signature
    not checked).
    """
    if isinstance(document, str):
        try:
            document = _read_text(document)
            if isinstance(document, str):
                if not _COMPACT_JWS.fullmatch(document):
                    return False
                document = parse_compact_jws(document)[1]
        except (CredentialError, ValueError):
            return False
    if not isinstance(document, dict):
        return False
    if any(isinstance(c, str) and c in OB2_CONTEXTS for c in as_list(document.get("@context"))):
        return True
    return "Assertion" in types_of(document)


def read_assertion(source: Any) -> Given:
    """What was given (a dict, JSON text, a compact JWS or an assertion URL); raises :class:`Ob2Problem`."""
    token = None
    document: Any = source
    if isinstance(source, str):
        try:
            document = _read_text(source)
        except CredentialError as exc:
            raise Ob2Problem(CheckId.PARSE, "malformed_assertion", f"not an OB 2.0 assertion: {exc}") from None
        if isinstance(document, str):
            if _URL.fullmatch(document):
                return Given("hosted", None, url=document)
            if not _COMPACT_JWS.fullmatch(document):
                raise Ob2Problem(CheckId.PARSE, "malformed_assertion",
                                 "neither assertion JSON, a compact JWS nor an assertion URL")
            token = document
            try:
                document = parse_compact_jws(token)[1]
            except CredentialError as exc:
                raise Ob2Problem(CheckId.PARSE, "malformed_jws", str(exc), {"code": exc.code}) from None
    if not isinstance(document, dict):
        raise Ob2Problem(CheckId.PARSE, "malformed_assertion", "the assertion is not a JSON object")
    try:
        check_structure(document)
    except CredentialError as exc:
        raise Ob2Problem(CheckId.PARSE, "malformed_assertion", str(exc)) from None
    return Given(_mode(document, token), document, token)


def _mode(document: dict[str, Any], token: str | None) -> str:
    if not is_ob2(document):
        raise Ob2Problem(CheckId.PARSE, "not_ob2", "no OB 2.0 @context, and not of type Assertion")
    declared = verification_types(document)
    if token is not None:
        if not declared & SIGNED_TYPES:
            raise Ob2Problem(CheckId.PARSE, "verification_type_mismatch",
                             "the assertion arrived as a JWS but does not declare SignedBadge verification",
                             {"declared": sorted(declared)})
        mode = "signed"
    elif declared & HOSTED_TYPES:
        mode = "hosted"
    elif declared & SIGNED_TYPES:
        raise Ob2Problem(CheckId.PARSE, "signature_missing",
                         "the assertion declares SignedBadge verification but was given as plain JSON; "
                         "verify the JWS it was issued as")
    else:
        raise Ob2Problem(CheckId.PARSE, "unsupported_verification_type",
                         f"verification type {sorted(declared)}; expected HostedBadge or SignedBadge")
    missing = missing_properties(document)
    if missing:
        raise Ob2Problem(CheckId.PARSE, "malformed_assertion",
                         f"the assertion lacks required properties: {', '.join(missing)}", {"missing": missing})
    return mode


def _read_text(text: str) -> dict[str, Any] | str:
    """JSON text -> its object (strict JSON); anything else stays a (stripped) string."""
    stripped = text.strip()
    if stripped.startswith("{"):
        return parse_json_object(stripped.encode("utf-8"), what="assertion")
    return stripped
