"""The VC-API endpoints as the W3C interoperability suites drive them (../shared/research/vc-api-contract.md):
every acceptance and rejection the contract lists, for the issuer and the verifier side, proof sets
and chains, VC 1.1 input, presentations (unsigned and signed), tokens; each through the Flask test
client and over a real loopback HTTP server.
"""
from __future__ import annotations

import copy
import json
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy import func, select

import issuer
from issuer.access.tokens import VCAPI_ISSUE, create_token
from issuer.config import ConfigError
from issuer.db.models import AuditEntry
from issuer.identity import load_issuer
from issuer.keys.files import generate_key
from issuer.keys.keyring import current_key
from issuer.web.api import register_api
from issuer.web.vcapi import DI_V2, VC_V1, VC_V2, check_data_model
from tests.issuer.web.api.test_api import Live, build_app, make_settings, make_tokens, seed_issuer, serve
from verifier import verify_credential
from verifier.fetcher import FetchPolicy, ResponseCache
from verifier.keys import public_key_from_multibase
from verifier.proofs import eddsa_rdfc_2022, verify_proofs

CREATED = "2026-01-10T00:00:00Z"
V2_DIGEST_2024 = "sha384-NSOcNpmdIVUxIJGvGUoe22FjTWrXiaXlsZ8q6912LdnR3KraQO2n75Ica4wK4Qeg"
V2_DIGEST_NOW = "sha384-l/HrjlBCNWyAX91hr6LFV2Y3heB5Tcr6IeE4/Tje8YyzYBM8IhqjHWiWpr8+ZbYU"
# digestMultibase of the VC 2.0 context: a sha2-256 multihash (base58btc) of today's W3C bytes, and the
# bare sha-256 (base64url, no multihash header) of the 2024-07-20 bytes the W3C VC 2.0 suite sends
V2_MULTIBASE_NOW = "zQmUNM6HqwZxuJ5k6cYRKAiqjUkx1qxWJe4WTqsg7ZJtEFm"
V2_MULTIBASE_SUITE = "uJKGMkOmFbVJhEfKTduMC2XCyvRAYLjOVmZWwIH1wQ7k"
LOGO_MULTIBASE = "uEiA1mM5vllskgf4mMWwGswlQxGrH-OcinxBKp49XmZdmjQ"  # sha2-256 multihash of b"logo"
EXAMPLES_V2 = "https://www.w3.org/ns/credentials/examples/v2"


# --------------------------------------------------------------------------- environment

@dataclass
class Env:
    app: Flask
    live: Live
    tokens: dict
    did_key: str            # the issuer's did:key identity (current key)
    did_key_vm: str
    did_web: str

    @property
    def client(self):
        return self.app.test_client()


def make_vcapi_tokens(app: Flask) -> dict[str, str]:
    """A token of each ladder scope, and one with the 'vcapi-issue' scope."""
    tokens = make_tokens(app)
    with app.extensions["microcred"].sessions.begin() as session:
        tokens[VCAPI_ISSUE] = create_token(session, scope=VCAPI_ISSUE, name="test vcapi-issue")[1]
    return tokens


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    folder = tmp_path_factory.mktemp("vcapi")
    app = build_app(make_settings(folder, f"sqlite:///{folder}/db.sqlite"), VCAPI_ISSUER="did:key",
                    VCAPI_ISSUING=True)
    seed_issuer(app)
    tokens = make_vcapi_tokens(app)
    state = app.extensions["microcred"]
    with state.sessions() as session:
        _row, pair = current_key(session, state.settings, load_issuer(session, state.settings))
    did = pair.public.to_did_key()
    server = serve(app)
    try:
        yield Env(app, Live(app, server.server_port), tokens, did, f"{did}#{did[8:]}", state.settings.did)
    finally:
        server.shutdown()
        server.server_close()
        state.engine.dispose()


@pytest.fixture()
def config(env):
    """Change app.config for one test only."""
    saved = dict(env.app.config)
    yield env.app.config
    env.app.config.clear()
    env.app.config.update(saved)


@pytest.fixture(params=["client", "http"])
def post(request, env):
    """post(path, body, token=..., raw=None) -> (status, media type, JSON) via the test client or real HTTP."""
    transport = request.param

    def call(path: str, body=None, *, token: str | None = VCAPI_ISSUE, raw: bytes | None = None):
        data = raw if raw is not None else json.dumps(body).encode("utf-8")
        headers = {"Content-Type": "application/json", "Accept": "application/ld+json, application/json"}
        if token:
            headers["Authorization"] = f"Bearer {env.tokens.get(token, token)}"
        if transport == "client":
            response = env.client.post(path, data=data, headers=headers)
            return response.status_code, response.mimetype, json.loads(response.get_data(as_text=True) or "null")
        status, response_headers, payload = env.live.request("POST", path, data, headers)
        return status, response_headers["content-type"].split(";")[0], json.loads(payload or b"null")

    call.transport = transport
    return call


def did_key_identity():
    key = generate_key("ed25519")
    did = key.public.to_did_key()
    return key, did, f"{did}#{did[8:]}"


def unsigned(issuer_id: str, **changes) -> dict:
    credential = {
        "@context": [VC_V2],
        "id": f"urn:uuid:{uuid.uuid4()}",
        "type": ["VerifiableCredential"],
        "issuer": issuer_id,
        "validFrom": "2024-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:key:z6MktKwz7Ge1Yxzr4JHavN33wiwa8y81QdcMRLXQsrH9T53b", "name": "ExampleClaim"},
    }
    credential.update(changes)
    return {k: v for k, v in credential.items() if v is not _DROP}


_DROP = object()


def accountable(issuer_id: str, **changes) -> dict:
    """What the installation's own identity issues: no id, no status, validFrom now."""
    now = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    return unsigned(issuer_id, **{"id": _DROP, "validFrom": now, **changes})


def proof_verifies(signed: dict) -> bool:
    def resolve(vm: str):
        return public_key_from_multibase(vm.split("#", 1)[1])
    return verify_proofs(signed, resolve).verified


# --------------------------------------------------------------------------- issuing: accepted

def _accepted_cases(did: str) -> dict:
    return {
        "v2-minimal": unsigned(did),
        "v2-no-dates": unsigned(did, validFrom=_DROP),
        "v2-issuer-object": unsigned(did, issuer={"id": did, "name": "Example Corp"}),
        "v2-valid-until": unsigned(did, validUntil="2030-01-01T00:00:00Z"),
        "v2-subject-id-only": unsigned(did, credentialSubject={"id": "did:example:subject"}),
        "v2-two-subjects": unsigned(did, credentialSubject=[{"id": "did:example:a"}, {"name": "B"}]),
        "v2-inline-context": unsigned(did, **{"@context": [VC_V2, {"ExampleClaim": "https://example.com/vocab#claim"}],
                                              "credentialSubject": {"ExampleClaim": "yes"}}),
        "v2-protected-inline-context": unsigned(did, **{"@context": [VC_V2, {
            "@protected": True, "Badge": "https://example.com/vocab#Badge"}], "type": ["VerifiableCredential", "Badge"]}),
        "v2-typed-extras": unsigned(
            did, **{"@context": [VC_V2, {"Evidence": "https://example.com/vocab#Evidence",
                                         "ExampleTermsOfUse": "https://example.com/vocab#ExampleTermsOfUse",
                                         "ExampleRefresh": "https://example.com/vocab#ExampleRefresh"}]},
            credentialStatus={"id": "https://example.com/status/1#3", "type": "BitstringStatusListEntry",
                              "statusPurpose": "revocation", "statusListIndex": "3",
                              "statusListCredential": "https://example.com/status/1"},
            credentialSchema={"id": "https://example.com/schema.json", "type": "JsonSchema"},
            evidence=[{"id": "https://example.com/evidence/1", "type": ["Evidence"]}],
            termsOfUse={"type": "ExampleTermsOfUse"},
            refreshService={"id": "https://example.com/refresh", "type": "ExampleRefresh"}),
        "v2-related-resource-2024-digest": unsigned(did, relatedResource=[{"id": VC_V2, "digestSRI": V2_DIGEST_2024}]),
        "v2-related-resource-current-digest": unsigned(did, relatedResource=[
            {"id": VC_V2, "digestSRI": V2_DIGEST_NOW},
            {"id": "https://example.com/logo.png", "digestMultibase": LOGO_MULTIBASE}]),
        "v2-related-resource-multibase": unsigned(did, relatedResource={"id": VC_V2,
                                                                        "digestMultibase": V2_MULTIBASE_NOW}),
        "v2-related-resource-suite-multibase": unsigned(did, relatedResource={
            "id": VC_V2, "digestMultibase": V2_MULTIBASE_SUITE, "mediaType": "application/ld+json"}),
        "v2-related-resource-both-digests": unsigned(did, relatedResource=[
            {"id": VC_V2, "digestSRI": V2_DIGEST_NOW, "digestMultibase": [V2_MULTIBASE_NOW]}]),
        "v2-examples-context": unsigned(did, **{"@context": [VC_V2, EXAMPLES_V2],
                                                "type": ["VerifiableCredential", "ExampleAlumniCredential"],
                                                "credentialSubject": {"id": "did:example:s",
                                                                      "alumniOf": {"name": "Example University"}}}),
        "v1": {"@context": [VC_V1], "id": "urn:uuid:0b5e7f5c-1c1e-4d7a-9a55-3f1d2a0b9c11",
               "type": ["VerifiableCredential"], "issuer": did, "issuanceDate": "2024-01-01T00:00:00Z",
               "credentialSubject": {"id": "did:example:subject"}},
        "v1-with-data-integrity-context": {"@context": [VC_V1, DI_V2], "type": ["VerifiableCredential"],
                                           "issuer": {"id": did}, "issuanceDate": "2024-01-01T00:00:00Z",
                                           "expirationDate": "2030-01-01T00:00:00Z",
                                           "credentialSubject": {"id": "did:example:subject"}},
    }


ACCEPTED = list(_accepted_cases("did:key:x"))


@pytest.mark.parametrize("name", ACCEPTED)
def test_the_issuer_signs_what_the_contract_accepts_keeping_the_input(env, post, name):
    credential = _accepted_cases(env.did_key)[name]
    status, mimetype, body = post("/credentials/issue", {"credential": credential, "options": {}})
    assert status == 201, body
    assert mimetype == "application/json"
    signed = body["verifiableCredential"]
    proof = signed.pop("proof")
    expected = copy.deepcopy(credential)
    if expected["@context"] == [VC_V1]:
        expected["@context"] = [VC_V1, DI_V2]
    assert signed == expected
    assert proof["type"] == "DataIntegrityProof" and proof["cryptosuite"] == "eddsa-rdfc-2022"
    assert proof["proofPurpose"] == "assertionMethod" and proof["verificationMethod"] == env.did_key_vm
    assert proof["proofValue"].startswith("z")
    assert proof_verifies({**signed, "proof": proof})
    if "credentialStatus" not in signed:
        status, _mimetype, result = post("/credentials/verify", {"verifiableCredential": {**signed, "proof": proof},
                                                                 "options": {"checks": ["proof"]}}, token="read")
        assert status == 200, result
        assert result["verified"] is True and "proof" in result["checks"]
        assert result["errors"] == []
        # the W3C examples vocabulary is for specifications and tests: verified, with a warning
        expected_warnings = [["conformance", "examples_vocabulary"]] if EXAMPLES_V2 in signed["@context"] else []
        assert [[w["check"], w["reason"]] for w in result["warnings"]] == expected_warnings


def test_the_issued_credential_keeps_the_order_of_contexts_and_fields(env):
    credential = OrderedDict([
        ("type", ["VerifiableCredential"]),
        ("credentialSubject", {"name": "Alice", "id": "did:example:alice"}),
        ("@context", [VC_V2, {"zeta": "https://example.com/#zeta"}, {"alpha": "https://example.com/#alpha"}]),
        ("issuer", env.did_key),
        ("id", "urn:uuid:7c1c2c7e-4b1a-4d1a-9a2e-2a5c9f0d6e11"),
    ])
    raw = json.dumps({"credential": credential, "options": {}}).encode("utf-8")
    status, _headers, payload = env.live.request("POST", "/credentials/issue", raw, {
        "Content-Type": "application/json", "Authorization": f"Bearer {env.tokens[VCAPI_ISSUE]}"})
    assert status == 201
    signed = json.loads(payload, object_pairs_hook=OrderedDict)["verifiableCredential"]
    assert list(signed) == [*credential, "proof"]
    assert signed["@context"] == credential["@context"]
    assert list(signed["credentialSubject"]) == ["name", "id"]


def test_issuing_is_audited_with_the_token(env):
    with env.app.extensions["microcred"].sessions() as session:
        before = session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "vcapi-issue"))
    credential = unsigned(env.did_key)
    response = env.client.post("/credentials/issue", json={"credential": credential},
                               headers={"Authorization": f"Bearer {env.tokens[VCAPI_ISSUE]}"})
    assert response.status_code == 201
    with env.app.extensions["microcred"].sessions() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "vcapi-issue")
                                  .order_by(AuditEntry.id)).all()
    assert len(entries) == before + 1
    assert entries[-1].actor.startswith("api:") and entries[-1].details["credential"] == credential["id"]
    assert entries[-1].details["verificationMethod"] == env.did_key_vm


def test_the_did_web_identity_signs_with_the_did_web_key_and_verifies_over_http(tmp_path):
    holder: dict = {}
    server = serve(lambda environ, start: holder["app"](environ, start))
    base_url = f"http://127.0.0.1:{server.server_port}"
    app = build_app(make_settings(tmp_path, f"sqlite:///{tmp_path}/db.sqlite", base_url), VCAPI_ISSUING=True)
    holder["app"] = app
    try:
        seed_issuer(app)
        tokens = make_vcapi_tokens(app)
        did = app.extensions["microcred"].settings.did
        live = Live(app, server.server_port)
        status, _headers, body = live.json("POST", "/credentials/issue", {"credential": accountable(did)},
                                           tokens[VCAPI_ISSUE])
        assert status == 201, body
        signed = body["verifiableCredential"]
        assert signed["proof"]["verificationMethod"] == f"{did}#key-1"
        # a recruiter's verifier resolves did:web over the network
        report = verify_credential(signed, policy=FetchPolicy(allow_hosts=frozenset({"127.0.0.1"})),
                                   cache=ResponseCache())
        assert report.verified, report.to_dict()
        # the installation's own verify endpoint knows its own DID document
        status, _headers, result = live.json("POST", "/credentials/verify", {"verifiableCredential": signed},
                                             tokens["read"])
        assert status == 200 and result["verified"] is True
        other_key, other_did, _vm = did_key_identity()
        status, _headers, body = live.json("POST", "/credentials/issue", {"credential": accountable(other_did)},
                                           tokens[VCAPI_ISSUE])
        assert status == 422 and did in body["detail"]
    finally:
        server.shutdown()
        server.server_close()
        app.extensions["microcred"].engine.dispose()


# --------------------------------------------------------------------------- issuing: rejected

def _mutate(**changes):
    return lambda did: unsigned(did, **changes)


def _context(*extra):
    return _mutate(**{"@context": [VC_V2, *extra]})


ISSUE_REJECT = {
    # JSON-LD data loss
    "undefined-type-vocab-null": _mutate(**{"@context": [VC_V2, {"@vocab": None}],
                                            "type": ["VerifiableCredential", "ExampleTestCredential"]}),
    "undefined-subject-term-v1": lambda did: {"@context": [VC_V1], "type": ["VerifiableCredential"], "issuer": did,
                                              "issuanceDate": "2024-01-01T00:00:00Z",
                                              "credentialSubject": {"id": "did:example:s", "undefinedTerm": 1}},
    "undefined-type-v1": lambda did: {"@context": [VC_V1], "type": ["VerifiableCredential", "UndefinedType"],
                                      "issuer": did, "issuanceDate": "2024-01-01T00:00:00Z",
                                      "credentialSubject": {"id": "did:example:s"}},
    "type-mapped-to-non-url": _mutate(**{"@context": [VC_V2, {"ExampleTestCredential":
                                                              "https ://not-a-url#ExampleTestCredential"}],
                                         "type": ["VerifiableCredential", "ExampleTestCredential"]}),
    # credentialSubject
    "no-subject": _mutate(credentialSubject=_DROP),
    "subject-null": _mutate(credentialSubject=None),
    "subject-empty": _mutate(credentialSubject={}),
    "subjects-one-empty": _mutate(credentialSubject=[{"id": "did:example:subject"}, {}]),
    "subjects-empty-list": _mutate(credentialSubject=[]),
    "subject-a-string": _mutate(credentialSubject="did:example:subject"),
    # type
    "no-type": _mutate(type=_DROP),
    "type-empty": _mutate(type=[]),
    "type-without-vc": _mutate(type=["ExampleCredential"]),
    "type-a-number": _mutate(type=["VerifiableCredential", 7]),
    # @context
    "no-context": _mutate(**{"@context": _DROP}),
    "context-null": _mutate(**{"@context": None}),
    "context-empty": _mutate(**{"@context": []}),
    "context-v2-not-first": _mutate(**{"@context": ["https://w3id.org/security/data-integrity/v2", VC_V2]}),
    "context-v1-and-v2": _mutate(**{"@context": [VC_V2, VC_V1]}),
    "context-not-a-url": _context("https ://not-a-url/contexts/example/v1"),
    "context-a-number": _context(123192875),
    "context-vocab-null": _context({"@vocab": None}),
    "context-redefines-protected-term": _context({"VerifiableCredential": "https://example.org/#Bad"}),
    "context-redefines-protected-term-2": _context({"id": "https://example.org/#notId"}),
    "context-unloadable": _context("https://example.com/contexts/does-not-exist/v1"),
    # issuer
    "issuer-not-a-url": _mutate(issuer="fake-issuer"),
    "issuer-url-with-space": _mutate(issuer="https ://example.com/issuer"),
    "issuer-null": _mutate(issuer=None),
    "issuer-missing": _mutate(issuer=_DROP),
    "issuer-empty-object": _mutate(issuer={}),
    "issuer-id-null": _mutate(issuer={"id": None}),
    "issuer-id-not-a-url": _mutate(issuer={"id": "not a url"}),
    "issuer-a-number": _mutate(issuer=42),
    "issuer-someone-else": lambda did: unsigned(did_key_identity()[1]),
    # dates
    "valid-from-not-a-date": _mutate(validFrom="yesterday"),
    "valid-until-not-a-date": _mutate(validUntil="2030-13-45T00:00:00Z"),
    "valid-from-without-zone": _mutate(validFrom="2024-01-01T00:00:00"),
    "valid-from-a-number": _mutate(validFrom=20240101),
    "valid-until-before-valid-from": _mutate(validFrom="2025-01-01T00:00:00Z", validUntil="2024-01-01T00:00:00Z"),
    "v1-without-issuance-date": lambda did: {"@context": [VC_V1], "type": ["VerifiableCredential"], "issuer": did,
                                             "credentialSubject": {"id": "did:example:s"}},
    "v1-bad-issuance-date": lambda did: {"@context": [VC_V1], "type": ["VerifiableCredential"], "issuer": did,
                                         "issuanceDate": "01/01/2024", "credentialSubject": {"id": "did:example:s"}},
    # typed properties
    "status-without-type": _mutate(credentialStatus={"id": "https://example.com/status/1#1"}),
    "status-type-a-number": _mutate(credentialStatus={"id": "did:example:status", "type": 2}),
    "status-id-not-a-url": _mutate(credentialStatus={"id": "not a url", "type": "ExampleStatus"}),
    "schema-without-type": _mutate(credentialSchema={"id": "https://example.com/schema.json"}),
    "schema-without-id": _mutate(credentialSchema={"type": "JsonSchema"}),
    "schema-id-not-a-url": _mutate(credentialSchema={"id": "not a url", "type": "JsonSchema"}),
    "refresh-without-type": _mutate(refreshService={"id": "https://example.com/refresh"}),
    "terms-without-type": _mutate(termsOfUse={"id": "https://example.com/terms"}),
    "evidence-without-type": _mutate(evidence=[{"id": "https://example.com/evidence/1"}]),
    "evidence-a-string": _mutate(evidence=["https://example.com/evidence/1"]),
    # relatedResource
    "related-resource-string": _mutate(relatedResource=["https://example.com/logo.png"]),
    "related-resource-without-id": _mutate(relatedResource=[{"digestSRI": V2_DIGEST_NOW}]),
    "related-resource-repeated-id": _mutate(relatedResource=[
        {"id": "https://example.com/a", "digestMultibase": LOGO_MULTIBASE},
        {"id": "https://example.com/a", "digestSRI": V2_DIGEST_NOW}]),
    "related-resource-without-digest": _mutate(relatedResource=[{"id": "https://example.com/a"}]),
    "related-resource-wrong-context-digest": _mutate(relatedResource=[
        {"id": VC_V2, "digestSRI": "sha384-AAAANpmdIVUxIJGvGUoe22FjTWrXiaXlsZ8q6912LdnR3KraQO2n75Ica4wK4Qeg"}]),
    "related-resource-bad-sri": _mutate(relatedResource=[{"id": "https://example.com/a", "digestSRI": "md5-abc"}]),
    "related-resource-wrong-context-multibase": _mutate(relatedResource=[  # the W3C VC 2.0 suite's wrong digests
        {"id": VC_V2, "digestMultibase": "uM4RgWQc3RUDtjJCSgTJtTfvpZ7SPEg_LNO0ESlovQC0"}]),
    "related-resource-wrong-context-sri-base64url": _mutate(relatedResource=[
        {"id": VC_V2, "digestSRI": "sha384-_rCVIV7fSXXTNIvpiq26jRDyj8JG8TDjij-tD0ewLk4JpnXEz6a5AeeY_1qQ0d0P"}]),
    "related-resource-one-of-two-digests-wrong": _mutate(relatedResource=[
        {"id": VC_V2, "digestSRI": V2_DIGEST_NOW,
         "digestMultibase": "zQmUNM6HqwZxuJ5k6cYRKAiqjUkx1qxWJe4WTqsg7ZJtEFn"}]),
    "related-resource-truncated-multibase": _mutate(relatedResource=[
        {"id": "https://example.com/a", "digestMultibase": "uEiBZlVztZpfWHgPysrVb"}]),
    # identifiers
    "id-null": _mutate(id=None),
    "id-not-a-url": _mutate(id="not a url"),
    "id-relative": _mutate(id="credentials/1"),
    "id-a-list": _mutate(id=["urn:uuid:1", "urn:uuid:2"]),
    "subject-id-not-a-url": _mutate(credentialSubject={"id": "did example subject", "name": "x"}),
    "nested-id-null": _mutate(evidence=[{"id": None, "type": ["Evidence"]}]),
}


@pytest.mark.parametrize("name", list(ISSUE_REJECT))
def test_the_issuer_rejects_what_the_contract_rejects(env, post, name):
    credential = ISSUE_REJECT[name](env.did_key)
    status, mimetype, body = post("/credentials/issue", {"credential": credential, "options": {}})
    assert status in (400, 422), (status, body)
    assert mimetype == "application/problem+json"
    assert body["status"] == status and body["title"] and body["detail"]
    assert "verifiableCredential" not in body


@pytest.mark.parametrize("body", [
    [], "credential", {"credential": None}, {"credential": "{\"type\": \"VerifiableCredential\"}"}, {},
    {"credential": {"@context": [VC_V2]}, "options": "fast"}, {"credential": {}, "options": []},
])
def test_requests_that_are_not_shaped_like_an_issue_request_are_400(env, post, body):
    status, mimetype, payload = post("/credentials/issue", body)
    assert status == 400 and mimetype == "application/problem+json", payload


def test_the_data_model_check_names_every_problem():
    errors = check_data_model({"@context": [VC_V2, 5], "type": ["X"], "issuer": None, "credentialSubject": {},
                               "validFrom": "nope"})
    assert len(errors) >= 5
    assert check_data_model(unsigned("did:example:issuer")) == []


# --------------------------------------------------------------------------- tokens and configuration

def test_issuing_needs_a_vcapi_issue_token(env, post):
    credential = {"credential": unsigned(env.did_key)}
    status, mimetype, _body = post("/credentials/issue", credential, token=None)
    assert (status, mimetype) == (401, "application/problem+json")
    for scope in ("read", "issue", "admin"):        # vcapi-issue is in no other scope
        assert post("/credentials/issue", credential, token=scope)[0] == 403
    assert post("/credentials/issue", credential, token="mct_" + "x" * 43)[0] == 401
    assert post("/credentials/issue", credential, token=VCAPI_ISSUE)[0] == 201


def test_verifying_needs_a_read_token_unless_the_endpoints_are_open(env, post, config):
    key, did, vm = did_key_identity()
    signed = issuer.sign_credential(unsigned(did), key, verification_method=vm, created=CREATED)
    assert post("/credentials/verify", {"verifiableCredential": signed}, token=None)[0] == 401
    assert post("/presentations/verify", {"verifiablePresentation": {}}, token=None)[0] == 401
    assert post("/credentials/verify", {"verifiableCredential": signed}, token="read")[0] == 200
    config["VCAPI_OPEN"] = True
    assert post("/credentials/verify", {"verifiableCredential": signed}, token=None)[0] == 200
    assert post("/credentials/verify", {"verifiableCredential": signed}, token="mct_" + "x" * 43)[0] == 401
    assert post("/credentials/issue", {"credential": unsigned(env.did_key)}, token=None)[0] == 401


def test_the_identity_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("MICROCRED_VCAPI_ISSUER", "did:key")
    monkeypatch.setenv("MICROCRED_VCAPI_OPEN", "1")
    app = build_app(make_settings(tmp_path, f"sqlite:///{tmp_path}/a.sqlite"))
    try:
        assert app.config["VCAPI_ISSUER"] == "did:key" and app.config["VCAPI_OPEN"] is True
        register_api(app)          # registering twice changes nothing
    finally:
        app.extensions["microcred"].engine.dispose()
    monkeypatch.setenv("MICROCRED_VCAPI_ISSUER", "did:example")
    from issuer.web import create_app
    created = []
    with pytest.raises(ConfigError, match="MICROCRED_VCAPI_ISSUER"):
        created.append(create_app(make_settings(tmp_path, f"sqlite:///{tmp_path}/b.sqlite")))
        register_api(created[0])        # (create_app may already register the API itself)
    for app in created:
        app.extensions["microcred"].engine.dispose()


# --------------------------------------------------------------------------- verifying credentials

@pytest.fixture()
def suite_signed():
    """A credential signed by a did:key the suites would use (not this installation's)."""
    key, did, vm = did_key_identity()
    return issuer.sign_credential(unsigned(did), key, verification_method=vm, created=CREATED)


def _proof_edit(edit):
    def apply(doc):
        doc = copy.deepcopy(doc)
        edit(doc["proof"])
        return doc
    return apply


def _set(key, value):
    def apply(doc):
        doc = copy.deepcopy(doc)
        doc[key] = value
        return doc
    return apply


VERIFY_REJECT = {
    "proof-missing": lambda d: {k: v for k, v in d.items() if k != "proof"},
    "proof-null": _set("proof", None),
    "proof-string": _set("proof", "z3abc"),
    "proof-no-type": _proof_edit(lambda p: p.pop("type")),
    "proof-no-verification-method": _proof_edit(lambda p: p.pop("verificationMethod")),
    "proof-no-purpose": _proof_edit(lambda p: p.pop("proofPurpose")),
    "proof-no-value": _proof_edit(lambda p: p.pop("proofValue")),
    "proof-value-without-z": _proof_edit(lambda p: p.update(proofValue=p["proofValue"][1:])),
    "unknown-cryptosuite": _proof_edit(lambda p: p.update(cryptosuite="unknown-cryptosuite-2017")),
    "unknown-proof-type": _proof_edit(lambda p: p.update(type="UnknownProofType")),
    "purpose-authentication": _proof_edit(lambda p: p.update(proofPurpose="authentication")),
    "purpose-invalid": _proof_edit(lambda p: p.update(proofPurpose="invalidPurpose")),
    "unresolvable-method": _proof_edit(lambda p: p.update(verificationMethod="did:key:@invalidVm@")),
    "method-of-another-key": _proof_edit(lambda p: p.update(verificationMethod=did_key_identity()[2])),
    "undefined-type-added": lambda d: {**copy.deepcopy(d), "type": [*d["type"], "UndefinedType"]},
    "defined-type-added": lambda d: {**copy.deepcopy(d), "type": [*d["type"], "VerifiablePresentation"]},
    "term-added-after-signing": lambda d: {**copy.deepcopy(d), "credentialSubject": {
        **d["credentialSubject"], "extra": "added"}},
    "relative-id": _set("id", "credentials/1"),
    "previous-proof-missing": _proof_edit(lambda p: p.update(previousProof="urn:uuid:nothing-here")),
    "previous-proof-not-string": _proof_edit(lambda p: p.update(previousProof=42)),
    "first-context-not-credentials": _set("@context", [DI_V2]),
    "unknown-context": _set("@context", [VC_V2, "https://example.com/contexts/unknown/v1"]),
}


@pytest.mark.parametrize("name", list(VERIFY_REJECT))
def test_the_verifier_rejects_what_the_contract_rejects(suite_signed, post, name):
    status, mimetype, body = post("/credentials/verify", {"verifiableCredential": VERIFY_REJECT[name](suite_signed),
                                                          "options": {"checks": ["proof"]}}, token="read")
    assert status in (400, 422), (status, body)
    assert mimetype == "application/problem+json"
    assert body["verified"] is False and body["errors"]


@pytest.mark.parametrize("dates", [{"validUntil": "2025-01-01T00:00:00Z"},
                                   {"validFrom": "2099-01-01T00:00:00Z"}])
def test_expired_and_not_yet_valid_credentials_are_rejected(post, dates):
    key, did, vm = did_key_identity()
    signed = issuer.sign_credential(unsigned(did, **dates), key, verification_method=vm, created=CREATED)
    status, _mimetype, body = post("/credentials/verify", {"verifiableCredential": signed}, token="read")
    assert status == 422 and body["verified"] is False
    assert {e["reason"] for e in body["errors"]} & {"expired", "not_yet_valid"}


@pytest.mark.parametrize("body", [
    {"verifiableCredential": None}, {}, {"verifiableCredential": "a JSON string, not an object"},
    {"verifiableCredential": json.dumps({"type": "VerifiableCredential"})}, [], {"verifiableCredential": {},
                                                                                 "options": "x"},
])
def test_verify_requests_without_a_credential_object_are_400(post, body):
    status, mimetype, payload = post("/credentials/verify", body, token="read")
    assert status == 400 and mimetype == "application/problem+json", payload


def test_the_verifier_accepts_v1_and_v2_credentials_of_any_did_key(post):
    key, did, vm = did_key_identity()
    v1 = {"@context": [VC_V1, DI_V2], "type": ["VerifiableCredential"], "issuer": did,
          "issuanceDate": "2024-01-01T00:00:00Z", "credentialSubject": {"id": "did:example:subject"}}
    for credential in (unsigned(did), v1):
        signed = issuer.sign_credential(credential, key, verification_method=vm, created=CREATED)
        status, mimetype, body = post("/credentials/verify", {"verifiableCredential": signed,
                                                              "options": {"checks": ["proof"]}}, token="read")
        assert (status, mimetype) == (200, "application/json"), body
        assert body["verified"] is True and body["errors"] == [] and body["warnings"] == []
        assert "proof" in body["checks"]


def test_proof_sets_by_the_same_key_are_accepted(post):
    key, did, vm = did_key_identity()
    once = issuer.sign_credential(unsigned(did), key, verification_method=vm, created=CREATED)
    twice = issuer.sign_credential(once, key, verification_method=vm, created="2026-01-11T00:00:00Z")
    assert len(twice["proof"]) == 2
    status, _mimetype, body = post("/credentials/verify", {"verifiableCredential": twice}, token="read")
    assert status == 200, body


@pytest.mark.parametrize("previous", ["string", "list"])
def test_a_chain_whose_earlier_proof_is_by_another_did_key_is_accepted(post, previous):
    key, did, vm = did_key_identity()
    other, _other_did, other_vm = did_key_identity()
    credential = unsigned(did)
    first = eddsa_rdfc_2022.create_proof(credential, {"id": "urn:uuid:first", "created": CREATED,
                                                      "verificationMethod": other_vm,
                                                      "proofPurpose": "assertionMethod"}, other)
    second = eddsa_rdfc_2022.create_proof({**credential, "proof": [first]}, {
        "created": "2026-01-11T00:00:00Z", "verificationMethod": vm, "proofPurpose": "assertionMethod",
        "previousProof": "urn:uuid:first" if previous == "string" else ["urn:uuid:first"]}, key)
    chained = {**credential, "proof": [first, second]}
    status, _mimetype, body = post("/credentials/verify", {"verifiableCredential": chained}, token="read")
    assert status == 200, body
    broken = copy.deepcopy(chained)
    broken["proof"][0]["created"] = "2026-01-09T00:00:00Z"       # the earlier proof no longer verifies
    assert post("/credentials/verify", {"verifiableCredential": broken}, token="read")[0] == 422
    only_other = {**credential, "proof": [first]}                  # no proof by a key the issuer controls
    assert post("/credentials/verify", {"verifiableCredential": only_other}, token="read")[0] == 422


def test_this_installations_awards_verify_through_the_endpoint(env, post):
    award = env.client.post("/api/v1/awards", json={"achievement": "teamwork", "email": "vc@example.com"},
                            headers={"Authorization": f"Bearer {env.tokens['issue']}"}).get_json()
    credential = env.client.get(f"/api/v1/awards/{award['id']}",
                                headers={"Authorization": f"Bearer {env.tokens['read']}"}).get_json()["credential"]
    status, _mimetype, body = post("/credentials/verify", {"verifiableCredential": credential}, token="read")
    assert status == 200, body
    assert {"proof", "issuer_binding", "status", "conformance"} <= set(body["checks"])


# --------------------------------------------------------------------------- presentations

def _vp(*credentials, holder: str | None = None, **changes) -> dict:
    vp = {"@context": [VC_V2], "type": ["VerifiablePresentation"]}
    if holder:
        vp["holder"] = holder
    if credentials:
        vp["verifiableCredential"] = list(credentials)
    vp.update(changes)
    return vp


def _sign_vp(vp: dict, key, vm: str, *, purpose: str = "authentication", **options) -> dict:
    proof = eddsa_rdfc_2022.create_proof(vp, {"created": CREATED, "verificationMethod": vm, "proofPurpose": purpose,
                                              **options}, key)
    return {**vp, "proof": proof}


@pytest.fixture()
def holder():
    return did_key_identity()


def test_unsigned_presentations_verify_every_credential(suite_signed, post):
    status, mimetype, body = post("/presentations/verify", {"verifiablePresentation": _vp(suite_signed, suite_signed)},
                                  token="read")
    assert (status, mimetype) == (200, "application/json"), body
    assert body["verified"] is True and body["errors"] == [] and len(body["credentialResults"]) == 2
    assert post("/presentations/verify", {"verifiablePresentation": _vp()}, token="read")[0] == 200


def test_signed_presentations_need_the_authentication_purpose_challenge_and_domain(suite_signed, holder, post):
    key, did, vm = holder
    options = {"challenge": "u3pB1bWx0", "domain": "recruiter.example.com"}
    vp = _vp(suite_signed, holder=did)
    signed = _sign_vp(vp, key, vm, **options)
    status, _mimetype, body = post("/presentations/verify", {"verifiablePresentation": signed, "options": options},
                                   token="read")
    assert status == 200, body
    assert body["checks"] == ["proof", "credentials"]
    for name, request_options in {
        "wrong-challenge": {**options, "challenge": "another"},
        "wrong-domain": {**options, "domain": "evil.example"},
    }.items():
        status, _mimetype, body = post("/presentations/verify", {"verifiablePresentation": signed,
                                                                 "options": request_options}, token="read")
        assert status == 422, name
    bad = {
        "no-challenge-in-proof": _sign_vp(vp, key, vm, domain=options["domain"]),
        "assertion-purpose": _sign_vp(vp, key, vm, purpose="assertionMethod", **options),
        "tampered": {**signed, "holder": did_key_identity()[1]},
        "signed-by-another-than-the-holder": _sign_vp(_vp(suite_signed, holder=did_key_identity()[1]), key, vm,
                                                      **options),
        "bad-signature": {**signed, "proof": {**signed["proof"],
                                              "proofValue": _sign_vp(vp, did_key_identity()[0], vm,
                                                                     **options)["proof"]["proofValue"]}},
    }
    for name, presentation in bad.items():
        status, mimetype, body = post("/presentations/verify", {"verifiablePresentation": presentation,
                                                                "options": options}, token="read")
        assert status in (400, 422), (name, body)
        assert mimetype == "application/problem+json"
    unsigned_vp = _vp(suite_signed)
    assert post("/presentations/verify", {"verifiablePresentation": unsigned_vp, "options": options},
                token="read")[0] == 422


def test_presentations_the_contract_rejects(suite_signed, post):
    tampered = copy.deepcopy(suite_signed)
    tampered["credentialSubject"]["name"] = "Mallory"
    cases = {
        "first-context-v1": _vp(suite_signed, **{"@context": [VC_V1]}),
        "first-context-not-credentials": _vp(suite_signed, **{"@context": [DI_V2, VC_V2]}),
        "no-presentation-type": _vp(suite_signed, type=["Presentation"]),
        "no-type": {k: v for k, v in _vp(suite_signed).items() if k != "type"},
        "unloadable-context": _vp(suite_signed, **{"@context": [VC_V2, "https://example.com/unknown/v1"]}),
        "undefined-term": _vp(suite_signed, **{"@context": [VC_V2, {"@vocab": None}], "undefinedTerm": "x"}),
        "tampered-credential": _vp(tampered),
        "unsigned-credential": _vp({k: v for k, v in suite_signed.items() if k != "proof"}),
        "enveloped-credential": _vp({"@context": [VC_V2], "type": "EnvelopedVerifiableCredential",
                                     "id": "data:application/vc+jwt,eyJ"}),
        "credential-a-string": _vp("eyJhbGciOiJFZERTQSJ9.e30.sig"),
    }
    for name, presentation in cases.items():
        status, mimetype, body = post("/presentations/verify", {"verifiablePresentation": presentation},
                                      token="read")
        assert status in (400, 422), (name, status, body)
        assert mimetype == "application/problem+json", name
    for body in ({}, {"verifiablePresentation": None}, {"verifiablePresentation": "x"},
                 {"verifiablePresentation": _vp(), "options": {"challenge": 5}}):
        assert post("/presentations/verify", body, token="read")[0] == 400
