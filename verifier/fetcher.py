"""The fetcher port: every network access of the verifier goes through a :class:`Fetcher`.

Verification code asks a :class:`Fetcher` for documents (``fetch``, ``fetch_json``) and never
opens a socket itself. Implementations:

* :class:`NetworkFetcher`: the hardened network fetcher. Long-lived and thread-safe (a web app
  keeps one for all its requests); it owns a :class:`ResponseCache` of successes, a
  :class:`~verifier.net.cache.FailureCache` of recent failures (a dead host is asked at most once
  per ``ttl``, 30 s by default; a remembered failure raises the same code, says it was
  remembered and has ``details["cached"]``), and optionally a per-target-host
  :class:`~verifier.net.throttle.HostLimiter` (rate and concurrency). The rules for URLs and
  addresses are in :mod:`verifier.net.policy`, the socket work in :mod:`verifier.net.transport`,
  which it imports when its first request goes out (:data:`TRANSPORT`): an offline
  verification never loads the socket layer (``http.client``, ``ssl``, ``logging``).
* :class:`VerificationFetcher`: what ``NetworkFetcher.for_verification()`` returns, one per
  verification. It shares the caches and limiter and adds the verification's budget: at most
  ``FetchPolicy.max_fetches`` HTTP requests (redirect hops count), at most
  ``max_fetches_per_host`` of them to one host, all within ``verification_timeout`` seconds of
  its creation (each fetch's deadline is cut to what is left), so one verification cannot
  hold the verifier for ``max_fetches * total_timeout``. Documents given to it (e.g. from
  ``microcred verify --resolve URL=FILE``) are served first, never touch the network and cost
  nothing; offline, anything else raises ``FetchError("network_forbidden")`` and no cache is
  consulted, so an offline verification depends only on its inputs.
* :class:`StaticFetcher`: serves the documents it was given and nothing else
  (``network_forbidden``), for offline kits and tests.

Threat model: every URL comes from an attacker-controlled credential; see
:mod:`verifier.net` for what each layer refuses. Budgets, the per-host limits and bounded
caches keep one verification (or many aimed at one host) from costing more than a fixed amount.
"""
from __future__ import annotations

import importlib
import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from .net.cache import FailureCache, ResponseCache
from .net.policy import (
    FETCH_ERROR_CODES,
    FetchError,
    FetchPolicy,
    Target,
    fetch_error,
    forbidden_address,
    host_allowed,
    parse_target,
)
from .net.response import FetchResponse, Resolver
from .net.strict_json import MAX_JSON_DEPTH, strict_json_loads
from .net.throttle import HostLimiter

if TYPE_CHECKING:
    from .net.transport import Transport

__all__ = [
    "FETCH_ERROR_CODES", "MAX_JSON_DEPTH", "FailureCache", "FetchError", "FetchPolicy", "FetchResponse",
    "Fetcher", "HostLimiter", "NetworkFetcher", "ResponseCache", "StaticFetcher", "VerificationFetcher",
    "forbidden_address", "host_allowed", "parse_json_response", "strict_json_loads",
]

#: Documents handed to a fetcher: bytes as served, text (UTF-8) or a JSON value.
Documents = Mapping[str, Any]

#: Failures that say nothing about the URL (the caller's budget, this process's limits, the
#: caller's size cap): never remembered in the failure cache.
_NOT_REMEMBERED = frozenset({"fetch_budget_exceeded", "host_fetch_budget_exceeded", "host_rate_limited",
                             "host_busy", "too_large", "network_forbidden"})

#: the transport class, "module:attribute": imported by the first request that goes out
TRANSPORT = "verifier.net.transport:Transport"


@runtime_checkable
class Fetcher(Protocol):
    """The port: how verification code gets documents. Every failure is a :class:`FetchError`."""

    @property
    def policy(self) -> FetchPolicy:
        """The rules this fetcher follows (``allow_hosts`` also tells did:web where http is allowed)."""
        ...

    def fetch(self, url: str, *, accept: str, max_bytes: int | None = None) -> FetchResponse:
        """The 2xx response for ``url`` (body at most ``max_bytes``, capped by the policy)."""
        ...

    def fetch_json(self, url: str, *, accept: str = "application/json", max_bytes: int | None = None) -> object:
        """``fetch`` and strictly parse JSON (``not_json`` for NaN, duplicates, depth > 64, ...)."""
        ...

    def for_verification(self, *, documents: Documents | None = None, offline: bool = False) -> Fetcher:
        """A fetcher for one verification: its own budget over the shared caches and limits,
        ``documents`` served first, and nothing from the network if ``offline``."""
        ...

    def __new__(cls, policy: FetchPolicy = FetchPolicy(), *, cache: ResponseCache | None = None,  # noqa: D102
                local_documents: Documents | None = None, offline: bool = False,
                resolve_host: Resolver | None = None,
                clock: Callable[[], float] = time.monotonic) -> VerificationFetcher:
        # Transitional: ``Fetcher(policy, cache=..., local_documents=..., offline=...)`` keeps
        # building a per-verification fetcher, as before the port existed. New code builds a
        # NetworkFetcher once and calls for_verification(); this goes once no caller needs it.
        network = NetworkFetcher(policy, cache=cache, resolve_host=resolve_host, clock=clock)
        return network.for_verification(documents=local_documents, offline=offline)


def _as_bytes(document: Any) -> bytes:
    if isinstance(document, (bytes, bytearray)):
        return bytes(document)
    if isinstance(document, str):
        return document.encode("utf-8")
    return json.dumps(document).encode("utf-8")


def _documents(documents: Documents | None) -> dict[str, bytes]:
    return {url: _as_bytes(document) for url, document in (documents or {}).items()}


def _lookup(documents: Mapping[str, bytes], url: str) -> bytes | None:
    found = documents.get(url)
    return found if found is not None else documents.get(url.split("#", 1)[0])


def _cap(policy: FetchPolicy, max_bytes: int | None) -> int:
    return policy.max_bytes if max_bytes is None else min(max_bytes, policy.max_bytes)


def _within(response: FetchResponse, cap: int, url: str) -> FetchResponse:
    if len(response.body) > cap:
        raise fetch_error("too_large", f"The document is larger than {cap} bytes.", url, max_bytes=cap)
    return response


def parse_json_response(response: FetchResponse, url: str) -> object:
    """Strictly parse ``response``'s body, as ``fetch_json`` does (``not_json`` on failure)."""
    try:
        return strict_json_loads(response.body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise fetch_error("not_json", f"The document at the URL is not valid JSON: {exc}", url) from exc


class _Budget:
    """One verification's allowance: requests in all, requests per host, and a deadline."""

    def __init__(self, policy: FetchPolicy, clock: Callable[[], float]) -> None:
        self.policy = policy
        self.spend_until = clock() + policy.verification_timeout
        self.count = 0
        self.per_host: dict[str, int] = {}
        self.memo: dict[tuple[Any, ...], FetchResponse] = {}
        self.lock = threading.Lock()

    def take(self, target: Target) -> None:
        """Count one request to ``target``'s host, or raise if the budget is spent."""
        with self.lock:
            if self.count >= self.policy.max_fetches:
                raise fetch_error("fetch_budget_exceeded",
                                  f"This verification already made {self.policy.max_fetches} requests.", target.url)
            sent = self.per_host.get(target.host, 0)
            if sent >= self.policy.max_fetches_per_host:
                raise fetch_error("host_fetch_budget_exceeded",
                                  f"This verification already made {self.policy.max_fetches_per_host} requests to "
                                  f"{target.host}.", target.url, host=target.host)
            self.count += 1
            self.per_host[target.host] = sent + 1


class NetworkFetcher:
    """The hardened network fetcher: long-lived, thread-safe, shared by many verifications.

    ``cache`` / ``failures``: the response and failure caches (a new one of each by default);
    ``limiter``: an optional per-target-host rate and concurrency limit. ``resolve_host(host,
    port) -> [ip, ...]`` and ``clock`` are injectable for tests. Each verification should call
    :meth:`for_verification`; ``fetch`` / ``fetch_json`` here are one-off fetches, each with a
    budget of its own.
    """

    def __init__(self, policy: FetchPolicy = FetchPolicy(), *, cache: ResponseCache | None = None,
                 failures: FailureCache | None = None, limiter: HostLimiter | None = None,
                 resolve_host: Resolver | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self._policy = policy
        self.cache = cache if cache is not None else ResponseCache(clock=clock)
        self.failures = failures if failures is not None else FailureCache(clock=clock)
        self.limiter = limiter
        self._clock = clock
        self._resolve_host = resolve_host
        self._transport: Transport | None = None
        self._transport_lock = threading.Lock()

    @property
    def policy(self) -> FetchPolicy:
        return self._policy

    def for_verification(self, *, documents: Documents | None = None, offline: bool = False) -> VerificationFetcher:
        """A fetcher for one verification (its own budget and deadline, from now)."""
        return VerificationFetcher(self, _Budget(self._policy, self._clock), _documents(documents), offline)

    def fetch(self, url: str, *, accept: str, max_bytes: int | None = None) -> FetchResponse:
        return self.for_verification().fetch(url, accept=accept, max_bytes=max_bytes)

    def fetch_json(self, url: str, *, accept: str = "application/json", max_bytes: int | None = None) -> object:
        return self.for_verification().fetch_json(url, accept=accept, max_bytes=max_bytes)

    def transport(self) -> Transport:
        """The socket layer, made (and its module imported, :data:`TRANSPORT`) on first use."""
        with self._transport_lock:
            if self._transport is None:
                module, _, name = TRANSPORT.partition(":")
                make: type[Transport] = getattr(importlib.import_module(module), name)
                self._transport = make(self._policy, resolve_host=self._resolve_host, clock=self._clock)
            return self._transport

    def _get(self, url: str, accept: str, cap: int, budget: _Budget) -> FetchResponse:
        """A response from the cache, else from the network under ``budget``."""
        policy = self._policy
        cached = self.cache.get((url, accept, policy.cache_key))
        if cached is not None:
            return _within(cached, cap, url)
        failure_key = (url.split("#", 1)[0], policy.cache_key)
        self.failures.check(failure_key)
        now = self._clock()
        if now >= budget.spend_until:
            raise fetch_error("timeout", f"This verification has spent its {policy.verification_timeout:g} s "
                                         "for fetching documents.", url)
        deadline = min(now + policy.total_timeout, budget.spend_until)
        try:
            response = self.transport().get(url, accept=accept, max_bytes=cap, deadline=deadline,
                                           admit=lambda target, until: self._admit(budget, target, until))
        except FetchError as exc:
            cut_short = exc.code == "timeout" and deadline < now + policy.total_timeout
            if exc.code not in _NOT_REMEMBERED and not cut_short:
                self.failures.put(failure_key, exc)
            raise
        self.cache.put((url, accept, policy.cache_key), response)
        return response

    @contextmanager
    def _admit(self, budget: _Budget, target: Target, deadline: float) -> Iterator[None]:
        budget.take(target)
        if self.limiter is None:
            yield
            return
        with self.limiter.admit(target.host, deadline, target.url):
            yield


class VerificationFetcher:
    """One verification's view of a :class:`NetworkFetcher` (see the module docstring)."""

    def __init__(self, network: NetworkFetcher, budget: _Budget, documents: dict[str, bytes],
                 offline: bool) -> None:
        self._network, self._budget, self._documents, self.offline = network, budget, documents, offline

    @property
    def policy(self) -> FetchPolicy:
        return self._network.policy

    @property
    def fetch_count(self) -> int:
        """How many HTTP requests this verification has sent (redirect hops included)."""
        with self._budget.lock:
            return self._budget.count

    def for_verification(self, *, documents: Documents | None = None, offline: bool = False) -> VerificationFetcher:
        """The same verification (same budget) with more ``documents``; ``offline`` only adds."""
        return VerificationFetcher(self._network, self._budget, {**self._documents, **_documents(documents)},
                                   self.offline or offline)

    def fetch(self, url: str, *, accept: str, max_bytes: int | None = None) -> FetchResponse:
        cap = _cap(self.policy, max_bytes)
        local = _lookup(self._documents, url)
        if local is not None:
            return _within(FetchResponse(url, url, 200, "", local), cap, url)
        if self.offline:
            raise fetch_error("network_forbidden", "Offline: nothing is fetched from the network.", url)
        parse_target(url, self.policy)  # refuse bad URLs before any cache lookup
        key = (url, accept)
        with self._budget.lock:
            response = self._budget.memo.get(key)
        if response is not None:
            return _within(response, cap, url)
        response = self._network._get(url, accept, cap, self._budget)
        with self._budget.lock:
            self._budget.memo[key] = response
        return response

    def fetch_json(self, url: str, *, accept: str = "application/json", max_bytes: int | None = None) -> object:
        return parse_json_response(self.fetch(url, accept=accept, max_bytes=max_bytes), url)


class StaticFetcher:
    """Serves the given documents (URL -> bytes, text or a JSON value) and nothing else.

    For offline kits and tests: any other URL raises ``FetchError("network_forbidden")``, as an
    offline verification does. A URL with a fragment is also found under the URL without it.
    """

    def __init__(self, documents: Documents, *, policy: FetchPolicy = FetchPolicy()) -> None:
        self._documents = _documents(documents)
        self._policy = policy

    @property
    def policy(self) -> FetchPolicy:
        return self._policy

    def for_verification(self, *, documents: Documents | None = None, offline: bool = False) -> StaticFetcher:
        return StaticFetcher({**self._documents, **_documents(documents)}, policy=self._policy)

    def fetch(self, url: str, *, accept: str, max_bytes: int | None = None) -> FetchResponse:
        body = _lookup(self._documents, url)
        if body is None:
            raise fetch_error("network_forbidden", "Offline: only the documents given are served.", url)
        return _within(FetchResponse(url, url, 200, "", body), _cap(self._policy, max_bytes), url)

    def fetch_json(self, url: str, *, accept: str = "application/json", max_bytes: int | None = None) -> object:
        return parse_json_response(self.fetch(url, accept=accept, max_bytes=max_bytes), url)
