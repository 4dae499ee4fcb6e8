"""The verifier's one Prometheus metric: verifications answered, by outcome.

``microcred_verifications_total{outcome}``: ``verified``, ``not_verified`` or ``indeterminate``
(:attr:`verifier.report.VerificationReport.outcome`: "could not check"), counted once per report
the page or the API gives. It lives in prometheus_client's default registry, so an app that mounts
the verifier blueprint (the issuer's ``/verify``) serves it with its own metrics; the verifier
never imports the issuer. No label holds a link, a host or a person.

The standalone verifier (``microcred verifier serve``) serves ``/metrics`` itself
(:func:`metrics_response`), to direct loopback clients only (127.0.0.1 or ::1, and no
``Forwarded``/``X-Forwarded-For`` header, so a reverse proxy on the host does not publish it);
others get 404. With ``PROMETHEUS_MULTIPROC_DIR`` set it sums every gunicorn worker's values, as the
issuer's does (docs/operations.md).
"""
from __future__ import annotations

import os

from flask import Response, request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, generate_latest, multiprocess

from ..report import VerificationReport

__all__ = ["VERIFICATIONS", "count_verification", "metrics_response"]

LOOPBACK = ("127.0.0.1", "::1")

VERIFICATIONS = Counter("microcred_verifications", "Verifications answered, by outcome", ["outcome"])


def count_verification(report: VerificationReport) -> VerificationReport:
    """Count ``report``'s outcome; returns it."""
    VERIFICATIONS.labels(outcome=report.outcome).inc()
    return report


def metrics_response() -> Response:
    """``/metrics`` of the standalone verifier: the default registry (or every worker's, in multiprocess mode)."""
    if request.remote_addr not in LOOPBACK or request.headers.get("Forwarded") or \
            request.headers.get("X-Forwarded-For"):
        return Response("Not Found\n", 404, mimetype="text/plain")
    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    response = Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
    response.headers["Cache-Control"] = "no-store"
    return response
