"""Data Integrity proofs: the parts every cryptosuite shares.

* Splitting a secured document into the unsecured document and its proofs, with
  strict checks of each proof's shape (W3C VC Data Integrity 1.0, section 4).
* Proof sets (several independent proofs) and proof chains (``previousProof``):
  the input to a chained proof is the unsecured document plus the proofs it names.
* The ``@context`` rule: a proof's ``@context``, when present, must be a prefix of
  the document's.
* The proof's validity period (``created`` / ``expires``) against the verifier's clock.
* The registry of cryptosuites and :func:`verify_proofs`, which checks every proof and
  reports each one as verified, failed or unsupported (a proof type or cryptosuite
  microcred does not implement), so the caller can ignore unsupported proofs when
  another proof verifies (VC Data Integrity 1.0, section 4.5).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from ..dates import is_datetime_stamp
from ..errors import (
    CredentialError,
    MalformedProofError,
    SignatureMismatchError,
    UnsupportedCryptosuiteError,
)
from ..jsonld import JsonLdEngine, default_engine
from ..keys import PublicKey
from ..validity import CLOCK_SKEW, ValidityError, parse_datetime

VERIFIED = "verified"
FAILED = "failed"
UNSUPPORTED = "unsupported"

KeyResolver = Callable[[str], PublicKey]  # verification method URL -> its public key


class Signer(Protocol):
    key_type: str

    def sign(self, data: bytes) -> bytes: ...


@dataclass
class ProofResult:
    """The outcome of checking one proof.

    ``status`` is :data:`VERIFIED`, :data:`FAILED` (``error`` says why) or
    :data:`UNSUPPORTED` (a proof type or cryptosuite microcred does not implement;
    ``error`` is an :class:`UnsupportedCryptosuiteError`, and no key was resolved).
    """

    proof: dict[str, Any]
    status: str = FAILED
    error: CredentialError | None = None
    public_key: PublicKey | None = None

    @property
    def verified(self) -> bool:
        return self.status == VERIFIED

    @property
    def unsupported(self) -> bool:
        return self.status == UNSUPPORTED

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
        """At least one proof verified and none failed; unsupported proofs are ignored.

        This says nothing about *whose* keys made the proofs: a caller that needs an
        issuer's proof checks the verified results' verification methods itself.
        """
        return (self.error is None and any(r.verified for r in self.results)
                and not any(r.status == FAILED for r in self.results))

    def with_status(self, status: str) -> list[ProofResult]:
        """The results whose status is ``status`` (verified, failed or unsupported), in order."""
        return [r for r in self.results if r.status == status]

    @property
    def first_error(self) -> CredentialError | None:
        """Why the set does not verify: the document's problem, the first failed proof's
        error, or (when no proof verified) the first unsupported proof's; None if it verifies."""
        if self.error is not None:
            return self.error
        failed = self.with_status(FAILED)
        if failed:
            return failed[0].error
        if not any(r.verified for r in self.results):
            unsupported = self.with_status(UNSUPPORTED)
            return unsupported[0].error if unsupported else None
        return None


def split_proofs(document: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
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


def check_proof_shape(proof: dict[str, Any], *, proof_type: str = "DataIntegrityProof",
                      signature_property: str = "proofValue") -> None:
    """Required proof properties and their formats (not the signature).

    ``signature_property`` is the member holding the signature: ``proofValue``, or
    ``jws`` for the legacy ``Ed25519Signature2018`` suite.
    """
    if proof.get("type") != proof_type:
        raise MalformedProofError(f"proof type must be {proof_type!r}, got {proof.get('type')!r}")
    for name in ("verificationMethod", "proofPurpose"):
        if not isinstance(proof.get(name), str) or not proof[name]:
            raise MalformedProofError(f"the proof has no {name}")
    if not isinstance(proof.get(signature_property), str):
        raise MalformedProofError(f"the proof has no {signature_property}")
    for name in ("created", "expires"):
        if name in proof and not is_datetime_stamp(proof[name]):
            raise MalformedProofError(
                f"proof {name} {proof[name]!r} is not a date-time with a time zone")
    if "previousProof" in proof:
        prev = proof["previousProof"]
        ids = prev if isinstance(prev, list) else [prev]
        if not ids or not all(isinstance(i, str) and i for i in ids):
            raise MalformedProofError("previousProof must be a proof id or a list of proof ids")


def _proof_time(proof: dict[str, Any], name: str) -> datetime | None:
    if name not in proof:
        return None
    try:
        return parse_datetime(proof[name], f"proof {name}", require_zone=True)
    except ValidityError as exc:
        raise MalformedProofError(str(exc)) from exc


def check_proof_dates(proof: dict[str, Any], now: datetime, skew: timedelta = CLOCK_SKEW) -> None:
    """The proof's validity period holds at ``now``, give or take ``skew``.

    VC Data Integrity 1.0, section 2.1 defines ``created`` and ``expires`` (the proof
    "expires" at that time); section 2.6 asks verifiers to "ensure that the time of
    interest ... is within the validity period for the proof (that is, between
    ``created`` and ``expires``)". Applied here as a step of Verify Proof (section 4.4)
    before the cryptosuite runs. Raises :class:`CredentialError` with code
    ``proof_created_in_future`` or ``proof_expired``, or :class:`MalformedProofError`
    for a date that does not exist or an ``expires`` before ``created``.
    """
    created = _proof_time(proof, "created")
    expires = _proof_time(proof, "expires")
    if created is not None and expires is not None and expires < created:
        raise MalformedProofError(f"the proof expires ({proof['expires']}) before it was created "
                                  f"({proof['created']})")
    if created is not None and created > now + skew:
        raise CredentialError(f"the proof says it was created at {proof['created']}, which is in the future",
                              code="proof_created_in_future", details={"created": proof["created"]})
    if expires is not None and expires < now - skew:
        raise CredentialError(f"the proof expired at {proof['expires']}",
                              code="proof_expired", details={"expires": proof["expires"]})


def chain_input(unsecured: dict[str, Any], proof: dict[str, Any], all_proofs: list[dict[str, Any]]) -> dict[str, Any]:
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


def apply_proof_context(document: dict[str, Any], proof: dict[str, Any]) -> dict[str, Any]:
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
    signature_property: str  # "proofValue", or "jws" for Ed25519Signature2018

    def verify(self, document: dict[str, Any], proof: dict[str, Any], public_key: PublicKey,
               engine: JsonLdEngine) -> bool: ...


_SUITES: dict[tuple[str, str | None], Cryptosuite] = {}


def register(suite: Cryptosuite) -> Cryptosuite:
    cryptosuite = None if suite.proof_type != "DataIntegrityProof" else suite.name
    _SUITES[(suite.proof_type, cryptosuite)] = suite
    return suite


def suite_for(proof: dict[str, Any]) -> Cryptosuite:
    """The registered suite for ``proof``.

    Raises :class:`UnsupportedCryptosuiteError` for a proof type or cryptosuite
    microcred does not implement, and :class:`MalformedProofError` for a proof whose
    ``type`` is not a string or a ``DataIntegrityProof`` without a ``cryptosuite``.
    """
    proof_type = proof.get("type")
    if not isinstance(proof_type, str) or not proof_type:
        raise MalformedProofError(f"the proof's type must be a string, not {proof_type!r}")
    cryptosuite = proof.get("cryptosuite") if proof_type == "DataIntegrityProof" else None
    if proof_type == "DataIntegrityProof" and (not isinstance(cryptosuite, str) or not cryptosuite):
        raise MalformedProofError("a DataIntegrityProof must name its cryptosuite")
    suite = _SUITES.get((proof_type, cryptosuite))
    if suite is None:
        what = cryptosuite or proof_type
        raise UnsupportedCryptosuiteError(f"the proof uses {what!r}, which microcred does not support",
                                          details={"type": proof_type, "cryptosuite": proof.get("cryptosuite")})
    return suite


def is_supported(proof: object) -> bool:
    """Whether ``proof`` names a proof type (and cryptosuite) microcred implements."""
    if not isinstance(proof, dict):
        return False
    try:
        suite_for(proof)
    except UnsupportedCryptosuiteError:
        return False
    except MalformedProofError:
        return True  # understood but malformed: it is checked, and fails
    return True


def verify_proofs(document: dict[str, Any], resolve_key: KeyResolver, *, engine: JsonLdEngine | None = None,
                  expected_purpose: str = "assertionMethod", now: datetime | None = None,
                  skew: timedelta = CLOCK_SKEW) -> ProofSetResult:
    """Check every proof on ``document``; never raises for a bad credential.

    Verify Proof Sets and Chains (VC Data Integrity 1.0, section 4.5), running Verify
    Proof (section 4.4) on each proof. Each result says verified, failed or unsupported;
    keys are resolved only for supported proofs. With ``now`` (timezone-aware), each
    proof's ``created``/``expires`` is checked too (:func:`check_proof_dates`); without
    it, no date is checked. Raises ``ValueError`` only for a naive ``now``.
    """
    if now is not None and now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    engine = engine or default_engine()
    try:
        unsecured, proofs = split_proofs(document)
    except CredentialError as exc:
        return ProofSetResult(error=exc)
    outcome = ProofSetResult([_verify_proof(proof, unsecured, proofs, resolve_key, engine,
                                            expected_purpose, now, skew) for proof in proofs])
    _require_verified_predecessors(outcome.results)
    return outcome


def _verify_proof(proof: dict[str, Any], unsecured: dict[str, Any], all_proofs: list[dict[str, Any]],
                  resolve_key: KeyResolver, engine: JsonLdEngine, expected_purpose: str, now: datetime | None,
                  skew: timedelta) -> ProofResult:
    """Verify Proof (VC Data Integrity 1.0, section 4.4) for one proof of a set or chain."""
    result = ProofResult(proof)
    try:
        suite = suite_for(proof)
    except UnsupportedCryptosuiteError as exc:
        result.status, result.error = UNSUPPORTED, exc
        return result
    except CredentialError as exc:
        result.error = exc
        return result
    try:
        # (4) type, verificationMethod and proofPurpose (and the signature) must exist.
        check_proof_shape(proof, proof_type=suite.proof_type, signature_property=suite.signature_property)
        # (5) the purpose must be the expected one.
        if proof["proofPurpose"] != expected_purpose:
            raise MalformedProofError(
                f"the proof's purpose is {proof['proofPurpose']!r}, not {expected_purpose!r}",
                code="wrong_proof_purpose")
        # The proof's validity period (sections 2.1 and 2.6).
        if now is not None:
            check_proof_dates(proof, now, skew)
        result.public_key = resolve_key(proof["verificationMethod"])
        # (8) the cryptosuite's verifyProof, over the input the proof was made on (4.5).
        if suite.verify(chain_input(unsecured, proof, all_proofs), proof, result.public_key, engine):
            result.status = VERIFIED
        else:
            result.error = SignatureMismatchError(
                "the signature does not match the credential: it was changed after signing, "
                "or signed with another key")
    except CredentialError as exc:
        result.error = exc
    return result


def _require_verified_predecessors(results: list[ProofResult]) -> None:
    """A chained proof "can only be considered verified if the proofs it references are
    also considered verified" (section 4.5): it takes an unverified predecessor's status."""
    by_id = {r.proof.get("id"): r for r in results if isinstance(r.proof.get("id"), str)}
    changed = True
    while changed:
        changed = False
        for result in results:
            prev = result.proof.get("previousProof") if result.verified else None
            for pid in (prev if isinstance(prev, list) else [prev] if prev is not None else []):
                predecessor = by_id.get(pid)
                if predecessor is None or predecessor.verified:
                    continue
                if predecessor.unsupported:
                    result.status = UNSUPPORTED
                    result.error = UnsupportedCryptosuiteError(
                        f"the proof chains to {pid}, whose type microcred does not support",
                        details=dict(predecessor.error.details) if predecessor.error else {})
                else:
                    result.status = FAILED
                    result.error = CredentialError(f"the proof chains to {pid}, which does not verify",
                                                   code="previous_proof_unverified", details={"previous_proof": pid})
                changed = True
                break
