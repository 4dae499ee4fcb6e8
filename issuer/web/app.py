"""The Flask application factory: configuration, database, secret key, headers, errors.

:func:`create_app` migrates the database, loads (or creates once) the secret key
(:mod:`issuer.instance`: not web code, the CLI uses it too), builds the service layer and
registers the public documents (:mod:`issuer.web.public`) and the pages employees share
(:mod:`issuer.web.pages`, templates and ``/static/``). It never enables debug mode.
Every response carries the security headers; HTML pages get a CSP that allows only this
site's stylesheet and script and ``data:`` images (no inline script or style). Every error
is an RFC 9457 problem JSON body (``title``, ``status``, ``detail``), never a traceback, or
a small HTML page when the client prefers HTML (a browser).
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from flask import Flask, Response
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from issuer.config import Settings, load_settings
from issuer.errors import IssuerError
from issuer.instance import check_production, load_secret_key, open_database, sessions_for
from issuer.mail.transport import Transport
from issuer.runtime import Runtime
from issuer.services import Services, build_services
from issuer.tasks.periodic import start_schedule
from issuer.web import landing, pages, public
from issuer.web.admin import register_admin
from issuer.web.api import register_api
from issuer.web.employee import register_employee
from issuer.web.http import error_page, issuer_error, prefers_html, problem
from issuer.web.observability import register_observability
from issuer.web.oidc import register_oidc
from verifier.web.app import verifier_blueprint
from verifier.web.markdown import render_markdown

__all__ = ["MAX_CONTENT_LENGTH", "WebState", "check_production", "create_app", "load_secret_key", "open_database"]

MAX_CONTENT_LENGTH = 1024 * 1024
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
}
PAGE_CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; base-uri 'none'; "
            "form-action 'none'; frame-ancestors 'none'")
STATIC_MAX_AGE = 3600

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WebState:
    """What the views need, kept in ``app.extensions["microcred"]``."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    clock: Callable[[], datetime]                             # pages judge validity at clock()
    services: Services | None = None                          # the service layer (built by create_app)

    @property
    def use(self) -> Services:
        """The services (always set by :func:`create_app`)."""
        assert self.services is not None  # noqa: S101 - create_app builds them
        return self.services


def create_app(settings: Settings | None = None, *, clock: Callable[[], datetime] | None = None,
               production: bool = False, mail_transport: Transport | None = None, schedule: bool = False) -> Flask:
    """The issuer's Flask app for ``settings`` (default: :func:`~issuer.config.load_settings`).

    ``clock`` (default: now, UTC) is when pages check validity. Migrates the database to
    the current schema first. Raises
    :class:`~issuer.errors.ConfigError` for a secret key that is too short or readable by others,
    and with ``production`` (``microcred serve`` without ``--dev``) also for debug mode asked
    for in the environment or a placeholder secret key (:func:`~issuer.instance.check_production`).

    ``microcred serve`` starts it by its import string (:data:`issuer.cli.serve.APP`), so the
    CLI never imports the web package. ``schedule`` (only in those import strings, so tests never
    start threads): with the inline queue, this process also runs the periodic tasks
    (:func:`issuer.tasks.periodic.start_schedule`).
    """
    settings = settings or load_settings()
    instance = settings.instance.resolve()
    instance.mkdir(parents=True, exist_ok=True, mode=0o700)
    secret_key = load_secret_key(instance)
    if production:
        check_production(secret_key)
    engine = open_database(settings)
    app = Flask(__name__, instance_path=str(instance), static_folder="static", static_url_path="/static")
    https = urlsplit(settings.base_url).scheme == "https"
    app.config.update(
        DEBUG=False, SECRET_KEY=secret_key, MAX_CONTENT_LENGTH=MAX_CONTENT_LENGTH,
        SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_SECURE=https,
        SEND_FILE_MAX_AGE_DEFAULT=STATIC_MAX_AGE,
    )
    app.debug = False
    if settings.trusted_proxies:    # behind a load balancer: the client address (per-address limits) it saw
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies,  # type: ignore[method-assign]
                                x_proto=settings.trusted_proxies)
    app.add_template_filter(render_markdown, "markdown")   # descriptions and criteria (issue 14)
    sessions = sessions_for(engine)
    runtime = Runtime(settings, sessions, transport=mail_transport) if clock is None else \
        Runtime(settings, sessions, clock, mail_transport)
    app.extensions["microcred"] = WebState(settings, engine, sessions, runtime.clock, build_services(runtime))
    app.register_blueprint(public.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(landing.bp)      # /, the home page
    app.register_blueprint(verifier_blueprint(_verifier_config(settings), url_prefix="/verify"))
    register_api(app)   # /api/v1 and the VC-API endpoints
    register_admin(app)  # /admin, the HR console
    register_oidc(app)   # /oidc: sign-in with the company's identity provider, when configured
    register_employee(app)  # /me, the employees' own space
    register_observability(app)  # /readyz, /metrics, request ids, request metrics (issue 15)
    app.add_url_rule(settings.did_document_path, endpoint="did_document", view_func=public.did_json)
    _install_headers(app, hsts=https)
    _install_error_handlers(app)
    if schedule:    # microcred serve, inline queue: each tick once across the server's workers (task_runs)
        app.extensions["microcred.scheduler"] = start_schedule(runtime)
    return app


def _verifier_config(settings: Settings) -> dict:
    """The mounted verifier (/verify): the hardened public verifier (https, port 443, public
    addresses only). With a plain-http base URL (local development) it may also reach this
    issuer's own origin, and only that: the one ``host:port`` entry (port made explicit) allows
    plain http and a private address on that port alone, so every other port and host of the
    machine stays refused before any connection is made. (The https attempt a did:web resolution
    makes first goes to the same host and port, fails its handshake, and falls back to http.)"""
    parts = urlsplit(settings.base_url)
    shared = {"RATELIMIT_STORAGE_URI": settings.ratelimit_storage_uri}    # one limit across app servers
    if parts.scheme != "http" or not parts.hostname:
        return {"ALLOW_HOSTS": frozenset(), **shared}
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return {"ALLOW_HOSTS": frozenset({f"{host}:{parts.port or 80}"}), **shared}


def _install_headers(app: Flask, *, hsts: bool) -> None:
    @app.after_request
    def security_headers(response: Response) -> Response:
        own_policy = response.headers.get("Content-Security-Policy")    # a view's stricter one (SVG downloads)
        own_referrer = response.headers.get("Referrer-Policy")          # the console's same-origin one
        response.headers.update(SECURITY_HEADERS)
        if own_referrer:
            response.headers["Referrer-Policy"] = own_referrer
        if own_policy:
            response.headers["Content-Security-Policy"] = own_policy
        elif response.mimetype == "text/html":
            response.headers["Content-Security-Policy"] = PAGE_CSP
        if hsts:
            response.headers["Strict-Transport-Security"] = "max-age=31536000"
        return response


def _install_error_handlers(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        # keep Allow (405) and similar; drop werkzeug's HTML content type
        headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
        respond = error_page if prefers_html() else problem
        return respond(exc.code or 500, exc.name, exc.description or exc.name, headers)

    app.register_error_handler(IssuerError, issuer_error)

    @app.errorhandler(DBAPIError)
    def database_error(exc: DBAPIError) -> Response:
        log.error("database error: %s", type(exc.orig).__name__ if exc.orig else type(exc).__name__)
        return problem(503, "Service Unavailable", "The database is unavailable; try again shortly.",
                       {"Retry-After": "5"})

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Response:
        log.exception("unhandled error")
        return problem(500, "Internal Server Error", "The server could not answer this request; "
                       "the error was logged.")
