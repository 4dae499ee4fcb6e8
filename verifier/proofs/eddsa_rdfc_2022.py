"""The ``eddsa-rdfc-2022`` cryptosuite (W3C vc-di-eddsa, section 3.3), step by step.

Each function is one named stage of the specification so tests can compare every
intermediate value with the published test vectors:

1. :func:`transform` - the unsecured document as RDFC-1.0 canonical N-Quads;
2. :func:`proof_configuration` - the proof options (with the document's
   ``@context``) as canonical N-Quads;
3. :func:`hash_data` - SHA-256(proof configuration) || SHA-256(document)
   (shared with the other Ed25519 suites, in :mod:`.ed25519`);
4. :func:`serialize_proof` - Ed25519 signature, multibase base58btc;
5. :func:`verify_proof_value` - the signature checked against the hash data.
"""
from __future__ import annotations

import re
from typing import Any

from ..canonicalize import canonicalize
from ..jsonld import PROOF_CONFIGURATIONS, JsonLdEngine, default_engine
from ..keys import PublicKey
from .data_integrity import Signer, apply_proof_context, check_proof_shape, register
from .ed25519 import hash_data, require_ed25519, serialize_signature, verify_signature

NAME = "eddsa-rdfc-2022"
PROOF_TYPE = "DataIntegrityProof"

VC_V2 = "https://www.w3.org/ns/credentials/v2"
# Bundled contexts that leave the Data Integrity proof terms exactly as the VC v2
# context defines them (tests check this against the full algorithm).
_PLAIN_PROOF_CONTEXTS = frozenset({
    VC_V2,
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json",
    "https://w3id.org/security/data-integrity/v2",
})
_SIMPLE_PROOF_KEYS = frozenset({"@context", "type", "cryptosuite", "created", "verificationMethod", "proofPurpose"})
_SIMPLE_IRI = re.compile(r'^[A-Za-z][A-Za-z0-9+.-]*:[^\x00-\x20<>"{}|^`\\]*$')
_SIMPLE_NAME = re.compile(r"^[A-Za-z0-9-]+$")
_PLAIN_DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def transform(unsecured_document: dict[str, Any], engine: JsonLdEngine | None = None) -> str:
    """Transformation (3.3.2): canonical N-Quads of the document without its proof."""
    return canonicalize(unsecured_document, engine=engine)


def _fast_proof_configuration(config: dict[str, Any]) -> str | None:
    """The canonical form of the standard 5-statement proof configuration, or None.

    Produced directly, without JSON-LD processing, when the proof has exactly the
    usual properties under contexts known not to redefine them.
    """
    ctx = config.get("@context")
    if (set(config) != _SIMPLE_PROOF_KEYS or not isinstance(ctx, list) or not ctx or ctx[0] != VC_V2
            or not all(isinstance(c, str) and c in _PLAIN_PROOF_CONTEXTS for c in ctx)
            or config["type"] != PROOF_TYPE or config["proofPurpose"] != "assertionMethod"
            or not isinstance(config["cryptosuite"], str) or not _SIMPLE_NAME.match(config["cryptosuite"])
            or not isinstance(config["created"], str) or not _PLAIN_DATETIME.match(config["created"])
            or not isinstance(config["verificationMethod"], str)
            or not _SIMPLE_IRI.match(config["verificationMethod"])):
        return None
    sec = "https://w3id.org/security#"
    return (
        f'_:c14n0 <http://purl.org/dc/terms/created> "{config["created"]}"'
        "^^<http://www.w3.org/2001/XMLSchema#dateTime> .\n"
        f"_:c14n0 <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{sec}DataIntegrityProof> .\n"
        f'_:c14n0 <{sec}cryptosuite> "{config["cryptosuite"]}"^^<{sec}cryptosuiteString> .\n'
        f"_:c14n0 <{sec}proofPurpose> <{sec}assertionMethod> .\n"
        f"_:c14n0 <{sec}verificationMethod> <{config['verificationMethod']}> .\n"
    )


def proof_configuration(proof_options: dict[str, Any], document: dict[str, Any],
                        engine: JsonLdEngine | None = None) -> str:
    """Proof Configuration (3.3.5): canonical N-Quads of the options under the document's context.

    A configuration of plain strings under context URLs (every proof microcred makes, nearly
    every one it verifies) is canonicalized once per (contexts, type, suite, created, key,
    purpose) and remembered by the engine (``proof_configurations``, bounded); anything else every
    time.
    """
    config = {k: v for k, v in proof_options.items() if k != "proofValue"}
    if "@context" in document:
        config["@context"] = document["@context"]
    key = _plain_key(config)
    if key is None:
        return _canonical_configuration(config, engine)
    memo = (engine or default_engine()).proof_configurations
    found = memo.get(key)
    if found is None:
        found = _canonical_configuration(config, engine)
        if len(memo) >= PROOF_CONFIGURATIONS:
            memo.clear()
        memo[key] = found
    return found


def _canonical_configuration(config: dict[str, Any], engine: JsonLdEngine | None) -> str:
    fast = _fast_proof_configuration(config)
    return fast if fast is not None else canonicalize(config, engine=engine)


_PlainKey = tuple[tuple[str, ...], tuple[tuple[str, str], ...]]


def _plain_key(config: dict[str, Any]) -> _PlainKey | None:
    """The configuration as a hashable key when it is context URLs and string values only."""
    ctx = config.get("@context")
    if not isinstance(ctx, list) or not all(isinstance(c, str) for c in ctx) or len(config) > 12:
        return None
    items = tuple(sorted((k, v) for k, v in config.items() if k != "@context"))
    if not all(isinstance(v, str) and len(v) <= 2048 for _, v in items):
        return None
    return tuple(ctx), items


def serialize_proof(data: bytes, signer: Signer) -> str:
    """Proof Serialization (3.3.6): Ed25519 signature as a base58btc multibase string."""
    return serialize_signature(data, signer, NAME)


def verify_proof_value(data: bytes, proof_value: str, public_key: PublicKey) -> bool:
    """Proof Verification (3.3.7)."""
    return verify_signature(data, proof_value, public_key, NAME)


def create_proof(unsecured_document: dict[str, Any], proof_options: dict[str, Any], signer: Signer,
                 engine: JsonLdEngine | None = None) -> dict[str, Any]:
    """Create Proof (3.3.1): the proof object, ``proofValue`` included."""
    require_ed25519(signer.key_type, NAME)
    options = {"type": PROOF_TYPE, "cryptosuite": NAME, **proof_options}
    check_proof_shape({**options, "proofValue": ""})
    data = hash_data(proof_configuration(options, unsecured_document, engine),
                     transform(unsecured_document, engine))
    return {**options, "proofValue": serialize_proof(data, signer)}


class _Suite:
    name = NAME
    proof_type = PROOF_TYPE
    signature_property = "proofValue"

    def verify(self, document: dict[str, Any], proof: dict[str, Any], public_key: PublicKey,
               engine: JsonLdEngine) -> bool:
        """Verify Proof (3.3.2): ``document`` is the input the proof was made over."""
        require_ed25519(public_key.key_type, NAME)
        document = apply_proof_context(document, proof)
        data = hash_data(proof_configuration(proof, document, engine), transform(document, engine))
        return verify_proof_value(data, proof["proofValue"], public_key)


SUITE = register(_Suite())


class _Eddsa2022(_Suite):
    """``eddsa-2022``: the draft name of eddsa-rdfc-2022 (same algorithm), still used by the
    W3C VC 2.0 test suite and early issuers. Verified only; microcred signs eddsa-rdfc-2022."""

    name = "eddsa-2022"


LEGACY_SUITE = register(_Eddsa2022())
