"""The one hardened fetcher: every network access of the verifier goes through here.

Security rules (research notes, section B 13-23):

* **https only**, port 443 only. Hosts named in ``FetchPolicy.allow_hosts`` (tests, local
  development) may also use plain http, any port, and private / loopback addresses.
* **No userinfo** in URLs, no IDN (punycode only), no legacy numeric host forms accepted as
  names: ``2130706433``, ``0x7f000001``, ``0177.0.0.1`` and ``127.1`` are read the way
  ``inet_aton`` reads them (as 127.0.0.1) and then checked like any address.
* **Address check and pinning.** The host is resolved once (``resolve_host(host, port)``,
  default ``socket.getaddrinfo``); if *any* returned address is private, loopback, link-local,
  multicast, reserved, unspecified, not globally routable, or an IPv4-mapped / NAT64 / 6to4 /
  Teredo wrapper around such an address, the fetch is refused before any connection is made.
  Otherwise the TCP connection is opened to that checked IP literal; nothing resolves the name
  again, so DNS rebinding cannot swap the address between check and connect.
* **TLS** is always verified (system CAs plus ``FetchPolicy.ca_file``), with SNI and
  certificate host-name matching done against the *original* host name, on the pinned socket.
* **Redirects** are followed by hand (at most ``max_redirects``); every hop is re-validated
  (scheme, userinfo, port, address), so https -> http or public -> private is refused.
* **Budgets.** ``total_timeout`` bounds the whole fetch (DNS, connect, TLS, headers, body,
  every redirect); a watchdog shuts the socket down at the deadline, so a server that trickles
  one byte at a time (in the headers or the body) cannot hold the verifier. Bodies are read in
  small pieces and decompressed by us (gzip / deflate) with a hard cap on the *decoded* size,
  so a gzip bomb stops at ``max_bytes``. Each ``Fetcher`` (one per verification) sends at most
  ``max_fetches`` HTTP requests (redirect hops count), all of them within
  ``verification_timeout`` seconds of its creation (each fetch's deadline is cut to what is
  left), so one verification cannot hold the verifier for ``max_fetches * total_timeout``.

How pinning is implemented: rather than teaching ``requests`` / ``urllib3`` to connect to an
address other than the URL's host (custom adapters, pool keys, ``server_hostname`` /
``assert_hostname``), the fetcher opens the TCP socket itself
(``socket.create_connection((checked_ip, port))``), wraps it with
``ssl.SSLContext.wrap_socket(sock, server_hostname=host)`` (SNI + ``check_hostname`` against
the original name, ``CERT_REQUIRED``) and hands the ready socket to a stdlib
``http.client.HTTPConnection`` for the HTTP/1.1 exchange. No library between the check and
the connect ever sees a host name it could resolve, there is no proxy support to misuse, and
nothing reads the environment (``HTTPS_PROXY``, ``.netrc``: requests CVE-2024-47081 cannot
apply). The ``Host`` header carries the original host.

Caching: a :class:`ResponseCache` (shared across verifications, bounded, TTL) holds 2xx
responses keyed by the full URL, the Accept header and the policy parts that decide whether a
URL may be fetched at all (``allow_hosts``, ``ca_file``); errors and non-2xx are never cached.
Within one ``Fetcher`` successful responses are also remembered, so fetching the same DID
document twice in one verification costs one request. Offline fetchers never use the cache:
an offline verification depends only on its inputs.

Nothing secret is logged: log lines carry the scheme, host and path only.
"""
from __future__ import annotations

import http.client
import ipaddress
import json
import logging
import re
import socket
import ssl
import threading
import time
import zlib
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, Mapping
from urllib.parse import urljoin, urlsplit

from .errors import CredentialError

log = logging.getLogger(__name__)

__all__ = [
    "FetchPolicy",
    "FetchError",
    "FetchResponse",
    "ResponseCache",
    "Fetcher",
    "strict_json_loads",
    "MAX_JSON_DEPTH",
]

MAX_JSON_DEPTH = 64
MAX_URL_LENGTH = 4096
_READ_CHUNK = 16 * 1024
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_USER_AGENT = "microcred-verifier"
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class FetchError(CredentialError):
    """A fetch was refused or failed. ``code`` says why (see :data:`FETCH_ERROR_CODES`)."""

    code = "fetch_failed"


#: every code a :class:`FetchError` may carry
FETCH_ERROR_CODES = frozenset({
    "network_forbidden", "invalid_url", "scheme_not_allowed", "private_address", "port_not_allowed",
    "userinfo_in_url", "too_many_redirects", "too_large", "timeout", "http_status",
    "fetch_budget_exceeded", "dns_failure", "connection_failed", "tls_error", "bad_encoding",
    "not_json",
})


@dataclass(frozen=True)
class FetchPolicy:
    """What a :class:`Fetcher` may do.

    ``allow_hosts``: lower-case host names or IP literals, optionally ``host:port``
    (``[v6]:port`` for IPv6), that may use plain http, any port and private / loopback /
    link-local addresses. Meant for tests and local development only; empty by default.
    ``ca_file``: an extra CA bundle trusted in addition to the system CAs (TLS verification
    cannot be switched off).
    """

    allow_hosts: frozenset[str] = frozenset()
    ca_file: str | None = None
    max_bytes: int = 2 * 1024 * 1024
    connect_timeout: float = 5.0
    read_timeout: float = 5.0
    total_timeout: float = 10.0
    max_redirects: int = 3
    max_fetches: int = 10
    verification_timeout: float = 20.0      # all fetches of one verification (one Fetcher) together


@dataclass(frozen=True)
class FetchResponse:
    """A successful (2xx) response. ``content_type`` is lower-case without parameters
    (``""`` when unknown, e.g. for local documents); ``body`` is decoded (no gzip)."""

    url: str
    final_url: str
    status: int
    content_type: str
    body: bytes


# --------------------------------------------------------------------------- #
# Cache
# --------------------------------------------------------------------------- #
class ResponseCache:
    """A bounded, thread-safe LRU of successful responses with a time-to-live.

    Shared across verifications. Keys are chosen by the fetcher (full URL, Accept header and
    policy fingerprint); only 2xx responses are ever stored. ``clock`` is injectable for tests.
    """

    def __init__(self, max_entries: int = 512, ttl: float = 300.0, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if max_entries < 1 or ttl <= 0:
            raise ValueError("max_entries must be >= 1 and ttl > 0")
        self.max_entries = max_entries
        self.ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple, tuple[float, FetchResponse]] = OrderedDict()

    def get(self, key: tuple) -> FetchResponse | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            expires, response = entry
            if self._clock() >= expires:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return response

    def put(self, key: tuple, response: FetchResponse) -> None:
        if not 200 <= response.status < 300:
            return
        with self._lock:
            self._entries[key] = (self._clock() + self.ttl, response)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


# --------------------------------------------------------------------------- #
# Strict JSON
# --------------------------------------------------------------------------- #
def _no_duplicates(pairs: list) -> dict:
    obj: dict = {}
    for key, value in pairs:
        if key in obj:
            raise ValueError(f"duplicate member {key!r}")
        obj[key] = value
    return obj


def _reject_constant(name: str):
    raise ValueError(f"non-standard JSON constant {name}")


_JSON_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)


def _json_depth_ok(text: str, limit: int) -> bool:
    """True if brackets outside strings nest at most ``limit`` deep (one linear scan)."""
    depth = 0
    for match in _JSON_TOKENS.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > limit:
                return False
        elif token in "]}":
            depth -= 1
    return True


def strict_json_loads(data: bytes, *, max_depth: int = MAX_JSON_DEPTH) -> object:
    """Parse UTF-8 JSON strictly; raise ``ValueError`` on anything ambiguous.

    Refused: invalid UTF-8, a byte-order mark, NaN / Infinity, duplicate object members,
    nesting deeper than ``max_depth``.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        raise ValueError("a byte-order mark before the JSON text")
    text = data.decode("utf-8")
    if not _json_depth_ok(text, max_depth):
        raise ValueError(f"JSON nests deeper than {max_depth} levels")
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_reject_constant)
    except RecursionError as exc:  # pragma: no cover - the depth scan prevents it
        raise ValueError("JSON nests too deeply") from exc


# --------------------------------------------------------------------------- #
# URL and address checks
# --------------------------------------------------------------------------- #
@dataclass(frozen=True)
class _Target:
    url: str          # without fragment
    scheme: str
    host: str         # lower-case name, or canonical IP literal (no brackets)
    port: int
    ip_literal: ipaddress.IPv4Address | ipaddress.IPv6Address | None
    request_target: str  # path + query
    allowed: bool

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"

    @property
    def safe_for_log(self) -> str:
        return f"{self.scheme}://{self.host_header}{self.request_target.split('?', 1)[0]}"


def _legacy_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """The address ``inet_aton`` would read from a numeric host (``127.1``, ``0x7f000001``)."""
    if not re.fullmatch(r"[0-9a-fx.]+", host) or not host[0].isdigit():
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def forbidden_address(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """True for any address a public fetch must never reach."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            return True
        embedded = [ip.ipv4_mapped, ip.sixtofour]
        if ip.teredo:
            embedded.extend(ip.teredo)
        if ip in _NAT64:
            embedded.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        if any(inner is not None and forbidden_address(inner) for inner in embedded):
            return True
    return (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast
            or ip.is_reserved or ip.is_unspecified or not ip.is_global)


def _fail(code: str, message: str, url: str, **details) -> FetchError:
    return FetchError(message, code=code, details={"url": url, **details})


def host_allowed(allow_hosts: frozenset[str], host: str, port: int) -> bool:
    if not allow_hosts:
        return False
    allowed = {entry.strip().lower() for entry in allow_hosts}
    bracketed = f"[{host}]" if ":" in host else host
    return host in allowed or bracketed in allowed or f"{bracketed}:{port}" in allowed


def _parse_target(url: str, policy: FetchPolicy) -> _Target:
    """Validate a URL against the policy (everything except the address of a host name)."""
    if not isinstance(url, str) or not url:
        raise _fail("invalid_url", "The URL is empty or not a string.", str(url)[:200])
    if len(url) > MAX_URL_LENGTH:
        raise _fail("invalid_url", f"The URL is longer than {MAX_URL_LENGTH} characters.", url[:200])
    if any(ord(c) <= 0x20 or ord(c) == 0x7F for c in url) or "\\" in url:
        raise _fail("invalid_url", "The URL contains spaces, control characters or backslashes.", url)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise _fail("invalid_url", f"The URL cannot be parsed: {exc}", url) from exc
    scheme = parts.scheme.lower()
    hostport = parts.netloc.rsplit("@", 1)[-1]
    port_text = hostport.rsplit("]", 1)[-1].partition(":")[2] if ":" in hostport.rsplit("]", 1)[-1] else None
    if port_text is not None and not re.fullmatch(r"[1-9][0-9]{0,4}", port_text):
        raise _fail("invalid_url", "The URL's port is empty or not in canonical form.", url)
    if scheme not in ("https", "http"):
        raise _fail("scheme_not_allowed", f"Only https URLs are fetched, not {scheme or 'relative'} ones.", url)
    if "@" in parts.netloc or parts.username is not None or parts.password is not None:
        raise _fail("userinfo_in_url", "URLs with a user name or password are never fetched.", url)
    raw_host = parts.hostname or ""
    if not raw_host:
        raise _fail("invalid_url", "The URL has no host.", url)
    if not raw_host.isascii():
        raise _fail("invalid_url", "Internationalised host names must be given in punycode (xn--).", url)
    ip_literal: ipaddress.IPv4Address | ipaddress.IPv6Address | None = None
    if parts.netloc.split("@")[-1].startswith("["):
        if "%" in raw_host:
            raise _fail("invalid_url", "IPv6 zone identifiers are not allowed in URLs.", url)
        try:
            ip_literal = ipaddress.IPv6Address(raw_host)
        except ValueError as exc:
            raise _fail("invalid_url", "The URL has a malformed IPv6 literal.", url) from exc
    else:
        try:
            ip_literal = ipaddress.IPv4Address(raw_host)
        except ValueError:
            ip_literal = _legacy_ipv4(raw_host)
            if ip_literal is None and not all(_LABEL.fullmatch(label) for label in raw_host.split(".")):
                raise _fail("invalid_url", "The URL's host is not a valid DNS name.", url)
    host = str(ip_literal) if ip_literal is not None else raw_host
    if port is None:
        port = 443 if scheme == "https" else 80
    if not 1 <= port <= 65535:
        raise _fail("invalid_url", "The URL's port is out of range.", url)
    allowed = host_allowed(policy.allow_hosts, host, port)
    if scheme == "http" and not allowed:
        raise _fail("scheme_not_allowed", "Plain http is refused; only https URLs are fetched.", url)
    if not allowed and port != 443:
        raise _fail("port_not_allowed", f"Only port 443 is allowed, not {port}.", url, port=port)
    if not allowed:
        if ip_literal is not None and forbidden_address(ip_literal):
            raise _fail("private_address", f"{host} is a private, local or reserved address.", url)
        if host == "localhost" or host.endswith(".localhost"):
            raise _fail("private_address", "localhost names are never fetched.", url)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    clean_url = url.split("#", 1)[0]
    return _Target(clean_url, scheme, host, port, ip_literal, target, allowed)


# --------------------------------------------------------------------------- #
# Socket watchdog
# --------------------------------------------------------------------------- #
class _Watchdog:
    """Shuts a socket down at an absolute deadline (defeats byte-by-byte trickling)."""

    def __init__(self, sock: socket.socket, remaining: float) -> None:
        self._killer = sock.dup()  # shutdown() on a dup affects the shared connection
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
            try:
                self._killer.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self) -> None:
        self._timer.cancel()
        with self._lock:
            if self._killer is not None:
                self._killer.close()
                self._killer = None


# --------------------------------------------------------------------------- #
# Fetcher
# --------------------------------------------------------------------------- #
def _default_resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen: list[str] = []
    for info in infos:
        address = info[4][0]
        if address not in seen:
            seen.append(address)
    return seen


def _open_connection(ip: str, port: int, timeout: float) -> socket.socket:
    """Open the TCP connection to an already checked IP literal (tests replace this)."""
    return socket.create_connection((ip, port), timeout=timeout)


class Fetcher:
    """Fetches documents for one verification under a :class:`FetchPolicy`.

    ``local_documents`` (URL -> bytes, e.g. from ``microcred verify --resolve URL=FILE``) are
    served first, never touch the network and do not count against the budget; they also work
    when ``offline`` is true. Offline, anything else raises ``FetchError("network_forbidden")``.
    ``resolve_host(host, port) -> [ip, ...]`` and ``clock`` are injectable for tests.
    """

    def __init__(self, policy: FetchPolicy = FetchPolicy(), *, cache: ResponseCache | None = None,
                 local_documents: Mapping[str, bytes] | None = None, offline: bool = False,
                 resolve_host: Callable[[str, int], list[str]] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.policy = policy
        self.cache = cache
        self.offline = offline
        self._local = dict(local_documents or {})
        self._resolve = resolve_host or _default_resolve
        self._clock = clock
        self._spend_until = clock() + policy.verification_timeout
        self._count = 0
        self._memo: dict[tuple, FetchResponse] = {}
        self._lock = threading.Lock()
        self._policy_key = (tuple(sorted(policy.allow_hosts)), policy.ca_file)
        self._ssl_context: ssl.SSLContext | None = None

    @property
    def fetch_count(self) -> int:
        """How many HTTP requests this fetcher has sent (redirect hops included)."""
        return self._count

    # ------------------------------------------------------------------ public API
    def fetch(self, url: str, *, accept: str, max_bytes: int | None = None) -> FetchResponse:
        """Fetch ``url`` (2xx only) with the given Accept header; raise :class:`FetchError`."""
        cap = self.policy.max_bytes if max_bytes is None else min(max_bytes, self.policy.max_bytes)
        local = self._local_document(url)
        if local is not None:
            if len(local) > cap:
                raise _fail("too_large", f"The document is larger than {cap} bytes.", url, max_bytes=cap)
            return FetchResponse(url, url, 200, "", bytes(local))
        if self.offline:
            raise _fail("network_forbidden", "Offline: nothing is fetched from the network.", url)
        _parse_target(url, self.policy)  # refuse bad URLs before any cache lookup
        key = (url, accept, self._policy_key)
        with self._lock:
            response = self._memo.get(key)
        if response is None and self.cache is not None:
            response = self.cache.get(key)
        if response is not None:
            if len(response.body) > cap:
                raise _fail("too_large", f"The document is larger than {cap} bytes.", url, max_bytes=cap)
            return response
        response = self._fetch_network(url, accept, cap)
        with self._lock:
            self._memo[key] = response
        if self.cache is not None:
            self.cache.put(key, response)
        return response

    def fetch_json(self, url: str, *, accept: str = "application/json",
                   max_bytes: int | None = None) -> object:
        """Fetch and strictly parse JSON (``not_json`` for NaN, duplicates, depth > 64, ...)."""
        response = self.fetch(url, accept=accept, max_bytes=max_bytes)
        try:
            return strict_json_loads(response.body)
        except (UnicodeDecodeError, ValueError) as exc:
            raise _fail("not_json", f"The document at the URL is not valid JSON: {exc}", url) from exc

    # ------------------------------------------------------------------ internals
    def _local_document(self, url: str) -> bytes | None:
        if url in self._local:
            return self._local[url]
        bare = url.split("#", 1)[0]
        return self._local.get(bare)

    def _context(self) -> ssl.SSLContext:
        if self._ssl_context is None:
            context = ssl.create_default_context()
            if self.policy.ca_file:
                context.load_verify_locations(cafile=self.policy.ca_file)
            context.minimum_version = ssl.TLSVersion.TLSv1_2
            context.check_hostname = True
            context.verify_mode = ssl.CERT_REQUIRED
            self._ssl_context = context
        return self._ssl_context

    def _take_budget(self, url: str) -> None:
        with self._lock:
            if self._count >= self.policy.max_fetches:
                raise _fail("fetch_budget_exceeded",
                            f"This verification already made {self.policy.max_fetches} requests.", url)
            self._count += 1

    def _fetch_network(self, url: str, accept: str, cap: int) -> FetchResponse:
        now = self._clock()
        if now >= self._spend_until:
            raise _fail("timeout", f"This verification has spent its {self.policy.verification_timeout:g} s "
                                   "for fetching documents.", url)
        deadline = min(now + self.policy.total_timeout, self._spend_until)
        current = url
        for hop in range(self.policy.max_redirects + 1):
            target = _parse_target(current, self.policy)
            status, headers, body = self._exchange(target, accept, cap, deadline, url)
            if status in _REDIRECT_STATUSES:
                location = headers.get("location")
                if not location:
                    raise _fail("http_status", f"HTTP {status} without a Location header.", url,
                                http_status=status)
                current = urljoin(target.url, location.strip())
                log.debug("redirect %d from %s", status, target.safe_for_log)
                continue
            if not 200 <= status < 300:
                raise _fail("http_status", f"The server answered HTTP {status}.", url, http_status=status)
            content_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
            return FetchResponse(url, target.url, status, content_type, body)
        raise _fail("too_many_redirects", f"More than {self.policy.max_redirects} redirects.", url)

    def _out_of_time(self) -> str:
        return (f"The fetch ran out of time (at most {self.policy.total_timeout:g} s a fetch and "
                f"{self.policy.verification_timeout:g} s for all fetches of a verification).")

    def _remaining(self, deadline: float, url: str) -> float:
        remaining = deadline - self._clock()
        if remaining <= 0:
            raise _fail("timeout", self._out_of_time(), url)
        return remaining

    def _addresses(self, target: _Target, deadline: float, url: str) -> list[str]:
        if target.ip_literal is not None:
            return [str(target.ip_literal)]
        result: list = []
        error: list = []

        def run() -> None:
            try:
                result.extend(self._resolve(target.host, target.port))
            except Exception as exc:  # noqa: BLE001 - reported as dns_failure below
                error.append(exc)

        thread = threading.Thread(target=run, daemon=True, name="microcred-dns")
        thread.start()
        thread.join(min(self.policy.connect_timeout, self._remaining(deadline, url)))
        if thread.is_alive():
            raise _fail("timeout", f"Looking up {target.host} took too long.", url)
        if error or not result:
            raise _fail("dns_failure", f"The host name {target.host} does not resolve.", url)
        addresses = []
        for raw in result:
            try:
                ip = ipaddress.ip_address(str(raw).split("%", 1)[0])
            except ValueError as exc:
                raise _fail("dns_failure", f"{target.host} resolved to a malformed address.", url) from exc
            if not target.allowed and (forbidden_address(ip) or "%" in str(raw)):
                raise _fail("private_address",
                            f"{target.host} resolves to {ip}, a private, local or reserved address.", url)
            addresses.append(str(raw))
        return addresses

    def _connect(self, target: _Target, deadline: float, url: str) -> socket.socket:
        last: Exception | None = None
        for address in self._addresses(target, deadline, url):
            timeout = min(self.policy.connect_timeout, self._remaining(deadline, url))
            try:
                return _open_connection(address, target.port, timeout)
            except socket.timeout as exc:
                last = exc
            except OSError as exc:
                last = exc
        if isinstance(last, socket.timeout):
            raise _fail("timeout", f"Connecting to {target.host} timed out.", url) from last
        raise _fail("connection_failed", f"Could not connect to {target.host}.", url) from last

    def _exchange(self, target: _Target, accept: str, cap: int, deadline: float,
                  url: str) -> tuple[int, dict, bytes]:
        """One request/response on a pinned connection; returns (status, headers, body)."""
        self._take_budget(url)
        log.debug("fetching %s", target.safe_for_log)
        raw = self._connect(target, deadline, url)
        watchdog = _Watchdog(raw, self._remaining(deadline, url))
        sock: socket.socket = raw
        try:
            try:
                if target.scheme == "https":
                    raw.settimeout(min(self.policy.connect_timeout, self._remaining(deadline, url)))
                    sock = self._context().wrap_socket(raw, server_hostname=target.host)
                sock.settimeout(min(self.policy.read_timeout, self._remaining(deadline, url)))
                conn = http.client.HTTPConnection(target.host, target.port)
                conn.sock = sock
                conn.putrequest("GET", target.request_target, skip_host=True, skip_accept_encoding=True)
                conn.putheader("Host", target.host_header)
                conn.putheader("Accept", accept)
                conn.putheader("Accept-Encoding", "gzip, deflate")
                conn.putheader("User-Agent", _USER_AGENT)
                conn.putheader("Connection", "close")
                conn.endheaders()
                response = conn.getresponse()
                headers = {k.lower(): v for k, v in response.getheaders()}
                status = response.status
                if status in _REDIRECT_STATUSES or not 200 <= status < 300:
                    return status, headers, b""
                body = self._read_body(response, headers, sock, cap, deadline, url, watchdog)
                return status, headers, body
            except FetchError:
                raise
            except ssl.SSLCertVerificationError as exc:
                if watchdog.fired:
                    raise _fail("timeout", "The fetch hit its total time limit.", url) from exc
                raise _fail("tls_error", f"The TLS certificate of {target.host} is not trusted: "
                            f"{exc.verify_message}.", url) from exc
            except ssl.SSLError as exc:
                if watchdog.fired:
                    raise _fail("timeout", "The fetch hit its total time limit.", url) from exc
                raise _fail("tls_error", f"TLS with {target.host} failed: {exc.reason}.", url) from exc
            except (socket.timeout, TimeoutError) as exc:
                raise _fail("timeout", f"{target.host} was too slow to answer.", url) from exc
            except (OSError, http.client.HTTPException, ValueError) as exc:
                if watchdog.fired or self._clock() >= deadline:
                    raise _fail("timeout", self._out_of_time(),
                                url) from exc
                raise _fail("connection_failed", f"The connection to {target.host} failed: "
                            f"{type(exc).__name__}.", url) from exc
        finally:
            watchdog.close()
            try:
                sock.close()
            except OSError:
                pass

    def _read_body(self, response: http.client.HTTPResponse, headers: dict, sock: socket.socket,
                   cap: int, deadline: float, url: str, watchdog: _Watchdog) -> bytes:
        encoding = headers.get("content-encoding", "identity").strip().lower()
        if encoding in ("", "identity"):
            decoder = None
        elif encoding in ("gzip", "x-gzip", "deflate"):
            decoder = zlib.decompressobj(zlib.MAX_WBITS | 32)  # gzip or zlib header, auto-detected
        else:
            raise _fail("bad_encoding", f"Unsupported Content-Encoding {encoding!r}.", url)
        length = headers.get("content-length")
        if decoder is None and length is not None and length.strip().isdigit() and int(length) > cap:
            raise _fail("too_large", f"The document is larger than {cap} bytes.", url, max_bytes=cap)
        raw_cap = 2 * cap + 65536  # compressed input beyond this is not plausible
        out = bytearray()
        raw_total = 0

        def too_large() -> FetchError:
            return _fail("too_large", f"The document is larger than {cap} bytes.", url, max_bytes=cap)

        while True:
            sock.settimeout(min(self.policy.read_timeout, self._remaining(deadline, url)))
            chunk = response.read1(_READ_CHUNK)
            if watchdog.fired:
                raise _fail("timeout", self._out_of_time(), url)
            if not chunk:
                break
            raw_total += len(chunk)
            if raw_total > raw_cap:
                raise too_large()
            if decoder is None:
                out += chunk
            else:
                try:
                    data = decoder.decompress(chunk, cap + 1 - len(out))
                    out += data
                    while decoder.unconsumed_tail and len(out) <= cap:
                        out += decoder.decompress(decoder.unconsumed_tail, cap + 1 - len(out))
                except zlib.error as exc:
                    raise _fail("bad_encoding", "The compressed body is corrupt.", url) from exc
                if decoder.unconsumed_tail or decoder.unused_data:
                    if len(out) > cap:
                        raise too_large()
                    raise _fail("bad_encoding", "Data after the end of the compressed body.", url)
            if len(out) > cap:
                raise too_large()
        if self._clock() >= deadline:
            raise _fail("timeout", self._out_of_time(), url)
        if decoder is not None:
            if not decoder.eof:
                raise _fail("bad_encoding", "The compressed body is truncated.", url)
        return bytes(out)
