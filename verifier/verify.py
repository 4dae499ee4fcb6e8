"""``verify_credential``: every check a recruiter needs, in order, as one report.

Accepts a credential as a dict (JSON-LD with embedded proofs), a compact JWS (VC-JWT), bytes
(JSON, a JWT or a baked PNG/SVG badge), or an https URL. The checks, in the order they run
(:mod:`verifier.checks`, one module each; ids and reasons in :mod:`verifier.registry`):

1. PARSE (and FETCH for a URL): what the input is; a VC with the W3C base context.
2. CONTEXTS: bundled vocabularies only, and one reading of the JSON (:mod:`verifier.reading`).
3. CONFORMANCE: the Open Badges data model; deviations are warnings (failures with ``strict``).
4. KEY, ISSUER_BINDING, PROOF: by the proof strategy chosen while parsing, Data Integrity
   (:mod:`verifier.checks.signature`) or VC-JWT (:mod:`verifier.checks.jwt`).
5. VALIDITY, STATUS (status lists verified by these same checks, one level deeper),
   RECIPIENT, RELATED_RESOURCES, ENDORSEMENTS (each endorsement verified by this function).

Open Badges 2.0 assertions are handed to :mod:`verifier.ob2` with the same fetcher. A bad
credential never raises: every problem is a check result with a reason code. Only misuse of the
API raises (a source of an unsupported type, a naive ``now``).

Ports: all network access goes through a :class:`~verifier.fetcher.Fetcher` (a long-lived one
may be given; each verification takes its own budgeted view of it), the clock is read once
(``now``), and the JSON-LD work of one verification shares one CPU deadline
(:mod:`verifier.budget`).
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from datetime import UTC, datetime
from typing import Any

from .budget import Deadline, current_deadline, deadline_scope
from .checks.base import Options, StatusMemo, Verification, as_list, from_error, issuer_id, skipped, types_of
from .checks.conformance import check_conformance
from .checks.contexts import check_contexts
from .checks.endorsements import check_endorsements
from .checks.jwt import check_jwt
from .checks.parse import check_parse, read_source
from .checks.recipient import check_recipient
from .checks.related import check_related_resources
from .checks.signature import check_data_integrity
from .checks.status import check_status
from .checks.validity import check_validity
from .errors import CredentialError
from .fetcher import Fetcher, FetchPolicy, NetworkFetcher, ResponseCache
from .identity import proven_identity, proven_website
from .jsonld import JsonLdEngine, default_engine
from .jws import parse_compact_jws
from .ob2 import verify_ob2
from .registry import CheckId, Status
from .report import CheckResult, VerificationReport
from .vc_jwt import credential_from_payload

__all__ = ["verify_credential"]

_shared_cache = ResponseCache()


@functools.cache
def _default_fetcher() -> NetworkFetcher:
    """The long-lived network fetcher of calls that give no fetcher, policy or cache: the default
    policy, the module-level response cache (and one memory of failed hosts, as a web app's)."""
    return NetworkFetcher(FetchPolicy(), cache=_shared_cache)


def verify_credential(source: Any, *, fetcher: Fetcher | None = None, now: datetime | None = None,
                      recipient: str | None = None, policy: FetchPolicy | None = None, strict: bool = False,
                      offline: bool = False, documents: Mapping[str, Any] | None = None,
                      cache: ResponseCache | None = None, engine: JsonLdEngine | None = None,
                      memo: StatusMemo | None = None, flag_supplied: bool = True) -> VerificationReport:
    """Verify ``source`` and return a :class:`~verifier.report.VerificationReport`.

    Args:
        source: a dict, a str (JSON, a compact JWS or an https URL) or bytes (JSON, JWT, PNG, SVG).
        fetcher: a long-lived :class:`~verifier.fetcher.Fetcher` (e.g. a web app's
            ``NetworkFetcher``); this verification takes its own budgeted view of it. Default: a
            network fetcher under ``policy`` sharing a module-level response cache (or ``cache``);
            without ``policy`` and ``cache``, one long-lived fetcher shared by such calls.
        now: the time of the verification (timezone-aware; default: now).
        recipient: an email, URL or DID the credential should name.
        policy: the fetch policy when no ``fetcher`` is given (e.g. hosts allowed over plain http).
        strict: data-model deviations and bad endorsements fail instead of warning.
        offline: nothing from the network (did:key, did:jwk, bundled contexts, ``documents``).
        documents: URL or DID -> document served instead of the network, and flagged in the
            report as supplied by the user (unless ``flag_supplied`` is false: the issuer's own
            self-check passes its own published documents).
        engine: a JSON-LD engine with extra contexts (tests).
        memo: a dict shared across calls remembering which status list credentials verified
            (bulk issuance); only pass one while those lists cannot change.

    Raises:
        TypeError: ``source`` is of an unsupported type, or both ``fetcher`` and ``policy`` are given.
        ValueError: ``now`` is not timezone-aware.
    """
    if not isinstance(source, (dict, str, bytes, bytearray)):
        raise TypeError("source must be a dict, a str (JSON, JWT or https URL) or bytes (JSON, JWT or image)")
    if fetcher is not None and (policy is not None or cache is not None):
        raise TypeError("give a fetcher or a policy/cache, not both: a fetcher carries its own")
    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    local = dict(documents or {})
    if fetcher is not None:
        network = fetcher
    elif policy is None and cache is None:
        network = _default_fetcher()
    else:
        network = NetworkFetcher(policy or FetchPolicy(), cache=_shared_cache if cache is None else cache)
    verification = Verification(now, network.for_verification(documents=local, offline=offline),
                                engine or default_engine(), recipient, Options(strict=strict),
                                supplied=frozenset(local) if flag_supplied else frozenset(), memo=memo)
    scope = deadline_scope(Deadline()) if current_deadline() is None else nullcontext()
    with scope:
        return verify_source(source, verification)


def verify_source(source: Any, v: Verification) -> VerificationReport:
    """Run every check on ``source`` within the verification ``v``; the report of what ``v`` found."""
    try:
        parsed = read_source(source, v)
    except CredentialError as exc:
        v.add(from_error(CheckId.PARSE, exc))
        return VerificationReport(v.results, v.summary)
    if parsed.kind == "jwt":
        _verify_jwt(parsed.value, v)
    elif parsed.kind == "ob2":
        _verify_ob2(parsed.value, v)
    else:
        verify_jsonld(parsed.value, v)
    return VerificationReport(v.results, v.summary)


def verify_jsonld(credential: dict[str, Any], v: Verification, *, proof: Callable[[], None] | None = None) -> None:
    """The checks of a JSON-LD credential; ``proof`` replaces the Data Integrity strategy (VC-JWT)."""
    parse, survey = check_parse(credential)
    if v.add(parse).status != Status.PASSED or survey is None:
        return
    _summarize(credential, v.summary)
    contexts = v.add(check_contexts(credential, v, survey))
    v.add(check_conformance(credential, v, survey))
    if proof is not None:
        proof()
    elif contexts.status != Status.PASSED:
        for check in (CheckId.KEY, CheckId.ISSUER_BINDING, CheckId.PROOF):
            v.add(skipped(check, "blocked_by_contexts"))
    else:
        check_data_integrity(credential, v)
    if all(_passed(v, c) for c in (CheckId.KEY, CheckId.ISSUER_BINDING, CheckId.PROOF)):
        _prove(v.summary.setdefault("issuer", {}), issuer_id(credential) or "?")
    v.add(check_validity(credential, v))
    v.add(check_status(credential, v, _nested))
    v.add(check_recipient(credential, v))
    v.add(check_related_resources(credential, v))
    v.add(check_endorsements(credential, v, verify_source, survey))
    if v.supplied:
        v.summary["supplied_by_user"] = sorted(v.supplied)


def _passed(v: Verification, check: CheckId) -> bool:
    result = v.result(check)
    return result is not None and result.status == Status.PASSED


def _prove(issuer: dict[str, Any], identity: str) -> None:
    """Record the issuer identity the keys proved: in full (``proven``) and as the website a
    reader knows (``proven_website``; None for a key-only DID such as did:key)."""
    issuer["proven"] = proven_identity(identity)
    issuer["proven_website"] = proven_website(identity)


def _nested(document: dict[str, Any], child: Verification) -> list[CheckResult]:
    verify_jsonld(document, child)
    return child.results


def _summarize(credential: dict[str, Any], summary: dict[str, Any]) -> None:
    """What the credential says about itself (unverified: the page labels it "as claimed")."""
    issuer = credential.get("issuer")
    summary["credential_id"] = credential.get("id")
    summary["types"] = types_of(credential)
    summary["name"] = credential.get("name")
    summary["issuer"] = {"id": issuer_id(credential),
                         "name_as_claimed": issuer.get("name") if isinstance(issuer, dict) else None}
    subjects = as_list(credential.get("credentialSubject"))
    subject = subjects[0] if subjects else None
    if isinstance(subject, dict):
        achievement = subject.get("achievement") if isinstance(subject.get("achievement"), dict) else {}
        summary["achievement"] = {"id": achievement.get("id"), "name": achievement.get("name"),
                                  "type": achievement.get("achievementType")} if achievement else None
        summary["recipient"] = {"id": subject.get("id"),
                                "identifiers": [i.get("identityType") for i in as_list(subject.get("identifier"))
                                                if isinstance(i, dict)]}
    summary["dates"] = {k: credential.get(k) for k in ("validFrom", "validUntil", "issuanceDate", "expirationDate",
                                                        "awardedDate") if credential.get(k)}


# ---------------------------------------------------------------- VC-JWT

def _verify_jwt(token: str, v: Verification) -> None:
    try:
        header, payload, _, _ = parse_compact_jws(token)
        if not isinstance(payload, dict):
            raise CredentialError("the JWT payload is not a JSON object", code="not_a_credential")
        credential = credential_from_payload(payload)
    except CredentialError as exc:
        v.add(from_error(CheckId.PARSE, exc))
        return
    v.summary["format"] = "vc-jwt"
    verify_jsonld(credential, v, proof=lambda: check_jwt(token, header, payload, credential, v))


# ---------------------------------------------------------------- Open Badges 2.0

def _verify_ob2(document: dict[str, Any] | str, v: Verification) -> None:
    found = verify_ob2(document, v)
    v.summary["format"] = "ob2"
    badge, issuer = found.badge or {}, found.issuer or {}
    v.summary["name"] = badge.get("name")
    v.summary["issuer"] = {"id": issuer.get("id"), "name_as_claimed": issuer.get("name")}
    if VerificationReport(list(v.results)).verified and isinstance(issuer.get("id"), str):
        _prove(v.summary["issuer"], issuer["id"])
    v.summary["achievement"] = {"id": badge.get("id"), "name": badge.get("name"), "type": "BadgeClass"}
