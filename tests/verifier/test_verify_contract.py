"""What the W3C interoperability suites expect a verifier to reject and accept
(../shared/research/vc-api-contract.md), VC 1.1 credentials, OB 2.0 hosted badges end
to end, and every kind of signed credential through the verify command in its own process.

Signed with the verifier's own proof stages (tests/verifier/signing_support.py); that the
issuer's output verifies is tested in tests/issuer/awards/test_signing_verifies.py."""
from __future__ import annotations

import copy
import json
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from tests.verifier.issuer_world import IssuerWorld, sample_credential
from tests.verifier.signing_support import TestSigner, sign_credential_jwt, sign_data_integrity, sign_vc_jwt
from verifier import verify_credential
from verifier.fetcher import ResponseCache
from verifier.proofs import eddsa_rdfc_2022

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
V1 = "https://www.w3.org/2018/credentials/v1"
OB = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"


def did_key_issuer():
    key = TestSigner()
    did = key.public.to_did_key()
    return key, did, f"{did}#{did[8:]}"


@pytest.fixture()
def signed():
    key, did, vm = did_key_issuer()
    credential = sample_credential()
    credential["issuer"]["id"] = did
    return sign_data_integrity(credential, key, verificationMethod=vm, created="2026-01-10T00:00:00Z")


def _proof_edit(edit):
    def apply(doc):
        doc = copy.deepcopy(doc)
        edit(doc["proof"])
        return doc
    return apply


def _set_proof(value):
    def apply(doc):
        doc = copy.deepcopy(doc)
        doc["proof"] = value
        return doc
    return apply


REJECT = {
    "proof-missing": lambda d: {k: v for k, v in d.items() if k != "proof"},
    "proof-null": _set_proof(None),
    "proof-string": _set_proof("z3abc"),
    "proof-no-type": _proof_edit(lambda p: p.pop("type")),
    "proof-no-verification-method": _proof_edit(lambda p: p.pop("verificationMethod")),
    "proof-no-purpose": _proof_edit(lambda p: p.pop("proofPurpose")),
    "proof-no-value": _proof_edit(lambda p: p.pop("proofValue")),
    "proof-value-without-z": _proof_edit(lambda p: p.update(proofValue=p["proofValue"][1:])),
    "proof-value-bad-base58": _proof_edit(lambda p: p.update(proofValue="z0OIl" + p["proofValue"][5:])),
    "unknown-cryptosuite": _proof_edit(lambda p: p.update(cryptosuite="eddsa-2022")),
    "unknown-proof-type": _proof_edit(lambda p: p.update(type="UnknownProof")),
    "purpose-authentication": _proof_edit(lambda p: p.update(proofPurpose="authentication")),
    "unresolvable-method": _proof_edit(lambda p: p.update(verificationMethod="did:key:z6MkInvalid#z6MkInvalid")),
    "created-without-offset": _proof_edit(lambda p: p.update(created="2026-01-10T00:00:00")),
    "undefined-type-added": lambda d: {**copy.deepcopy(d), "type": [*d["type"], "UndefinedType"]},
    "relative-id": lambda d: {**copy.deepcopy(d), "id": "credentials/1"},
    "previous-proof-missing": _proof_edit(lambda p: p.update(previousProof="urn:uuid:nothing-here")),
    "previous-proof-not-string": _proof_edit(lambda p: p.update(previousProof=42)),
    "expired": lambda d: {**copy.deepcopy(d), "validUntil": "2026-02-01T00:00:00Z"},
}


@pytest.mark.parametrize("name", REJECT)
def test_the_verifier_rejects(signed, name):
    report = verify_credential(REJECT[name](signed), now=NOW)
    assert not report.verified
    assert report.outcome == "not_verified", [c.to_dict() for c in report.checks if c.status != "passed"]


def test_the_untouched_credential_verifies(signed):
    assert verify_credential(signed, now=NOW).verified


def test_proof_sets_by_the_same_key_are_accepted():
    key, did, vm = did_key_issuer()
    credential = sample_credential()
    credential["issuer"]["id"] = did
    once = sign_data_integrity(credential, key, verificationMethod=vm, created="2026-01-10T00:00:00Z")
    twice = sign_data_integrity(once, key, verificationMethod=vm, created="2026-01-11T00:00:00Z")
    report = verify_credential(twice, now=NOW)
    assert report.verified, report.to_dict()


def test_a_chain_whose_earlier_proof_is_by_another_key_is_accepted():
    key, did, vm = did_key_issuer()
    other, _, other_vm = did_key_issuer()
    credential = sample_credential()
    credential["issuer"]["id"] = did
    first = eddsa_rdfc_2022.create_proof(credential, {"id": "urn:uuid:first", "created": "2026-01-10T00:00:00Z",
                                                      "verificationMethod": other_vm,
                                                      "proofPurpose": "assertionMethod"}, other)
    second = eddsa_rdfc_2022.create_proof({**credential, "proof": [first]},
                                          {"created": "2026-01-11T00:00:00Z", "verificationMethod": vm,
                                           "proofPurpose": "assertionMethod", "previousProof": "urn:uuid:first"},
                                          key)
    chained = {**credential, "proof": [first, second]}
    report = verify_credential(chained, now=NOW)
    assert report.verified, report.to_dict()
    broken = copy.deepcopy(chained)
    broken["proof"][0]["created"] = "2026-01-09T00:00:00Z"
    assert not verify_credential(broken, now=NOW).verified


def test_vc_1_1_credentials_verify_and_expire_by_expiration_date():
    key, did, vm = did_key_issuer()
    credential = sample_credential()
    credential["@context"] = [V1, "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json",
                              "https://w3id.org/security/data-integrity/v2"]
    credential["issuer"]["id"] = did
    credential["issuanceDate"] = credential.pop("validFrom")
    signed = sign_data_integrity(credential, key, verificationMethod=vm, created="2026-01-10T00:00:00Z")
    report = verify_credential(signed, now=NOW)
    assert report.verified, report.to_dict()
    assert report.check("parse").details["vc_version"] == "1.1"
    expiring = sign_data_integrity({**credential, "expirationDate": "2026-03-01T00:00:00Z"}, key,
                                   verificationMethod=vm, created="2026-01-10T00:00:00Z")
    assert verify_credential(expiring, now=NOW).check("validity").reason == "expired"


# ---------------------------------------------------------------- Open Badges 2.0, hosted

def test_a_hosted_open_badges_2_assertion_verifies_and_its_revocation_shows(https_server):
    base = https_server.base_url
    issuer_doc = {"@context": "https://w3id.org/openbadges/v2", "type": "Issuer", "id": f"{base}/issuer",
                  "name": "Example Corp", "url": base, "email": "badges@example.com"}
    badge = {"@context": "https://w3id.org/openbadges/v2", "type": "BadgeClass", "id": f"{base}/badges/teamwork",
             "name": "Teamwork", "description": "Works well in teams.", "image": f"{base}/badges/teamwork.png",
             "criteria": {"narrative": "Peer review."}, "issuer": f"{base}/issuer"}
    assertion = {"@context": "https://w3id.org/openbadges/v2", "type": "Assertion", "id": f"{base}/assertions/1",
                 "recipient": {"type": "email", "hashed": False, "identity": "alex@example.com"},
                 "badge": f"{base}/badges/teamwork", "issuedOn": "2026-01-15T09:00:00Z",
                 "verification": {"type": "hosted"}}
    for path, doc in (("/issuer", issuer_doc), ("/badges/teamwork", badge), ("/assertions/1", assertion)):
        https_server.set_json(path, doc)
    report = verify_credential(https_server.url("/assertions/1"), now=NOW, policy=https_server.policy(),
                               recipient="alex@example.com")
    assert report.verified, report.to_dict()
    assert report.summary["format"] == "ob2"
    assert report.summary["achievement"]["name"] == "Teamwork"
    https_server.set_json("/assertions/1", {**assertion, "revoked": True})
    cached = verify_credential(assertion, now=NOW, policy=https_server.policy())
    assert cached.verified  # responses are cached for a bounded time (5 minutes by default)
    revoked = verify_credential(assertion, now=NOW, policy=https_server.policy(), cache=ResponseCache())
    assert (revoked.check("status").status, revoked.check("status").reason) == ("failed", "revoked")


# ---------------------------------------------------------------- through the real command

#: ``microcred verify`` is the verifier's click command (issuer.cli only mounts it); run it in
#: its own process, as the installed command does, without loading the issuer package.
VERIFY_COMMAND = [sys.executable, "-c", "from verifier.cli import verify; verify(prog_name='microcred verify')"]


def _signed_variants(world: IssuerWorld) -> dict[str, str | dict]:
    p256 = TestSigner.generate("p256")
    p256_did = p256.public.to_did_key()
    es256_credential = sample_credential()
    es256_credential["issuer"]["id"] = p256_did
    return {
        "eddsa-rdfc-2022": world.sign(world.unsigned()),
        "eddsa-jcs-2022": world.sign(world.unsigned(), cryptosuite="eddsa-jcs-2022"),
        "jwt-eddsa": world.sign(world.unsigned(), cryptosuite="jwt"),
        "jwt-es256": sign_credential_jwt(es256_credential, p256, kid=f"{p256_did}#{p256_did[8:]}"),
    }


def test_every_kind_of_signed_credential_round_trips_through_the_verify_command(https_server, tmp_path):
    world = IssuerWorld(https_server)
    for name, signed in _signed_variants(world).items():
        path = tmp_path / name
        path.write_text(signed if isinstance(signed, str) else json.dumps(signed))
        done = subprocess.run([*VERIFY_COMMAND, str(path), "--json", "--at", NOW.isoformat(),
                               "--allow-http-host", "127.0.0.1", "--ca-file", https_server.ca_file],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, (name, done.stdout, done.stderr)
        assert json.loads(done.stdout)["verified"] is True
        tampered = (signed.replace(".", ".x", 1) if isinstance(signed, str)
                    else json.dumps({**signed, "name": "Forged"}))
        path.write_text(tampered)
        done = subprocess.run([*VERIFY_COMMAND, str(path), "--at", NOW.isoformat(),
                               "--allow-http-host", "127.0.0.1", "--ca-file", https_server.ca_file],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 1, (name, done.stdout, done.stderr)
        assert done.stdout.startswith("Not verified:")


def test_a_vcdm_1_1_jwt_with_a_vc_claim_verifies():
    from verifier.vc_jwt import jwt_claims_for

    key, did, vm = did_key_issuer()
    credential = sample_credential()
    credential["@context"] = [V1, "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json"]
    credential["issuer"]["id"] = did
    credential["issuanceDate"] = credential.pop("validFrom")
    payload = {**jwt_claims_for(credential), "vc": credential}
    token = sign_vc_jwt(payload, key, header={"alg": "EdDSA", "kid": vm})
    report = verify_credential(token, now=NOW)
    assert report.verified, report.to_dict()
    forged = {**payload, "iss": "did:example:someone-else"}
    token = sign_vc_jwt(forged, key, header={"alg": "EdDSA", "kid": vm})
    assert verify_credential(token, now=NOW).check("proof").reason == "jwt_claims_mismatch"
