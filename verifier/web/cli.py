"""``microcred verifier serve``: the recruiter's verifier web app on gunicorn (or Flask's server).

gunicorn runs ``gthread`` workers: a verification waiting on a slow issuer holds one thread, not
a worker, so other verifications go on. The app needs no issuer, database or secret key.

Each worker's interpreter is tuned for a mix of short and CPU-heavy requests
(:func:`tune_interpreter`): the threads of a worker share one GIL, and with Python's default 5 ms
switch interval a few hostile credentials that make the JSON-LD engine work hard starve ordinary
verifications; a 0.5 ms switch interval and fewer young-generation collections keep an ordinary
verification's p99 under 50 ms while 16 hostile requests run (``benchmarks/bench_hostile.py`` (c)
measures it).
"""
from __future__ import annotations

import gc
import sys
from typing import Any, Callable

import click
from limits import parse as parse_rate

from .app import create_app
from .state import DEFAULTS

DEFAULT_PORT = 5001


SWITCH_INTERVAL = 0.0005          # seconds a thread may hold the GIL before another gets a turn
GC_THRESHOLDS = (50_000, 50, 1000)  # young-generation collections every 50,000 allocations, not 700


def tune_interpreter(_worker: object = None) -> None:
    """Set the switch interval and GC thresholds in a worker (gunicorn ``post_worker_init``)."""
    sys.setswitchinterval(SWITCH_INTERVAL)
    gc.set_threshold(*GC_THRESHOLDS)


def gunicorn_options(host: str, port: int, workers: int, threads: int, access_log: bool) -> dict[str, Any]:
    bind_host = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return {
        "bind": f"{bind_host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads,
        "timeout": 60,
        "graceful_timeout": 30,
        "keepalive": 5,
        "accesslog": "-" if access_log else None,
        "errorlog": "-",
        "proc_name": "microcred-verifier",
        "control_socket_disable": True,     # gunicorn >= 25: no runtime-control socket
        "post_worker_init": tune_interpreter,
    }


def run_gunicorn(factory: Callable[[], Any], options: dict[str, Any]) -> None:
    """Run gunicorn configured in code; each worker builds its own app (and fetcher: cache,
    per-site limits) with ``factory``."""
    from gunicorn.app.base import BaseApplication

    class Server(BaseApplication):
        def load_config(self) -> None:
            for name, value in options.items():
                if name in self.cfg.settings and value is not None:
                    self.cfg.set(name, value)

        def load(self) -> Any:
            return factory()

    Server().run()


@click.group("verifier")
def verifier() -> None:
    """The recruiter's verifier web app."""


@verifier.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=DEFAULT_PORT, show_default=True)
@click.option("--workers", type=click.IntRange(1, 64), default=2, show_default=True,
              help="gunicorn worker processes (about one per core).")
@click.option("--threads", type=click.IntRange(1, 256), default=32, show_default=True,
              help="Threads per worker: verifications waiting on slow issuers each hold one.")
@click.option("--allow-host", "allow_hosts", multiple=True, metavar="HOST",
              help="Allow plain http and private addresses for HOST (local development only). Repeatable.")
@click.option("--ca-file", type=click.Path(exists=True, dir_okay=False), metavar="PEM",
              help="Also trust this CA bundle for https (e.g. a company's internal CA).")
@click.option("--rate-limit", default=DEFAULTS["RATE_LIMIT"], show_default=True, metavar="LIMIT",
              help="Verifications per client address, e.g. '60 per minute'.")
@click.option("--outbound-rate-limit", default=DEFAULTS["OUTBOUND_RATE_LIMIT"], show_default=True, metavar="LIMIT",
              help="Requests of any kind to any one site, per worker, e.g. '300 per minute'.")
@click.option("--fetch-timeout", type=click.FloatRange(0.5, 60), default=DEFAULTS["FETCH_TIMEOUT"], show_default=True,
              metavar="SECONDS", help="Time limit of one fetch (DID document, key, status list), redirects included.")
@click.option("--trusted-proxies", type=click.IntRange(0, 5), default=0, show_default=True, metavar="N",
              help="Reverse proxies in front (their X-Forwarded-For gives the client address for rate limits).")
@click.option("--access-log/--no-access-log", default=True, show_default=True)
@click.option("--dev", is_flag=True, help="Flask's development server instead (one process, never the debugger).")
def serve(host: str, port: int, workers: int, threads: int, allow_hosts: tuple[str, ...], ca_file: str | None,
          rate_limit: str, outbound_rate_limit: str, fetch_timeout: float, trusted_proxies: int, access_log: bool,
          dev: bool) -> None:
    """Serve the verifier: the form at /, results at /verify, the JSON API at /api/verify."""
    for hint, value in (("--rate-limit", rate_limit), ("--outbound-rate-limit", outbound_rate_limit)):
        try:
            parse_rate(value)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint=hint) from None
    config = {"ALLOW_HOSTS": frozenset(h.lower() for h in allow_hosts), "CA_FILE": ca_file, "RATE_LIMIT": rate_limit,
              "OUTBOUND_RATE_LIMIT": outbound_rate_limit, "FETCH_TIMEOUT": fetch_timeout,
              "TRUSTED_PROXIES": trusted_proxies}
    create_app(config)      # fail here, once, on bad settings
    click.echo(f"verifier:        http://{host}:{port}/")
    if allow_hosts:
        click.echo(f"warning: plain http and private addresses allowed for {', '.join(allow_hosts)}", err=True)
    click.echo(f"listening on {host}:{port} "
               f"({'development server' if dev else f'gunicorn, {workers} workers x {threads} threads'})")
    if dev:
        from werkzeug.serving import run_simple
        run_simple(host, port, create_app(config), use_reloader=False, use_debugger=False, threaded=True)
        return
    run_gunicorn(lambda: create_app(config), gunicorn_options(host, port, workers, threads, access_log))


if __name__ == "__main__":  # python -m verifier.web.cli serve ...
    verifier()
