"""The verifier web app's HTTP responses: pages, report JSON, RFC 9457 problems and security headers.

:func:`page` renders a template (lone surrogates from JSON escapes become U+FFFD so the page
always encodes) with the links of the blueprint serving the request (:func:`links`);
:func:`problem` is an ``application/problem+json`` answer for the API; :func:`error_response` and
:func:`internal_error` answer an HTTP error or an unexpected exception as either, never with a
traceback; :func:`security_headers` adds a strict Content-Security-Policy and friends to every
response.
"""
from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from typing import Any

from flask import Response, current_app, render_template, request, url_for
from werkzeug.exceptions import HTTPException

from ..checks.parse import MAX_INPUT_BYTES, MAX_JSON_BYTES
from ..report import VerificationReport
from .state import STATE
from .submission import TargetBusy

log = logging.getLogger(__name__)

PROBLEM = "application/problem+json"
CSP = ("default-src 'self'; img-src 'self' data: https:; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
                    "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY",
                    "Cross-Origin-Opener-Policy": "same-origin"}
_SURROGATE = re.compile("[\ud800-\udfff]")


def links(share_url: str | None = None) -> dict[str, str | None]:
    """The URLs a page links to, for this app's blueprint (standalone or mounted)."""
    name = request.blueprint or next(iter(current_app.extensions.get(STATE) or {}), "verifier")
    action = f"{name}.verify" if f"{name}.verify" in current_app.view_functions else f"{name}.index"
    return {"css": url_for(f"{name}.static", filename="verifier.css"), "home": url_for(f"{name}.index"),
            "action": url_for(action), "api": url_for(f"{name}.openapi"),
            "share": url_for(action, url=share_url) if share_url else None}


def page(template: str, status: int = 200, **context: Any) -> Response:
    """A rendered page; lone surrogates (from JSON escapes) become U+FFFD so it always encodes."""
    settings = current_app.extensions.get(STATE, {}).get(request.blueprint or "")
    context.setdefault("allow_hosts", sorted(settings.settings["ALLOW_HOSTS"]) if settings else [])
    context.setdefault("links", links(context["v"]["url"] if "v" in context else None))
    html = _SURROGATE.sub("\ufffd", render_template(template, **context))
    return Response(html, status=status, mimetype="text/html")


def problem(status: int, title: str, detail: str, headers: Mapping[str, str] | None = None) -> Response:
    """An RFC 9457 ``application/problem+json`` response."""
    body = json.dumps({"type": "about:blank", "title": title, "status": status, "detail": detail})
    return Response(body, status=status, mimetype=PROBLEM, headers=dict(headers or {}))


def report_json(report: VerificationReport) -> Response:
    """The API's answer: ``report.to_dict()`` as JSON."""
    return Response(json.dumps(report.to_dict(), default=str), mimetype="application/json")


def security_headers(response: Response) -> Response:
    """Add the security headers (and a Cache-Control: static files an hour, the rest never)."""
    headers = response.headers
    present = {name.lower() for name, _ in headers.items()}
    for name, value in SECURITY_HEADERS.items():
        if name.lower() not in present:
            headers.add(name, value)
    if "cache-control" not in present:
        static = request.endpoint is not None and request.endpoint.endswith(".static")
        headers.add("Cache-Control", "public, max-age=3600" if static else "no-store")
    return response


def error_response(exc: HTTPException, api: bool) -> Response:
    """An HTTP error as a problem (``api``) or an error page, in words a recruiter understands."""
    headers = {k: v for k, v in exc.get_headers() if k.lower() in ("allow", "retry-after")}
    status = exc.code or 500
    detail = exc.description or exc.name
    if status == 413:
        detail = (f"The request is too large: files up to {MAX_INPUT_BYTES // (1024 * 1024)} MiB, "
                  f"JSON and pasted text up to {MAX_JSON_BYTES // (1024 * 1024)} MiB.")
    if status == 429 and not isinstance(exc, TargetBusy):
        detail = "Too many verifications from your address; try again in a minute."
    if api:
        return problem(status, exc.name, detail, headers)
    response = page("verifier_error.html", status, title=exc.name, detail=detail)
    response.headers.update(headers)
    return response


def internal_error(api: bool) -> Response:
    """An unexpected error, logged, answered without any of its details."""
    log.exception("verifier web app: unhandled error")
    detail = "The verifier could not answer this request; the error was logged."
    if api:
        return problem(500, "Internal Server Error", detail)
    return page("verifier_error.html", 500, title="Something went wrong", detail=detail)
