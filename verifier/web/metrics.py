"""The verifier's one Prometheus metric: verifications answered, by outcome.

``microcred_verifications_total{outcome}``: ``verified``, ``not_verified`` or ``indeterminate``
(:attr:`verifier.report.VerificationReport.outcome`: "could not check"), counted once per report
the page or the API gives. It lives in prometheus_client's default registry, so an app that mounts
the verifier blueprint (the issuer's ``/verify``) serves it with its own metrics; the verifier
never imports the issuer. No label holds a link, a host or a person.
"""
from __future__ import annotations

from prometheus_client import Counter

from ..report import VerificationReport

__all__ = ["VERIFICATIONS", "count_verification"]

VERIFICATIONS = Counter("microcred_verifications", "Verifications answered, by outcome", ["outcome"])


def count_verification(report: VerificationReport) -> VerificationReport:
    """Count ``report``'s outcome; returns it."""
    VERIFICATIONS.labels(outcome=report.outcome).inc()
    return report
