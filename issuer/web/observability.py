"""Readiness, metrics and request ids: the operational surface of the issuer's web app.

:func:`register_observability` adds to the app:

* ``GET /readyz``: the named checks of :mod:`issuer.readiness` as JSON; 200 when every required
  check passes (the database), else 503 with ``Retry-After``. (``/healthz``, liveness, is
  :mod:`issuer.web.public`'s.)
* ``GET /metrics``: prometheus_client's text format (every metric of :mod:`issuer.metrics` and
  :mod:`verifier.web.metrics`, the outbox gauge read at scrape time). Operational data, so not
  public: with ``MICROCRED_METRICS_TOKEN`` set, only a request with ``Authorization: Bearer
  <token>`` (compared in constant time) reads it, from anywhere; without it, only a direct
  loopback client does (127.0.0.1 or ::1 and no ``Forwarded``/``X-Forwarded-For`` header, so a
  reverse proxy on the same host does not open it to the world). Others get 404, as if absent.
* a request id on every request: a well-formed incoming ``X-Request-Id`` (1-64 of letters, digits,
  ``-``, ``_``, ``.``, ``:``) is kept, anything else is replaced by a new random one; it is on
  :data:`flask.g` (so every log record of the request carries it, :mod:`issuer.personal_data.logs_json`)
  and on the response's ``X-Request-Id``.
* per request: ``microcred_http_requests_total`` and ``microcred_http_request_seconds`` labelled by the
  endpoint's name (``public.healthz``, ``admin.award``; ``unmatched`` for a 404 without a route: never
  the raw path) and the status class (``2xx``); and one ``issuer.access`` log record (INFO; the
  path without query string, addresses in it redacted; ``[no route]`` for a path without a route,
  which is whatever the client typed), which the JSON log writes and the text log leaves to gunicorn.

Multiprocess: with ``PROMETHEUS_MULTIPROC_DIR`` set, ``/metrics`` sums every gunicorn worker's files
(prometheus_client's multiprocess collector); without it, each worker answers its own counts.
"""
from __future__ import annotations

import hmac
import logging
import os
import re
import time
import uuid

from flask import Blueprint, Flask, Response, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Gauge, generate_latest, multiprocess

from issuer.metrics import REQUEST_SECONDS, REQUESTS
from issuer.personal_data.logs import ADDRESS
from issuer.personal_data.logs_json import REQUEST_ID_KEY
from issuer.readiness import outbox_counts, queue_counts, run_checks

__all__ = ["METRICS_TOKEN_ENV", "REQUEST_ID_HEADER", "bp", "register_observability", "request_id_for"]

REQUEST_ID_HEADER = "X-Request-Id"
METRICS_TOKEN_ENV = "MICROCRED_METRICS_TOKEN"  # noqa: S105 - the variable's name
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
WELL_FORMED_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
LOOPBACK = ("127.0.0.1", "::1")
UNMATCHED_PATH = "[no route]"       # a path without a route is whatever the client typed: not logged
OUTBOX = Gauge("microcred_mail_outbox_messages", "Unsent emails in the outbox: due now, and failed at least once",
               ["state"], multiprocess_mode="mostrecent")
QUEUE = Gauge("microcred_queue_tasks", "Background work: bulk jobs waiting and running; with the PostgreSQL queue "
              "its tasks waiting, running and failed, and live workers", ["state"], multiprocess_mode="mostrecent")

bp = Blueprint("observability", __name__)
access_log = logging.getLogger("issuer.access")


def request_id_for(incoming: str | None) -> str:
    """``incoming`` when well-formed, else a new random id (32 hex digits)."""
    if incoming and WELL_FORMED_ID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


def _state():       # the app's WebState (issuer.web.app)
    return current_app.extensions["microcred"]


@bp.get("/readyz")
def readyz() -> Response:
    state = _state()
    readiness = run_checks(state.sessions, state.clock(), queue=state.use.runtime.queue)
    response = current_app.json.response(readiness.to_dict())
    response.status_code = 200 if readiness.ready else 503
    response.headers["Cache-Control"] = "no-store"
    if not readiness.ready:
        response.headers["Retry-After"] = "5"
    return response


def _may_read_metrics() -> bool:
    token = current_app.config.get("METRICS_TOKEN")
    if token:
        given = request.headers.get("Authorization", "")
        return given.startswith("Bearer ") and hmac.compare_digest(given[7:].encode(), token.encode())
    forwarded = request.headers.get("Forwarded") or request.headers.get("X-Forwarded-For")
    return request.remote_addr in LOOPBACK and not forwarded


@bp.get("/metrics")
def metrics() -> Response:
    if not _may_read_metrics():
        return Response("Not Found\n", 404, mimetype="text/plain")
    state = _state()
    try:
        for name, value in outbox_counts(state.sessions, state.clock()).items():
            OUTBOX.labels(state=name).set(value)
        for name, value in queue_counts(state.sessions, state.use.runtime.queue).items():
            QUEUE.labels(state=name).set(value)
    except Exception:   # noqa: BLE001 - the database is down: the other metrics still answer (see /readyz)
        access_log.warning("metrics: the outbox or the task queue could not be counted")
    registry = REGISTRY
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    response = Response(generate_latest(registry), mimetype=None, content_type=CONTENT_TYPE_LATEST)
    response.headers["Cache-Control"] = "no-store"
    return response


def _begin() -> None:
    g.observed_at = time.perf_counter()
    g.setdefault(REQUEST_ID_KEY, request_id_for(request.headers.get(REQUEST_ID_HEADER)))


def _finish(response: Response) -> Response:
    request_id = g.get(REQUEST_ID_KEY) or request_id_for(request.headers.get(REQUEST_ID_HEADER))
    response.headers[REQUEST_ID_HEADER] = request_id
    started = g.get("observed_at")
    seconds = time.perf_counter() - started if started is not None else 0.0
    endpoint = request.endpoint or "unmatched"
    status = f"{response.status_code // 100}xx"
    REQUESTS.labels(endpoint=endpoint, status=status).inc()
    REQUEST_SECONDS.labels(endpoint=endpoint, status=status).observe(seconds)
    path = UNMATCHED_PATH if request.endpoint is None else ADDRESS.sub("[address]", request.path)
    access_log.info("%s %s %s", request.method, path, response.status_code,
                    extra={"method": request.method, "endpoint": endpoint, "path": path,
                           "status": response.status_code, "duration_ms": round(seconds * 1000, 1)})
    return response


def register_observability(app: Flask) -> None:
    """``/readyz``, ``/metrics``, request ids and request metrics on ``app`` (see the module docstring)."""
    app.config.setdefault("METRICS_TOKEN", os.environ.get(METRICS_TOKEN_ENV) or None)
    app.register_blueprint(bp)
    app.before_request_funcs.setdefault(None, []).insert(0, _begin)     # first: every later record has the id
    app.after_request(_finish)
