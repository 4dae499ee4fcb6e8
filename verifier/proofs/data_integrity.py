"""Data Integrity proofs: the parts every cryptosuite shares.

* Splitting a secured document into the unsecured document and its proofs, with
  strict checks of each proof's shape (W3C VC Data Integrity 1.0, section 4).
* Proof sets (several independent proofs) and proof chains (``previousProof``):
  the input to a chained proof is the unsecured document plus the proofs it names.
* The ``@context`` rule: a proof's ``@context``, when present, must be a prefix of
  the document's.
* The registry of cryptosuites and :func:`verify_proofs`, which checks every proof.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Protocol

from ..errors import (
    CredentialError,
    MalformedProofError,
    SignatureMismatchError,
    UnsupportedCryptosuiteError,
)
from ..jsonld import JsonLdEngine, default_engine

# XML Schema dateTimeStamp: a dateTime that carries a time zone offset.
_DATETIME_STAMP = re.compile(
    r"^-?\d{4,}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?"
    r"(Z|[+-]((0\d|1[0-3]):[0-5]\d|14:00))$"
)

KeyResolver = Callable[[str], object]  # verification method URL -> verifier.keys.PublicKey


class Signer(Protocol):
    key_type: str

    def sign(self, data: bytes) -> bytes: ...


@dataclass
class ProofResult:
    """The outcome of checking one proof."""

    verified: bool
    proof: dict
    error: CredentialError | None = None
    public_key: object | None = None

    @property
    def verification_method(self) -> str | None:
        vm = self.proof.get("verificationMethod") if isinstance(self.proof, dict) else None
        return vm if isinstance(vm, str) else None


@dataclass
class ProofSetResult:
    """Every proof on a document, each checked."""

    results: list[ProofResult] = field(default_factory=list)
    error: CredentialError | None = None  # a problem with the document as a whole

    @property
    def verified(self) -> bool:
        return self.error is None and bool(self.results) and all(r.verified for r in self.results)


def is_datetime_stamp(value: object) -> bool:
    return isinstance(value, str) and bool(_DATETIME_STAMP.match(value))


def split_proofs(document: dict) -> tuple[dict, list[dict]]:
    """(document without ``proof``, its proofs as a list). Raises MalformedProofError."""
    if not isinstance(document, dict):
        raise MalformedProofError("a secured document must be a JSON object")
    if "proof" not in document:
        raise MalformedProofError("the document has no proof", code="no_proof")
    proofs = document["proof"]
    if isinstance(proofs, dict):
        proofs = [proofs]
    if not isinstance(proofs, list) or not proofs or not all(isinstance(p, dict) for p in proofs):
        raise MalformedProofError("proof must be an object or a non-empty list of objects")
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    return unsecured, proofs


def check_proof_shape(proof: dict, *, proof_type: str = "DataIntegrityProof") -> None:
    """Required proof properties and their formats (not the signature)."""
    if proof.get("type") != proof_type:
        raise MalformedProofError(f"proof type must be {proof_type!r}, got {proof.get('type')!r}")
    for name in ("verificationMethod", "proofPurpose"):
        if not isinstance(proof.get(name), str) or not proof[name]:
            raise MalformedProofError(f"the proof has no {name}")
    if not isinstance(proof.get("proofValue"), str):
        raise MalformedProofError("the proof has no proofValue")
    for name in ("created", "expires"):
        if name in proof and not is_datetime_stamp(proof[name]):
            raise MalformedProofError(
                f"proof {name} {proof[name]!r} is not a date-time with a time zone")
    if "previousProof" in proof:
        prev = proof["previousProof"]
        ids = prev if isinstance(prev, list) else [prev]
        if not ids or not all(isinstance(i, str) and i for i in ids):
            raise MalformedProofError("previousProof must be a proof id or a list of proof ids")


def chain_input(unsecured: dict, proof: dict, all_proofs: list[dict]) -> dict:
    """The document a proof was made over: with the proofs it chains to, if any."""
    if "previousProof" not in proof:
        return unsecured
    prev = proof["previousProof"]
    wanted = prev if isinstance(prev, list) else [prev]
    by_id = {p.get("id"): p for p in all_proofs if isinstance(p.get("id"), str)}
    missing = [i for i in wanted if i not in by_id]
    if missing:
        raise MalformedProofError(
            f"previousProof names {', '.join(missing)}, which is not among the document's proofs",
            code="previous_proof_missing")
    return {**unsecured, "proof": [by_id[i] for i in wanted]}


def apply_proof_context(document: dict, proof: dict) -> dict:
    """The document with the proof's ``@context`` (which must be a prefix of its own)."""
    if "@context" not in proof:
        return document
    proof_ctx = proof["@context"]
    proof_list = proof_ctx if isinstance(proof_ctx, list) else [proof_ctx]
    doc_ctx = document.get("@context")
    doc_list = doc_ctx if isinstance(doc_ctx, list) else [doc_ctx]
    if doc_list[: len(proof_list)] != proof_list:
        raise MalformedProofError(
            "the proof's @context is not the beginning of the document's @context",
            code="proof_context_mismatch")
    return {**document, "@context": proof_ctx}


class Cryptosuite(Protocol):
    name: str
    proof_type: str

    def verify(self, document: dict, proof: dict, public_key, engine: JsonLdEngine) -> bool: ...


_SUITES: dict[tuple[str, str | None], Cryptosuite] = {}


def register(suite: Cryptosuite) -> Cryptosuite:
    cryptosuite = None if suite.proof_type != "DataIntegrityProof" else suite.name
    _SUITES[(suite.proof_type, cryptosuite)] = suite
    return suite


def suite_for(proof: dict) -> Cryptosuite:
    proof_type = proof.get("type")
    key = (proof_type, proof.get("cryptosuite") if proof_type == "DataIntegrityProof" else None)
    suite = _SUITES.get(key)
    if suite is None:
        what = proof.get("cryptosuite") if proof_type == "DataIntegrityProof" else proof_type
        raise UnsupportedCryptosuiteError(f"the proof uses {what!r}, which microcred does not support",
                                          details={"type": proof_type, "cryptosuite": proof.get("cryptosuite")})
    return suite


def verify_proofs(document: dict, resolve_key: KeyResolver, *, engine: JsonLdEngine | None = None,
                  expected_purpose: str = "assertionMethod") -> ProofSetResult:
    """Check every proof on ``document``; never raises for a bad credential."""
    engine = engine or default_engine()
    try:
        unsecured, proofs = split_proofs(document)
    except CredentialError as exc:
        return ProofSetResult(error=exc)
    outcome = ProofSetResult()
    for proof in proofs:
        result = ProofResult(verified=False, proof=proof)
        outcome.results.append(result)
        try:
            suite = suite_for(proof)
            check_proof_shape(proof, proof_type=suite.proof_type)
            if proof["proofPurpose"] != expected_purpose:
                raise MalformedProofError(
                    f"the proof's purpose is {proof['proofPurpose']!r}, not {expected_purpose!r}",
                    code="wrong_proof_purpose")
            result.public_key = resolve_key(proof["verificationMethod"])
            signed_input = chain_input(unsecured, proof, proofs)
            result.verified = suite.verify(signed_input, proof, result.public_key, engine)
            if not result.verified:
                result.error = SignatureMismatchError(
                    "the signature does not match the credential: it was changed after signing, "
                    "or signed with another key")
        except CredentialError as exc:
            result.error = exc
    return outcome
