"""The verification report: one result per check, and a summary a recruiter can read.

Every check has a stable id (:class:`~verifier.registry.CheckId`), a status (passed, failed,
indeterminate, skipped or warning), a registered reason code for anything but a pass, a
plain-language message and details. ``verified`` is true only when nothing failed or was
indeterminate and the key, issuer binding and proof checks passed; warnings (data-model
deviations, a bad endorsement) do not stop it, and are listed in ``warnings``. A report is
deliberately not usable as a boolean: ask ``report.verified``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from .plain import issuer_words, reason_words
from .registry import CHECK_ORDER, CHECK_TITLES, REASONS, REQUIRED_PASSES, CheckId, Status, explain

PASSED = Status.PASSED
FAILED = Status.FAILED
INDETERMINATE = Status.INDETERMINATE
SKIPPED = Status.SKIPPED
WARNING = Status.WARNING

CHECKS = tuple(str(c) for c in CHECK_ORDER)
# Open Badges 2.0 hosted assertions carry no signature: trust comes from fetching the
# assertion from the issuer's own origin, so "key" and "proof" are skipped for that reason.
HOSTED = "hosted_verification"
EXPLANATIONS = MappingProxyType({code: info.message for code, info in REASONS.items()})

__all__ = ["PASSED", "FAILED", "INDETERMINATE", "SKIPPED", "WARNING", "CHECKS", "CHECK_TITLES", "HOSTED",
           "EXPLANATIONS", "CheckResult", "VerificationReport", "explain"]


@dataclass(frozen=True)
class CheckResult:
    check: str
    status: str
    message: str
    reason: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"check": str(self.check), "status": str(self.status), "reason": self.reason,
                "message": self.message, "details": self.details}


_RANK: dict[str, int] = {str(c): i for i, c in enumerate(CHECK_ORDER)}


def _order_of(result: CheckResult) -> int:
    """Where ``result`` comes in a report (:data:`~verifier.registry.CHECK_ORDER`; unknown ids last)."""
    return _RANK.get(result.check, len(CHECK_ORDER))


class VerificationReport:
    """The outcome of verifying one credential."""

    def __init__(self, checks: list[CheckResult], summary: dict[str, Any] | None = None):
        self.checks = sorted(checks, key=_order_of)
        self.summary = summary or {}

    def check(self, check_id: str) -> CheckResult | None:
        return next((c for c in self.checks if c.check == check_id), None)

    @property
    def warnings(self) -> list[CheckResult]:
        """Checks that found deviations which do not stop the verdict."""
        return [c for c in self.checks if c.status == WARNING]

    @property
    def verified(self) -> bool:
        if any(c.status in (FAILED, INDETERMINATE) for c in self.checks):
            return False
        proof = self.check("proof")
        hosted = proof is not None and proof.status == SKIPPED and proof.reason == HOSTED
        for required in REQUIRED_PASSES:
            check = self.check(required)
            if hosted and required != CheckId.ISSUER_BINDING and (check is None or check.status == SKIPPED):
                continue
            if check is None or check.status != PASSED:
                return False
        return True

    @property
    def outcome(self) -> str:
        """``verified``, ``not_verified`` (something failed) or ``indeterminate``."""
        return self._outcome(self.verified)

    def _outcome(self, verified: bool) -> str:
        if verified:
            return "verified"
        if any(c.status == FAILED for c in self.checks):
            return "not_verified"
        return "indeterminate"

    @property
    def headline(self) -> str:
        return self._headline(self.outcome)

    def _headline(self, outcome: str) -> str:
        """One sentence in plain words: the verdict, who issued it (the website the signature proved,
        never a raw DID) or the specific reason it did not verify (:mod:`verifier.plain`)."""
        if outcome == "verified":
            issuer = issuer_words(self.summary.get("issuer"))
            text = f"Verified: issued by {issuer}." if issuer else "Verified."
            count = len(self.warnings)
            return text + (f" ({count} warning{'s' if count > 1 else ''}, listed below.)" if count else "")
        if outcome == "not_verified":
            failed = next(c for c in self.checks if c.status == FAILED)
            return f"Not verified: {reason_words(failed.message, failed.details)}"
        pending = next((c for c in self.checks if c.status == INDETERMINATE), None)
        return (f"Could not be fully checked: {reason_words(pending.message, pending.details)}" if pending
                else "Could not be checked.")

    def to_dict(self) -> dict[str, Any]:
        verified = self.verified
        outcome = self._outcome(verified)
        return {"verified": verified, "outcome": outcome, "headline": self._headline(outcome),
                "summary": self.summary, "checks": [c.to_dict() for c in self.checks],
                "warnings": [c.to_dict() for c in self.warnings]}

    def __bool__(self) -> bool:
        raise TypeError("a VerificationReport is not a boolean; use report.verified")

    def __repr__(self) -> str:
        return f"<VerificationReport {self.outcome}: {', '.join(f'{c.check}={c.status}' for c in self.checks)}>"
