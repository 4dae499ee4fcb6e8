"""eddsa-rdfc-2022 proof configurations: canonicalized once per (contexts, options), per engine, bounded."""
from __future__ import annotations

from verifier.canonicalize import canonicalize
from verifier.jsonld import PROOF_CONFIGURATIONS, JsonLdEngine
from verifier.proofs.eddsa_rdfc_2022 import proof_configuration

VC2 = "https://www.w3.org/ns/credentials/v2"
DOCUMENT = {"@context": [VC2], "type": ["VerifiableCredential"]}


def options(created: str) -> dict[str, str]:
    return {"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022", "created": created,
            "verificationMethod": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK#z6Mk",
            "proofPurpose": "assertionMethod"}


def test_a_remembered_configuration_is_the_one_the_full_algorithm_gives() -> None:
    engine = JsonLdEngine()
    first = proof_configuration(options("2026-01-01T00:00:00Z"), DOCUMENT, engine)
    again = proof_configuration(options("2026-01-01T00:00:00Z"), DOCUMENT, engine)
    assert first == again == canonicalize({"@context": [VC2], **options("2026-01-01T00:00:00Z")}, fast=False)
    assert len(engine.proof_configurations) == 1
    other = proof_configuration(options("2026-01-02T00:00:00Z"), DOCUMENT, engine)
    assert other != first and "2026-01-02T00:00:00Z" in other and len(engine.proof_configurations) == 2


def test_the_memo_is_per_engine_and_bounded() -> None:
    engine, other = JsonLdEngine(), JsonLdEngine()
    for second in range(PROOF_CONFIGURATIONS + 100):
        proof_configuration(options(f"2026-01-01T00:{second // 60:02d}:{second % 60:02d}Z"), DOCUMENT, engine)
    assert 0 < len(engine.proof_configurations) <= PROOF_CONFIGURATIONS
    assert not other.proof_configurations
    odd = {**options("2026-01-01T00:00:00Z"), "created": 5}  # not all strings: never remembered
    before = dict(engine.proof_configurations)
    assert '"5"^^<http://www.w3.org/2001/XMLSchema#dateTime>' in proof_configuration(odd, DOCUMENT, engine)
    assert engine.proof_configurations == before
