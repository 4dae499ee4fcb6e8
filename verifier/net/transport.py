"""The transport: one GET over a pinned socket, under deadlines and decoded-size caps.

Role: the only code of the verifier that opens sockets. :class:`Transport` sends a GET for a
URL that :func:`verifier.net.policy.parse_target` accepted, follows redirects by hand
(re-checking every hop) and returns a :class:`FetchResponse` or raises
:class:`~verifier.net.policy.FetchError`. It knows nothing of budgets, caches or rate limits:
the caller passes ``admit``, a context manager entered around every request (redirect hops
included), where those are enforced.

Threat model (research notes, section B 13-14): the server is the attacker's.

* **Address check and pinning.** The host is resolved once (``resolve_host(host, port)``,
  default ``socket.getaddrinfo``); if *any* returned address is forbidden
  (:func:`~verifier.net.policy.forbidden_address`), the fetch is refused before any connection
  is made. Otherwise the TCP connection is opened to that checked IP literal; nothing resolves
  the name again, so DNS rebinding cannot swap the address between check and connect.
* **TLS** is always verified (system CAs plus ``FetchPolicy.ca_file``), with SNI and
  certificate host-name matching done against the *original* host name, on the pinned socket.
* **Redirects** are followed by hand (at most ``max_redirects``); every hop is re-validated
  (scheme, userinfo, port, address), so https -> http or public -> private is refused.
* **Deadlines.** The caller's ``deadline`` bounds the whole fetch (DNS, connect, TLS, headers,
  body, every redirect); a watchdog shuts the socket down at the deadline, so a server that
  trickles one byte at a time (in the headers or the body) cannot hold the verifier.
* **Decoded-size cap.** Bodies are read in small pieces and decompressed here (gzip /
  deflate) with a hard cap on the *decoded* size, so a gzip bomb stops at ``max_bytes``.

How pinning is implemented: rather than teaching ``requests`` / ``urllib3`` to connect to an
address other than the URL's host, the transport opens the TCP socket itself
(``socket.create_connection((checked_ip, port))``), wraps it with
``ssl.SSLContext.wrap_socket(sock, server_hostname=host)`` (SNI + ``check_hostname`` against
the original name, ``CERT_REQUIRED``) and hands the ready socket to a stdlib
``http.client.HTTPConnection`` for the HTTP/1.1 exchange. No library between the check and
the connect ever sees a host name it could resolve, there is no proxy support to misuse, and
nothing reads the environment (``HTTPS_PROXY``, ``.netrc``). The ``Host`` header carries the
original host. Nothing secret is logged: log lines carry the scheme, host and path only.
"""
from __future__ import annotations

import http.client
import ipaddress
import logging
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Callable
from contextlib import suppress
from typing import Any
from urllib.parse import urljoin

from .policy import FetchError, FetchPolicy, Target, fetch_error, forbidden_address, parse_target
from .response import Admit, FetchResponse, Resolver, freshness

log = logging.getLogger("verifier.fetcher")

__all__ = ["Admit", "FetchResponse", "Resolver", "Transport"]

_READ_CHUNK = 16 * 1024
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_USER_AGENT = "microcred-verifier"

def _default_resolve(host: str, port: int) -> list[str]:
    seen: list[str] = []
    for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        address = str(info[4][0])
        if address not in seen:
            seen.append(address)
    return seen


def _open_connection(ip: str, port: int, timeout: float) -> socket.socket:
    """Open the TCP connection to an already checked IP literal (tests replace this)."""
    return socket.create_connection((ip, port), timeout=timeout)


class _Watchdog:
    """Shuts a socket down at an absolute deadline (defeats byte-by-byte trickling)."""

    def __init__(self, sock: socket.socket, remaining: float) -> None:
        self._killer: socket.socket | None = sock.dup()  # shutdown() on a dup affects the connection
        self.fired = False
        self._lock = threading.Lock()
        self._timer = threading.Timer(max(remaining, 0.0), self._fire)
        self._timer.daemon = True
        self._timer.start()

    def _fire(self) -> None:
        with self._lock:
            if self._killer is None:
                return
            self.fired = True
            with suppress(OSError):
                self._killer.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self._timer.cancel()
        with self._lock:
            if self._killer is not None:
                self._killer.close()
                self._killer = None


class _Exchange:
    """One request / response on one pinned connection (state shared by its steps)."""

    def __init__(self, transport: Transport, target: Target, url: str, deadline: float) -> None:
        self.transport, self.policy, self.target, self.url = transport, transport.policy, target, url
        self.deadline = deadline
        self.watchdog: _Watchdog | None = None

    def fail(self, code: str, message: str, **details: object) -> FetchError:
        return fetch_error(code, message, self.url, **details)

    def out_of_time(self) -> FetchError:
        return self.fail("timeout", f"The fetch ran out of time (at most {self.policy.total_timeout:g} s a fetch "
                                    f"and {self.policy.verification_timeout:g} s for all fetches of a verification).")

    def remaining(self) -> float:
        remaining = self.deadline - self.transport.clock()
        if remaining <= 0:
            raise self.out_of_time()
        return remaining

    def addresses(self) -> list[str]:
        """The host's addresses, each checked; DNS runs in a thread so the deadline holds."""
        target = self.target
        if target.ip_literal is not None:
            return [str(target.ip_literal)]
        result: list[Any] = []
        error: list[Any] = []

        def run() -> None:
            try:
                result.extend(self.transport.resolve_host(target.host, target.port))
            except Exception as exc:  # noqa: BLE001 - reported as dns_failure below
                error.append(exc)

        thread = threading.Thread(target=run, daemon=True, name="microcred-dns")
        thread.start()
        thread.join(min(self.policy.connect_timeout, self.remaining()))
        if thread.is_alive():
            raise self.fail("timeout", f"Looking up {target.host} took too long.")
        if error or not result:
            raise self.fail("dns_failure", f"The host name {target.host} does not resolve.")
        for raw in result:
            try:
                ip = ipaddress.ip_address(str(raw).split("%", 1)[0])
            except ValueError as exc:
                raise self.fail("dns_failure", f"{target.host} resolved to a malformed address.") from exc
            if not target.allowed and (forbidden_address(ip) or "%" in str(raw)):
                raise self.fail("private_address",
                                f"{target.host} resolves to {ip}, a private, local or reserved address.")
        return [str(raw) for raw in result]

    def connect(self) -> socket.socket:
        last: Exception | None = None
        for address in self.addresses():
            try:
                return _open_connection(address, self.target.port,
                                        min(self.policy.connect_timeout, self.remaining()))
            except OSError as exc:   # socket.timeout included
                last = exc
        if isinstance(last, socket.timeout):
            raise self.fail("timeout", f"Connecting to {self.target.host} timed out.") from last
        raise self.fail("connection_failed", f"Could not connect to {self.target.host}.") from last

    def run(self, accept: str, cap: int) -> tuple[int, dict[str, Any], bytes]:
        """Send the GET; returns (status, headers, body), the body only for a 2xx answer."""
        raw = self.connect()
        self.watchdog = _Watchdog(raw, self.remaining())
        sock = raw
        try:
            try:
                if self.target.scheme == "https":
                    raw.settimeout(min(self.policy.connect_timeout, self.remaining()))
                    sock = self.transport.ssl_context().wrap_socket(raw, server_hostname=self.target.host)
                return self._request(sock, accept, cap)
            except FetchError:
                raise
            except Exception as exc:  # noqa: BLE001 - every other failure is named by _failure
                raise self._failure(exc) from exc
        finally:
            self.watchdog.close()
            with suppress(OSError):
                sock.close()

    def _failure(self, exc: Exception) -> FetchError:
        host = self.target.host
        fired = self.watchdog is not None and self.watchdog.fired
        if isinstance(exc, ssl.SSLCertVerificationError) and not fired:
            return self.fail("tls_error", f"The TLS certificate of {host} is not trusted: {exc.verify_message}.")
        if isinstance(exc, ssl.SSLError) and not fired:
            return self.fail("tls_error", f"TLS with {host} failed: {exc.reason}.")
        if isinstance(exc, ssl.SSLError):
            return self.fail("timeout", "The fetch hit its total time limit.")
        if isinstance(exc, (socket.timeout, TimeoutError)):
            return self.fail("timeout", f"{host} was too slow to answer.")
        if not isinstance(exc, (OSError, http.client.HTTPException, ValueError)):
            raise exc
        if fired or self.transport.clock() >= self.deadline:
            return self.out_of_time()
        return self.fail("connection_failed", f"The connection to {host} failed: {type(exc).__name__}.")

    def _request(self, sock: socket.socket, accept: str, cap: int) -> tuple[int, dict[str, Any], bytes]:
        sock.settimeout(min(self.policy.read_timeout, self.remaining()))
        conn = http.client.HTTPConnection(self.target.host, self.target.port)
        conn.sock = sock
        conn.putrequest("GET", self.target.request_target, skip_host=True, skip_accept_encoding=True)
        for name, value in (("Host", self.target.host_header), ("Accept", accept),
                            ("Accept-Encoding", "gzip, deflate"), ("User-Agent", _USER_AGENT),
                            ("Connection", "close")):
            conn.putheader(name, value)
        conn.endheaders()
        response = conn.getresponse()
        headers = {k.lower(): v for k, v in response.getheaders()}
        if not 200 <= response.status < 300:
            return response.status, headers, b""
        return response.status, headers, self._read_body(response, headers, sock, cap)

    def _decoder(self, headers: dict[str, Any], cap: int) -> zlib._Decompress | None:
        encoding = headers.get("content-encoding", "identity").strip().lower()
        if encoding in ("", "identity"):
            length = headers.get("content-length")
            if length is not None and length.strip().isdigit() and int(length) > cap:
                raise self.too_large(cap)
            return None
        if encoding in ("gzip", "x-gzip", "deflate"):
            return zlib.decompressobj(zlib.MAX_WBITS | 32)  # gzip or zlib header, auto-detected
        raise self.fail("bad_encoding", f"Unsupported Content-Encoding {encoding!r}.")

    def too_large(self, cap: int) -> FetchError:
        return self.fail("too_large", f"The document is larger than {cap} bytes.", max_bytes=cap)

    def _read_body(self, response: http.client.HTTPResponse, headers: dict[str, Any], sock: socket.socket,
                   cap: int) -> bytes:
        decoder = self._decoder(headers, cap)
        raw_cap = 2 * cap + 65536  # compressed input beyond this is not plausible
        out = bytearray()
        raw_total = 0
        while True:
            sock.settimeout(min(self.policy.read_timeout, self.remaining()))
            chunk = response.read1(_READ_CHUNK)
            if self.watchdog is not None and self.watchdog.fired:
                raise self.out_of_time()
            if not chunk:
                break
            raw_total += len(chunk)
            if raw_total > raw_cap:
                raise self.too_large(cap)
            out += chunk if decoder is None else self._inflate(decoder, chunk, cap, len(out))
            if len(out) > cap:
                raise self.too_large(cap)
        if self.transport.clock() >= self.deadline:
            raise self.out_of_time()
        if decoder is not None and not decoder.eof:
            raise self.fail("bad_encoding", "The compressed body is truncated.")
        return bytes(out)

    def _inflate(self, decoder: zlib._Decompress, chunk: bytes, cap: int, have: int) -> bytes:
        """Decompress ``chunk``, never producing more than ``cap + 1`` bytes in all."""
        out = bytearray()
        try:
            out += decoder.decompress(chunk, cap + 1 - have)
            while decoder.unconsumed_tail and have + len(out) <= cap:
                out += decoder.decompress(decoder.unconsumed_tail, cap + 1 - have - len(out))
        except zlib.error as exc:
            raise self.fail("bad_encoding", "The compressed body is corrupt.") from exc
        if decoder.unconsumed_tail or decoder.unused_data:
            if have + len(out) > cap:
                raise self.too_large(cap)
            raise self.fail("bad_encoding", "Data after the end of the compressed body.")
        return bytes(out)


class Transport:
    """Sends GET requests on pinned connections under one :class:`FetchPolicy`.

    Long-lived and thread-safe: it holds only the policy, the resolver, the clock and one TLS
    context. ``resolve_host(host, port) -> [ip, ...]`` and ``clock`` are injectable for tests.
    """

    def __init__(self, policy: FetchPolicy, *, resolve_host: Resolver | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.policy = policy
        self.resolve_host = resolve_host or _default_resolve
        self.clock = clock
        self._ssl_context: ssl.SSLContext | None = None
        self._lock = threading.Lock()

    def ssl_context(self) -> ssl.SSLContext:
        with self._lock:
            if self._ssl_context is None:
                context = ssl.create_default_context()
                if self.policy.ca_file:
                    context.load_verify_locations(cafile=self.policy.ca_file)
                context.minimum_version = ssl.TLSVersion.TLSv1_2
                context.check_hostname = True
                context.verify_mode = ssl.CERT_REQUIRED
                self._ssl_context = context
            return self._ssl_context

    def get(self, url: str, *, accept: str, max_bytes: int, deadline: float, admit: Admit) -> FetchResponse:
        """GET ``url`` (2xx only, redirects followed) before ``deadline``; raise :class:`FetchError`.

        ``admit(target, deadline)`` is entered around every request, redirect hops included.
        """
        current = url
        for _ in range(self.policy.max_redirects + 1):
            target = parse_target(current, self.policy)
            with admit(target, deadline):
                log.debug("fetching %s", target.safe_for_log)
                status, headers, body = _Exchange(self, target, url, deadline).run(accept, max_bytes)
            if status in _REDIRECT_STATUSES:
                location = headers.get("location")
                if not location:
                    raise fetch_error("http_status", f"HTTP {status} without a Location header.", url,
                                      http_status=status)
                current = urljoin(target.url, location.strip())
                log.debug("redirect %d from %s", status, target.safe_for_log)
                continue
            if not 200 <= status < 300:
                raise fetch_error("http_status", f"The server answered HTTP {status}.", url, http_status=status)
            content_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
            return FetchResponse(url, target.url, status, content_type, body,
                                 freshness(headers.get("cache-control"), headers.get("age")))
        raise fetch_error("too_many_redirects", f"More than {self.policy.max_redirects} redirects.", url)
