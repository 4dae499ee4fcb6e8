"""``verify_credential``: every check a recruiter needs, in order, as one report.

Accepts a credential as a dict (JSON-LD with embedded proofs), a compact JWS
(VC-JWT), bytes (JSON, a JWT or a baked PNG/SVG badge), or an https URL. Open
Badges 2.0 assertions are handed to :mod:`verifier.ob2`. A bad credential never
raises: every problem becomes a check result with a reason code. Only misuse of
the API (a source of an unsupported type) raises.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Mapping
from urllib.parse import urlsplit

from . import proofs as _proofs  # registers the cryptosuites
from .baked import extract_baked, sniff_image
from .errors import CredentialError
from .fetcher import FetchError, Fetcher, FetchPolicy, ResponseCache
from .jsonld import JsonLdEngine, default_engine
from .jws import parse_compact_jws, verify_compact_jws
from .key_resolution import ResolvedMethod, check_issuer_binding, resolve_jwt_key, resolve_verification_method
from .limits import check_structure
from .ob2 import is_ob2, verify_ob2
from .reading import ReadingError, check_single_reading
from .recipient import recipient_matches
from .report import (
    FAILED, INDETERMINATE, PASSED, SKIPPED, CheckResult, VerificationReport, explain,
)
from .schema import validate_credential
from .status import check_status
from .validity import ValidityError, check_validity
from .vc_jwt import claim_mismatches, credential_from_payload

VC_V1 = "https://www.w3.org/2018/credentials/v1"
VC_V2 = "https://www.w3.org/ns/credentials/v2"
OB_TYPES = ("OpenBadgeCredential", "AchievementCredential", "EndorsementCredential")
MAX_INPUT_BYTES = 10 * 1024 * 1024
MAX_JSON_BYTES = 2 * 1024 * 1024
MAX_PROOFS = 4
MAX_ENDORSEMENTS = 8
CREDENTIAL_ACCEPT = ("application/vc+ld+json, application/ld+json;q=0.9, application/json;q=0.8, "
                     "application/vc+jwt;q=0.7, application/jwt;q=0.7, text/plain;q=0.5, "
                     "image/png;q=0.4, image/svg+xml;q=0.4")
STATUS_ACCEPT = "application/vc+ld+json, application/ld+json;q=0.9, application/json;q=0.8"

_shared_cache = ResponseCache()


@dataclass
class _Context:
    """What one verification carries along: its clock, network access and options."""

    now: datetime
    fetcher: Fetcher
    engine: JsonLdEngine
    recipient: str | None
    depth: int = 0
    checks: list[CheckResult] = field(default_factory=list)
    memo: dict | None = None  # status list credential (sha256 of its JSON) -> None or the error it raised

    def add(self, check: str, status: str, message: str, reason: str | None = None, **details) -> None:
        self.checks.append(CheckResult(check, status, message, reason, details))

    def fail(self, check: str, exc: CredentialError, status: str = FAILED) -> None:
        self.add(check, status, explain(exc.code, str(exc)), exc.code, error=str(exc), **exc.details)

    def child(self) -> "_Context":
        return _Context(self.now, self.fetcher, self.engine, None, self.depth + 1, memo=self.memo)


def verify_credential(source: Any, *, recipient: str | None = None, now: datetime | None = None,
                      offline: bool = False, documents: Mapping[str, Any] | None = None,
                      policy: FetchPolicy | None = None, cache: ResponseCache | None = None,
                      engine: JsonLdEngine | None = None, memo: dict | None = None) -> VerificationReport:
    """Verify ``source`` and return a :class:`~verifier.report.VerificationReport`.

    ``recipient``: an email, URL or DID the credential should name. ``now``: the
    clock (timezone-aware; default: now). ``offline``: no network at all.
    ``documents``: URL or DID -> document (dict, str or bytes) served instead of the
    network (DID documents, keys, status lists, OB 2.0 documents). ``policy``: the
    fetch policy (e.g. hosts allowed over plain http). ``engine``: a JSON-LD engine
    with extra contexts (tests). ``memo``: a dict shared across calls to remember which
    status list credentials already verified (bulk issuance checks thousands of
    credentials against the same lists); only pass one while those lists cannot change.
    """
    if not isinstance(source, (dict, str, bytes, bytearray)):
        raise TypeError("source must be a dict, a str (JSON, JWT or https URL) or bytes (JSON, JWT or image)")
    now = now or datetime.now(timezone.utc)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    local = {url: _as_bytes(doc) for url, doc in (documents or {}).items()}
    fetcher = Fetcher(policy or FetchPolicy(), cache=_shared_cache if cache is None else cache,
                      local_documents=local, offline=offline)
    ctx = _Context(now, fetcher, engine or default_engine(), recipient, memo=memo)
    summary: dict[str, Any] = {}
    _verify_source(source, ctx, summary)
    return VerificationReport(_in_order(ctx.checks), summary)


def _as_bytes(doc: Any) -> bytes:
    if isinstance(doc, (bytes, bytearray)):
        return bytes(doc)
    if isinstance(doc, str):
        return doc.encode("utf-8")
    return json.dumps(doc).encode("utf-8")


def _in_order(checks: list[CheckResult]) -> list[CheckResult]:
    order = {name: i for i, name in enumerate(("parse", "fetch", "contexts", "schema", "key", "issuer_binding",
                                               "proof", "validity", "status", "recipient", "endorsements"))}
    return sorted(checks, key=lambda c: order.get(c.check, len(order)))


# ---------------------------------------------------------------- input forms

def _verify_source(source: Any, ctx: _Context, summary: dict) -> None:
    try:
        kind, value = _classify(source, ctx)
    except CredentialError as exc:
        ctx.fail("parse", exc)
        return
    if kind == "jwt":
        _verify_jwt(value, ctx, summary)
    elif kind == "ob2":
        _verify_ob2(value, ctx, summary)
    else:
        _verify_jsonld(value, ctx, summary)


def _looks_like_jwt(text: str) -> bool:
    parts = text.split(".")
    return len(parts) in (3, 5) and all(parts[:2]) and " " not in text and "{" not in text


def _classify(source: Any, ctx: _Context) -> tuple[str, Any]:
    """("jsonld" | "jwt" | "ob2", value) for any accepted input form."""
    if isinstance(source, dict):
        return ("ob2" if is_ob2(source) else "jsonld"), source
    if isinstance(source, str):
        text = source.strip()
        if text.startswith("https://") or text.startswith("http://"):
            return _classify_fetched(text, ctx)
        if _looks_like_jwt(text):
            return ("ob2" if _jws_carries_ob2(text) else "jwt"), text
        return _classify(_parse_json(text.encode("utf-8")), ctx)
    data = bytes(source)
    if len(data) > MAX_INPUT_BYTES:
        raise CredentialError("the input is larger than 10 MiB", code="too_large")
    if sniff_image(data):
        baked = extract_baked(data)
        if baked.kind == "url":
            return _classify_fetched(baked.value, ctx)
        return _classify(baked.value, ctx)
    try:
        text = data.decode("utf-8").strip()
    except UnicodeDecodeError as exc:
        raise CredentialError("the input is not UTF-8 text or a PNG/SVG image", code="not_json") from exc
    return _classify(text, ctx)


def _jws_carries_ob2(token: str) -> bool:
    """Whether a compact JWS (not yet verified) carries an Open Badges 2.0 assertion."""
    try:
        _, payload, _, _ = parse_compact_jws(token)
    except CredentialError:
        return False
    return isinstance(payload, dict) and is_ob2(payload)


def _parse_json(raw: bytes) -> dict:
    if len(raw) > MAX_JSON_BYTES:
        raise CredentialError("the JSON is larger than 2 MiB", code="too_large")

    def no_constants(name):
        raise ValueError(f"{name} is not valid JSON")

    def no_duplicates(pairs):
        keys = [k for k, _ in pairs]
        if len(keys) != len(set(keys)):
            raise ValueError("duplicate keys")
        return dict(pairs)

    try:
        value = json.loads(raw, parse_constant=no_constants, object_pairs_hook=no_duplicates)
    except RecursionError as exc:
        raise CredentialError("the JSON is nested too deeply", code="too_complex") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise CredentialError(f"not JSON, a JWT or a badge image: {exc}", code="not_json") from exc
    if not isinstance(value, dict):
        raise CredentialError("the JSON is not an object", code="not_a_credential")
    return value


def _classify_fetched(url: str, ctx: _Context) -> tuple[str, Any]:
    try:
        response = ctx.fetcher.fetch(url, accept=CREDENTIAL_ACCEPT, max_bytes=MAX_INPUT_BYTES)
    except FetchError as exc:
        raise CredentialError(f"could not retrieve {url}: {exc}", code="unreachable",
                              details={"url": url, "fetch_error": exc.code}) from exc
    ctx.add("fetch", PASSED, f"Retrieved from {response.final_url}.", url=response.final_url)
    return _classify(response.body, ctx)


# ---------------------------------------------------------------- JSON-LD credentials

def _types(document: dict) -> list[str]:
    value = document.get("type")
    return [value] if isinstance(value, str) else [t for t in value or [] if isinstance(t, str)]


def _issuer_id(credential: dict) -> str | None:
    issuer = credential.get("issuer")
    if isinstance(issuer, dict):
        issuer = issuer.get("id")
    return issuer if isinstance(issuer, str) else None


def _check_parse(credential: dict, ctx: _Context) -> bool:
    try:
        check_structure(credential)
    except CredentialError as exc:
        ctx.fail("parse", exc)
        return False
    contexts = credential.get("@context")
    first = contexts[0] if isinstance(contexts, list) and contexts else contexts
    if first not in (VC_V1, VC_V2):
        ctx.add("parse", FAILED, explain("missing_base_context", ""), "missing_base_context",
                error=f"the first @context is {first!r}")
        return False
    types = _types(credential)
    if "VerifiableCredential" not in types:
        ctx.add("parse", FAILED, explain("not_a_credential", ""), "not_a_credential",
                error="type does not include VerifiableCredential")
        return False
    kind = next((t for t in types if t in OB_TYPES), None)
    version = "2.0" if first == VC_V2 else "1.1"
    ctx.add("parse", PASSED, f"A VC {version} {kind or 'verifiable credential'}.", kind=kind or "VerifiableCredential",
            vc_version=version)
    return True


def _check_contexts(credential: dict, ctx: _Context) -> bool:
    contexts = credential.get("@context")
    contexts = contexts if isinstance(contexts, list) else [contexts]
    unknown = [c for c in contexts if isinstance(c, str) and not ctx.engine.loader.knows(c)]
    bad = [c for c in contexts if not isinstance(c, (str, dict))]
    if unknown or bad:
        ctx.add("contexts", FAILED, explain("unknown_context", ""), "unknown_context",
                error=f"not bundled: {', '.join(map(str, unknown or bad))}", urls=unknown)
        return False
    try:
        check_single_reading(credential)
    except ReadingError as exc:
        ctx.fail("contexts", exc)
        return False
    ctx.add("contexts", PASSED, "Every vocabulary is one this verifier ships (nothing downloaded), and every "
            "property is spelled by its name.", contexts=[c for c in contexts if isinstance(c, str)])
    return True


def _check_schema(credential: dict, ctx: _Context) -> None:
    if not any(t in OB_TYPES for t in _types(credential)):
        ctx.add("schema", SKIPPED, "Not an Open Badge, so the Open Badges schema does not apply.", "not_open_badge")
        return
    violations = validate_credential(credential)
    if violations:
        ctx.add("schema", FAILED, explain("schema_violation", ""), "schema_violation",
                error=violations[0].message, violations=[{"path": v.path, "message": v.message} for v in violations[:20]])
        return
    subjects = credential.get("credentialSubject")
    subjects = subjects if isinstance(subjects, list) else [subjects]
    if not all(isinstance(s, dict) and (s.get("id") or s.get("identifier")) for s in subjects):
        ctx.add("schema", FAILED, explain("no_subject_identifier", ""), "no_subject_identifier")
        return
    ctx.add("schema", PASSED, "Follows the Open Badges 3.0 data model.")


def _proof_list(credential: dict) -> list[dict]:
    proofs = credential.get("proof")
    proofs = proofs if isinstance(proofs, list) else [proofs]
    return [p for p in proofs if isinstance(p, dict)]


def _resolve_keys(credential: dict, ctx: _Context) -> dict[str, ResolvedMethod] | None:
    proofs = _proof_list(credential)
    if "proof" not in credential:
        ctx.add("key", FAILED, explain("no_proof", ""), "no_proof")
        return None
    if not proofs or len(proofs) > MAX_PROOFS:
        ctx.add("key", FAILED, explain("malformed_proof", ""), "malformed_proof",
                error=f"expected 1 to {MAX_PROOFS} proof objects")
        return None
    resolved: dict[str, ResolvedMethod] = {}
    for proof in proofs:
        vm = proof.get("verificationMethod")
        if not isinstance(vm, str) or not vm:
            ctx.add("key", FAILED, explain("malformed_proof", ""), "malformed_proof", error="a proof has no verificationMethod")
            return None
        if vm in resolved:
            continue
        try:
            resolved[vm] = resolve_verification_method(vm, ctx.fetcher)
        except CredentialError as exc:
            status = INDETERMINATE if exc.code in ("key_unresolvable", "network_forbidden") else FAILED
            ctx.fail("key", exc, status)
            return None
    ctx.add("key", PASSED, f"Found the signing key{'s' if len(resolved) > 1 else ''}.",
            methods={vm: m.source for vm, m in resolved.items()})
    return resolved


def _check_binding(issuer_id: str | None, methods: list[ResolvedMethod], ctx: _Context) -> bool:
    if not issuer_id:
        ctx.add("issuer_binding", FAILED, "The credential does not name its issuer.", "no_issuer")
        return False
    errors: list[CredentialError] = []
    bound = []
    for method in methods:
        try:
            check_issuer_binding(method, issuer_id)
            bound.append(method.id)
        except CredentialError as exc:
            errors.append(exc)
    if not bound:
        ctx.fail("issuer_binding", errors[0])
        return False
    ctx.add("issuer_binding", PASSED, f"Signed with a key {issuer_id} controls and uses for issuing.",
            methods=bound)
    return True


def _verify_jsonld(credential: dict, ctx: _Context, summary: dict, *, jwt_proof: Callable | None = None) -> None:
    if not _check_parse(credential, ctx):
        return
    _summarize(credential, summary)
    contexts_ok = _check_contexts(credential, ctx)
    _check_schema(credential, ctx)
    issuer_id = _issuer_id(credential)
    if jwt_proof is not None:
        jwt_proof()
    elif not contexts_ok:
        for check in ("key", "issuer_binding", "proof"):
            ctx.add(check, SKIPPED, "Not checked: the credential's vocabulary or spelling cannot be trusted.",
                    "blocked_by_contexts")
    else:
        resolved = _resolve_keys(credential, ctx)
        if resolved is not None:
            bound = _check_binding(issuer_id, list(resolved.values()), ctx)
            _check_proofs(credential, resolved, ctx)
            proof = next((c for c in ctx.checks if c.check == "proof"), None)
            if bound and proof is not None and proof.status == PASSED:
                summary.setdefault("issuer", {})["proven"] = _proven_identity(issuer_id)
    _check_dates(credential, ctx)
    _check_status(credential, ctx)
    _check_recipient(credential, ctx)
    _check_endorsements(credential, ctx)


def _check_proofs(credential: dict, resolved: dict[str, ResolvedMethod], ctx: _Context) -> None:
    result = _proofs.verify_proofs(credential, lambda vm: resolved[vm].public_key, engine=ctx.engine)
    if result.error:
        ctx.fail("proof", result.error)
        return
    for proof_result in result.results:
        if not proof_result.verified:
            ctx.fail("proof", proof_result.error)
            return
    suites = [r.proof.get("cryptosuite") or r.proof.get("type") for r in result.results]
    ctx.add("proof", PASSED, f"The signature{'s' if len(suites) > 1 else ''} match{'' if len(suites) > 1 else 'es'} "
            "the credential: nothing was changed after signing.", cryptosuites=suites)


def _proven_identity(issuer_id: str) -> str:
    if issuer_id.startswith("did:"):
        return issuer_id if not issuer_id.startswith("did:web:") else f"{issuer_id} ({_did_web_host(issuer_id)})"
    return urlsplit(issuer_id).hostname or issuer_id


def _did_web_host(did: str) -> str:
    return did.split(":")[2].replace("%3A", ":").replace("%3a", ":")


def _check_dates(credential: dict, ctx: _Context) -> None:
    try:
        reason, message = check_validity(credential, ctx.now)
    except ValidityError as exc:
        ctx.fail("validity", exc)
        return
    if reason:
        ctx.add("validity", FAILED, f"{explain(reason, '')} {message}", reason)
    else:
        ctx.add("validity", PASSED, message)


def _check_status(credential: dict, ctx: _Context) -> None:
    # A status list (or an endorsement) is itself checked for status, one level deep: a revoked
    # or suspended list is not trusted. The status of that list's own status list is not followed.
    if ctx.depth > 1 and "credentialStatus" in credential:
        ctx.add("status", SKIPPED, "The status of a status list's status list is not followed further.",
                "depth_limit")
        return

    def fetch_json(url: str) -> object:
        return ctx.fetcher.fetch_json(url, accept=STATUS_ACCEPT)

    def verify_list_credential(document: dict) -> None:
        memo_key = None
        if ctx.memo is not None:
            memo_key = hashlib.sha256(json.dumps(document, sort_keys=True).encode("utf-8")).hexdigest()
            if memo_key in ctx.memo:
                if ctx.memo[memo_key] is not None:
                    raise ctx.memo[memo_key]
                return
        child = ctx.child()
        _verify_jsonld(document, child, {})
        failed = [c for c in child.checks if c.status in (FAILED, INDETERMINATE)]
        error = None
        if failed:
            error = CredentialError(f"the status list credential did not verify: {failed[0].message}",
                                    code=failed[0].reason or "status_list_untrusted")
        if memo_key is not None:
            ctx.memo[memo_key] = error
        if error is not None:
            raise error

    outcome = check_status(credential, fetch_json=fetch_json, verify_list_credential=verify_list_credential,
                           now=ctx.now)
    ctx.add("status", outcome.status, outcome.message, outcome.reason, **outcome.details)


def _check_recipient(credential: dict, ctx: _Context) -> None:
    if not ctx.recipient:
        ctx.add("recipient", SKIPPED, "No recipient given to compare with.", "no_recipient_given")
        return
    match = recipient_matches(credential, ctx.recipient)
    if match is None:
        ctx.add("recipient", INDETERMINATE, explain("no_recipient_to_compare", ""), "no_recipient_to_compare")
    elif match:
        ctx.add("recipient", PASSED, "Issued to the person you named.")
    else:
        ctx.add("recipient", FAILED, explain("recipient_mismatch", ""), "recipient_mismatch")


def _embedded_endorsements(credential: dict) -> list[Any]:
    """Every endorsement attached anywhere in the credential (the credential, its issuer, the
    achievement, or any other node): where it is attached in the JSON does not change what is
    signed, so it must not change what is checked either."""
    found: list[Any] = []
    stack: list[Any] = [credential]
    while stack:
        value = stack.pop()
        if isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, dict):
            for key, child in value.items():
                if key in ("endorsement", "endorsementJwt"):
                    found.extend(child if isinstance(child, list) else [child])
                elif key not in ("proof", "@context"):
                    stack.append(child)
    return found


def _check_endorsements(credential: dict, ctx: _Context) -> None:
    endorsements = _embedded_endorsements(credential)
    if not endorsements:
        ctx.add("endorsements", SKIPPED, "No endorsements attached.", "no_endorsements")
        return
    if ctx.depth > 0:
        ctx.add("endorsements", SKIPPED, "Endorsements of endorsements are not followed.", "depth_limit")
        return
    if len(endorsements) > MAX_ENDORSEMENTS:
        ctx.add("endorsements", FAILED, f"More than {MAX_ENDORSEMENTS} endorsements attached.", "too_many_endorsements")
        return
    outcomes = []
    for endorsement in endorsements:
        child = ctx.child()
        sub_summary: dict = {}
        _verify_source(endorsement if isinstance(endorsement, (dict, str)) else "", child, sub_summary)
        report = VerificationReport(child.checks, sub_summary)
        outcomes.append({"issuer": sub_summary.get("issuer", {}).get("id"), "outcome": report.outcome,
                         "headline": report.headline})
    bad = [o for o in outcomes if o["outcome"] != "verified"]
    if bad:
        ctx.add("endorsements", FAILED, explain("endorsement_invalid", ""), "endorsement_invalid", endorsements=outcomes)
    else:
        ctx.add("endorsements", PASSED, f"{len(outcomes)} endorsement{'s' if len(outcomes) > 1 else ''} verified.",
                endorsements=outcomes)


def _summarize(credential: dict, summary: dict) -> None:
    issuer = credential.get("issuer")
    summary["credential_id"] = credential.get("id")
    summary["types"] = _types(credential)
    summary["name"] = credential.get("name")
    summary["issuer"] = {
        "id": _issuer_id(credential),
        "name_as_claimed": issuer.get("name") if isinstance(issuer, dict) else None,
    }
    subjects = credential.get("credentialSubject")
    subject = subjects[0] if isinstance(subjects, list) and subjects else subjects
    if isinstance(subject, dict):
        achievement = subject.get("achievement") if isinstance(subject.get("achievement"), dict) else {}
        summary["achievement"] = {"id": achievement.get("id"), "name": achievement.get("name"),
                                  "type": achievement.get("achievementType")} if achievement else None
        summary["recipient"] = {"id": subject.get("id"),
                                "identifiers": [i.get("identityType") for i in subject.get("identifier") or []
                                                if isinstance(i, dict)]}
    summary["dates"] = {k: credential.get(k) for k in ("validFrom", "validUntil", "issuanceDate", "expirationDate",
                                                        "awardedDate") if credential.get(k)}


# ---------------------------------------------------------------- VC-JWT

def _verify_jwt(token: str, ctx: _Context, summary: dict) -> None:
    try:
        header, payload, _, _ = parse_compact_jws(token)
    except CredentialError as exc:
        ctx.fail("parse", exc)
        return
    try:
        credential = credential_from_payload(payload)
    except CredentialError as exc:
        ctx.fail("parse", exc)
        return
    summary["format"] = "vc-jwt"

    def jwt_proof() -> None:
        issuer_id = _issuer_id(credential)
        try:
            method = resolve_jwt_key(header, issuer_id or "", ctx.fetcher)
        except CredentialError as exc:
            status = INDETERMINATE if exc.code in ("key_unresolvable", "network_forbidden") else FAILED
            if exc.code in ("jwk_not_issuers", "key_not_controlled_by_issuer", "method_not_in_assertion_method",
                            "key_from_another_origin"):
                ctx.add("key", PASSED, "Found the key the token names.")
                ctx.fail("issuer_binding", exc)
            else:
                ctx.fail("key", exc, status)
            return
        ctx.add("key", PASSED, "Found the signing key.", method=method.id, source=method.source)
        bound = _check_binding(issuer_id, [method], ctx)
        try:
            verify_compact_jws(token, method.public_key)
        except CredentialError as exc:
            ctx.fail("proof", exc)
            return
        mismatches = claim_mismatches(payload)
        if mismatches:
            ctx.add("proof", FAILED, explain("jwt_claims_mismatch", ""), "jwt_claims_mismatch",
                    error="; ".join(mismatches), mismatches=mismatches)
            return
        ctx.add("proof", PASSED, f"The token's {header.get('alg')} signature matches the credential.",
                alg=header.get("alg"))
        if bound:
            summary.setdefault("issuer", {})["proven"] = _proven_identity(issuer_id)

    _verify_jsonld(credential, ctx, summary, jwt_proof=jwt_proof)


# ---------------------------------------------------------------- Open Badges 2.0

def _verify_ob2(document: dict | str, ctx: _Context, summary: dict) -> None:
    result = verify_ob2(document, fetch_json=lambda url: ctx.fetcher.fetch_json(url, accept="application/ld+json, "
                                                                                "application/json;q=0.9"),
                        now=ctx.now, recipient=ctx.recipient)
    for check in result.checks:
        ctx.add(check.check, check.status, check.message, check.reason, **check.details)
    summary["format"] = "ob2"
    badge = result.badge or {}
    issuer = result.issuer or {}
    summary["name"] = badge.get("name")
    summary["issuer"] = {"id": issuer.get("id"), "name_as_claimed": issuer.get("name")}
    if result.verified and isinstance(issuer.get("id"), str):
        summary["issuer"]["proven"] = urlsplit(issuer["id"]).hostname
    summary["achievement"] = {"id": badge.get("id"), "name": badge.get("name"), "type": "BadgeClass"}
