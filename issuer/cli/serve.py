"""``microcred serve``: run the issuer's web app with gunicorn (or Flask's server with ``--dev``).

Before anything listens, the database is migrated and the installation is checked
(:meth:`issuer.setup_service.SetupService.check_ready`): an issuer must exist for the
configured base URL (``microcred init``) with a current key whose file is in the keys folder.
The app is then built once (every setting checked, the secret key created), and the settings
are kept in the instance folder (:func:`issuer.config.save_settings`) so the other commands, run
in another terminal with nothing exported, act on this server's installation. A local base URL
(localhost) whose port differs from ``--port`` gets a warning: its links would not resolve. Any
refusal is one ``error:`` line and exit status 2.

Logs are text by default; ``--log-format json`` (``MICROCRED_LOG_FORMAT=json``) writes the issuer's log
as JSON lines with a request id instead, and the app's own access records replace gunicorn's text
access log (:mod:`issuer.personal_data.logs_json`, docs/operations.md).

The app is named by its import string (:data:`APP`, ``issuer.web.app:create_app(...)``), as
gunicorn names apps: each worker builds its own from the environment's settings, and the CLI
package never imports the web package. With the inline queue (the default) each worker also runs
the periodic tasks (expiry reminders, email retries, status lists, retention) in a scheduler thread,
each tick once across the workers (:mod:`issuer.tasks.periodic`); the master's own check
(:data:`CHECK_APP`) starts none, so no thread runs in the process gunicorn forks.

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

import logging
from typing import Any
from urllib.parse import urlsplit

import click
import werkzeug.serving
from gunicorn import util as gunicorn_util
from gunicorn.app.base import BaseApplication

from issuer.cli.support import clean_errors, own_services
from issuer.config import Settings, load_settings, save_settings
from issuer.personal_data import logs, logs_json
from verifier.web.cli import WORKER_NOTE, worker_options

__all__ = ["APP", "CHECK_APP", "DEV_APP", "GunicornServer", "clean_errors", "gunicorn_options", "load_app",
           "port_mismatch", "serve"]

LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
DEFAULT_PORT = 5000
#: the issuer's WSGI app as gunicorn names it: each worker builds its own from the environment's settings
#: (and, with the inline queue, runs the periodic tasks: :mod:`issuer.tasks.periodic`)
APP = "issuer.web.app:create_app(production=True, schedule=True)"
#: the same for ``--dev`` (no production refusals)
DEV_APP = "issuer.web.app:create_app(schedule=True)"
#: what the gunicorn master builds to check the settings before it forks: no scheduler thread there
CHECK_APP = "issuer.web.app:create_app(production=True)"


def load_app(uri: str) -> Any:
    """The WSGI app ``uri`` names (``module:factory(literal arguments)``), as gunicorn loads it."""
    return gunicorn_util.import_app(uri)


class GunicornServer(BaseApplication):
    """gunicorn, configured in code: each worker loads its own app from the import string ``app_uri``."""

    def __init__(self, app_uri: str, options: dict[str, Any]) -> None:
        self.app_uri = app_uri
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for name, value in self.options.items():
            if name in self.cfg.settings:
                self.cfg.set(name, value)

    def load(self) -> Any:
        return load_app(self.app_uri)


def gunicorn_options(host: str, port: int, workers: int, threads: int = 8) -> dict[str, Any]:
    return worker_options(host, port, workers, threads) | {
        "timeout": 30,
        "accesslog": "-",
        "access_log_format": logs.ACCESS_LOG_FORMAT,     # no query strings, no Referer: no personal data
        "proc_name": "microcred",
    }


def default_port(settings: Settings) -> int:
    """The port to listen on when none is given: a local base URL's own (so its links work), else 5000."""
    parts = urlsplit(settings.base_url)
    if parts.hostname in LOCAL_HOSTS and parts.port:
        return parts.port
    return DEFAULT_PORT


def port_mismatch(settings: Settings, port: int) -> str | None:
    """Why serving a local base URL on another port breaks its links (None when it does not, or is not local)."""
    parts = urlsplit(settings.base_url)
    if parts.hostname not in LOCAL_HOSTS:
        return None         # a public base URL: a reverse proxy may well forward to any port
    expected = parts.port or (443 if parts.scheme == "https" else 80)
    if expected == port:
        return None
    return (f"the base URL {settings.base_url} says port {expected} but the server listens on {port}: credential "
            f"links and the issuer's DID will not resolve. Use the same port in both, e.g. "
            f"MICROCRED_BASE_URL=http://localhost:{port} microcred serve --port {port}")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=None,
              help="Port to listen on (default: a local base URL's port, else 5000).")
@click.option("--workers", type=click.IntRange(1, 64), default=2, show_default=True, help="gunicorn workers.")
@click.option("--threads", type=click.IntRange(1, 256), default=8, show_default=True,
              help="Threads per worker (requests reach them whole: slow clients hold none).")
@click.option("--dev", is_flag=True, help="Flask's development server instead (one process, never the debugger).")
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              envvar="MICROCRED_LOG_FORMAT", help="json: one JSON object a line, with a request id.")
def serve(host: str, port: int | None, workers: int, threads: int, dev: bool, log_format: str) -> None:
    """Serve the issuer's public documents: DID document, profile, status lists, credentials."""
    uri = DEV_APP if dev else APP
    with clean_errors():
        settings = load_settings()
        with own_services(settings) as services:     # closed before gunicorn forks its workers
            services.setup.check_ready()
        app = load_app(uri if dev else CHECK_APP)    # every setting checked (and the secret key created) first
        saved = save_settings(settings)
        port = port or default_port(settings)
    click.echo(f"base URL:        {settings.base_url}")
    click.echo(f"DID document:    {settings.did_document_location}")
    click.echo(f"issuer profile:  {settings.url('/issuer')}")
    click.echo(f"settings kept in {saved} (the other microcred commands use them)")
    mismatch = port_mismatch(settings, port)
    if mismatch:
        click.echo(f"warning: {mismatch}", err=True)
    served = "development server" if dev else f"gunicorn, {workers} workers x {threads} threads, {WORKER_NOTE}"
    click.echo(f"listening on {host}:{port} ({served})")
    json_logs = log_format == "json"
    if json_logs:       # the app writes one access record per request itself (issuer.web.observability)
        logs_json.install_json_logging()
        logging.getLogger(logs.DEV_SERVER_LOGGER).setLevel(logging.WARNING)
    else:
        logs.install_app_logging()                       # the issuer's warnings and errors, addresses redacted
    if dev:
        logs.install()                                   # request lines without query strings
        werkzeug.serving.run_simple(host, port, app, use_reloader=False, use_debugger=False, threaded=True)
        return
    app.extensions["microcred"].engine.dispose()     # each gunicorn worker builds its own app
    options = gunicorn_options(host, port, workers, threads) | ({"accesslog": None} if json_logs else {})
    GunicornServer(uri, options).run()
