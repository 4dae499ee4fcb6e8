"""The public, read-only documents a verifier fetches from the issuer.

==============================================  =========================  ===========================
path                                            document                   media type
==============================================  =========================  ===========================
``/.well-known/did.json`` (``/did.json``)       DID document (all keys)    ``application/did+json``
``/issuer``                                     OB 3.0 issuer Profile      ``application/ld+json``
``/.well-known/jwks.json``                      public keys as a JWK Set   ``application/json``
``/status/<purpose>/<n>``                       signed status list         ``application/vc+ld+json``
``/credentials/<award id>``                     see below                  negotiated (``Accept``)
``/credentials/<award id>.jwt``                 its VC-JWT, when issued    ``application/vc+jwt``
``/achievements/<id>``                          the Achievement            ``application/ld+json``
``/healthz``                                    ``{"status": "ok"}``       ``application/json``
==============================================  =========================  ===========================

The credential URL (the credential's ``id``) answers by content negotiation: a browser
(``text/html`` preferred) gets the badge page (:mod:`issuer.web.pages`);
``application/vc+ld+json`` (also the default, for ``*/*`` or no ``Accept``),
``application/ld+json`` and ``application/json`` get the signed credential byte for byte as
issued, labelled with the type asked for; ``application/vc+jwt`` and ``text/plain`` get the
VC-JWT when one was issued. Anything else is 406. Revoked credentials still resolve.

The DID document lives at ``/did.json`` instead when the base URL has a path (did:web
with path segments). Every URL inside a document comes from the configured base URL,
never from the request's Host header. Only public key material is ever served.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, request
from sqlalchemy import select, text
from sqlalchemy.orm import Session
from werkzeug.exceptions import NotAcceptable, NotFound, ServiceUnavailable

from issuer.awards.credentials import achievement_document
from issuer.awards.status_lists import PURPOSES, get_list
from issuer.config import Settings
from issuer.db.models import Achievement, Award, Issuer
from issuer.identity import OB_CONTEXTS, did_document, jwks, profile, profile_document
from issuer.keys.keyring import all_keys

bp = Blueprint("public", __name__)

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
MAX_LIST_NUMBER = 2**31 - 1
DOCUMENT_CACHE = "public, max-age=60"   # short: rotations and revocations show within a minute
HTML = "text/html"
VC_LD = "application/vc+ld+json"
VC_JWT = "application/vc+jwt"
LD = "application/ld+json"


def did_document_path(settings: Settings) -> str:
    """Where the app serves the DID document, relative to the base URL (did:web rules)."""
    return "/did.json" if urlsplit(settings.base_url).path.strip("/") else "/.well-known/did.json"


def did_document_location(settings: Settings) -> str:
    """The DID document's full URL as this installation serves it (http for a local base URL)."""
    return settings.url(did_document_path(settings))


@contextmanager
def issuer_session() -> Iterator[tuple[Session, Issuer]]:
    """A session and this installation's issuer (503 before ``microcred init``)."""
    state = current_app.extensions["microcred"]
    with state.sessions() as session:
        issuer = session.scalars(select(Issuer).where(Issuer.did == state.settings.did)).one_or_none()
        if issuer is None:
            raise ServiceUnavailable("No issuer is set up for this installation yet.")
        yield session, issuer


def _settings() -> Settings:
    return current_app.extensions["microcred"].settings


def _json(document: Any, mimetype: str, cache: str = DOCUMENT_CACHE) -> Response:
    return stored_response(json.dumps(document, ensure_ascii=False), mimetype, cache)


def stored_response(body: str | bytes, mimetype: str, cache: str) -> Response:
    """``body`` exactly as given, with an ETag so caches can revalidate cheaply."""
    response = Response(body.encode("utf-8") if isinstance(body, str) else body, mimetype=mimetype)
    response.headers["Cache-Control"] = cache
    # Public documents, no cookies: browser-based verifiers must be able to read them.
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.add_etag()
    return response.make_conditional(request)


def did_json() -> Response:
    """The DID document: every key the issuer ever used, current and retired."""
    with issuer_session() as (session, issuer):
        return _json(did_document(issuer, all_keys(session, issuer)), "application/did+json")


@bp.get("/issuer")
def issuer_profile() -> Response:
    with issuer_session() as (_session, issuer):
        return _json(profile_document(issuer, _settings()), LD)


@bp.get("/.well-known/jwks.json")
def jwk_set() -> Response:
    with issuer_session() as (session, issuer):
        return _json(jwks(issuer, all_keys(session, issuer)), "application/json")


@bp.get("/status/<purpose>/<int(min=1):number>")
def status_list(purpose: str, number: int) -> Response:
    """The signed BitstringStatusListCredential, cached briefly so revocations show quickly."""
    if purpose not in PURPOSES or number > MAX_LIST_NUMBER:
        raise NotFound("There is no such status list.")
    with issuer_session() as (session, issuer):
        row = get_list(session, issuer, purpose, number)
        if row is None or row.credential is None:
            raise NotFound("There is no such status list.")
        return stored_response(row.credential, VC_LD, "public, max-age=60")


JSON_TYPES = (VC_LD, LD, "application/json")
JWT_TYPES = (VC_JWT, "text/plain")


def negotiate(has_jwt: bool) -> str | None:
    """The representation to send for the request's ``Accept``: a media type, ``text/html``, or None (406)."""
    offers = [*JSON_TYPES, HTML, *(JWT_TYPES if has_jwt else ())]
    if not request.accept_mimetypes:
        return VC_LD
    return request.accept_mimetypes.best_match(offers)


@bp.get("/credentials/<ref>")
def credential(ref: str) -> Response:
    """The credential URL: the badge page, the credential as issued, or its VC-JWT (``Accept``).

    ``<id>.jwt`` is always the VC-JWT.
    """
    award_id, as_jwt = (ref[:-4], True) if ref.endswith(".jwt") else (ref, False)
    if not UUID.fullmatch(award_id):
        raise NotFound("There is no such credential.")
    with issuer_session() as (session, issuer):
        award = session.scalars(select(Award).where(Award.id == award_id, Award.issuer_id == issuer.id)
                                ).one_or_none()
        stored, jwt = (award.credential, award.credential_jwt) if award else (None, None)
    if stored is None or (as_jwt and not jwt):
        raise NotFound("There is no such credential.")
    mimetype = VC_JWT if as_jwt else negotiate(bool(jwt))
    if mimetype == HTML:
        from issuer.web.pages import credential_page  # pages builds on this module

        return credential_page(award_id)
    if mimetype is None:
        raise NotAcceptable("This credential is available as text/html, " + ", ".join(JSON_TYPES)
                            + (", " + ", ".join(JWT_TYPES) if jwt else "") + ".")
    response = stored_response(jwt if mimetype in JWT_TYPES else stored, mimetype, "no-cache")
    if not as_jwt:
        response.headers["Vary"] = "Accept"
    return response


@bp.get("/achievements/<achievement_id>")
def achievement(achievement_id: str) -> Response:
    """The Achievement as credentials embed it (creator = the issuer's Profile), as JSON-LD."""
    if not UUID.fullmatch(achievement_id):
        raise NotFound("There is no such achievement.")
    with issuer_session() as (session, issuer):
        row = session.scalars(select(Achievement).where(Achievement.id == achievement_id,
                                                        Achievement.issuer_id == issuer.id)).one_or_none()
        if row is None:
            raise NotFound("There is no such achievement.")
        document = achievement_document(_settings(), row, profile(issuer, _settings()))
        return _json({"@context": OB_CONTEXTS, **document}, LD)


@bp.get("/healthz")
def healthz() -> Response:
    with current_app.extensions["microcred"].engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    return _json({"status": "ok"}, "application/json", "no-store")
