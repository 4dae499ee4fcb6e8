"""The Flask application factory: configuration, database, secret key, headers, errors.

:func:`create_app` migrates the database, loads (or creates once) the secret key and
registers the public documents (:mod:`issuer.web.public`) and the pages employees share
(:mod:`issuer.web.pages`, templates and ``/static/``). It never enables debug mode.
Every response carries the security headers; HTML pages get a CSP that allows only this
site's stylesheet and script and ``data:`` images (no inline script or style). Every error
is an RFC 9457 problem JSON body (``title``, ``status``, ``detail``), never a traceback, or
a small HTML page when the client prefers HTML (a browser).
"""
from __future__ import annotations

import contextlib
import logging
import os
import secrets
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, Response
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.exceptions import HTTPException

from issuer.config import ConfigError, Settings, load_settings
from issuer.db.engine import make_engine, session_factory
from issuer.db.models import utcnow
from issuer.errors import IssuerError
from issuer.instance import migrate_engine
from issuer.mail.transport import Transport
from issuer.runtime import Runtime
from issuer.services import Services, build_services
from issuer.web import pages, public
from issuer.web.admin import register_admin
from issuer.web.api import register_api
from issuer.web.http import error_page, issuer_error, prefers_html, problem
from verifier.web.app import verifier_blueprint

MAX_CONTENT_LENGTH = 1024 * 1024
SECRET_KEY_FILE = "secret_key"  # noqa: S105 - a file name
SECRET_KEY_ENV = "MICROCRED_SECRET_KEY"  # noqa: S105 - an environment variable name
MIN_SECRET_LENGTH = 32
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
    clock: Callable[[], datetime] = field(default=utcnow)   # pages judge validity at clock()
    services: Services | None = None                          # the service layer (built by create_app)

    @property
    def use(self) -> Services:
        """The services (always set by :func:`create_app`)."""
        assert self.services is not None  # noqa: S101 - create_app builds them
        return self.services


def create_app(settings: Settings | None = None, *, clock: Callable[[], datetime] | None = None,
               production: bool = False, mail_transport: Transport | None = None) -> Flask:
    """The issuer's Flask app for ``settings`` (default: :func:`~issuer.config.load_settings`).

    ``clock`` (default: now, UTC) is when pages check validity. Migrates the database to
    the current schema first. Raises
    :class:`~issuer.config.ConfigError` for a secret key that is too short or readable by others,
    and with ``production`` (``microcred serve`` without ``--dev``) also for debug mode asked
    for in the environment or a placeholder secret key (:func:`check_production`).
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
    sessions = session_factory(engine)
    services = build_services(Runtime(settings, sessions, clock or utcnow, mail_transport))
    app.extensions["microcred"] = WebState(settings, engine, sessions, clock or utcnow, services)
    app.register_blueprint(public.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(verifier_blueprint(_verifier_config(settings), url_prefix="/verify"))
    register_api(app)   # /api/v1 and the VC-API endpoints
    register_admin(app)  # /admin, the HR console
    app.add_url_rule(public.did_document_path(settings), endpoint="did_document", view_func=public.did_json)
    _install_headers(app, hsts=https)
    _install_error_handlers(app)
    return app


def _verifier_config(settings: Settings) -> dict:
    """The mounted verifier (/verify): the hardened public verifier (https, port 443, public
    addresses only). With a plain-http base URL (local development) it may also reach this
    issuer's own origin, and only that: the one ``host:port`` entry (port made explicit) allows
    plain http and a private address on that port alone, so every other port and host of the
    machine stays refused before any connection is made. (The https attempt a did:web resolution
    makes first goes to the same host and port, fails its handshake, and falls back to http.)"""
    parts = urlsplit(settings.base_url)
    if parts.scheme != "http" or not parts.hostname:
        return {"ALLOW_HOSTS": frozenset()}
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return {"ALLOW_HOSTS": frozenset({f"{host}:{parts.port or 80}"})}


def open_database(settings: Settings) -> Engine:
    """An engine for the installation's database, migrated to head (the instance folder is created)."""
    settings.instance.mkdir(parents=True, exist_ok=True, mode=0o700)
    engine = make_engine(settings.database_url)
    try:
        migrate_engine(engine)
    except BaseException:
        engine.dispose()
        raise
    return engine


def load_secret_key(instance: Path, env: dict | None = None) -> str:
    """``$MICROCRED_SECRET_KEY``, else ``<instance>/secret_key`` (random, created 0600 on first use).

    There is no default secret. A file readable by group or others, or a secret shorter than
    32 characters, is refused with a :class:`~issuer.config.ConfigError`.
    """
    env = os.environ if env is None else env
    value = env.get(SECRET_KEY_ENV)
    source = f"${SECRET_KEY_ENV}"
    if value is None:
        path = instance / SECRET_KEY_FILE
        _create_secret_file(path)
        mode = path.stat().st_mode
        if os.name == "posix" and stat.S_IMODE(mode) & 0o077:
            raise ConfigError(f"{path} is readable by group or others (mode {stat.S_IMODE(mode):o}); "
                              f"run: chmod 600 {path}")
        value, source = path.read_text(encoding="utf-8").strip(), str(path)
    if len(value) < MIN_SECRET_LENGTH:
        raise ConfigError(f"the secret key in {source} is shorter than {MIN_SECRET_LENGTH} characters")
    return value


PLACEHOLDER_WORDS = ("change", "example", "default", "placeholder", "your-secret", "secret-key", "secretkey",
                     "dev-key", "devkey", "insecure")
DEBUG_VARIABLES = ("FLASK_DEBUG", "MICROCRED_DEBUG")


def check_production(secret_key: str, env: dict | None = None) -> None:
    """Refuse to serve in production with debug mode asked for or a placeholder secret key.

    Debug mode is never turned on by microcred, but ``FLASK_DEBUG``/``MICROCRED_DEBUG`` set
    to a true value shows someone expects it: refused rather than silently ignored. A secret
    that reads like a documentation placeholder ("change-me", "example", "default", ...) or
    uses fewer than 10 distinct characters is refused (:class:`~issuer.config.ConfigError`).
    """
    env = os.environ if env is None else env
    for name in DEBUG_VARIABLES:
        if env.get(name, "").strip().lower() in ("1", "true", "yes", "on"):
            raise ConfigError(f"{name} asks for debug mode, which is never allowed in production "
                              f"(unset it, or use 'microcred serve --dev' on your own machine)")
    lowered = secret_key.lower()
    if any(word in lowered for word in PLACEHOLDER_WORDS) or len(set(secret_key)) < 10:
        raise ConfigError(f"the secret key looks like a placeholder; set ${SECRET_KEY_ENV} to a random value "
                          f"(python -c 'import secrets; print(secrets.token_urlsafe(48))') or unset it to "
                          f"use a generated {SECRET_KEY_FILE} file")


def _create_secret_file(path: Path) -> None:
    """Write a fresh secret to ``path`` unless it exists; atomic even with concurrent workers."""
    if path.exists():
        return
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(secrets.token_urlsafe(48) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)      # fails if another worker won the race: keep theirs
    finally:
        tmp.unlink(missing_ok=True)


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
