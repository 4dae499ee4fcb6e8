"""Loopback HTTP(S) servers for tests: no test ever needs the internet.

Use the fixtures by importing them into a test module or conftest::

    from tests.http_fixtures import http_server, https_server, tls_material  # noqa: F401

    def test_something(https_server):
        https_server.set_json("/.well-known/did.json", {"id": "did:web:..."})
        fetcher = Fetcher(https_server.policy())          # allows 127.0.0.1, trusts the test CA
        fetcher.fetch_json(https_server.url("/.well-known/did.json"))
        assert https_server.hits("/.well-known/did.json") == 1

API of :class:`LoopbackServer` (``http_server`` / ``https_server`` are fresh per test):

* ``url(path)``, ``base_url`` (``https://127.0.0.1:PORT``), ``host`` (``127.0.0.1``), ``port``,
  ``netloc`` (``127.0.0.1:PORT``), ``did_web(*path)`` (``did:web:127.0.0.1%3APORT[:seg...]``),
  ``ca_file`` (https only), ``policy(**overrides)`` -> a ``FetchPolicy`` that allows
  ``127.0.0.1`` and trusts the test CA.
* Routes (``path`` without query; a route matches ``path`` exactly, query ignored):
  ``set(path, body, status=200, headers=None, content_type="application/json")`` (``body``:
  bytes, str, or anything JSON-serialisable), ``set_json(path, obj, ...)``,
  ``redirect(path, location, status=302)``, ``trickle(path, body, interval=0.5,
  in_headers=False)`` (one byte per interval; optionally the headers as well), ``endless(path, chunk=..., chunked=False)`` (an endless body, bounded by
  ``limit`` bytes / 30 s), ``huge(path, size)`` (a body of ``size`` bytes with a
  Content-Length), ``gzip_bomb(path, decoded_size=64 MiB)`` (``Content-Encoding: gzip``), ``gzip(path, body)``,
  ``handler(path, func)`` (``func(request_path, headers) -> (status, headers, body)``),
  ``remove(path)``, ``clear()``. Unknown paths answer 404.
* Counters: ``hits(path)``, ``total_hits()``, ``requests`` (list of ``(path, headers)``).

Servers are ``ThreadingHTTPServer`` instances in daemon threads; each stops at fixture
teardown and in any case after ``max_lifetime`` seconds; slow routes give up after 30 s.
"""
from __future__ import annotations

import datetime as _dt
import gzip
import ipaddress
import json
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

SLOW_ROUTE_LIMIT = 30.0  # seconds a trickle / endless response may last at most


# --------------------------------------------------------------------------- #
# TLS material
# --------------------------------------------------------------------------- #
@dataclass
class TlsMaterial:
    """A throw-away CA and a server certificate for localhost / 127.0.0.1 / ::1."""

    directory: Path
    ca_file: str
    cert_file: str
    key_file: str
    _ca_cert: Any = field(repr=False)
    _ca_key: Any = field(repr=False)

    def issue(self, names: tuple[str, ...], stem: str) -> tuple[str, str]:
        """Issue another server certificate (for ``names``) from this CA; returns (cert, key) files."""
        return _issue(self.directory, stem, names, self._ca_cert, self._ca_key)


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _write_key(path: Path, key) -> None:
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))


def _issue(directory: Path, stem: str, names: tuple[str, ...], ca_cert, ca_key) -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = _dt.datetime.now(_dt.UTC)
    alt: list[x509.GeneralName] = []
    for name in names:
        try:
            alt.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alt.append(x509.DNSName(name))
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(names[0]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _dt.timedelta(minutes=5))
        .not_valid_after(now + _dt.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    cert_file, key_file = directory / f"{stem}.crt", directory / f"{stem}.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    _write_key(key_file, key)
    return str(cert_file), str(key_file)


def make_tls_material(directory: Path, names: tuple[str, ...] = ("localhost", "127.0.0.1", "::1")) -> TlsMaterial:
    """Create a CA (``ca.crt``) and a server certificate for ``names`` in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    now = _dt.datetime.now(_dt.UTC)
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("microcred test CA"))
        .issuer_name(_name("microcred test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _dt.timedelta(minutes=5))
        .not_valid_after(now + _dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                     crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_file = directory / "ca.crt"
    ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    cert_file, key_file = _issue(directory, "server", names, ca_cert, ca_key)
    return TlsMaterial(directory, str(ca_file), cert_file, key_file, ca_cert, ca_key)


# --------------------------------------------------------------------------- #
# Routes
# --------------------------------------------------------------------------- #
@dataclass
class _Route:
    kind: str
    status: int = 200
    headers: dict = field(default_factory=dict)
    body: bytes = b""
    options: dict = field(default_factory=dict)


_BOMBS: dict[int, bytes] = {}


def gzip_bomb_bytes(decoded_size: int) -> bytes:
    """Gzip of ``decoded_size`` zero bytes (cached; 64 MiB compresses to ~64 KiB)."""
    if decoded_size not in _BOMBS:
        compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        block = b"\0" * (1 << 20)
        parts = []
        left = decoded_size
        while left > 0:
            parts.append(compressor.compress(block[:min(left, len(block))]))
            left -= len(block)
        parts.append(compressor.flush())
        _BOMBS[decoded_size] = b"".join(parts)
    return _BOMBS[decoded_size]


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = 10  # socket timeout for a stalled client

    def setup(self) -> None:
        context = self.server.ssl_context
        if context is not None:
            self.request.settimeout(self.timeout)
            self.request = context.wrap_socket(self.request, server_side=True)
        super().setup()

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - quiet
        pass

    def do_HEAD(self) -> None:  # noqa: N802
        self.do_GET()

    def do_GET(self) -> None:  # noqa: N802
        owner = self.server.owner
        path = self.path.split("?", 1)[0]
        route = owner._record(path, dict(self.headers))
        try:
            if route is None:
                self._simple(404, {"Content-Type": "text/plain"}, b"not found")
            else:
                getattr(self, "_serve_" + route.kind)(route)
        except (OSError, ssl.SSLError):
            pass  # the client went away (often on purpose: size caps, deadlines)

    def _simple(self, status: int, headers: dict, body: bytes, *, length: bool = True) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if length and not any(h.lower() == "content-length" for h in headers):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _serve_static(self, route: _Route) -> None:
        self._simple(route.status, route.headers, route.body)

    def _serve_handler(self, route: _Route) -> None:
        status, headers, body = route.options["func"](self.path, dict(self.headers))
        self._simple(status, headers or {}, body if isinstance(body, bytes) else str(body).encode())

    def _serve_trickle(self, route: _Route) -> None:
        stop = time.monotonic() + SLOW_ROUTE_LIMIT
        if route.options["in_headers"]:  # the status line and headers trickle too
            head = "".join(f"{k}: {v}\r\n" for k, v in route.headers.items())
            raw = (f"HTTP/1.0 {route.status} OK\r\n{head}Content-Length: {len(route.body)}\r\n\r\n"
                   .encode("latin-1") + route.body)
            for byte in raw:
                if time.monotonic() > stop or self.server.owner.stopped:
                    break
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(route.options["interval"])
            return
        self.send_response(route.status)
        for name, value in route.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(route.body)))
        self.end_headers()
        self.wfile.flush()
        for byte in route.body:
            if time.monotonic() > stop or self.server.owner.stopped:
                break
            time.sleep(route.options["interval"])
            self.wfile.write(bytes([byte]))
            self.wfile.flush()

    def _serve_endless(self, route: _Route) -> None:
        chunked = route.options["chunked"]
        if chunked:
            self.protocol_version = "HTTP/1.1"
            self.close_connection = True
        self.send_response(route.status)
        for name, value in route.headers.items():
            self.send_header(name, value)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        size = route.options.get("size")
        if size is not None:
            self.send_header("Content-Length", str(size))
        self.send_header("Connection", "close")
        self.end_headers()
        chunk: bytes = route.options["chunk"]
        limit = size if size is not None else route.options["limit"]
        sent = 0
        stop = time.monotonic() + SLOW_ROUTE_LIMIT
        while sent < limit and time.monotonic() < stop and not self.server.owner.stopped:
            piece = chunk[:limit - sent]
            if chunked:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            else:
                self.wfile.write(piece)
            sent += len(piece)
        if chunked:
            self.wfile.write(b"0\r\n\r\n")

    def _serve_redirect(self, route: _Route) -> None:
        self._simple(route.status, {"Location": route.options["location"], **route.headers}, b"")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: LoopbackServer
    ssl_context: ssl.SSLContext | None

    def handle_error(self, request, client_address) -> None:  # quiet: clients abort on purpose
        pass


class LoopbackServer:
    """An HTTP or HTTPS server on 127.0.0.1 with a mutable route table (see module docstring)."""

    def __init__(self, *, tls: TlsMaterial | None = None, cert: tuple[str, str] | None = None,
                 host: str = "127.0.0.1", max_lifetime: float = 300.0) -> None:
        self.tls = tls
        self.host = host
        self.scheme = "https" if tls is not None else "http"
        self._routes: dict[str, _Route] = {}
        self._hits: dict[str, int] = {}
        self.requests: list[tuple[str, dict]] = []
        self._lock = threading.Lock()
        self.stopped = False
        self._server = _Server((host, 0), _Handler)
        self._server.owner = self
        self._server.ssl_context = None
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            cert_file, key_file = cert or (tls.cert_file, tls.key_file)
            context.load_cert_chain(cert_file, key_file)
            self._server.ssl_context = context
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True, name=f"loopback-{self.scheme}-{self.port}")
        self._thread.start()
        self._reaper = threading.Timer(max_lifetime, self.stop)
        self._reaper.daemon = True
        self._reaper.start()

    # ------------------------------------------------------------------ addresses
    @property
    def netloc(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.netloc}"

    def url(self, path: str = "/") -> str:
        return self.base_url + (path if path.startswith("/") else "/" + path)

    def did_web(self, *path: str) -> str:
        """``did:web:127.0.0.1%3APORT`` (plus ``:seg`` per path segment)."""
        return ":".join([f"did:web:{self.host}%3A{self.port}", *path])

    @property
    def ca_file(self) -> str | None:
        return self.tls.ca_file if self.tls is not None else None

    def policy(self, **overrides):
        """A FetchPolicy that allows this server's host and trusts the test CA."""
        from verifier.fetcher import FetchPolicy

        values = {"allow_hosts": frozenset({self.host}), "ca_file": self.ca_file}
        values.update(overrides)
        return FetchPolicy(**values)

    # ------------------------------------------------------------------ routes
    def set(self, path: str, body: Any = b"", status: int = 200, headers: dict | None = None,
            content_type: str | None = "application/json") -> None:
        if not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode("utf-8")
        all_headers = {"Content-Type": content_type} if content_type else {}
        all_headers.update(headers or {})
        self._put(path, _Route("static", status, all_headers, body))

    def set_json(self, path: str, obj: Any, status: int = 200, headers: dict | None = None,
                 content_type: str = "application/json") -> None:
        self.set(path, json.dumps(obj).encode("utf-8"), status, headers, content_type)

    def redirect(self, path: str, location: str, status: int = 302) -> None:
        self._put(path, _Route("redirect", status, {}, b"", {"location": location}))

    def trickle(self, path: str, body: bytes = b'{"slow": "' + b"x" * 200 + b'"}', interval: float = 0.5,
                headers: dict | None = None, in_headers: bool = False) -> None:
        """Send ``body`` one byte per ``interval`` (with ``in_headers``: the status line and
        headers too, byte by byte, which defeats per-read socket timeouts)."""
        self._put(path, _Route("trickle", 200, {"Content-Type": "application/json", **(headers or {})},
                               body, {"interval": interval, "in_headers": in_headers}))

    def endless(self, path: str, chunk: bytes = b"x" * 65536, chunked: bool = False,
                limit: int = 1 << 30, headers: dict | None = None) -> None:
        self._put(path, _Route("endless", 200, {"Content-Type": "application/json", **(headers or {})},
                               b"", {"chunk": chunk, "chunked": chunked, "limit": limit}))

    def huge(self, path: str, size: int, headers: dict | None = None) -> None:
        self._put(path, _Route("endless", 200, {"Content-Type": "application/json", **(headers or {})},
                               b"", {"chunk": b"x" * 65536, "chunked": False, "size": size}))

    def gzip_bomb(self, path: str, decoded_size: int = 64 << 20) -> None:
        self.set(path, gzip_bomb_bytes(decoded_size), headers={"Content-Encoding": "gzip"})

    def gzip(self, path: str, body: Any, **kwargs) -> None:
        """Serve ``body`` (bytes / str / JSON value) gzip-compressed with Content-Encoding: gzip."""
        if not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode("utf-8")
        headers = {"Content-Encoding": "gzip", **kwargs.pop("headers", {})}
        self.set(path, gzip.compress(body), headers=headers, **kwargs)

    def handler(self, path: str, func: Callable[[str, dict], tuple[int, dict, bytes]]) -> None:
        self._put(path, _Route("handler", options={"func": func}))

    def remove(self, path: str) -> None:
        with self._lock:
            self._routes.pop(path, None)

    def clear(self) -> None:
        with self._lock:
            self._routes.clear()
            self._hits.clear()
            self.requests.clear()

    def _put(self, path: str, route: _Route) -> None:
        if not path.startswith("/"):
            raise ValueError("route paths start with '/'")
        with self._lock:
            self._routes[path] = route

    def _record(self, path: str, headers: dict) -> _Route | None:
        with self._lock:
            self._hits[path] = self._hits.get(path, 0) + 1
            self.requests.append((path, headers))
            return self._routes.get(path)

    # ------------------------------------------------------------------ counters
    def hits(self, path: str) -> int:
        with self._lock:
            return self._hits.get(path, 0)

    def total_hits(self) -> int:
        with self._lock:
            return sum(self._hits.values())

    # ------------------------------------------------------------------ lifecycle
    def stop(self) -> None:
        if self.stopped:
            return
        self.stopped = True
        self._reaper.cancel()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> LoopbackServer:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def unused_port() -> int:
    """A loopback port nothing listens on (bound and released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --------------------------------------------------------------------------- #
# Fixtures
# --------------------------------------------------------------------------- #
@pytest.fixture(scope="session")
def tls_material(tmp_path_factory) -> TlsMaterial:
    """The session's test CA and server certificate (``.ca_file`` to trust it)."""
    return make_tls_material(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def http_server() -> Iterator[LoopbackServer]:
    with LoopbackServer() as server:
        yield server


@pytest.fixture
def https_server(tls_material) -> Iterator[LoopbackServer]:
    with LoopbackServer(tls=tls_material) as server:
        yield server
