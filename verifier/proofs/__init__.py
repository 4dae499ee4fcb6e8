"""Proof suites. Importing this package registers every supported cryptosuite."""
from . import ed25519_signature_2020, eddsa_jcs_2022, eddsa_rdfc_2022  # noqa: F401  (registration)
from .data_integrity import ProofResult, ProofSetResult, verify_proofs

__all__ = ["ProofResult", "ProofSetResult", "verify_proofs"]
