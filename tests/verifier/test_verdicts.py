"""Verdicts end to end (issue 11 sections 2, 5, 6): authentic is not the same as conformant,
proofs to the letter, keys supplied by the user are flagged, presentations.

Everything is signed with the verifier's own proof stages (tests/verifier/signing_support.py)
and verified offline with did:key or user-supplied did:web documents.
"""
from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from tests.verifier.signing_support import TestSigner, sign_data_integrity
from verifier import verify_credential
from verifier.cli import verify as verify_command
from verifier.presentation import verify_presentation
from verifier.web import create_app

V2 = "https://www.w3.org/ns/credentials/v2"
OB = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
EXAMPLES = "https://www.w3.org/ns/credentials/examples/v2"
NOW = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def signer() -> TestSigner:
    return TestSigner()


def open_badge(issuer: str, **changes) -> dict:
    credential = {
        "@context": [V2, OB], "id": "urn:uuid:7d4f5d5e-2b0e-4c36-9a53-6f0c6e8a1b21",
        "type": ["VerifiableCredential", "OpenBadgeCredential"], "name": "Teamwork",
        "issuer": {"id": issuer, "type": ["Profile"], "name": "Example Corp"},
        "validFrom": "2026-01-15T09:00:00Z",
        "credentialSubject": {"id": "did:example:alice", "type": ["AchievementSubject"],
                              "achievement": {"id": "urn:uuid:a1b2c3d4-0000-4000-8000-00000000beef",
                                              "type": ["Achievement"], "name": "Teamwork",
                                              "description": "Works well in teams.",
                                              "criteria": {"narrative": "Peer review."}}},
    }
    credential.update(changes)
    return credential


def deviating(signer: TestSigner) -> dict:
    """Genuine, but off the 1EdTech schema the way other issuing systems are: the issuer image as a
    URL string and the learner's name in credentialSubject."""
    credential = open_badge(signer.did)
    credential["issuer"]["image"] = "https://example.com/logo.png"
    credential["credentialSubject"]["name"] = "Alex Rivera"
    return sign_data_integrity(credential, signer)


def _status(report, check: str) -> tuple[str, str | None]:
    result = report.check(check)
    return str(result.status), result.reason


# ---------------------------------------------------------------- conformance: warnings unless strict

def test_a_genuine_credential_off_the_schema_verifies_with_a_warning(signer):
    report = verify_credential(deviating(signer), now=NOW, offline=True)
    assert report.verified, report.to_dict()
    assert _status(report, "conformance") == ("warning", "schema_violation")
    assert report.check("conformance").details["deviations"]
    assert "1 warning" in report.headline and report.to_dict()["warnings"]


def test_strict_turns_the_warning_into_a_failure(signer):
    report = verify_credential(deviating(signer), now=NOW, offline=True, strict=True)
    assert report.outcome == "not_verified"
    assert _status(report, "conformance") == ("failed", "schema_violation")


def test_the_cli_warns_by_default_and_fails_with_strict(signer, tmp_path):
    path = tmp_path / "badge.json"
    path.write_text(json.dumps(deviating(signer)))
    plain = CliRunner().invoke(verify_command, [str(path), "--offline", "--at", NOW.isoformat()])
    assert plain.exit_code == 0, plain.output
    assert "! Follows the Open Badges standard:" in plain.output and "/issuer/image" in plain.output
    strict = CliRunner().invoke(verify_command, [str(path), "--offline", "--at", NOW.isoformat(), "--strict"])
    assert strict.exit_code == 1, strict.output


def test_the_web_api_takes_a_strict_flag(signer):
    client = create_app({"TESTING": True}).test_client()
    credential = deviating(signer)
    relaxed = client.post("/api/verify", json={"credential": credential}).get_json()
    strict = client.post("/api/verify", json={"credential": credential, "strict": True}).get_json()
    assert relaxed["warnings"] and relaxed["outcome"] != "not_verified"
    assert strict["outcome"] == "not_verified"
    assert client.post("/api/verify", json={"credential": credential, "strict": "yes"}).status_code == 400


def test_the_web_page_lists_each_deviation(signer):
    client = create_app({"TESTING": True}).test_client()
    page = client.post("/", data={"credential": json.dumps(deviating(signer))}).get_data(as_text=True)
    assert "Warning" in page and "check--warning" in page


def test_the_w3c_examples_vocabulary_is_a_warning(signer):
    credential = {"@context": [V2, EXAMPLES], "type": ["VerifiableCredential", "ExampleDegreeCredential"],
                  "issuer": signer.did, "validFrom": "2026-01-01T00:00:00Z",
                  "credentialSubject": {"id": "did:example:alice", "degree": {"name": "Example"}}}
    report = verify_credential(sign_data_integrity(credential, signer), now=NOW, offline=True)
    assert report.verified, report.to_dict()
    assert _status(report, "conformance") == ("warning", "examples_vocabulary")


# ---------------------------------------------------------------- proofs to the letter

def test_an_expired_proof_fails(signer):
    signed = sign_data_integrity(open_badge(signer.did), signer, expires="2026-03-01T00:00:00Z")
    report = verify_credential(signed, now=NOW, offline=True)
    assert _status(report, "proof") == ("failed", "proof_expired")


def test_a_proof_created_in_the_future_fails(signer):
    signed = sign_data_integrity(open_badge(signer.did), signer, created="2026-07-01T00:00:00Z")
    report = verify_credential(signed, now=NOW, offline=True)
    assert _status(report, "proof") == ("failed", "proof_created_in_future")


def test_an_unknown_proof_type_beside_the_issuers_proof_is_ignored(signer):
    signed = sign_data_integrity(open_badge(signer.did), signer)
    signed["proof"] = [signed["proof"], {"type": "BbsBlsSignature2020", "created": "2026-01-01T00:00:00Z",
                                         "verificationMethod": "did:example:other#key",
                                         "proofPurpose": "assertionMethod", "proofValue": "zzz"}]
    report = verify_credential(signed, now=NOW, offline=True)
    assert report.verified, report.to_dict()
    assert report.check("proof").details["ignored_proofs"] == ["BbsBlsSignature2020"]


def test_a_stranger_proof_beside_an_unknown_issuer_proof_proves_nothing(signer):
    stranger = TestSigner()
    signed = sign_data_integrity(open_badge(signer.did), stranger)
    signed["proof"] = [signed["proof"], {"type": "BbsBlsSignature2020", "verificationMethod": signer.verification_method,
                                         "proofPurpose": "assertionMethod", "proofValue": "zzz"}]
    report = verify_credential(signed, now=NOW, offline=True)
    assert _status(report, "issuer_binding") == ("failed", "key_not_controlled_by_issuer")
    assert report.outcome == "not_verified"


# ---------------------------------------------------------------- keys supplied by the user

def did_web_document(signer: TestSigner, did: str) -> dict:
    return {"@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"], "id": did,
            "verificationMethod": [{"id": f"{did}#key-1", "type": "Multikey", "controller": did,
                                    "publicKeyMultibase": signer.public.to_multibase()}],
            "assertionMethod": [f"{did}#key-1"]}


class DidWebSigner(TestSigner):
    did_web = "did:web:hr.example.com"

    @property
    def verification_method(self) -> str:
        return f"{self.did_web}#key-1"


def test_a_key_from_a_supplied_document_is_flagged(tmp_path):
    signer = DidWebSigner()
    signed = sign_data_integrity(open_badge(signer.did_web), signer)
    document = did_web_document(signer, signer.did_web)
    report = verify_credential(signed, now=NOW, offline=True, documents={signer.did_web: document})
    assert report.verified, report.to_dict()
    assert "a file you supplied" in report.check("key").message
    assert report.check("key").details["supplied_by_user"] == [f"{signer.did_web}#key-1"]
    assert report.summary["supplied_by_user"] == [signer.did_web]
    assert report.summary["issuer"]["proven"] == "did:web:hr.example.com (hr.example.com)"
    did_file, badge = tmp_path / "did.json", tmp_path / "badge.json"
    did_file.write_text(json.dumps(document))
    badge.write_text(json.dumps(signed))
    result = CliRunner().invoke(verify_command, [str(badge), "--offline", "--at", NOW.isoformat(),
                                                 "--resolve", f"{signer.did_web}={did_file}"])
    assert result.exit_code == 0, result.output
    assert "a file you supplied" in result.output and "Documents you supplied" in result.output


def test_documents_the_caller_vouches_for_are_not_flagged():
    signer = DidWebSigner()
    signed = sign_data_integrity(open_badge(signer.did_web), signer)
    report = verify_credential(signed, now=NOW, offline=True, flag_supplied=False,
                               documents={signer.did_web: did_web_document(signer, signer.did_web)})
    assert report.verified and "supplied" not in report.check("key").message
    assert "supplied_by_user" not in report.summary


# ---------------------------------------------------------------- presentations

def presentation(*credentials, **changes) -> dict:
    vp = {"@context": [V2], "type": ["VerifiablePresentation"], "verifiableCredential": list(credentials)}
    vp.update(changes)
    return vp


def sign_presentation(vp: dict, holder: TestSigner, **options) -> dict:
    return sign_data_integrity(vp, holder, proofPurpose="authentication", **options)


def test_an_unsigned_presentation_verifies_its_credentials(signer):
    report = verify_presentation(presentation(sign_data_integrity(open_badge(signer.did), signer)), now=NOW,
                                 offline=True)
    assert report.verified and len(report.credentials) == 1 and not report.signed


def test_a_signed_presentation_needs_the_challenge_domain_and_holder(signer):
    holder = TestSigner()
    credential = sign_data_integrity(open_badge(signer.did), signer)
    vp = sign_presentation(presentation(credential, holder=holder.did), holder, challenge="abc", domain="example.org")
    good = verify_presentation(vp, challenge="abc", domain="example.org", now=NOW, offline=True)
    assert good.verified and good.signed, good.to_dict()
    wrong = verify_presentation(vp, challenge="xyz", now=NOW, offline=True)
    assert [c.reason for c in wrong.errors] == ["challenge_mismatch"]
    other = sign_presentation(presentation(credential, holder=signer.did), holder)
    assert [c.reason for c in verify_presentation(other, now=NOW, offline=True).errors] == ["holder_mismatch"]
    unsigned = verify_presentation(presentation(credential), challenge="abc", now=NOW, offline=True)
    assert [c.reason for c in unsigned.errors] == ["presentation_not_signed"]


def test_a_presentation_is_not_verified_when_a_credential_is_not(signer):
    credential = sign_data_integrity(open_badge(signer.did), signer)
    credential["name"] = "Changed"
    report = verify_presentation(presentation(credential), now=NOW, offline=True)
    assert report.presentation_verified and not report.verified
    with pytest.raises(TypeError):
        bool(report)


# ---------------------------------------------------------------- endorsements given as VC-JWT

def endorsement_jwt(endorser: TestSigner, *, comment: str = "Solid.") -> str:
    from tests.verifier.signing_support import sign_vc_jwt
    from verifier.vc_jwt import jwt_claims_for

    credential = {"@context": [V2, OB], "id": "urn:uuid:0b5f7a52-6d3e-4c1b-9a55-3a1f2e4d5c61",
                  "type": ["VerifiableCredential", "EndorsementCredential"], "name": "Endorsement",
                  "issuer": {"id": endorser.did, "type": ["Profile"], "name": "Endorser"},
                  "validFrom": "2026-01-01T00:00:00Z",
                  "credentialSubject": {"id": "urn:uuid:a1b2c3d4-0000-4000-8000-00000000beef",
                                        "type": ["EndorsementSubject"], "endorsementComment": comment}}
    return sign_vc_jwt({**credential, **jwt_claims_for(credential)}, endorser)


# endorsementJwt is in the OB 3.0 data model but in no published OB context (3.0.3 included), so a
# credential carrying one is signed with eddsa-jcs-2022 or as a VC-JWT (JSON as written), never RDF.
JCS = "eddsa-jcs-2022"


def test_an_endorsement_jwt_is_verified_with_its_own_verdict(signer):
    endorser = TestSigner()
    credential = open_badge(signer.did)
    credential["credentialSubject"]["achievement"]["endorsementJwt"] = [endorsement_jwt(endorser)]
    report = verify_credential(sign_data_integrity(credential, signer, cryptosuite=JCS), now=NOW, offline=True)
    assert report.verified, report.to_dict()
    endorsements = report.check("endorsements")
    assert str(endorsements.status) == "passed"
    assert endorsements.details["endorsements"][0]["proven"] == endorser.did


def test_a_forged_endorsement_jwt_is_a_warning_on_that_endorsement(signer):
    header, payload, signature = endorsement_jwt(TestSigner()).split(".")
    forged = ".".join([header, endorsement_jwt(TestSigner(), comment="Outstanding.").split(".")[1], signature])
    credential = open_badge(signer.did)
    credential["credentialSubject"]["achievement"]["endorsementJwt"] = [forged]
    report = verify_credential(sign_data_integrity(credential, signer, cryptosuite=JCS), now=NOW, offline=True)
    assert report.verified
    endorsements = report.check("endorsements")
    assert (str(endorsements.status), endorsements.reason) == ("warning", "endorsement_invalid")
    assert endorsements.details["endorsements"][0]["outcome"] == "not_verified"
