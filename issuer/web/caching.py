"""How long the issuer's public documents may be cached, and how caches revalidate them: the rules in one place.

Role: every public, cookie-free response of :mod:`issuer.web.public` and :mod:`issuer.web.pages`
is sent through :func:`send`, which sets ``Cache-Control`` from a :class:`Freshness`, a strong
``ETag``, ``Last-Modified`` where a stored time covers every change, ``Vary`` where the
response is content-negotiated, and answers a conditional request (``If-None-Match``,
``If-Modified-Since``) with 304 and no body (werkzeug's ``Response.make_conditional``: the
precedence of RFC 9110 §13.2.2, so ``If-None-Match`` wins over ``If-Modified-Since``).
The times and their reasons for operators are in ``docs/caching.md``.

=================================  ==========================  ==========================================
document                           Cache-Control               why
=================================  ==========================  ==========================================
status lists                       ``STATUS_LIST`` (60 s,      a revocation or suspension is a bit in the
                                   must-revalidate)            list: max-age is the revocation delay
DID document, JWKS, issuer         ``IDENTITY`` (300 s,        change only on key rotation or withdrawal,
profile, achievements              must-revalidate)            or when HR edits the issuer/achievement
credential JSON / VC-JWT           ``CREDENTIAL`` (300 s,      the signed bytes never change; revocation
                                   must-revalidate)            travels in the status list; an erased
                                                               award answers 410 after at most 300 s
badge page, profiles, downloads    ``LIVE`` (no-cache)         shows the live verdict: stored, but
                                                               revalidated (ETag) on every use
badge art (``image.png``)          ``ART`` (3600 s)            the picture alone, no verdict, no download
health                             ``NO_STORE``                a probe must reach the server
=================================  ==========================  ==========================================

Decisions:

* The ETag is strong: a hash of the exact bytes sent *and* their media type. The credential URL
  sends the same bytes labelled ``application/vc+ld+json``, ``application/ld+json`` or
  ``application/json`` depending on ``Accept``; those are different representations, and a
  cache that keeps several variants picks the one a 304 confirms by its ETag (RFC 9111 §4.3.4),
  so each label has its own tag. The hash is werkzeug's :func:`~werkzeug.http.generate_etag`.
* ``Last-Modified`` is sent only where one stored time changes with every change of the bytes:
  a status list (``StatusList.updated_at``, bumped by every re-signing) and a credential
  (``Award.created_at``: its bytes are never rewritten; erasure turns it into a 410). The DID
  document, JWKS and profile have none: withdrawing an already-retired key drops it from the
  document without moving any key's time, and issuer edits carry no time, so a date could
  claim "not modified" for a changed document. The badge page has none either (its verdict
  depends on the clock and on the status lists). ``Last-Modified`` has one-second resolution,
  so a client that revalidates with ``If-Modified-Since`` alone can miss a second change within
  the same second; caches send the ETag (RFC 9111 §4.3.1: a cache MUST send the entity tags it
  was given), and ``If-None-Match`` decides.
* ``must-revalidate`` on everything with a max-age: a cache may not serve a copy past its
  max-age (not even when the issuer is down), so the documented delays are upper bounds.
* Only 200 responses are made conditional; errors are never cached (``no-store``, in
  :mod:`issuer.web.http`).
"""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from flask import Response, request
from werkzeug.http import generate_etag


class Freshness(StrEnum):
    """The ``Cache-Control`` of each kind of public response (the registry; see the module docstring)."""

    STATUS_LIST = "public, max-age=60, must-revalidate"
    IDENTITY = "public, max-age=300, must-revalidate"
    CREDENTIAL = "public, max-age=300, must-revalidate"
    LIVE = "no-cache"
    ART = "public, max-age=3600"     # a badge's picture alone (link previews, embeds): says nothing of its state
    NO_STORE = "no-store"


def max_age(freshness: Freshness) -> int | None:
    """The seconds a cache may serve ``freshness`` without asking (None: never without asking)."""
    for directive in freshness.value.split(","):
        name, _, value = directive.strip().partition("=")
        if name == "max-age":
            return int(value)
    return None


def entity_tag(body: bytes, mimetype: str) -> str:
    """The strong ETag value (unquoted) of ``body`` sent as ``mimetype``."""
    return generate_etag(mimetype.encode("ascii") + b"\n" + body)


def send(body: str | bytes, mimetype: str, freshness: Freshness, *, last_modified: datetime | None = None,
         vary: str | None = None, status: int = 200) -> Response:
    """``body`` exactly as given, with the cache headers of ``freshness``; 304 when the request's
    validators match (a 200 only: other statuses are sent as they are, uncached)."""
    data = body.encode("utf-8") if isinstance(body, str) else body
    response = Response(data, status=status, mimetype=mimetype)
    if vary:
        response.headers["Vary"] = vary
    if status != 200:
        response.headers["Cache-Control"] = Freshness.NO_STORE.value
        return response
    response.headers["Cache-Control"] = freshness.value
    if freshness is Freshness.NO_STORE:
        return response
    response.set_etag(entity_tag(data, mimetype))
    if last_modified is not None:
        response.last_modified = last_modified     # naive times are UTC (the models store UTC)
    return response.make_conditional(request)
