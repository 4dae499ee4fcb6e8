"""``microcred serve``: run the issuer's web app with gunicorn (or Flask's server with ``--dev``).

Before anything listens, the database is migrated and the installation is checked: an
issuer must exist for the configured base URL (``microcred init``) with a current key
whose file is in the keys folder. Otherwise one ``error:`` line and exit status 2.

gunicorn runs the verifier's :class:`~verifier.web.cli.BufferingThreadWorker` (``--workers``
processes x ``--threads`` threads): a ``gthread`` worker that reads each request whole in its
event loop before a thread takes it, so slow clients (slow-loris) cost a socket each instead of
a worker. gunicorn's ``sync`` workers, used before, read requests in the worker itself: two
connections sending a byte every few seconds stopped the issuer. Threads instead of processes
only are fine for the app (``--dev`` has always served it threaded); the HR console's bulk jobs
keep their own thread and signing processes. See ``verifier/web/cli.py`` for why this rather
than gevent workers, waitress or a shipped nginx, and ``benchmarks/bench_slow_clients.py``.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from flask import Flask
from gunicorn.app.base import BaseApplication
from sqlalchemy import select
from sqlalchemy.engine import Engine

from issuer.awards.issuance import load_issuer
from issuer.cli.support import EXIT_USAGE, error_line
from issuer.config import Settings, load_settings
from issuer.db.engine import session_factory
from issuer.db.models import IssuerKey
from verifier.errors import CredentialError
from verifier.web.cli import WORKER_NOTE, BufferingThreadWorker


class NotReadyError(CredentialError):
    code = "not_initialized"


@contextmanager
def clean_errors() -> Iterator[None]:
    """Turn configuration, credential and file errors into one ``error:`` line and exit 2."""
    try:
        yield
    except (click.UsageError, CredentialError, OSError) as exc:
        click.echo(error_line(exc), err=True)
        raise click.exceptions.Exit(EXIT_USAGE) from None


def check_ready(engine: Engine, settings: Settings) -> None:
    """Raise :class:`NotReadyError` unless an issuer with a usable current key exists."""
    with session_factory(engine)() as session:
        issuer = load_issuer(session, settings)       # "run 'microcred init'" when missing
        key = session.scalars(select(IssuerKey).where(IssuerKey.issuer_id == issuer.id,
                                                      IssuerKey.state == "current")).one_or_none()
    if key is None:
        raise NotReadyError(f"the issuer {issuer.did} has no current key; run 'microcred keys rotate'")
    if not (Path(settings.keys_dir) / key.key_file).is_file():
        raise NotReadyError(f"the issuer's current key file {Path(settings.keys_dir) / key.key_file} is missing "
                            "(restore the keys folder, or set MICROCRED_KEYS)")


class GunicornServer(BaseApplication):
    """gunicorn, configured in code: each worker builds its own app with ``factory``."""

    def __init__(self, factory: Callable[[], Flask], options: dict) -> None:
        self.factory = factory
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for name, value in self.options.items():
            if name in self.cfg.settings:
                self.cfg.set(name, value)

    def load(self) -> Flask:
        return self.factory()


def gunicorn_options(host: str, port: int, workers: int, threads: int = 8) -> dict:
    bind_host = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return {
        "bind": f"{bind_host}:{port}",
        "workers": workers,
        "worker_class": BufferingThreadWorker,   # gthread, reading each request whole before a thread
        "threads": threads,
        "timeout": 30,
        "graceful_timeout": 30,
        "accesslog": "-",
        "errorlog": "-",
        "proc_name": "microcred",
        "control_socket_disable": True,     # gunicorn >= 25: no runtime-control socket
    }


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=5000, show_default=True)
@click.option("--workers", type=click.IntRange(1, 64), default=2, show_default=True, help="gunicorn workers.")
@click.option("--threads", type=click.IntRange(1, 256), default=8, show_default=True,
              help="Threads per worker (requests reach them whole: slow clients hold none).")
@click.option("--dev", is_flag=True, help="Flask's development server instead (one process, never the debugger).")
def serve(host: str, port: int, workers: int, threads: int, dev: bool) -> None:
    """Serve the issuer's public documents: DID document, profile, status lists, credentials."""
    from issuer.web.app import check_production, create_app, load_secret_key, open_database
    from issuer.web.public import did_document_location

    with clean_errors():
        settings = load_settings()
        engine = open_database(settings)
        try:
            check_ready(engine, settings)
        finally:
            engine.dispose()
        secret = load_secret_key(settings.instance.resolve())   # created once here, before workers start
        if not dev:
            check_production(secret)
        app = create_app(settings, production=not dev)  # every setting checked before anything listens
    click.echo(f"base URL:        {settings.base_url}")
    click.echo(f"DID document:    {did_document_location(settings)}")
    click.echo(f"issuer profile:  {settings.url('/issuer')}")
    served = "development server" if dev else f"gunicorn, {workers} workers x {threads} threads, {WORKER_NOTE}"
    click.echo(f"listening on {host}:{port} ({served})")
    if dev:
        from werkzeug.serving import run_simple
        run_simple(host, port, app, use_reloader=False, use_debugger=False, threaded=True)
        return
    app.extensions["microcred"].engine.dispose()     # each gunicorn worker builds its own app
    GunicornServer(lambda: create_app(settings, production=True), gunicorn_options(host, port, workers, threads)).run()
