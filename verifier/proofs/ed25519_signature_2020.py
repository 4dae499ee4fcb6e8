"""``Ed25519Signature2020`` (W3C CCG), verification only.

Credentials from DCC tools and Open edX carry this older suite. It hashes and
signs exactly as eddsa-rdfc-2022 does (RDFC-1.0 of the proof options under the
document's ``@context``, then of the document), with its own proof type and no
``cryptosuite``. microcred never creates it.
"""
from __future__ import annotations

from typing import Any

from ..jsonld import JsonLdEngine
from ..keys import PublicKey
from .data_integrity import register
from .ed25519 import hash_data, require_ed25519, verify_signature
from .eddsa_rdfc_2022 import proof_configuration, transform

NAME = PROOF_TYPE = "Ed25519Signature2020"


class _Suite:
    name = NAME
    proof_type = PROOF_TYPE
    signature_property = "proofValue"

    def verify(self, document: dict[str, Any], proof: dict[str, Any], public_key: PublicKey,
               engine: JsonLdEngine) -> bool:
        require_ed25519(public_key.key_type, NAME)
        data = hash_data(proof_configuration(proof, document, engine), transform(document, engine))
        return verify_signature(data, proof["proofValue"], public_key, NAME)


SUITE = register(_Suite())
