"""The issuer's Prometheus metrics: defined once here, counted where the work happens, served at ``/metrics``.

Every metric lives in prometheus_client's default registry (the verifier's own,
:mod:`verifier.web.metrics`, too), so :mod:`issuer.web.observability` serves them all. Labels are
small closed sets (an endpoint's name, a status class, an issuing path, a kind of email): never a
raw path, an id, an address or a name, so the label set cannot grow with traffic and holds no
personal data.

=====================================  =========  ======================================================
``microcred_http_requests_total``      counter    ``endpoint`` (Flask endpoint name), ``status`` (2xx..5xx)
``microcred_http_request_seconds``     histogram  ``endpoint``, ``status``
``microcred_awards_issued_total``      counter    ``path``: ``single`` (console, CLI), ``api``, ``bulk``
``microcred_mail_failures_total``      counter    ``kind`` (a MailKind value: awarded, revoked, sign_in, ...)
``microcred_mail_outbox_messages``     gauge      ``state``: ``due``, ``failing`` (read at scrape time)
=====================================  =========  ======================================================

Multiprocess (gunicorn's workers): prometheus_client's multiprocess mode is used when
``PROMETHEUS_MULTIPROC_DIR`` names an empty, writable folder in the environment of
``microcred serve`` (read by the library when it is first imported); ``/metrics`` then sums every
worker's values. Without it each worker answers with its own counts (docs/operations.md).
"""
from __future__ import annotations

from enum import StrEnum

from prometheus_client import Counter, Histogram

from issuer.mail.kinds import MailKind

__all__ = ["AWARDS_ISSUED", "MAIL_FAILURES", "REQUESTS", "REQUEST_SECONDS", "IssuePath", "award_path",
           "count_awards", "count_mail_failure"]


class IssuePath(StrEnum):
    """Where an award was issued from (the ``path`` label)."""

    SINGLE = "single"       # the HR console or ``microcred award``
    API = "api"             # the REST API (a token's actor, ``api:...``)
    BULK = "bulk"           # a bulk run


REQUESTS = Counter("microcred_http_requests", "HTTP requests answered, by endpoint name and status class",
                   ["endpoint", "status"])
REQUEST_SECONDS = Histogram("microcred_http_request_seconds", "Time to answer an HTTP request",
                            ["endpoint", "status"])
AWARDS_ISSUED = Counter("microcred_awards_issued", "Awards issued (committed), by issuing path", ["path"])
MAIL_FAILURES = Counter("microcred_mail_failures", "Email deliveries that failed (to be retried)", ["kind"])


def award_path(actor: str) -> IssuePath:
    """The issuing path of an ``actor`` string (``api:token-1``: the API; anything else: single)."""
    return IssuePath.API if actor.startswith("api:") else IssuePath.SINGLE


def count_awards(path: IssuePath, number: int = 1) -> None:
    """Count ``number`` awards committed through ``path``."""
    if number > 0:
        AWARDS_ISSUED.labels(path=path.value).inc(number)


def count_mail_failure(kind: str | None) -> None:
    """Count one failed delivery of an email of ``kind`` (None or unknown kinds: ``other``)."""
    known = {k.value for k in MailKind}
    MAIL_FAILURES.labels(kind=kind if kind in known else "other").inc()
