"""Proof suites. Importing this package registers every supported cryptosuite."""
from . import ed25519_signature_2018, ed25519_signature_2020, eddsa_jcs_2022, eddsa_rdfc_2022  # noqa: F401
from .data_integrity import (
    FAILED,
    UNSUPPORTED,
    VERIFIED,
    ProofResult,
    ProofSetResult,
    is_supported,
    verify_proofs,
)

__all__ = ["FAILED", "UNSUPPORTED", "VERIFIED", "ProofResult", "ProofSetResult", "is_supported",
           "verify_proofs"]
