"""HTTP helpers every part of the web package shares (the bottom of :mod:`issuer.web`).

* :func:`problem` — an RFC 9457 problem JSON response; :func:`error_page` its HTML twin for
  browsers (:func:`prefers_html`);
* :func:`issuer_error` — the one handler of the issuer's error tree (:mod:`issuer.errors`):
  the error's class gives the status, its ``code`` and ``field`` go into the problem;
* :func:`same_site_request` — the check the console and the employees' space make on every
  request that changes something, besides the CSRF token: when the browser says where the
  request came from (``Sec-Fetch-Site``, ``Origin``), it must be this site (the installation's
  base URL, or the host the request was sent to). ``Origin: null`` (a sandboxed frame, or a
  ``no-referrer`` page) is refused; a browser that sends neither header is left to the CSRF token.

Nothing here imports another module of the web package.
"""
from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import urlsplit

from flask import Response, current_app, render_template, request

from issuer.errors import IssuerError

PROBLEM = "application/problem+json"

log = logging.getLogger(__name__)


def problem(status: int, title: str, detail: str, headers: dict[str, str] | None = None,
            **extensions: Any) -> Response:
    """An ``application/problem+json`` response (RFC 9457) that is never cached."""
    document = {"title": title, "status": status, "detail": detail}
    document.update({k: v for k, v in extensions.items() if k not in document and v is not None})
    body = json.dumps(document, ensure_ascii=False)
    response = Response(body, status=status, mimetype=PROBLEM, headers=headers or {})
    response.headers["Cache-Control"] = "no-store"
    return response


def prefers_html() -> bool:
    """A browser: text/html preferred to JSON (no Accept, or */*, means JSON)."""
    accept = request.accept_mimetypes
    return bool(accept) and accept.best_match([PROBLEM, "application/json", "text/html"]) == "text/html"


def error_page(status: int, title: str, detail: str, headers: dict[str, str] | None = None) -> Response:
    """The HTML twin of :func:`problem`, for browsers."""
    try:
        body = render_template("error.html", status=status, title=title, detail=detail)
    except Exception:   # noqa: BLE001 - an error page must never fail: fall back to problem JSON
        log.exception("error page could not be rendered")
        return problem(status, title, detail, headers)
    response = Response(body, status=status, mimetype="text/html", headers=headers or {})
    response.headers["Cache-Control"] = "no-store"
    return response


def issuer_error(exc: IssuerError) -> Response:
    """The response to an error of the issuer's tree: its class's status; a page for a browser."""
    if exc.http_status >= 500:
        log.error("issuer error %s: %s", exc.code, exc)
    title = {404: "Not Found", 409: "Conflict", 403: "Forbidden", 422: "Unprocessable Content",
             502: "Bad Gateway", 503: "Service Unavailable"}.get(exc.http_status, "Internal Server Error")
    if prefers_html():
        return error_page(exc.http_status, title, str(exc))
    return problem(exc.http_status, title, str(exc), code=exc.code, field=exc.field, **exc.details)


def same_site_request() -> bool:
    """False when the browser says the request came from another site (see the module docstring)."""
    if request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
        return False
    origin = request.headers.get("Origin")
    if origin and origin != "null":
        parts = urlsplit(origin)
        base = urlsplit(current_app.extensions["microcred"].settings.base_url)
        return (parts.scheme, parts.netloc) in {(base.scheme, base.netloc), (request.scheme, request.host)}
    return origin != "null"


def private_page_headers(response: Response, csp: str) -> Response:
    """The headers of a signed-in person's pages (the console, "My badges"): never cached, the
    page's own CSP, and ``Referrer-Policy: same-origin`` rather than the site's no-referrer (with
    no-referrer browsers send ``Origin: null`` on form posts, which :func:`same_site_request`
    refuses; nothing is sent to other sites either way, so no link token leaves this site)."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "same-origin"
    if response.mimetype == "text/html":
        response.headers["Content-Security-Policy"] = csp
    return response
