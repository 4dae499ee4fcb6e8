"""The W3C VC-API endpoints the interoperability suites drive (../shared/research/vc-api-contract.md).

=================================  ==============================================================
``POST /credentials/issue``        ``{"credential", "options"}`` -> 201 ``{"verifiableCredential"}``
``POST /credentials/verify``       ``{"verifiableCredential", "options"}`` -> 200 ``{"verified": true,
                                   "checks", "warnings", "errors"}``; 400/422 otherwise
``POST /presentations/verify``     ``{"verifiablePresentation", "options": {"domain", "challenge"}}``
=================================  ==============================================================

Issuing signs with the issuer's current Ed25519 key (``eddsa-rdfc-2022``) as one of two
identities, chosen by ``MICROCRED_VCAPI_ISSUER``: ``did:web`` (default: the installation's
DID, verification method ``did:web:...#key-N``) or ``did:key`` (the did:key of the current
key, ``did:key:z6Mk...#z6Mk...``; it changes when the key is rotated). The credential's
``issuer`` must be exactly that identity. The input is kept as it is (same ``@context``
order, same fields); a VC 1.1 credential gets ``https://w3id.org/security/data-integrity/v2``
appended to its ``@context``. Everything the VC data model forbids, and anything JSON-LD
would silently drop, is refused with 422 before signing (400 for a request that is not
shaped like one).

Verifying uses :func:`verifier.verify_credential` with network access under a fetch policy
that allows only public https (``VCAPI_FETCH_POLICY`` / ``VCAPI_OFFLINE`` in ``app.config``);
this installation's own DID document and status lists are served locally.

Issuing is accountable and off by default: ``/credentials/issue`` answers 403 unless the
installation sets ``MICROCRED_VCAPI_ISSUING=1`` (``app.config["VCAPI_ISSUING"]``) and the token
has the ``vcapi-issue`` scope (which no other scope includes). Every credential it signs is
recorded (:class:`issuer.db.models.VcapiCredential`: the signed credential, the token that
asked, when, its status entries) and listed at ``GET /api/v1/vcapi-credentials`` and on the
console's VC-API page, where it can be revoked or suspended. As the installation's own
identity (did:web) the issuer gives the credential its id, ``{base_url}/credentials/{uuid}``,
and a revocation and a suspension ``BitstringStatusListEntry`` on its own lists, so the
credential must come without ``id`` and ``credentialStatus``, be a VC 2.0 credential (the
VC 1.1 context does not define the status entries), and have ``validFrom`` within
:data:`DATE_SKEW` of now (no backdating, no post-dating). Refused in every mode (422): status
list credential types, ids of this installation's credentials, and ``credentialStatus``
entries on this issuer's lists.

The did:key mode (``MICROCRED_VCAPI_ISSUER=did:key``) is for the W3C conformance suites, which
send fixed ids, old dates, VC 1.1 credentials and status entries of example lists: it signs
as the current key's did:key, not as the installation's public identity, keeps the input as it
is and records each credential (with the token that asked), but gives it no id and no status
entries, so such credentials cannot be revoked. Do not enable it on a production installation.

Tokens: ``vcapi-issue`` for issuing; ``read`` for the verify endpoints, which need no token
at all when ``MICROCRED_VCAPI_OPEN=1``.

Presentations: unsigned ones must be well-formed VC 2.0 presentations whose every credential
verifies. Signed ones must also carry a proof with purpose ``authentication`` by a key its
controller lists under ``authentication`` (the holder's, when ``holder`` is given), with the
``challenge`` and ``domain`` of the request's options. Not supported: enveloped (JWT)
credentials inside presentations, and legacy cryptosuites the verifier does not know.
"""
from __future__ import annotations

import json
import re
from typing import Any

from flask import Blueprint, Response, current_app, request

from issuer.access.tokens import VCAPI_ISSUE
from issuer.awards.vcapi_records import (  # noqa: F401  (VC_V1, VC_V2, DI_V2: importable here)
    DI_V2,
    IRI,
    VC_V1,
    VC_V2,
    VcapiRefused,
    as_list,
    check_json_ld,
    types_of,
)
from issuer.web.api.common import (
    ApiProblem,
    Caller,
    authenticate,
    install_error_handlers,
    json_body,
    ok,
    problem_response,
    state,
)
from verifier import verify_credential
from verifier.fetcher import FetchPolicy, NetworkFetcher
from verifier.presentation import verify_presentation as check_presentation
from verifier.related_resource import check_related_resources
from verifier.validity import ValidityError, validity_period

bp = Blueprint("vcapi", __name__)
install_error_handlers(bp)

JSON_LIMIT = 2 * 1024 * 1024
MAX_CREDENTIALS_IN_PRESENTATION = 10
TERM = re.compile(r"^[^\x00-\x20\x7f<>\"{}|\\^`]+$")
TYPED_PROPERTIES = ("credentialStatus", "credentialSchema", "refreshService", "termsOfUse", "evidence")


# ---------------------------------------------------------------- helpers

def _caller(scope: str) -> Caller | None:
    open_ = scope == "read" and current_app.config.get("VCAPI_OPEN")
    return authenticate(scope, optional=bool(open_))


def _body() -> dict:
    request.max_content_length = JSON_LIMIT
    body = json_body()
    if not isinstance(body, dict):
        raise ApiProblem(400, "The body must be a JSON object.")
    options = body.get("options")
    if options is not None and not isinstance(options, dict):
        raise ApiProblem(400, "'options' must be an object.")
    return body


def _rejected(status: int, errors: list[str], title: str = "Invalid credential") -> ApiProblem:
    return ApiProblem(status, errors[0], title=title, errors=errors)


# ---------------------------------------------------------------- the VC data model (issuing)

def _check_iri(value: Any, where: str, errors: list[str]) -> None:
    if not isinstance(value, str) or not IRI.match(value):
        errors.append(f"{where} must be a URL (an absolute IRI), not {json.dumps(value)[:100]}")


def _check_context(credential: dict, errors: list[str]) -> str | None:
    """The credential's VC version ('1.1' or '2.0'), or None when the @context is unusable."""
    if "@context" not in credential or credential["@context"] is None:
        errors.append("@context is missing")
        return None
    contexts = as_list(credential["@context"])
    if not contexts or contexts[0] not in (VC_V1, VC_V2):
        errors.append(f"the first @context must be {VC_V2} (or {VC_V1} for VC 1.1)")
        return None
    version = "2.0" if contexts[0] == VC_V2 else "1.1"
    other = VC_V1 if version == "2.0" else VC_V2
    for entry in contexts[1:]:
        if isinstance(entry, str):
            if entry in (VC_V1, VC_V2):
                errors.append(f"@context lists {entry} again or together with {other}")
            elif not IRI.match(entry):
                errors.append(f"the @context entry {entry[:100]!r} is not a URL")
        elif isinstance(entry, dict):
            if "@vocab" in entry and entry["@vocab"] is None:
                errors.append("an @context sets @vocab to null: undefined terms would be dropped")
        else:
            errors.append(f"the @context entry {json.dumps(entry)[:100]} is neither a URL nor an object")
    return version


def _check_ids(value: Any, path: str, errors: list[str]) -> None:
    """Every 'id' outside @context is one absolute IRI."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "@context":
                continue
            if key in ("id", "@id"):
                _check_iri(item, f"{path}.{key}", errors)
            else:
                _check_ids(item, f"{path}.{key}", errors)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_ids(item, f"{path}[{index}]", errors)


def _check_types(value: Any, where: str, errors: list[str], *, required: bool) -> None:
    if value is None:
        if required:
            errors.append(f"{where} has no type")
        return
    types = as_list(value)
    if not types or not all(isinstance(t, str) and TERM.match(t) for t in types):
        errors.append(f"{where}.type must be a term or URL, or a non-empty list of them")


def _check_related_resources(credential: dict, errors: list[str]) -> None:
    """VC 2.0 section 5.3: well-formed entries, and digests of bundled contexts that match.

    Nothing is fetched when issuing: digests of other resources are the issuer's word.
    """
    errors += [finding.message for finding in check_related_resources(credential) if finding.failed]


def check_data_model(credential: Any) -> list[str]:
    """What makes ``credential`` not a credential the VC data model allows (empty: fine)."""
    if not isinstance(credential, dict):
        return ["the credential must be a JSON object"]
    errors: list[str] = []
    version = _check_context(credential, errors)
    types = types_of(credential.get("type"))
    if "type" not in credential or not types:
        errors.append("type is missing")
    elif not all(isinstance(t, str) and TERM.match(t) for t in types):
        errors.append("type must be a term or URL, or a list of them")
    elif "VerifiableCredential" not in types:
        errors.append("type does not include VerifiableCredential")
    if "id" in credential:
        _check_iri(credential["id"], "id", errors)
    issuer = credential.get("issuer")
    if isinstance(issuer, dict):
        if "id" not in issuer or issuer.get("id") is None:
            errors.append("issuer.id is missing")
        else:
            _check_iri(issuer["id"], "issuer.id", errors)
    elif "issuer" not in credential or issuer is None:
        errors.append("issuer is missing")
    else:
        _check_iri(issuer, "issuer", errors)
    subjects = credential.get("credentialSubject")
    if subjects is None:
        errors.append("credentialSubject is missing")
    else:
        subjects = as_list(subjects)
        if not subjects:
            errors.append("credentialSubject is empty")
        for index, subject in enumerate(subjects):
            if not isinstance(subject, dict) or not subject:
                errors.append(f"credentialSubject[{index}] must be an object with at least one claim or an id")
    if version == "1.1" and "issuanceDate" not in credential:
        errors.append("a VC 1.1 credential needs issuanceDate")
    for name in ("validFrom", "validUntil", "issuanceDate", "expirationDate"):
        if name in credential and not isinstance(credential[name], str):
            errors.append(f"{name} must be a date-time string")
    try:
        validity_period(credential)
    except ValidityError as exc:
        errors.append(str(exc))
    for name in TYPED_PROPERTIES:
        if name not in credential:
            continue
        entries = as_list(credential[name])
        if not entries:
            errors.append(f"{name} is empty")
        for index, entry in enumerate(entries):
            where = f"{name}[{index}]"
            if not isinstance(entry, dict):
                errors.append(f"{where} must be an object")
                continue
            _check_types(entry.get("type"), where, errors, required=True)
            if name == "credentialSchema" and "id" not in entry:
                errors.append(f"{where} has no id (the schema's URL)")
    _check_related_resources(credential, errors)
    _check_ids(credential, "credential", errors)
    return errors


# ---------------------------------------------------------------- POST /credentials/issue

def _issuing_enabled() -> None:
    if not current_app.config.get("VCAPI_ISSUING"):
        raise ApiProblem(403, "VC-API issuing is turned off on this installation. An administrator can turn it "
                              "on with MICROCRED_VCAPI_ISSUING=1; it also needs a token with the 'vcapi-issue' "
                              "scope.", title="VC-API issuing is off", code="vcapi_issuing_off")


@bp.post("/credentials/issue")
def issue_credential() -> Response:
    _issuing_enabled()
    caller = _caller(VCAPI_ISSUE)
    assert caller is not None  # noqa: S101 - issuing always needs a token
    body = _body()
    if "credential" not in body or not isinstance(body["credential"], dict):
        raise ApiProblem(400, "The body needs 'credential', a JSON object.")
    errors = check_data_model(body["credential"])
    if errors:
        raise _rejected(422, errors)
    signed = state().use.vcapi.issue(body["credential"], suite_mode=current_app.config.get("VCAPI_ISSUER") == "did:key",
                                     token_id=caller.token_id, actor=caller.actor)
    return ok({"verifiableCredential": signed}, 201)


def _refused(exc: VcapiRefused) -> Response:
    """What issuing refused: 422 with every reason in ``errors``."""
    return problem_response(422, "Invalid credential", exc.message, code=exc.code, errors=exc.errors)


bp.register_error_handler(VcapiRefused, _refused)


# ---------------------------------------------------------------- verification

def _network() -> NetworkFetcher:
    """The app's one long-lived fetcher (its caches and host limits serve every request)."""
    policy = current_app.config.get("VCAPI_FETCH_POLICY") or FetchPolicy()
    fetcher = current_app.extensions.get("microcred.vcapi.fetcher")
    if fetcher is None or fetcher.policy != policy:
        fetcher = current_app.extensions["microcred.vcapi.fetcher"] = NetworkFetcher(policy)
    return fetcher


def _verify_options() -> dict:
    return {"fetcher": _network(), "offline": bool(current_app.config.get("VCAPI_OFFLINE")),
            "documents": state().use.vcapi.local_documents(), "flag_supplied": False}


def _report_errors(report) -> list[dict]:
    return [{"check": c.check, "status": c.status, "reason": c.reason, "message": c.message}
            for c in report.checks if c.status in ("failed", "indeterminate")]


def _passed(report) -> list[str]:
    return [c.check for c in report.checks if c.status == "passed"]


def _verify_one(credential: dict, options: dict):
    return verify_credential(credential, **options)


@bp.post("/credentials/verify")
def verify() -> Response:
    _caller("read")
    body = _body()
    credential = body.get("verifiableCredential")
    if not isinstance(credential, dict):
        raise ApiProblem(400, "The body needs 'verifiableCredential', a JSON object (a JSON-LD credential with "
                              "an embedded proof).", title="Invalid request", verified=False, checks=[],
                         warnings=[], errors=[{"message": "verifiableCredential is missing or not an object"}])
    report = _verify_one(credential, _verify_options())
    warnings = [{"check": c.check, "reason": c.reason, "message": c.message} for c in report.warnings]
    if report.verified:
        return ok({"verified": True, "checks": _passed(report), "warnings": warnings, "errors": [],
                   "report": report.to_dict()})
    errors = _report_errors(report)
    return problem_response(422, "Not verified", errors[0]["message"] if errors else "The credential did not verify.",
                            verified=False, checks=_passed(report), warnings=warnings, errors=errors,
                            report=report.to_dict())


@bp.post("/presentations/verify")
def verify_presentation() -> Response:
    _caller("read")
    body = _body()
    presentation = body.get("verifiablePresentation")
    options = body.get("options") or {}
    if not isinstance(presentation, dict):
        raise ApiProblem(400, "The body needs 'verifiablePresentation', a JSON object.", title="Invalid request",
                         verified=False, errors=[{"message": "verifiablePresentation is missing or not an object"}])
    for name in ("challenge", "domain"):
        if name in options and not (isinstance(options[name], str) or
                                    (name == "domain" and isinstance(options[name], list)
                                     and all(isinstance(d, str) for d in options[name]))):
            raise ApiProblem(400, f"options.{name} must be a string.")
    report = check_presentation(presentation, challenge=options.get("challenge"), domain=options.get("domain"),
                                **_verify_options())
    problems = _messages(c for c in report.errors if c.check in ("parse", "contexts"))
    if not problems and report.presentation_verified:
        problems = check_json_ld({k: v for k, v in presentation.items() if k != "proof"})
    if problems:
        raise _rejected(422, problems, "Invalid presentation")
    if report.errors:
        raise _rejected(422, _messages(report.errors), "Not verified")
    results = [r.to_dict() for r in report.credentials]
    for index, credential_report in enumerate(report.credentials):
        if not credential_report.verified:
            failed = _report_errors(credential_report)
            raise ApiProblem(422, f"verifiableCredential[{index}]: "
                                  f"{failed[0]['message'] if failed else 'did not verify'}",
                             title="Not verified", verified=False, errors=failed, credentialResults=results)
    checks = [name for name, done in (("proof", report.signed), ("credentials", bool(report.credentials))) if done]
    return ok({"verified": True, "checks": checks, "warnings": [], "errors": [], "credentialResults": results})


def _messages(results) -> list[str]:
    return [c.details.get("error") or c.message for c in results]
