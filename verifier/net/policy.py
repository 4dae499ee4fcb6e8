"""What may be fetched: the fetch policy, the fetch error codes and the pure URL / address checks.

Role: decide, before any socket exists, whether a URL may be fetched at all, and which
addresses a host name may resolve to. Nothing here does I/O; :mod:`verifier.net.transport`
calls :func:`parse_target` for the URL and every redirect hop and :func:`forbidden_address`
for every resolved address.

Threat model (research notes, section B 13, SSRF through every URL sink): every URL the
verifier sees comes from an attacker-controlled credential (a ``did:web`` host, a key or status
list URL, a redirect ``Location``). The checks below refuse anything that could reach the
verifier's own network:

* **https only**, port 443 only. Hosts named in ``FetchPolicy.allow_hosts`` (tests, local
  development) may also use plain http, any port, and private / loopback addresses; a
  ``host:port`` entry allows that one port only (one origin: nothing else on the host).
* **No userinfo** in URLs, no IDN (punycode only), no legacy numeric host forms accepted as
  names: ``2130706433``, ``0x7f000001``, ``0177.0.0.1`` and ``127.1`` are read the way
  ``inet_aton`` reads them (as 127.0.0.1) and then checked like any address.
* **Forbidden addresses**: private, loopback, link-local, multicast, reserved, unspecified,
  not globally routable, or an IPv4-mapped / NAT64 / 6to4 / Teredo wrapper around such an
  address; ``localhost`` and ``*.localhost`` names.
"""
from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import SplitResult, urlsplit

from ..errors import CredentialError

__all__ = [
    "FETCH_ERROR_CODES", "FetchError", "FetchPolicy", "Target", "fetch_error", "forbidden_address",
    "host_allowed", "parse_target",
]

MAX_URL_LENGTH = 4096
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class FetchError(CredentialError):
    """A fetch was refused or failed. ``code`` says why (see :data:`FETCH_ERROR_CODES`)."""

    code = "fetch_failed"


#: every code a :class:`FetchError` may carry
FETCH_ERROR_CODES = frozenset({
    "network_forbidden", "invalid_url", "scheme_not_allowed", "private_address", "port_not_allowed",
    "userinfo_in_url", "too_many_redirects", "too_large", "timeout", "http_status",
    "fetch_budget_exceeded", "host_fetch_budget_exceeded", "host_rate_limited", "host_busy",
    "dns_failure", "connection_failed", "tls_error", "bad_encoding", "not_json",
})


def fetch_error(code: str, message: str, url: str, **details: object) -> FetchError:
    """A :class:`FetchError` whose ``details`` name the ``url`` (plus ``details``)."""
    return FetchError(message, code=code, details={"url": url, **details})


@dataclass(frozen=True)
class FetchPolicy:
    """What a fetcher may do for one verification.

    ``allow_hosts``: lower-case host names or IP literals, optionally ``host:port``
    (``[v6]:port`` for IPv6), that may use plain http, any port and private / loopback /
    link-local addresses. Meant for tests and local development only; empty by default.
    ``ca_file``: an extra CA bundle trusted in addition to the system CAs (TLS verification
    cannot be switched off). ``max_fetches`` requests (redirect hops count) per verification, at
    most ``max_fetches_per_host`` of them to any one host, all within ``verification_timeout``
    seconds; each fetch within ``total_timeout`` seconds.
    """

    allow_hosts: frozenset[str] = frozenset()
    ca_file: str | None = None
    max_bytes: int = 2 * 1024 * 1024
    connect_timeout: float = 5.0
    read_timeout: float = 5.0
    total_timeout: float = 10.0
    max_redirects: int = 3
    max_fetches: int = 10
    max_fetches_per_host: int = 8
    verification_timeout: float = 20.0      # all fetches of one verification together

    @property
    def cache_key(self) -> tuple[Any, ...]:
        """The parts of the policy that decide whether a URL may be fetched at all."""
        return (tuple(sorted(self.allow_hosts)), self.ca_file)


@dataclass(frozen=True)
class Target:
    """A URL that passed :func:`parse_target`, split into what the transport needs."""

    url: str          # without fragment
    scheme: str
    host: str         # lower-case name, or canonical IP literal (no brackets)
    port: int
    ip_literal: ipaddress.IPv4Address | ipaddress.IPv6Address | None
    request_target: str  # path + query
    allowed: bool        # named in FetchPolicy.allow_hosts

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"

    @property
    def safe_for_log(self) -> str:
        return f"{self.scheme}://{self.host_header}{self.request_target.split('?', 1)[0]}"


def legacy_ipv4(host: str) -> ipaddress.IPv4Address | None:
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


def host_allowed(allow_hosts: frozenset[str], host: str, port: int) -> bool:
    """True if ``host`` (or ``host:port``) is named in ``allow_hosts`` (tests, development)."""
    if not allow_hosts:
        return False
    allowed = {entry.strip().lower() for entry in allow_hosts}
    bracketed = f"[{host}]" if ":" in host else host
    return host in allowed or bracketed in allowed or f"{bracketed}:{port}" in allowed


def _split(url: object) -> tuple[SplitResult, int | None]:
    """The URL's parts and port, after the checks that need no host (length, characters, port form)."""
    if not isinstance(url, str) or not url:
        raise fetch_error("invalid_url", "The URL is empty or not a string.", str(url)[:200])
    if len(url) > MAX_URL_LENGTH:
        raise fetch_error("invalid_url", f"The URL is longer than {MAX_URL_LENGTH} characters.", url[:200])
    if any(ord(c) <= 0x20 or ord(c) == 0x7F for c in url) or "\\" in url:
        raise fetch_error("invalid_url", "The URL contains spaces, control characters or backslashes.", url)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise fetch_error("invalid_url", f"The URL cannot be parsed: {exc}", url) from exc
    after_host = parts.netloc.rsplit("@", 1)[-1].rsplit("]", 1)[-1]
    if ":" in after_host and not re.fullmatch(r"[1-9][0-9]{0,4}", after_host.partition(":")[2]):
        raise fetch_error("invalid_url", "The URL's port is empty or not in canonical form.", url)
    return parts, port


def _host(parts: SplitResult, url: str) -> tuple[str, ipaddress.IPv4Address | ipaddress.IPv6Address | None]:
    """The canonical host (lower-case name or IP literal) and its address if it is one."""
    raw_host = parts.hostname or ""
    if not raw_host:
        raise fetch_error("invalid_url", "The URL has no host.", url)
    if not raw_host.isascii():
        raise fetch_error("invalid_url", "Internationalised host names must be given in punycode (xn--).", url)
    ip_literal: ipaddress.IPv4Address | ipaddress.IPv6Address | None = None
    if parts.netloc.split("@")[-1].startswith("["):
        if "%" in raw_host:
            raise fetch_error("invalid_url", "IPv6 zone identifiers are not allowed in URLs.", url)
        try:
            ip_literal = ipaddress.IPv6Address(raw_host)
        except ValueError as exc:
            raise fetch_error("invalid_url", "The URL has a malformed IPv6 literal.", url) from exc
    else:
        try:
            ip_literal = ipaddress.IPv4Address(raw_host)
        except ValueError:
            ip_literal = legacy_ipv4(raw_host)
            if ip_literal is None and not all(_LABEL.fullmatch(label) for label in raw_host.split(".")):
                raise fetch_error("invalid_url", "The URL's host is not a valid DNS name.", url) from None
    return (str(ip_literal) if ip_literal is not None else raw_host), ip_literal


MEMO_MAX_URL = 2048  # URLs up to this long are remembered once they pass (a status list, a DID document)


def parse_target(url: str, policy: FetchPolicy) -> Target:
    """Validate a URL against the policy (everything except the address of a host name).

    A URL that passes is remembered with its policy (the answer depends on nothing else), so a
    verifier that reads the same issuer's documents for every credential checks each URL once;
    refusals are worked out every time.

    Raises :class:`FetchError` (``invalid_url``, ``scheme_not_allowed``, ``userinfo_in_url``,
    ``port_not_allowed``, ``private_address``).
    """
    if len(url) <= MEMO_MAX_URL:
        return _remembered_target(url, policy)
    return _parse_target(url, policy)


@lru_cache(maxsize=1024)
def _remembered_target(url: str, policy: FetchPolicy) -> Target:
    return _parse_target(url, policy)


def _parse_target(url: str, policy: FetchPolicy) -> Target:
    parts, port = _split(url)
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise fetch_error("scheme_not_allowed", f"Only https URLs are fetched, not {scheme or 'relative'} ones.", url)
    if "@" in parts.netloc or parts.username is not None or parts.password is not None:
        raise fetch_error("userinfo_in_url", "URLs with a user name or password are never fetched.", url)
    host, ip_literal = _host(parts, url)
    if port is None:
        port = 443 if scheme == "https" else 80
    if not 1 <= port <= 65535:
        raise fetch_error("invalid_url", "The URL's port is out of range.", url)
    allowed = host_allowed(policy.allow_hosts, host, port)
    if scheme == "http" and not allowed:
        raise fetch_error("scheme_not_allowed", "Plain http is refused; only https URLs are fetched.", url)
    if not allowed and port != 443:
        raise fetch_error("port_not_allowed", f"Only port 443 is allowed, not {port}.", url, port=port)
    if not allowed and ip_literal is not None and forbidden_address(ip_literal):
        raise fetch_error("private_address", f"{host} is a private, local or reserved address.", url)
    if not allowed and (host == "localhost" or host.endswith(".localhost")):
        raise fetch_error("private_address", "localhost names are never fetched.", url)
    request_target = (parts.path or "/") + ("?" + parts.query if parts.query else "")
    return Target(url.split("#", 1)[0], scheme, host, port, ip_literal, request_target, allowed)
