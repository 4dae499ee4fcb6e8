"""Open Badges 2.0 assertions, verified on the same modules and report as every credential.

Open Badges 2.0 (https://www.imsglobal.org/sites/default/files/Badges/OBv2p0Final/index.html)
assertions are verified one of two ways (§Verification): **hosted** (:mod:`.hosted`: the
issuer's website is the source of truth) or **signed** (:mod:`.signed`: a JWS by a key the
issuer lists). :mod:`.parse` reads the input, :mod:`.documents` fetches the BadgeClass, issuer
Profile, keys and revocation list through the verification's fetcher (its budget, caches and
``allow_hosts``), :mod:`.claims` checks dates and recipient.

:func:`verify_ob2` adds one :class:`~verifier.report.CheckResult` per check to the
:class:`~verifier.checks.base.Verification`, in the report's order: PARSE, FETCH, KEY,
ISSUER_BINDING, PROOF, VALIDITY, STATUS, RECIPIENT. A hosted assertion has no key or proof
(both skipped with ``hosted_verification``); a check an earlier finding made impossible is
skipped with ``not_reached``. Reasons are the registered ones (:mod:`verifier.registry`,
"Open Badges 2.0"). Where this agrees and disagrees with the 1EdTech validator is tested in
``tests/verifier/test_ob2_validator_agreement.py`` and listed in the README.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..checks.base import Verification, passed, skipped
from ..registry import CheckId
from ..report import CheckResult
from .claims import check_dates, check_recipient
from .documents import Documents
from .hosted import check_hosted_scope, fetch_hosted
from .parse import OB2_CONTEXTS, Ob2Problem, is_ob2, read_assertion
from .signed import check_revocation, check_signature, check_signing_keys

__all__ = ["CHECKS", "OB2_CONTEXTS", "Ob2Found", "is_ob2", "verify_ob2"]

CHECKS: tuple[CheckId, ...] = (CheckId.PARSE, CheckId.FETCH, CheckId.KEY, CheckId.ISSUER_BINDING, CheckId.PROOF,
                               CheckId.VALIDITY, CheckId.STATUS, CheckId.RECIPIENT)


@dataclass
class Ob2Found:
    """What the verification found (as claimed; the report says what was proven)."""

    mode: str | None = None
    assertion: dict[str, Any] | None = None
    badge: dict[str, Any] | None = None
    issuer: dict[str, Any] | None = None
    moved: dict[str, str] = field(default_factory=dict)


def verify_ob2(source: Any, v: Verification) -> Ob2Found:
    """Verify an OB 2.0 assertion (a dict, JSON text, a compact JWS or its URL) within ``v``.

    Adds a result for every check in :data:`CHECKS` to ``v``; never raises for a bad badge.
    """
    found = Ob2Found()
    results: list[CheckResult] = []
    try:
        _run(source, v, found, results)
    except Ob2Problem as problem:
        results.append(problem.result())
    reached = {r.check for r in results}
    results += [skipped(check, "not_reached") for check in CHECKS if check not in reached]
    for result in results:
        v.add(result)
    return found


def _run(source: Any, v: Verification, found: Ob2Found, results: list[CheckResult]) -> None:
    given = read_assertion(source)
    found.mode, found.assertion = given.mode, given.assertion
    results.append(passed(CheckId.PARSE, "An older (Open Badges 2.0) badge, readable.", verification=given.mode,
                          **({"id": given.assertion.get("id")} if given.assertion else {"url": given.url})))
    documents = Documents(v.fetcher)
    found.moved = documents.moved
    assertion = given.assertion
    if given.mode == "hosted":
        hosted = fetch_hosted(given, documents)
        found.assertion = assertion = hosted.assertion
        if hosted.revoked:
            results.append(passed(CheckId.FETCH, "The issuer's website answered for the badge.",
                                  fetched=list(documents.fetched)))
            why = hosted.revocation_reason
            raise Ob2Problem(CheckId.STATUS, "revoked",
                             "the issuer has revoked this badge" + (f": {why}" if why else ""),
                             {"url": assertion.get("id"), "revocationReason": why})
    if assertion is None:  # pragma: no cover - a signed assertion was read from its JWS; a hosted one fetched
        raise Ob2Problem(CheckId.PARSE, "malformed_assertion", "no assertion was read")
    found.badge, issuer = documents.badge_and_issuer(assertion)
    found.issuer = issuer
    moved = {"moved": dict(documents.moved)} if documents.moved else {}
    results.append(passed(CheckId.FETCH, "Fetched the badge's description and issuer from the issuer's website.",
                          fetched=list(documents.fetched), **moved))
    if given.token is None:
        results += [skipped(CheckId.KEY, "hosted_verification"), check_hosted_scope(assertion, issuer),
                    skipped(CheckId.PROOF, "hosted_verification")]
    else:
        keys, key_results = check_signing_keys(assertion, issuer, documents)
        results += key_results
        if keys:
            results.append(check_signature(given.token, keys))
    results.append(check_dates(assertion, v.now))
    if given.token is None:
        results.append(passed(CheckId.STATUS, "The issuer still hosts the badge and does not mark it revoked."))
    else:
        results.append(check_revocation(assertion, issuer, documents))
    results.append(check_recipient(assertion, v.recipient))
