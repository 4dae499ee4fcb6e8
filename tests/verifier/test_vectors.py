"""The W3C vc-di-eddsa test vectors, stage by stage, read from ../shared/spec/vectors."""
from __future__ import annotations

import hashlib

import pytest

from tests.support import VECTORS, read_json
from tests.verifier.signing_support import TestSigner
from verifier.keys import public_key_from_did_key
from verifier.multiformats import multibase_decode
from verifier.proofs import (
    ed25519_signature_2020,  # noqa: F401  (registers the suite)
    eddsa_jcs_2022,
    eddsa_rdfc_2022,
    verify_proofs,
)
from verifier.proofs.data_integrity import chain_input, split_proofs
from verifier.proofs.ed25519 import hash_data


def _text(path) -> str:
    return path.read_text(encoding="utf-8")


def _hex_file(path) -> str:
    return _text(path).strip()


@pytest.fixture(scope="module")
def signer(spec):
    pair = read_json(VECTORS / "keyPair.json")
    key = TestSigner.from_ed25519_secret(pair["privateKeyMultibase"])
    assert key.public.to_multibase() == pair["publicKeyMultibase"]
    return key


def _options(config: dict) -> dict:
    return {k: v for k, v in config.items() if k not in ("@context", "type", "cryptosuite")}


# (folder, unsigned document file, file suffix)
RDFC_CASES = [
    ("eddsa-rdfc-2022", "unsigned.json"),
    ("eddsa-rdfc-2022/employ", "employmentAuth.json"),
]


@pytest.mark.parametrize("folder,unsigned_name", RDFC_CASES)
def test_eddsa_rdfc_2022_every_stage(folder, unsigned_name, signer, vector_engine):
    base = VECTORS / folder
    unsigned = read_json(VECTORS / unsigned_name)
    config = read_json(base / "proofConfigDataInt.json")

    canon_doc = eddsa_rdfc_2022.transform(unsigned, vector_engine)
    assert canon_doc == _text(base / "canonDocDataInt.txt")
    assert hashlib.sha256(canon_doc.encode()).hexdigest() == _hex_file(base / "docHashDataInt.txt")

    canon_proof = eddsa_rdfc_2022.proof_configuration(config, unsigned, vector_engine)
    assert canon_proof == _text(base / "proofCanonDataInt.txt")
    assert hashlib.sha256(canon_proof.encode()).hexdigest() == _hex_file(base / "proofHashDataInt.txt")

    data = hash_data(canon_proof, canon_doc)
    assert data.hex() == _hex_file(base / "combinedHashDataInt.txt")

    proof_value = eddsa_rdfc_2022.serialize_proof(data, signer)
    assert multibase_decode(proof_value).hex() == _hex_file(base / "sigHexDataInt.txt")
    assert proof_value == _hex_file(base / "sigBTC58DataInt.txt")
    assert eddsa_rdfc_2022.verify_proof_value(data, proof_value, signer.public)

    proof = eddsa_rdfc_2022.create_proof(unsigned, _options(config), signer, vector_engine)
    assert {**unsigned, "proof": proof} == read_json(base / "signedDataInt.json")


def test_eddsa_jcs_2022_every_stage(signer, spec):
    base = VECTORS / "eddsa-jcs-2022"
    unsigned = read_json(VECTORS / "unsigned.json")
    config = read_json(base / "proofConfigJCS.json")

    canon_doc = eddsa_jcs_2022.transform(unsigned)
    assert canon_doc == _text(base / "canonDocJCS.txt")
    assert hashlib.sha256(canon_doc.encode()).hexdigest() == _hex_file(base / "docHashJCS.txt")
    canon_proof = eddsa_jcs_2022.proof_configuration(config, unsigned)
    assert canon_proof == _text(base / "proofCanonJCS.txt")
    assert hashlib.sha256(canon_proof.encode()).hexdigest() == _hex_file(base / "proofHashJCS.txt")
    data = hash_data(canon_proof, canon_doc)
    assert data.hex() == _hex_file(base / "combinedHashJCS.txt")
    proof_value = eddsa_jcs_2022.serialize_proof(data, signer)
    assert multibase_decode(proof_value).hex() == _hex_file(base / "sigHexJCS.txt")
    assert proof_value == _hex_file(base / "sigBTC58JCS.txt")

    proof = eddsa_jcs_2022.create_proof(unsigned, _options(config), signer)
    assert {**unsigned, "proof": proof} == read_json(base / "signedJCS.json")


def test_ed25519_signature_2020_every_stage(signer, vector_engine):
    """Verify-only suite: the intermediate values and the published signature."""
    base = VECTORS / "Ed25519Signature2020"
    signed = read_json(base / "signedEdSig.json")
    unsigned, (proof,) = split_proofs(signed)
    config = read_json(base / "proofConfigEdSig.json")

    canon_doc = eddsa_rdfc_2022.transform(unsigned, vector_engine)
    assert canon_doc == _text(base / "canonDocEdSig.txt")
    assert hashlib.sha256(canon_doc.encode()).hexdigest() == _hex_file(base / "docHashEdSig.txt")
    canon_proof = eddsa_rdfc_2022.proof_configuration(config, unsigned, vector_engine)
    assert canon_proof == _text(base / "proofCanonEdSig.txt")
    assert hashlib.sha256(canon_proof.encode()).hexdigest() == _hex_file(base / "proofHashEdSig.txt")
    data = hash_data(canon_proof, canon_doc)
    assert data.hex() == _hex_file(base / "combinedHashEdSig.txt")
    assert multibase_decode(proof["proofValue"]).hex() == _hex_file(base / "sigHexEdSig.txt")
    assert proof["proofValue"] == _hex_file(base / "sigBTC58EdSig.txt")
    assert signer.sign(data).hex() == _hex_file(base / "sigHexEdSig.txt")


SIGNED_VECTORS = [
    "eddsa-rdfc-2022/signedDataInt.json",
    "eddsa-rdfc-2022/employ/signedDataInt.json",
    "eddsa-jcs-2022/signedJCS.json",
    "Ed25519Signature2020/signedEdSig.json",
    "proof-set-chain/signedProofSet1.json",
    "proof-set-chain/signedProofSet2.json",
    "proof-set-chain/signedProofChain1.json",
    "proof-set-chain/signedProofChain2.json",
]


@pytest.mark.parametrize("name", SIGNED_VECTORS)
def test_every_signed_vector_verifies(name, vector_engine):
    result = verify_proofs(read_json(VECTORS / name), public_key_from_did_key, engine=vector_engine)
    assert [r.error for r in result.results] == [None] * len(result.results)
    assert result.verified


@pytest.mark.parametrize("name", SIGNED_VECTORS)
def test_every_signed_vector_fails_when_a_value_changes(name, vector_engine):
    doc = read_json(VECTORS / name)
    doc["credentialSubject"] = {**doc["credentialSubject"], "id": "did:example:someone-else"}
    result = verify_proofs(doc, public_key_from_did_key, engine=vector_engine)
    assert not result.verified
    assert {r.error.code for r in result.results} == {"signature_mismatch"}


def _multikey_signers():
    pairs = read_json(VECTORS / "proof-set-chain" / "multiKeyPairs.json")
    return {name: TestSigner.from_ed25519_secret(p["privateKeyMultibase"]) for name, p in pairs.items()}


def test_proof_set_and_chain_creation_matches_vectors(vector_engine):
    base = VECTORS / "proof-set-chain"
    keys = _multikey_signers()
    by_vm = {k.public.to_did_key() + "#" + k.public.to_multibase(): k for k in keys.values()}
    unsigned = read_json(base / "unsigned.json")

    doc = unsigned
    steps = [("proofSetConfig1", "proofSetConfigSigned1", "signedProofSet1"),
             ("proofSetConfig2", "proofSetConfigSigned2", "signedProofSet2"),
             ("proofChainConfig1", "proofChainConfigSigned1", "signedProofChain1"),
             ("proofChainConfig2", "proofChainConfigSigned2", "signedProofChain2")]
    temp_docs = {"proofChainConfig1": "proofChainTempDoc1", "proofChainConfig2": "proofChainTempDoc2"}
    for config_name, signed_proof_name, signed_doc_name in steps:
        config = read_json(base / f"{config_name}.json")
        existing = doc.get("proof", [])
        existing = existing if isinstance(existing, list) else [existing]
        bare = {k: v for k, v in doc.items() if k != "proof"}
        signing_input = chain_input(bare, config, existing)
        if config_name in temp_docs:
            assert signing_input == read_json(base / f"{temp_docs[config_name]}.json")
        proof = eddsa_rdfc_2022.create_proof(signing_input, _options(config),
                                             by_vm[config["verificationMethod"]], vector_engine)
        assert proof == read_json(base / f"{signed_proof_name}.json")
        doc = {**bare, "proof": [*existing, proof]}
        expected = read_json(base / f"{signed_doc_name}.json")
        if isinstance(expected["proof"], dict):
            expected["proof"] = [expected["proof"]]
        assert doc == expected


def test_a_chain_naming_a_missing_proof_fails(vector_engine):
    doc = read_json(VECTORS / "proof-set-chain" / "signedProofChain2.json")
    doc["proof"] = doc["proof"][2:]  # drop the proofs the third one chains to
    result = verify_proofs(doc, public_key_from_did_key, engine=vector_engine)
    assert not result.verified
    assert result.results[0].error.code == "previous_proof_missing"


def test_the_draft_name_eddsa_2022_verifies_as_eddsa_rdfc_2022(signer, vector_engine):
    """Same algorithm under its draft name: a proof made as eddsa-2022 verifies; tampering fails."""
    unsigned = read_json(VECTORS / "unsigned.json")
    options = {"created": "2023-02-24T23:36:38Z", "proofPurpose": "assertionMethod",
               "verificationMethod": signer.public.to_did_key() + "#" + signer.public.to_multibase()}
    config = {"type": "DataIntegrityProof", "cryptosuite": "eddsa-2022", **options}
    data = hash_data(eddsa_rdfc_2022.proof_configuration(config, unsigned, vector_engine),
                     eddsa_rdfc_2022.transform(unsigned, vector_engine))
    signed = {**unsigned, "proof": {**config, "proofValue": eddsa_rdfc_2022.serialize_proof(data, signer)}}
    assert verify_proofs(signed, public_key_from_did_key, engine=vector_engine).verified
    signed["name"] = "Changed"
    assert not verify_proofs(signed, public_key_from_did_key, engine=vector_engine).verified
