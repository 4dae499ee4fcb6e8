"""``Ed25519Signature2018`` (W3C CCG Linked Data Signatures), verification only.

Older VC 1.1 credentials (Aries / ACA-Py, Transmute, early DCC and Mattr tools) carry
this suite. It hashes like Ed25519Signature2020 - SHA-256 of the RDFC-1.0 proof
options (under the document's ``@context``, without ``jws``) followed by SHA-256 of
the RDFC-1.0 document - but the signature is a detached JWS with an unencoded payload
(RFC 7797) in the proof's ``jws`` member:

1. :func:`parse_detached_jws` - ``BASE64URL(header) + ".." + BASE64URL(signature)``,
   whose header is exactly ``{"alg": "EdDSA", "b64": false, "crit": ["b64"]}``;
2. :func:`verify_data` - the 64-byte hash data, as in the 2020 suite;
3. :func:`signing_input` - ``ASCII(BASE64URL(header) + ".") || hash data``
   (RFC 7797 section 3 with ``b64: false``);
4. the Ed25519 signature checked over that input.

References: "Ed25519 Signature 2018" (w3c-ccg/lds-ed25519-2018), and the
``JwsLinkedDataSignature`` class that digitalbazaar/jsonld-signatures and
``@digitalbazaar/ed25519-signature-2018`` use to create and check these proofs.
microcred never creates this suite; tests sign it with :func:`signing_input`.
"""
from __future__ import annotations

from typing import Any

from ..errors import CredentialError, MalformedProofError
from ..jsonld import JsonLdEngine
from ..jws import b64url_decode
from ..keys import PublicKey
from ..net.strict_json import strict_json_loads
from .data_integrity import register
from .ed25519 import hash_data, require_ed25519
from .eddsa_rdfc_2022 import proof_configuration, transform

NAME = PROOF_TYPE = "Ed25519Signature2018"
HEADER = {"alg": "EdDSA", "b64": False, "crit": ["b64"]}
#: proof members that hold a signature and are never part of the signed proof options
_SIGNATURE_MEMBERS = ("jws", "proofValue", "signatureValue")

__all__ = ["NAME", "HEADER", "parse_detached_jws", "verify_data", "signing_input", "SUITE"]


def parse_detached_jws(jws: object) -> tuple[str, bytes]:
    """(encoded header, 64-byte signature) of a detached, unencoded-payload JWS.

    Raises :class:`MalformedProofError` for anything but ``header..signature`` with
    exactly the header :data:`HEADER` (no other member, as jsonld-signatures requires).
    """
    if not isinstance(jws, str) or jws.count(".") != 2:
        raise MalformedProofError("the proof's jws is not a detached JWS (header..signature)")
    encoded_header, payload, encoded_signature = jws.split(".")
    if payload:
        raise MalformedProofError("the proof's jws carries a payload; it must be detached (header..signature)")
    try:
        header = strict_json_loads(b64url_decode(encoded_header, "header"))
        signature = b64url_decode(encoded_signature, "signature")
    except (CredentialError, UnicodeDecodeError, ValueError) as exc:
        raise MalformedProofError(f"the proof's jws cannot be decoded: {exc}") from exc
    if header != HEADER or not isinstance(header.get("b64"), bool):
        raise MalformedProofError(
            f"the proof's jws header must be {{\"alg\": \"EdDSA\", \"b64\": false, \"crit\": [\"b64\"]}}, "
            f"not {header!r}")
    if len(signature) != 64:
        raise MalformedProofError(f"the proof's jws signature has {len(signature)} bytes; Ed25519 has 64")
    return encoded_header, signature


def verify_data(document: dict[str, Any], proof: dict[str, Any], engine: JsonLdEngine | None = None) -> bytes:
    """SHA-256(canonical proof options) || SHA-256(canonical document), 64 bytes."""
    options = {k: v for k, v in proof.items() if k not in _SIGNATURE_MEMBERS}
    return hash_data(proof_configuration(options, document, engine), transform(document, engine))


def signing_input(encoded_header: str, data: bytes) -> bytes:
    """The JWS Signing Input with an unencoded payload: ``ASCII(header + ".") || data``."""
    return encoded_header.encode("ascii") + b"." + data


class _Suite:
    name = NAME
    proof_type = PROOF_TYPE
    signature_property = "jws"

    def verify(self, document: dict[str, Any], proof: dict[str, Any], public_key: PublicKey,
               engine: JsonLdEngine) -> bool:
        require_ed25519(public_key.key_type, NAME)
        encoded_header, signature = parse_detached_jws(proof["jws"])
        return public_key.verify(signature, signing_input(encoded_header, verify_data(document, proof, engine)))


SUITE = register(_Suite())
