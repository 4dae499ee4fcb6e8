"""The public, read-only documents a verifier fetches from the issuer.

==============================================  =========================  ===========================
path                                            document                   media type
==============================================  =========================  ===========================
``/.well-known/did.json`` (``/did.json``)       DID document (all keys)    ``application/did+json``
``/issuer``                                     OB 3.0 issuer Profile      ``application/ld+json``
``/.well-known/jwks.json``                      public keys as a JWK Set   ``application/json``
``/status/<purpose>/<n>``                       signed status list         ``application/vc+ld+json``
``/achievements/<id>``                          the Achievement            ``application/ld+json``
``/healthz``                                    ``{"status": "ok"}``       ``application/json``
==============================================  =========================  ===========================

The credential URL (``/credentials/<award id>``, content-negotiated) is served by
:mod:`issuer.web.pages`, which builds on this module (:func:`stored_response`, the media types).
Every view asks :class:`issuer.public_service.PublicService` for one document and sends it; an
unknown one is a 404 and an installation without an issuer a 503 (the app's handler of the
error tree). Cache headers, ETags and 304s: :mod:`issuer.web.caching` (the times: ``docs/caching.md``).
The DID document lives at ``/did.json`` instead when the base URL has a path
(did:web with path segments, :attr:`issuer.config.Settings.did_document_path`). Every URL inside a
document comes from the configured base URL, never from the request's Host header. Only public
key material is ever served.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, current_app

from issuer.public_service import PublicService
from issuer.web.caching import Freshness, send

bp = Blueprint("public", __name__)

HTML = "text/html"
VC_LD = "application/vc+ld+json"
VC_JWT = "application/vc+jwt"
LD = "application/ld+json"


def service() -> PublicService:
    return current_app.extensions["microcred"].use.public


def _json(document: Any, mimetype: str, freshness: Freshness = Freshness.IDENTITY) -> Response:
    return stored_response(json.dumps(document, ensure_ascii=False), mimetype, freshness)


def stored_response(body: str | bytes, mimetype: str, freshness: Freshness, *,
                    last_modified: datetime | None = None, vary: str | None = None) -> Response:
    """``body`` exactly as given, with the cache headers of ``freshness`` (304 when the request's
    validators match: :func:`issuer.web.caching.send`)."""
    response = send(body, mimetype, freshness, last_modified=last_modified, vary=vary)
    # Public documents, no cookies: browser-based verifiers must be able to read them.
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def did_json() -> Response:
    """The DID document: every key the issuer ever used, current and retired (registered by the app
    at :attr:`~issuer.config.Settings.did_document_path`)."""
    return _json(service().did_document(), "application/did+json")


@bp.get("/issuer")
def issuer_profile() -> Response:
    return _json(service().issuer_profile(), LD)


@bp.get("/.well-known/jwks.json")
def jwk_set() -> Response:
    return _json(service().jwks(), "application/json")


@bp.get("/status/<purpose>/<int(min=1):number>")
def status_list(purpose: str, number: int) -> Response:
    """The signed BitstringStatusListCredential, cached briefly so revocations show quickly
    (``Last-Modified``: when it was last re-signed)."""
    published = service().published_status_list(purpose, number)
    return stored_response(published.credential, VC_LD, Freshness.STATUS_LIST, last_modified=published.updated_at)


@bp.get("/achievements/<achievement_id>")
def achievement(achievement_id: str) -> Response:
    """The Achievement as credentials embed it (creator = the issuer's Profile), as JSON-LD."""
    return _json(service().achievement(achievement_id), LD)


@bp.get("/healthz")
def healthz() -> Response:
    service().check_database()
    return _json({"status": "ok"}, "application/json", Freshness.NO_STORE)
