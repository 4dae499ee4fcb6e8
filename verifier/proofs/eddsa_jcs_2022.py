"""The ``eddsa-jcs-2022`` cryptosuite (W3C vc-di-eddsa, section 3.4), step by step.

Like eddsa-rdfc-2022, but both the document and the proof configuration are
canonicalized with the JSON Canonicalization Scheme (RFC 8785) instead of RDFC-1.0,
and the proof keeps the document's ``@context``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import rfc8785

from ..errors import MalformedProofError
from .data_integrity import Signer, apply_proof_context, check_proof_shape, register
from .ed25519 import hash_data, require_ed25519, serialize_signature, verify_signature

if TYPE_CHECKING:
    from ..jsonld import JsonLdEngine
    from ..keys import PublicKey

NAME = "eddsa-jcs-2022"
PROOF_TYPE = "DataIntegrityProof"

__all__ = ["NAME", "transform", "proof_configuration", "hash_data", "serialize_proof",
           "verify_proof_value", "create_proof", "SUITE"]


def _jcs(value: dict[str, Any]) -> str:
    try:
        return rfc8785.dumps(value).decode("utf-8")
    except (rfc8785.CanonicalizationError, ValueError, TypeError) as exc:
        raise MalformedProofError(f"the document cannot be canonicalized as JSON (RFC 8785): {exc}") from exc


def transform(unsecured_document: dict[str, Any], engine: JsonLdEngine | None = None) -> str:
    """Transformation (3.4.3): RFC 8785 canonical JSON of the document without its proof."""
    return _jcs(unsecured_document)


def proof_configuration(proof_options: dict[str, Any], document: dict[str, Any],
                        engine: JsonLdEngine | None = None) -> str:
    """Proof Configuration (3.4.5): the options, with the document's ``@context``, as JCS."""
    config = {k: v for k, v in proof_options.items() if k != "proofValue"}
    if "@context" in document:
        config["@context"] = document["@context"]
    return _jcs(config)


def serialize_proof(data: bytes, signer: Signer) -> str:
    """Proof Serialization (3.4.6)."""
    return serialize_signature(data, signer, NAME)


def verify_proof_value(data: bytes, proof_value: str, public_key: PublicKey) -> bool:
    """Proof Verification (3.4.7)."""
    return verify_signature(data, proof_value, public_key, NAME)


def create_proof(unsecured_document: dict[str, Any], proof_options: dict[str, Any], signer: Signer,
                 engine: JsonLdEngine | None = None) -> dict[str, Any]:
    """Create Proof (3.4.1): the proof carries the document's ``@context``."""
    require_ed25519(signer.key_type, NAME)
    options = {"type": PROOF_TYPE, "cryptosuite": NAME, **proof_options}
    if "@context" in unsecured_document:
        options["@context"] = unsecured_document["@context"]
    check_proof_shape({**options, "proofValue": ""})
    data = hash_data(proof_configuration(options, unsecured_document), transform(unsecured_document))
    return {**options, "proofValue": serialize_proof(data, signer)}


class _Suite:
    name = NAME
    proof_type = PROOF_TYPE
    signature_property = "proofValue"

    def verify(self, document: dict[str, Any], proof: dict[str, Any], public_key: PublicKey,
               engine: JsonLdEngine) -> bool:
        """Verify Proof (3.4.2)."""
        require_ed25519(public_key.key_type, NAME)
        document = apply_proof_context(document, proof)
        data = hash_data(proof_configuration(proof, document), transform(document))
        return verify_proof_value(data, proof["proofValue"], public_key)


SUITE = register(_Suite())
