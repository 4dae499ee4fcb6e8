"""verify_credential end to end, against a real issuer on loopback HTTPS.

One named negative fixture per reason, each made by changing one thing in a
freshly issued credential, asserting the check id, status and reason; and the
same verdicts from ``microcred verify`` (the verifier's own command, ``verifier.cli.verify``).
Everything is signed with the verifier's proof stages (tests/verifier/signing_support.py).
"""
from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import io
import json
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from PIL import Image

from tests.verifier.issuer_world import CREATED, V2, IssuerWorld, sample_credential
from tests.verifier.signing_support import TestSigner, sign_credential_jwt, sign_data_integrity, sign_vc_jwt
from verifier import verify_credential
from verifier.baked import bake_png, bake_svg
from verifier.cli import verify as verify_command
from verifier.vc_jwt import jwt_claims_for

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def _png_1x1() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (1, 1), (0, 90, 160)).save(buffer, format="PNG")
    return buffer.getvalue()


TINY_PNG = _png_1x1()
TINY_SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>'


@pytest.fixture()
def world(https_server):
    world = IssuerWorld(https_server)
    yield world
    world.close()


def verify(world, source, **kwargs):
    return verify_credential(source, now=NOW, policy=world.server.policy(), **kwargs)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _token(header: dict, payload: dict, sign=None) -> str:
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}"
    return f"{signing_input}.{_b64(sign(signing_input.encode())) if sign else ''}"


def _jws(payload: dict, key, kid: str) -> str:
    return sign_vc_jwt(payload, key, header={"alg": "EdDSA", "kid": kid})


# ---------------------------------------------------------------- valid credentials

@pytest.mark.parametrize("cryptosuite", ["eddsa-rdfc-2022", "eddsa-jcs-2022", "jwt"])
def test_a_did_web_credential_verifies(world, cryptosuite):
    signed = world.sign(world.unsigned(), cryptosuite=cryptosuite)
    report = verify(world, signed, recipient="alex.rivera@example.com")
    assert report.verified, report.to_dict()
    assert [c.check for c in report.checks] == ["parse", "contexts", "conformance", "key", "issuer_binding", "proof",
                                                "validity", "status", "recipient", "related_resources",
                                                "endorsements"]
    assert report.check("recipient").status == "passed"
    assert report.summary["issuer"]["proven"].startswith(world.did)
    assert report.summary["issuer"]["name_as_claimed"] == "Example Corp People Team"


def test_a_credential_with_a_clear_status_bit_verifies(world):
    url = world.publish_status_list("/status/1", revoked=[5])
    report = verify(world, world.sign(world.with_status(world.unsigned(), url, 6)))
    assert report.verified, report.to_dict()
    assert report.check("status").status == "passed"


def test_proof_sets_need_one_issuer_key_and_every_proof_valid(world):
    signed = world.issue()
    stranger = TestSigner()
    stranger_vm = f"{stranger.public.to_did_key()}#{stranger.public.to_multibase()}"
    both = sign_data_integrity(signed, stranger, created=CREATED, verificationMethod=stranger_vm)
    assert verify(world, both).verified
    only_stranger = world.sign(world.unsigned(), key=stranger, vm=stranger_vm)
    assert verify(world, only_stranger).check("issuer_binding").reason == "key_not_controlled_by_issuer"


@pytest.mark.parametrize("key_type,expected_alg", [("p256", "ES256"), ("ed25519", "EdDSA")])
def test_did_key_issuers_with_other_key_types(key_type, expected_alg):
    key = TestSigner.generate(key_type)
    did = key.public.to_did_key()
    credential = sample_credential()
    credential["issuer"]["id"] = did
    token = sign_credential_jwt(credential, key, kid=f"{did}#{did[8:]}")
    report = verify_credential(token, now=NOW)
    assert report.verified, report.to_dict()
    assert report.check("proof").details["alg"] == expected_alg


def test_an_rsa_key_published_by_an_https_issuer_signs_rs256(world):
    rsa = TestSigner.generate("rsa")
    profile, method = world.publish_https_profile(rsa.public.to_jwk())
    credential = world.unsigned()
    credential["issuer"]["id"] = profile
    report = verify(world, sign_credential_jwt(credential, rsa, kid=method))
    assert report.verified, report.to_dict()
    assert report.summary["issuer"]["proven"] == profile   # the whole URL, never just the host


def test_a_credential_by_url_and_baked_images(world):
    signed = world.issue()
    world.server.set_json("/credentials/1", signed, content_type="application/vc+ld+json")
    assert verify(world, world.server.url("/credentials/1")).verified
    assert verify(world, bake_png(TINY_PNG, json.dumps(signed))).verified
    assert verify(world, bake_svg(TINY_SVG, json.dumps(signed))).verified
    token = world.sign(world.unsigned(), cryptosuite="jwt")
    assert verify(world, bake_png(TINY_PNG, token)).verified
    assert verify(world, bake_svg(TINY_SVG, token)).verified


# ---------------------------------------------------------------- the negative corpus

def _tampered(world):
    signed = world.issue()
    signed["credentialSubject"]["achievement"]["name"] = "Leadership"
    return signed


def _wrong_issuer_key(world):
    attacker = TestSigner()
    return world.sign(world.unsigned(), key=attacker, vm=f"{attacker.public.to_did_key()}#{attacker.public.to_multibase()}")


def _not_in_assertion_method(world):
    return world.sign(world.unsigned(), key=world.auth_key, vm=world.auth_vm)


def _key_from_another_origin(world):
    other = world.other_origin()
    key = TestSigner()
    profile = world.server.url("/issuer")
    foreign_vm = other.url("/keys/1")
    other.set_json("/keys/1", {"@context": ["https://w3id.org/security/multikey/v1"], "id": foreign_vm,
                               "type": "Multikey", "controller": profile,
                               "publicKeyMultibase": key.public.to_multibase()})
    world.server.set_json("/issuer", {"id": profile, "type": ["Profile"], "assertionMethod": [foreign_vm]})
    credential = world.unsigned()
    credential["issuer"]["id"] = profile
    return world.sign(credential, key=key, vm=foreign_vm)


def _unknown_context(world):
    signed = world.issue()
    signed["@context"] = [*signed["@context"], "https://attacker.example/context.json"]
    return signed


def _dropped_term(world):
    signed = world.issue()
    signed["credentialSubject"]["clearanceLevel"] = "top secret"
    return signed


def _expired(world):
    return world.issue(validUntil="2026-03-01T00:00:00Z")


def _not_yet_valid(world):
    return world.issue(validFrom="2026-09-01T00:00:00Z")


def _revoked(world):
    url = world.publish_status_list("/status/revocation", revoked=[42])
    return world.sign(world.with_status(world.unsigned(), url, 42))


def _suspended(world):
    url = world.publish_status_list("/status/suspension", purpose="suspension", revoked=[0])
    return world.sign(world.with_status(world.unsigned(), url, 0, purpose="suspension"))


def _status_list_from_another_issuer(world):
    other = TestSigner()
    other_did = other.public.to_did_key()
    url = world.publish_status_list("/status/foreign", issuer_did=other_did, key=other,
                                    vm=f"{other_did}#{other.public.to_multibase()}")
    return world.sign(world.with_status(world.unsigned(), url, 3))


def _status_list_unreachable(world):
    return world.sign(world.with_status(world.unsigned(), world.server.url("/status/missing"), 3))


def _jwt_claims(world, **changes):
    credential = world.unsigned()
    return {**credential, **jwt_claims_for(credential), **changes}


def _alg_none(world):
    return _token({"alg": "none", "kid": world.vm}, _jwt_claims(world))


def _hs256(world):
    secret = world.key.public.to_multibase().encode()
    return _token({"alg": "HS256", "kid": world.vm}, _jwt_claims(world),
                  lambda data: hmac.new(secret, data, hashlib.sha256).digest())


def _jwk_header_not_issuers(world):
    return sign_credential_jwt(world.unsigned(), TestSigner(), embed_jwk=True)


def _iss_not_issuer(world):
    return _jws(_jwt_claims(world, iss="did:web:someone-else.example"), world.key, world.vm)


def _nbf_not_valid_from(world):
    claims = _jwt_claims(world)
    return _jws({**claims, "nbf": claims["nbf"] - 3600}, world.key, world.vm)


def _bad_png(world):
    png = bake_png(TINY_PNG, json.dumps(world.issue()))
    return png[:-20] + b"\x00" * 20


def _svg_external_entity(world):
    return (b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b'<svg xmlns="http://www.w3.org/2000/svg"><text>&x;</text></svg>')


def _poison_graph(world):
    signed = world.issue()
    signed["credentialSubject"]["https://example.com/links"] = [
        {"id": f"_:p{i}", "https://example.com/knows": [{"id": f"_:p{j}"} for j in range(8) if j != i]}
        for i in range(8)]
    return signed


NEGATIVE = {
    "tampered-field": (_tampered, "proof", "failed", "signature_mismatch"),
    "wrong-issuer-key": (_wrong_issuer_key, "issuer_binding", "failed", "key_not_controlled_by_issuer"),
    "method-not-in-assertion-method": (_not_in_assertion_method, "issuer_binding", "failed",
                                       "method_not_in_assertion_method"),
    "key-from-another-origin": (_key_from_another_origin, "issuer_binding", "failed", "key_from_another_origin"),
    "unknown-context": (_unknown_context, "contexts", "failed", "unknown_context"),
    "dropped-term": (_dropped_term, "proof", "failed", "dropped_term"),
    "expired": (_expired, "validity", "failed", "expired"),
    "not-yet-valid": (_not_yet_valid, "validity", "failed", "not_yet_valid"),
    "revoked": (_revoked, "status", "failed", "revoked"),
    "suspended": (_suspended, "status", "failed", "suspended"),
    "status-list-from-another-issuer": (_status_list_from_another_issuer, "status", "failed",
                                        "status_list_from_another_issuer"),
    "status-list-unreachable": (_status_list_unreachable, "status", "indeterminate", "status_list_unreachable"),
    "jwt-alg-none": (_alg_none, "parse", "failed", "alg_none"),
    "jwt-hs256": (_hs256, "proof", "failed", "alg_not_allowed"),
    "jwt-jwk-header-not-issuers": (_jwk_header_not_issuers, "issuer_binding", "failed", "jwk_not_issuers"),
    "jwt-iss-not-issuer": (_iss_not_issuer, "proof", "failed", "jwt_claims_mismatch"),
    "jwt-nbf-not-valid-from": (_nbf_not_valid_from, "proof", "failed", "jwt_claims_mismatch"),
    "bad-png": (_bad_png, "parse", "failed", "bad_png"),
    "svg-external-entity": (_svg_external_entity, "parse", "failed", "unsafe_svg"),
    "poison-graph": (_poison_graph, "proof", "failed", "canonicalization_limit"),
}


@pytest.mark.parametrize("name", NEGATIVE)
def test_negative_fixture_gives_its_reason(world, name):
    make, check_id, status, reason = NEGATIVE[name]
    report = verify(world, make(world))
    check = report.check(check_id)
    assert check is not None, report.to_dict()
    assert (check.status, check.reason) == (status, reason), check
    assert not report.verified
    assert report.outcome == ("indeterminate" if status == "indeterminate" else "not_verified")
    assert check.message and "Traceback" not in check.message


def _write(tmp_path, name, source) -> str:
    path = tmp_path / name
    if isinstance(source, dict):
        path.write_text(json.dumps(source))
    elif isinstance(source, str):
        path.write_text(source)
    else:
        path.write_bytes(source)
    return str(path)


@pytest.mark.parametrize("name", NEGATIVE)
def test_cli_gives_the_same_verdict(world, name, tmp_path):
    make, check_id, status, reason = NEGATIVE[name]
    source = make(world)
    library = verify(world, source).to_dict()
    result = CliRunner().invoke(verify_command, [
        _write(tmp_path, name, source), "--json", "--at", NOW.isoformat(),
        "--allow-http-host", "127.0.0.1", "--ca-file", world.server.ca_file])
    report = json.loads(result.output)
    assert [(c["check"], c["status"], c["reason"]) for c in report["checks"]] == \
        [(c["check"], c["status"], c["reason"]) for c in library["checks"]]
    unreadable = check_id == "parse" and reason in ("bad_png", "unsafe_svg")
    assert result.exit_code == (2 if unreadable else 3 if status == "indeterminate" else 1)


def test_cli_human_output_and_exit_code_for_a_valid_credential(world, tmp_path):
    path = _write(tmp_path, "badge.json", world.issue())
    result = CliRunner().invoke(verify_command, [path, "--at", NOW.isoformat(), "--recipient-email",
                                            "alex.rivera@example.com", "--allow-http-host", "127.0.0.1",
                                            "--ca-file", world.server.ca_file])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    port = world.server.netloc.rsplit(":", 1)[1]
    assert lines[0] == f"Verified: issued by Example Corp People Team — proven: 127.0.0.1:{port}."
    assert "%3A" not in lines[0] and "did:" not in lines[0]
    assert "✓ Recipient: Issued to the person you named." in lines
    assert lines[-1].startswith(f"Technical details: issuer id {world.did} (proven by the signature)")


def test_offline_and_resolve_kits(world, tmp_path):
    signed = world.issue()
    offline = verify_credential(signed, now=NOW, offline=True)
    assert offline.check("key").status == "indeterminate"
    kit = verify_credential(signed, now=NOW, offline=True,
                            documents={world.server.url("/.well-known/did.json"): world.did_document})
    assert kit.verified, kit.to_dict()
    assert world.server.hits("/.well-known/did.json") == 0


def test_default_policy_refuses_the_loopback_issuer(world):
    report = verify_credential(world.issue(), now=NOW)
    key = report.check("key")
    assert (key.status, key.reason) == ("indeterminate", "key_unresolvable")
    assert key.details.get("fetch_error") in ("port_not_allowed", "private_address")
    assert world.server.total_hits() == 0


def test_a_failing_credential_never_raises_and_misuse_does():
    report = verify_credential({"not": "a credential"})
    assert report.check("parse").status == "failed"
    with pytest.raises(TypeError):
        verify_credential(42)
    with pytest.raises(TypeError):
        bool(report)


def test_endorsements_are_verified_with_the_same_checks(world):
    endorser = TestSigner()
    endorser_did = endorser.public.to_did_key()
    endorsement = {
        "@context": [V2, "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
        "id": "urn:uuid:9b0f7c2e-1a2b-4c3d-8e9f-0a1b2c3d4e5f",
        "type": ["VerifiableCredential", "EndorsementCredential"],
        "name": "Endorsed by an industry body",
        "issuer": {"id": endorser_did, "type": ["Profile"], "name": "Industry Body"},
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "urn:uuid:a1b2c3d4-0000-4000-8000-00000000beef", "type": ["EndorsementSubject"],
                              "endorsementComment": "Well designed assessment."},
    }
    signed_endorsement = sign_data_integrity(endorsement, endorser, created=CREATED,
                                             verificationMethod=f"{endorser_did}#{endorser_did[8:]}")
    credential = world.unsigned()
    credential["credentialSubject"]["achievement"]["endorsement"] = [signed_endorsement]
    report = verify(world, world.sign(credential))
    assert report.verified, report.to_dict()
    assert report.check("endorsements").status == "passed"
    broken = copy.deepcopy(signed_endorsement)
    broken["credentialSubject"]["endorsementComment"] = "Changed."
    credential["credentialSubject"]["achievement"]["endorsement"] = [broken]
    report = verify(world, world.sign(credential))
    # a bad endorsement is a warning on that endorsement, with its own verdict (issue 11 section 6)
    endorsements = report.check("endorsements")
    assert (endorsements.status, endorsements.reason) == ("warning", "endorsement_invalid")
    assert report.verified and endorsements.details["endorsements"][0]["outcome"] == "not_verified"
    strict = verify(world, world.sign(credential), strict=True)
    assert (strict.check("endorsements").status, strict.outcome) == ("failed", "not_verified")
