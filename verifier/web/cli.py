"""``microcred verifier serve``: the recruiter's verifier web app on gunicorn (or Flask's server).

gunicorn runs ``gthread`` workers: a verification waiting on a slow issuer holds one thread, not
a worker, so other verifications go on. The app needs no issuer, database or secret key.

Each worker's interpreter is tuned for a mix of short and CPU-heavy requests
(:func:`tune_interpreter`): the threads of a worker share one GIL, and with Python's default 5 ms
switch interval a few hostile credentials that make the JSON-LD engine work hard starve ordinary
verifications; a 0.5 ms switch interval and fewer young-generation collections keep an ordinary
verification's p99 under 50 ms while 16 hostile requests run (``benchmarks/bench_hostile.py`` (c)
measures it).

Slow clients (slow-loris): gunicorn's ``gthread`` worker hands a connection to a thread as soon
as its first bytes arrive, and the thread then reads the rest of the request itself, so a client
sending a byte every few seconds holds a thread for as long as it likes: workers x threads such
clients stopped the verifier, two stopped the issuer's ``sync`` workers. Both servers therefore
run :class:`BufferingThreadWorker`, a ``gthread`` worker that reads each request (request line,
headers and body) in its event loop, where a waiting connection costs a socket and a buffer,
and gives a thread only a complete request. This is how waitress and nginx's request buffering
(the front gunicorn's documentation asks for with its threaded and sync workers) defend against
slow clients; here it is done inside gunicorn, so the process model, the threads (bulk jobs,
per-request CPU work, :func:`tune_interpreter`) and ``--dev`` are unchanged. A request must
arrive within :data:`REQUEST_SECONDS` (plus one second per :data:`MIN_BYTES_PER_SECOND` bytes
received, for large uploads on slow links), or the connection is closed. Rejected alternatives:
gevent/eventlet workers (monkey-patching turns the bulk-job and signing threads into greenlets,
and a CPU-heavy verification would stall every request of its worker), waitress (one process,
so half the CPU on two cores), a shipped nginx (a second server for every installation, its
tests and CI). ``benchmarks/bench_slow_clients.py`` measures it against 200 slow connections.
"""
from __future__ import annotations

import contextlib
import errno
import gc
import selectors
import socket
import sys
import time
import traceback
from collections.abc import Callable, MutableMapping
from functools import partial
from typing import Any, cast

import click
from gunicorn.glogging import Logger
from gunicorn.http import RequestParser
from gunicorn.http2 import negotiation
from gunicorn.workers.gthread import TConn, ThreadWorker
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


REQUEST_SECONDS = 30.0             # a request line, headers and body must arrive within this...
MIN_BYTES_PER_SECOND = 32 * 1024   # ...plus one second per this many bytes received
MAX_HEAD_BYTES = 1024 * 1024       # more without a blank line: a thread takes it (gunicorn answers 400)
NOTIFY_SECONDS = 1.0               # heartbeats to the arbiter (which waits for one every --timeout s)
MAX_BUFFERED_BODY = 12 * 1024 * 1024  # larger declared bodies go to a thread at once (the apps refuse them)


_TOKEN = frozenset(b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


def request_is_whole(data: bytes | bytearray) -> bool:
    """Whether ``data`` holds a whole HTTP/1.x request, or enough to hand it over anyway.

    Incomplete: no blank line after the headers yet, or fewer body bytes than Content-Length
    says, or a chunked body without its last chunk. Anything malformed (a method that is not a
    token, as a TLS hello sent to this plain-HTTP port) or above the limits counts as whole:
    gunicorn's parser answers it (400, 413) and the apps refuse large bodies.
    """
    start = bytes(data[:64]).lstrip(b"\r\n")
    method, space, _ = start.partition(b" ")
    if not set(method) <= _TOKEN or (not space and len(start) > 32):
        return True             # not HTTP/1.x (a TLS hello, say): gunicorn answers 400 at once
    head_end = data.find(b"\r\n\r\n")
    if head_end < 0:
        return len(data) > MAX_HEAD_BYTES
    fields: dict[str, str] = {}
    for line in bytes(data[:head_end]).decode("latin-1").split("\r\n")[1:]:
        name, colon, value = line.partition(":")
        if colon:
            fields[name.strip().lower()] = value.strip().lower()
    body_start = head_end + 4
    if "transfer-encoding" in fields:
        return not fields["transfer-encoding"].endswith("chunked") or _chunks_end(data, body_start) \
            or len(data) - body_start > MAX_BUFFERED_BODY
    try:
        length = int(fields.get("content-length", "0"))
    except ValueError:
        return True
    return length > MAX_BUFFERED_BODY or len(data) - body_start >= length


def _chunks_end(data: bytes | bytearray, position: int) -> bool:
    """Whether the chunked body from ``position`` has its last chunk and trailer section."""
    while True:
        line_end = data.find(b"\r\n", position)
        if line_end < 0:
            return False
        try:
            size = int(bytes(data[position:line_end]).split(b";")[0].strip(), 16)
        except ValueError:
            return True
        if size == 0:
            return data.find(b"\r\n\r\n", line_end) >= 0    # the blank line after any trailers
        position = line_end + 2 + size + 2
        if position > len(data):
            return False


LINGER_SECONDS = 2.0               # after "Connection: close": how long to wait for the client's FIN
LINGER_MAX_BYTES = 64 * 1024


class _Connection(TConn):
    """A gthread connection whose lingering close runs in the worker's event loop.

    gunicorn's own (RFC 9112 section 9.6: half-close, drain, close) blocks the event loop for up
    to 2 s per connection whose client does not close its side, during which nothing is accepted.
    """

    def __init__(self, worker: BufferingThreadWorker, *args: Any) -> None:
        super().__init__(*args)
        self.worker = worker
        self.inbox = bytearray()                 # the request so far, while the event loop reads it
        self.buffered: bytes | None = None       # the whole request, until its thread parses it
        self.drained = 0                         # bytes read while lingering

    def unreader(self) -> Any:
        """The HTTP/1.x parser's buffer (None before the first request, or for another protocol)."""
        return self.parser.unreader if isinstance(self.parser, RequestParser) else None

    def close(self, graceful: bool = False) -> None:
        if graceful:
            self.worker.linger(self)
        else:
            super().close()


class BufferingThreadWorker(ThreadWorker):
    """gunicorn's ``gthread`` worker, except that a thread only ever gets a complete request.

    New and kept-alive connections (and bytes a client pipelined behind a request) are read
    without blocking in the worker's event loop until :func:`request_is_whole`; the thread
    then parses the buffered bytes. TLS and HTTP/2 prior knowledge (never configured here) go
    the plain ``gthread`` way.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reading: dict[_Connection, float] = {}     # connection -> when its request must be in
        self.lingering: dict[_Connection, float] = {}   # half-closed connection -> when to close it anyway
        self.stop_deadline = float("inf")
        self.notified = float("-inf")

    def notify(self) -> None:
        """Tell the arbiter this worker is alive at most every :data:`NOTIFY_SECONDS` (gunicorn does it
        on every turn of the event loop: a system call per request or more, for a timeout of 30 s)."""
        now = time.monotonic()
        if now - self.notified >= NOTIFY_SECONDS:
            self.notified = now
            super().notify()

    def _buffers(self, client: Any) -> bool:
        return not self.cfg.is_ssl and not negotiation.prior_knowledge_allowed(self.cfg, client)

    def accept(self, listener: Any) -> None:
        try:
            sock, client = listener.accept()
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        conn = _Connection(self, self.cfg, sock, client, listener.getsockname())
        if self._buffers(client):
            self._read_request(conn, b"")
        else:
            super().enqueue_req(conn)

    def on_client_socket_readable(self, conn: TConn, client: Any) -> None:
        """A kept-alive connection has bytes: read its next request here, not in a thread."""
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        self._read_request(cast(_Connection, conn), b"")

    def enqueue_req(self, conn: TConn) -> None:
        ours = cast(_Connection, conn)              # accept() makes every connection a _Connection
        unreader = ours.unreader()
        if ours.buffered is None and unreader is not None and self._buffers(conn.client):
            # bytes pipelined behind the last request: buffer the rest of that request first
            self._read_request(ours, unreader.take_buffered())
            return
        super().enqueue_req(conn)

    def _read_request(self, conn: _Connection, data: bytes) -> None:
        conn.inbox = bytearray(data)
        if data and request_is_whole(conn.inbox):
            self._hand_over(conn)
            return
        conn.sock.setblocking(False)
        self.reading[conn] = time.monotonic() + REQUEST_SECONDS
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_request_bytes, conn))

    def _on_request_bytes(self, conn: _Connection, _sock: Any) -> None:
        try:
            data = conn.sock.recv(256 * 1024)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:                                # the client went away before its request was whole
            self._stop_reading(conn)
            self.nr_conns -= 1
            conn.close()
            return
        conn.inbox += data
        if request_is_whole(conn.inbox):
            self._stop_reading(conn)
            self._hand_over(conn)

    def _hand_over(self, conn: _Connection) -> None:
        conn.buffered, conn.inbox = bytes(conn.inbox), bytearray()
        conn.data_ready = True                      # no waiting for data in the thread
        super().enqueue_req(conn)

    def linger(self, conn: _Connection) -> None:
        """Half-close ``conn`` and close it once the client has (or after :data:`LINGER_SECONDS`)."""
        try:
            conn.sock.shutdown(socket.SHUT_WR)
            conn.sock.setblocking(False)
            self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_linger_bytes, conn))
        except (OSError, ValueError, KeyError):
            conn.sock.close()
            return
        conn.drained = 0
        self.lingering[conn] = time.monotonic() + LINGER_SECONDS

    def _on_linger_bytes(self, conn: _Connection, _sock: Any) -> None:
        try:
            data = conn.sock.recv(4096)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        conn.drained += len(data)
        if not data or conn.drained > LINGER_MAX_BYTES:
            self._end_linger(conn)

    def _end_linger(self, conn: _Connection) -> None:
        self.lingering.pop(conn, None)
        with contextlib.suppress(KeyError, ValueError, OSError):
            self.poller.unregister(conn.sock)
        conn.sock.close()

    def _stop_reading(self, conn: _Connection) -> None:
        self.reading.pop(conn, None)
        with contextlib.suppress(KeyError, ValueError, OSError):
            self.poller.unregister(conn.sock)

    def handle(self, conn: TConn) -> Any:
        """In a thread: put the buffered request in front of the parser, then gunicorn's handling."""
        ours = cast(_Connection, conn)
        buffered, ours.buffered = ours.buffered, None
        if buffered is not None:
            conn.sock.setblocking(True)
            conn.init()
            unreader = ours.unreader()
            if unreader is not None:
                unreader.unread(buffered)
        return super().handle(conn)

    def murder_pending(self) -> None:
        """Also close connections whose request did not arrive in time (called about once a second)."""
        super().murder_pending()
        now = time.monotonic()
        late = [conn for conn, deadline in self.reading.items()
                if min(deadline + len(conn.inbox) / MIN_BYTES_PER_SECOND, self.stop_deadline) <= now]
        for conn in late:
            self._stop_reading(conn)
            self.nr_conns -= 1
            conn.close()
        for conn in [conn for conn, deadline in self.lingering.items() if deadline <= now]:
            self._end_linger(conn)

    def _cap_keepalive(self, deadline: float) -> None:
        """Stopping: requests still arriving get as long as kept-alive connections, no more."""
        super()._cap_keepalive(deadline)  # type: ignore[misc]  # gunicorn 27 has it; types-gunicorn not yet
        self.stop_deadline = deadline


DEFAULT_ACCESS_LOG_FORMAT = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"'


class AccessLogger(Logger):
    """gunicorn's logger, writing the same access log line for less CPU.

    gunicorn builds every atom a format could name for each request (every request and
    response header and every WSGI environ entry, each escaped) although its default format
    uses nine; for the default format only those nine are made here, escaped the same way.
    Any other format goes gunicorn's way.
    """

    def access(self, resp: Any, req: Any, environ: MutableMapping[str, Any], request_time: Any) -> None:
        if self.cfg.access_log_format != DEFAULT_ACCESS_LOG_FORMAT:
            super().access(resp, req, environ, request_time)
            return
        if not self.access_log_enabled:
            return
        status = resp.status
        if isinstance(status, str):
            status = status.split(None, 1)[0]
        sent = getattr(resp, "sent", None)
        atoms = {"h": environ.get("REMOTE_ADDR", "-"), "l": "-", "u": self._get_user(environ) or "-",  # type: ignore[attr-defined]
                 "t": self.now(),
                 "r": f"{environ['REQUEST_METHOD']} {environ['RAW_URI']} {environ['SERVER_PROTOCOL']}",
                 "s": status, "b": str(sent) if sent is not None else "-",
                 "f": environ.get("HTTP_REFERER", "-"), "a": environ.get("HTTP_USER_AGENT", "-")}
        escaped = {key: value.replace('"', '\\"') if isinstance(value, str) else value
                   for key, value in atoms.items()}
        try:
            self.access_log.info(DEFAULT_ACCESS_LOG_FORMAT, escaped)
        except Exception:  # noqa: BLE001 - as gunicorn does: a log line must not fail the request
            self.error(traceback.format_exc())


WORKER_NOTE = "gthread workers that read each request whole before a thread takes it"


def worker_options(host: str, port: int, workers: int, threads: int) -> dict[str, Any]:
    """What every microcred server gives gunicorn: the address, and ``workers`` x ``threads`` of
    :class:`BufferingThreadWorker` (the issuer's ``microcred serve`` builds on it too)."""
    bind_host = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return {
        "bind": f"{bind_host}:{port}",
        "workers": workers,
        "worker_class": BufferingThreadWorker,   # gthread, reading each request whole before a thread
        "threads": threads,
        "graceful_timeout": 30,
        "errorlog": "-",
        "control_socket_disable": True,     # gunicorn >= 25: no runtime-control socket
    }


def gunicorn_options(host: str, port: int, workers: int, threads: int, access_log: bool) -> dict[str, Any]:
    return worker_options(host, port, workers, threads) | {
        "timeout": 60,
        "keepalive": 5,
        "accesslog": "-" if access_log else None,
        "logger_class": AccessLogger,
        "proc_name": "microcred-verifier",
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
    served = "development server" if dev else f"gunicorn, {workers} workers x {threads} threads, {WORKER_NOTE}"
    click.echo(f"listening on {host}:{port} ({served})")
    if dev:
        from werkzeug.serving import run_simple
        run_simple(host, port, create_app(config), use_reloader=False, use_debugger=False, threaded=True)
        return
    run_gunicorn(lambda: create_app(config), gunicorn_options(host, port, workers, threads, access_log))


if __name__ == "__main__":  # python -m verifier.web.cli serve ...
    verifier()
