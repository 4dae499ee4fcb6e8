"""Ed25519 signing and checking shared by the eddsa-* and Ed25519Signature2020 suites."""
from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from ..errors import KeyTypeMismatchError, MalformedProofError
from ..multiformats import multibase_decode, multibase_encode

if TYPE_CHECKING:
    from ..keys import PublicKey
    from .data_integrity import Signer


def require_ed25519(key_type: str, suite: str) -> None:
    if key_type != "Ed25519":
        raise KeyTypeMismatchError(f"{suite} needs an Ed25519 key, not a {key_type} key")


def hash_data(canonical_proof_config: str | bytes, canonical_document: str | bytes) -> bytes:
    """SHA-256 of the proof configuration followed by SHA-256 of the document."""
    def _bytes(value: str | bytes) -> bytes:
        return value.encode("utf-8") if isinstance(value, str) else value
    return hashlib.sha256(_bytes(canonical_proof_config)).digest() + hashlib.sha256(_bytes(canonical_document)).digest()


def serialize_signature(data: bytes, signer: Signer, suite: str) -> str:
    """Sign ``data``; the signature as a base58btc multibase string (``z...``)."""
    require_ed25519(signer.key_type, suite)
    return multibase_encode(signer.sign(data))


def decode_signature(proof_value: str) -> bytes:
    signature = multibase_decode(proof_value)
    if len(signature) != 64:
        raise MalformedProofError(f"proofValue decodes to {len(signature)} bytes; an Ed25519 signature has 64")
    return signature


def verify_signature(data: bytes, proof_value: str, public_key: PublicKey, suite: str) -> bool:
    require_ed25519(public_key.key_type, suite)
    return public_key.verify(decode_signature(proof_value), data)
