"""The HR REST API, ``/api/v1``: achievements, awards, recipients, skills, bulk issuance.

Register it (and the VC-API endpoints of :mod:`issuer.web.vcapi`) on the app with::

    from issuer.web.api import register_api
    register_api(app)

========================================  =======  ======================================================
route                                     scope    what
========================================  =======  ======================================================
``GET  /achievements``                    read     every achievement
``POST /achievements``                    admin    define one (the CLI's rules, plus a dry-run issuance)
``GET  /achievements/{ref}``              read     one achievement, by id or slug
``PUT  /achievements/{ref}``              admin    replace its definition (same rules; the slug stays)
``GET  /awards``                          read     filter ``achievement``, ``state``, ``email``,
                                                   ``expiring_within_days``; cursor pagination
``POST /awards``                          issue    issue one; ``Idempotency-Key`` honoured
``POST /awards/bulk``                     issue    CSV body or multipart ``file``; ``?dry_run=true``;
                                                   ``?async=true``: 202 and a bulk job issued in the background
``GET  /bulk-jobs/{id}``                  read     a background bulk job: state, progress, counts
``GET  /bulk-jobs/{id}/results``          read     its result CSV (each row's credential URL or error)
``POST /bulk-jobs/{id}/cancel``           issue    stop it after the chunk it is issuing (202; 409 if idle)
``POST /bulk-jobs/{id}/start``            issue    start again a failed or cancelled job: the rest is issued
``GET  /awards/{id}``                     read     one award with its signed credential
``POST /awards/{id}/revoke|suspend|``     issue    ``{"reason": "..."}``
``unsuspend``
``POST /awards/{id}/renew``               issue    a new credential; the old award is superseded
``GET  /recipients``                      read     filter ``email``; cursor pagination
``GET  /recipients/{id}``                 read     one recipient with their awards
``GET  /vcapi-credentials``               read     credentials signed through the VC-API, with who asked;
                                                   filter ``state``; cursor pagination
``POST /vcapi-credentials/{id}/revoke|``  issue    ``{"reason": "..."}``: the same status change as awards
``suspend|unsuspend``
``GET  /skills``                          read     people per skill from active, valid awards
``GET  /skills/coverage?skill=..``        read     who has every skill asked for, who misses which
``GET  /openapi.json``                    (none)   the OpenAPI 3.1 description of all of this
========================================  =======  ======================================================

Authentication: ``Authorization: Bearer <token>`` (:mod:`issuer.access.tokens`); scopes
read < issue < admin. Every error is an RFC 9457 ``application/problem+json`` body with
``title``, ``status`` and ``detail`` (and a ``code``, the ``field`` a refusal is about, or ``errors``): 400 malformed
request, 401 no or bad token, 403 scope too small, 404 unknown object, 409 conflict,
413 body too large (JSON: 2 MiB, CSV: 10 MiB), 415 wrong media type, 422 invalid content,
429 too many requests with this token (600 a minute per server process; ``Retry-After``),
503 issuer not set up. Only objects of this installation's
issuer are ever visible or changeable.
"""
from __future__ import annotations

import os

from flask import Flask
from limits import parse as parse_rate

from issuer.config import ConfigError
from issuer.web import vcapi
from issuer.web.api import (  # noqa: F401  (their routes)
    achievements,
    awards,
    bulk,
    docs,
    recipients,
    skills,
    vcapi_credentials,
)
from issuer.web.api.common import API_RATE_LIMIT, bp


def register_api(app: Flask) -> None:
    """Register ``/api/v1`` and the VC-API endpoints (with their configuration) on ``app``.

    Configuration (``app.config``, defaulting from the environment): ``VCAPI_ISSUER``
    (``$MICROCRED_VCAPI_ISSUER``: ``did:web``, the default, or ``did:key``), ``API_RATE_LIMIT``
    (``$MICROCRED_API_RATE_LIMIT``, default ``600/minute`` per token and process), ``VCAPI_OPEN``
    (``$MICROCRED_VCAPI_OPEN=1``: the verify endpoints need no token), ``VCAPI_ISSUING``
    (``$MICROCRED_VCAPI_ISSUING=1``: ``/credentials/issue`` is on; off by default), ``VCAPI_FETCH_POLICY``
    (a :class:`verifier.fetcher.FetchPolicy` for verification; default: public https only)
    and ``VCAPI_OFFLINE`` (verify without any network access).
    """
    if "api" in app.blueprints:
        return
    app.config.setdefault("VCAPI_ISSUER", os.environ.get("MICROCRED_VCAPI_ISSUER") or "did:web")
    app.config.setdefault("VCAPI_OPEN", os.environ.get("MICROCRED_VCAPI_OPEN") == "1")
    app.config.setdefault("VCAPI_ISSUING", os.environ.get("MICROCRED_VCAPI_ISSUING") == "1")
    app.config.setdefault("VCAPI_FETCH_POLICY", None)
    app.config.setdefault("VCAPI_OFFLINE", False)
    app.config.setdefault("API_RATE_LIMIT", os.environ.get("MICROCRED_API_RATE_LIMIT") or API_RATE_LIMIT)
    try:
        parse_rate(app.config["API_RATE_LIMIT"])
    except ValueError:
        raise ConfigError(f"MICROCRED_API_RATE_LIMIT must be a rate such as '600/minute', not "
                          f"{app.config['API_RATE_LIMIT']!r}") from None
    if app.config["VCAPI_ISSUER"] not in ("did:web", "did:key"):
        raise ConfigError(f"MICROCRED_VCAPI_ISSUER must be 'did:web' or 'did:key', not "
                          f"{app.config['VCAPI_ISSUER']!r}")
    app.register_blueprint(bp)
    app.register_blueprint(vcapi.bp)
