"""The verifier web app's settings and long-lived state: one fetcher, status list memo and link limiter.

Every network access goes through one long-lived :class:`~verifier.fetcher.NetworkFetcher` per
app, shared by all its requests: one bounded TTL cache (keys, DID documents, status lists; plus
which status lists verified, :class:`StatusListMemo`; reports are never cached), failures
remembered for ``FAILURE_TTL`` seconds so a dead host is not asked again by every verification,
and limits per target host on every outbound request, whichever credential or link caused it
(``OUTBOUND_RATE_LIMIT``, ``OUTBOUND_CONCURRENCY``; in-process, so per gunicorn worker). Submitted
links are limited per target host (``TARGET_RATE_LIMIT``) in ``RATELIMIT_STORAGE_URI`` storage.

:func:`make_state` builds one app's :class:`VerifierState` from the settings (:data:`DEFAULTS`);
the blueprint keeps it in ``app.extensions[STATE][blueprint name]`` and :func:`state` finds the
current request's.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import current_app, request
from limits import parse as parse_rate

from ..checks.memo import ContentMemo
from ..fetcher import FailureCache, FetchPolicy, HostLimiter, NetworkFetcher, ResponseCache
from .ratelimit import window_limiter

STATE = "microcred_verifier"

#: Settings read from ``create_app(config)`` / ``verifier_blueprint(config)``.
DEFAULTS: dict[str, Any] = {
    "ALLOW_HOSTS": frozenset(),     # hosts allowed plain http and private addresses: tests, development only
    "CA_FILE": None,                # an extra CA bundle (e.g. a company's internal CA)
    "FETCH_TIMEOUT": 10.0,          # seconds for one fetch, redirects included
    "CACHE_TTL": 300.0,             # seconds a key, DID document or status list is reused
    "CACHE_SIZE": 1024,             # responses kept at most
    "RATE_LIMIT": "60 per minute",  # verifications per client address
    "TARGET_RATE_LIMIT": "120 per minute",  # credential links fetched per target host
    "OUTBOUND_RATE_LIMIT": "300 per minute",  # requests of any kind to one target host (per process)
    "OUTBOUND_CONCURRENCY": 4,      # requests to one target host under way at once (per process)
    "FETCHES_PER_HOST": 8,          # requests to one target host per verification
    "FAILURE_TTL": 30.0,            # seconds a failed fetch is remembered (not retried)
    "RATELIMIT_STORAGE_URI": "memory://",  # e.g. redis://... to share limits between workers and hosts
    "TRUSTED_PROXIES": 0,           # standalone app: reverse proxies in front whose X-Forwarded-For is trusted
}


class StatusListMemo:
    """Which status list credentials (by the sha256 of their JSON) verified, for ``ttl`` seconds.

    ``verify_credential(memo=...)`` asks it before verifying a status list credential again. Only
    successes are kept (a list that failed, perhaps because its key was unreachable for a moment,
    is checked afresh next time), at most ``max_entries``, each for the same time-to-live as the
    cached documents it was verified with. The list's bits, and whether its issuer is the
    credential's, are still checked on every verification: this only skips re-checking the
    list's own signature.

    ``content``: what verifications may share besides (:class:`~verifier.checks.memo.ContentMemo`:
    parsed status lists, decoded bitstrings and resolved keys, each by the exact bytes it came
    from, so a list or DID document fetched anew with other content is read anew).
    """

    def __init__(self, max_entries: int, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_entries, self.ttl, self._clock = max_entries, ttl, clock
        self._entries: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()
        self.content = ContentMemo(max_entries=max_entries)

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        with self._lock:
            expires = self._entries.get(key)
            if expires is not None and self._clock() >= expires:
                del self._entries[key]
                expires = None
            return expires is not None

    def __getitem__(self, key: str) -> None:
        if key not in self:
            raise KeyError(key)
        return None      # a remembered list verified: there is no error to raise

    def __setitem__(self, key: str, error: Exception | None) -> None:
        if error is not None:
            return
        with self._lock:
            self._entries[key] = self._clock() + self.ttl
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


@dataclass(frozen=True)
class VerifierState:
    """One app's verifier: its long-lived fetcher, status list memo and submitted-link limiter."""

    settings: Mapping[str, Any]
    fetcher: NetworkFetcher
    memo: StatusListMemo
    target_limit: Callable[[str], bool]   # host -> may we fetch one more link from it?

    @property
    def policy(self) -> FetchPolicy:
        return self.fetcher.policy

    @property
    def cache(self) -> ResponseCache:
        return self.fetcher.cache


def merged_settings(config: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``config`` over :data:`DEFAULTS`; ``ALLOW_HOSTS`` as a frozenset of lower-case names."""
    settings = {**DEFAULTS, **(config or {})}
    hosts = settings["ALLOW_HOSTS"]
    settings["ALLOW_HOSTS"] = frozenset(h.strip().lower() for h in ([hosts] if isinstance(hosts, str) else hosts))
    return settings


def make_fetcher(settings: Mapping[str, Any]) -> NetworkFetcher:
    """The app's one fetcher: policy, response and failure caches, per-target-host limits."""
    timeout = float(settings["FETCH_TIMEOUT"])
    policy = FetchPolicy(allow_hosts=settings["ALLOW_HOSTS"], ca_file=settings["CA_FILE"], total_timeout=timeout,
                         connect_timeout=min(5.0, timeout), read_timeout=min(5.0, timeout),
                         max_fetches_per_host=int(settings["FETCHES_PER_HOST"]))
    outbound = parse_rate(settings["OUTBOUND_RATE_LIMIT"])
    limiter = HostLimiter.per_period(outbound.amount, outbound.get_expiry(),
                                     max_concurrent=int(settings["OUTBOUND_CONCURRENCY"]))
    return NetworkFetcher(policy, cache=ResponseCache(int(settings["CACHE_SIZE"]), float(settings["CACHE_TTL"])),
                          failures=FailureCache(ttl=float(settings["FAILURE_TTL"])), limiter=limiter)


def make_state(config: Mapping[str, Any] | None = None) -> VerifierState:
    """One app's fetcher, status list memo and submitted-link limiter, as ``config`` describes them."""
    settings = merged_settings(config)
    links = window_limiter(settings["RATELIMIT_STORAGE_URI"])
    rate = parse_rate(settings["TARGET_RATE_LIMIT"])
    memo = StatusListMemo(int(settings["CACHE_SIZE"]), float(settings["CACHE_TTL"]))
    return VerifierState(settings, make_fetcher(settings), memo,
                         lambda host: links.hit(rate, "microcred-verifier-target", host))


def state() -> VerifierState:
    """The verifier state of the blueprint serving the current request."""
    verifier_state: VerifierState = current_app.extensions[STATE][request.blueprint]
    return verifier_state
