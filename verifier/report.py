"""The verification report: one result per check, and a summary a recruiter can read.

Every check has a stable id (:data:`CHECKS`), a status (passed, failed,
indeterminate or skipped), a stable reason code for anything but a pass, a
plain-language message and details. ``verified`` is true only when nothing
failed or was indeterminate and the key, issuer binding and proof checks passed.
A report is deliberately not usable as a boolean: ask ``report.verified``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PASSED = "passed"
FAILED = "failed"
INDETERMINATE = "indeterminate"
SKIPPED = "skipped"

CHECKS = ("parse", "contexts", "schema", "key", "issuer_binding", "proof", "validity", "status",
          "recipient", "endorsements")
CHECK_TITLES = {
    "parse": "Readable credential",
    "contexts": "Known vocabularies",
    "schema": "Open Badges data model",
    "key": "Issuer's key found",
    "issuer_binding": "Key belongs to the issuer",
    "proof": "Signature",
    "validity": "Dates",
    "status": "Not revoked",
    "recipient": "Recipient",
    "endorsements": "Endorsements",
}
REQUIRED_PASSES = ("key", "issuer_binding", "proof")
# Open Badges 2.0 hosted assertions carry no signature: trust comes from fetching the
# assertion from the issuer's own origin, so "key" and "proof" are skipped for that reason.
HOSTED = "hosted_verification"

# Plain-language explanations for reason codes; the specific technical message is
# kept in details["error"].
EXPLANATIONS = {
    "not_json": "This is not a credential: it is neither JSON, a signed token (JWT) nor a badge image.",
    "not_a_credential": "This JSON is not a verifiable credential.",
    "too_large": "The input is larger than a credential can be.",
    "too_complex": "The credential is nested too deeply or holds too many values to be checked safely.",
    "missing_base_context": "The credential does not start with the W3C Verifiable Credentials vocabulary.",
    "unknown_context": "The credential uses a vocabulary (JSON-LD @context) this verifier does not know; "
                       "it is never downloaded, so the credential cannot be checked.",
    "dropped_term": "The credential contains data that no vocabulary defines; it would not be covered by the "
                    "signature, so the credential is rejected.",
    "non_term_key": "A property is spelled as a web address instead of by its name, which would hide it from "
                    "the checks while the signature still matches; the credential is rejected.",
    "keyword_not_allowed": "The credential uses a JSON-LD feature (such as @nest, @included or @reverse) that "
                           "can hide signed data from the checks; the credential is rejected.",
    "alias_of_checked_property": "A property is given under another name for a property the checks read; the "
                                 "credential is rejected.",
    "non_term_type": "A type is spelled as a web address instead of by its name; the credential is rejected.",
    "inline_context_alias": "The credential's own vocabulary renames data the checks read; the credential is "
                            "rejected.",
    "inline_context_not_allowed": "The credential's own vocabulary uses a feature that could change what its "
                                  "data means; the credential is rejected.",
    "node_described_twice": "Part of the credential is described in two places, so some signed data would not "
                            "be checked; the credential is rejected.",
    "blocked_by_contexts": "Not checked: the credential's vocabulary or spelling cannot be trusted.",
    "jsonld_error": "The credential's linked-data structure is invalid.",
    "canonicalization_limit": "The credential's data is too complex to check safely.",
    "schema_violation": "The credential does not follow the Open Badges 3.0 data model.",
    "no_subject_identifier": "The credential does not say who earned it (no subject id or identifier).",
    "no_proof": "The credential is not signed.",
    "malformed_proof": "The signature block is malformed.",
    "unsupported_cryptosuite": "The credential is signed with a method this verifier does not support.",
    "signature_mismatch": "The signature does not match: the credential was changed after it was signed, "
                          "or it was signed with a different key.",
    "wrong_proof_purpose": "The signature was not made for issuing credentials.",
    "previous_proof_missing": "A signature refers to another signature that is not there.",
    "key_unresolvable": "The issuer's public key could not be retrieved right now.",
    "key_not_found": "The key named in the signature is not published by its owner.",
    "unsupported_key": "The issuer's key is of a kind this verifier does not support.",
    "invalid_did": "The issuer's identifier (DID) is malformed.",
    "did_document_mismatch": "The issuer's published key document is inconsistent.",
    "key_not_controlled_by_issuer": "The signature is valid, but it was made with a key the issuer does not "
                                    "control: someone else signed this credential.",
    "method_not_in_assertion_method": "The key belongs to the issuer but is not authorised to issue credentials.",
    "key_from_another_origin": "The key is published on a different website than the issuer's.",
    "jwk_not_issuers": "The token carries its own key, and that key is not the issuer's.",
    "key_type_mismatch": "The signature algorithm does not fit the issuer's key.",
    "alg_none": "The token is not signed (algorithm 'none').",
    "alg_not_allowed": "The token uses a signature algorithm that is not allowed.",
    "invalid_jws": "The signed token is malformed.",
    "malformed_jws": "The signed token is malformed.",
    "not_a_jws": "This is an encrypted token, not a signed one.",
    "unsupported_header": "The token asks for processing this verifier does not support.",
    "private_key_in_header": "The token exposes a private key; it cannot be trusted.",
    "jwt_ambiguous_credential": "The signed token carries two credentials (one in its body and one in its 'vc' "
                                "claim), so it is unclear which one was checked; it is rejected.",
    "jwt_claims_mismatch": "The token's claims disagree with the credential inside it.",
    "not_yet_valid": "The credential is not valid yet.",
    "expired": "The credential has expired.",
    "invalid_date": "The credential's dates are malformed.",
    "revoked": "The issuer has revoked this credential.",
    "suspended": "The issuer has suspended this credential.",
    "status_list_unreachable": "Revocation status could not be checked: the issuer's status list could not "
                               "be retrieved.",
    "status_list_untrusted": "The issuer's status list is not trustworthy (its signature or issuer does not "
                             "check out).",
    "status_list_from_another_issuer": "The status list was published by someone other than the issuer.",
    "recipient_mismatch": "The credential was not issued to the person you named.",
    "no_recipient_to_compare": "The credential holds no identifier to compare the recipient with.",
    "endorsement_invalid": "An endorsement attached to the credential does not verify.",
    "network_forbidden": "Checking this needs the network, which is turned off (offline mode).",
    "unreachable": "The credential could not be retrieved from its URL.",
}


@dataclass(frozen=True)
class CheckResult:
    check: str
    status: str
    message: str
    reason: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"check": self.check, "status": self.status, "reason": self.reason,
                "message": self.message, "details": self.details}


def explain(reason: str, fallback: str) -> str:
    return EXPLANATIONS.get(reason, fallback)


class VerificationReport:
    """The outcome of verifying one credential."""

    def __init__(self, checks: list[CheckResult], summary: dict[str, Any] | None = None):
        self.checks = list(checks)
        self.summary = summary or {}

    def check(self, check_id: str) -> CheckResult | None:
        return next((c for c in self.checks if c.check == check_id), None)

    @property
    def verified(self) -> bool:
        if any(c.status in (FAILED, INDETERMINATE) for c in self.checks):
            return False
        proof = self.check("proof")
        hosted = proof is not None and proof.status == SKIPPED and proof.reason == HOSTED
        for required in REQUIRED_PASSES:
            check = self.check(required)
            if hosted and required != "issuer_binding" and (check is None or check.status == SKIPPED):
                continue
            if check is None or check.status != PASSED:
                return False
        return True

    @property
    def outcome(self) -> str:
        """``verified``, ``not_verified`` (something failed) or ``indeterminate``."""
        if self.verified:
            return "verified"
        if any(c.status == FAILED for c in self.checks):
            return "not_verified"
        return "indeterminate"

    @property
    def headline(self) -> str:
        if self.outcome == "verified":
            proven = self.summary.get("issuer", {}).get("proven")
            return f"Verified: issued by {proven}." if proven else "Verified."
        if self.outcome == "not_verified":
            failed = next(c for c in self.checks if c.status == FAILED)
            return f"Not verified: {failed.message}"
        pending = next((c for c in self.checks if c.status == INDETERMINATE), None)
        return f"Could not be fully checked: {pending.message}" if pending else "Could not be checked."

    def to_dict(self) -> dict:
        return {"verified": self.verified, "outcome": self.outcome, "headline": self.headline,
                "summary": self.summary, "checks": [c.to_dict() for c in self.checks]}

    def __bool__(self) -> bool:
        raise TypeError("a VerificationReport is not a boolean; use report.verified")

    def __repr__(self) -> str:
        return f"<VerificationReport {self.outcome}: {', '.join(f'{c.check}={c.status}' for c in self.checks)}>"
