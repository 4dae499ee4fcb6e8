"""Caches shared across verifications: successful responses, and recent failures.

Role: a long-lived fetcher (:class:`verifier.fetcher.NetworkFetcher`) keeps a
:class:`ResponseCache` so that keys, DID documents and status lists are not fetched again for
every verification, and a :class:`FailureCache` so that a dead or failing host is not asked
again by every verification for a short while.

Threat model: the keys are URLs taken from attacker-controlled credentials, and the values are
bodies an attacker's server chose. So every cache here is bounded by entries *and* (for
responses) by bytes, evicts least recently used first, expires entries after a time-to-live,
and is thread-safe. Only 2xx responses are stored as successes; failures are stored for
seconds, never longer. ``clock`` is injectable for tests.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from .policy import FetchError
from .response import FetchResponse

__all__ = ["FailureCache", "ResponseCache"]

V = TypeVar("V")


class _TtlLru(Generic[V]):
    """A thread-safe LRU with a time-to-live (or a shorter one per entry), bounded by entries and
    by a total ``size``."""

    def __init__(self, max_entries: int, ttl: float, max_size: int, size: Callable[[V], int],
                 clock: Callable[[], float]) -> None:
        if max_entries < 1 or ttl <= 0 or max_size < 1:
            raise ValueError("max_entries and max_bytes must be >= 1 and ttl > 0")
        self.max_entries, self.ttl, self.max_size = max_entries, ttl, max_size
        self._size, self._clock = size, clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[Any, ...], tuple[float, V, float]] = OrderedDict()   # (stored, value, expires)
        self._total = 0

    def get(self, key: tuple[Any, ...]) -> tuple[float, V] | None:
        """``(stored_at, value)``, or None if absent or expired."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if self._clock() >= entry[2]:
                self._drop(key)
                return None
            self._entries.move_to_end(key)
            return entry[0], entry[1]

    def put(self, key: tuple[Any, ...], value: V, ttl: float | None = None) -> None:
        """Keep ``value`` for the cache's time-to-live, or ``ttl`` seconds if that is shorter."""
        size = self._size(value)
        if size > self.max_size:
            return          # larger than the whole cache: not kept at all
        life = self.ttl if ttl is None else min(self.ttl, ttl)
        with self._lock:
            if key in self._entries:
                self._drop(key)
            if life <= 0:
                return
            now = self._clock()
            self._entries[key] = (now, value, now + life)
            self._total += size
            while len(self._entries) > self.max_entries or self._total > self.max_size:
                self._drop(next(iter(self._entries)))

    def _drop(self, key: tuple[Any, ...]) -> None:
        _, value, _ = self._entries.pop(key)
        self._total -= self._size(value)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._total = 0

    @property
    def total_size(self) -> int:
        with self._lock:
            return self._total

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


class ResponseCache:
    """A bounded, thread-safe LRU of successful responses with a time-to-live.

    Shared across verifications. Keys are chosen by the fetcher (full URL, Accept header and
    policy fingerprint); only 2xx responses are ever stored. At most ``max_entries`` responses
    and ``max_bytes`` of bodies in all (a body larger than that is not stored). A response is
    kept no longer than its server allows a shared cache to reuse it (``Cache-Control``:
    :attr:`FetchResponse.max_age`), so an issuer's short life for its status lists bounds how
    long a revocation can go unseen here too.
    """

    def __init__(self, max_entries: int = 512, ttl: float = 300.0, *, max_bytes: int = 32 * 1024 * 1024,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._lru: _TtlLru[FetchResponse] = _TtlLru(max_entries, ttl, max_bytes,
                                                    lambda response: len(response.body) + len(response.url), clock)

    @property
    def max_entries(self) -> int:
        return self._lru.max_entries

    @property
    def ttl(self) -> float:
        return self._lru.ttl

    @property
    def max_bytes(self) -> int:
        return self._lru.max_size

    @property
    def total_bytes(self) -> int:
        """The bodies (and URLs) held now, in bytes."""
        return self._lru.total_size

    def get(self, key: tuple[Any, ...]) -> FetchResponse | None:
        entry = self._lru.get(key)
        return entry[1] if entry is not None else None

    def put(self, key: tuple[Any, ...], response: FetchResponse) -> None:
        if 200 <= response.status < 300:
            self._lru.put(key, response, response.max_age)

    def clear(self) -> None:
        self._lru.clear()

    def __len__(self) -> int:
        return len(self._lru)


class FailureCache:
    """Recent fetch failures by URL, so a dead host is not asked again for ``ttl`` seconds.

    :meth:`check` raises a fresh :class:`FetchError` with the remembered code and details, its
    message saying the failure was remembered, and ``details["cached"] = True``. At most
    ``max_entries`` failures are kept (least recently used dropped first).
    """

    def __init__(self, max_entries: int = 1024, ttl: float = 30.0, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._lru: _TtlLru[FetchError] = _TtlLru(max_entries, ttl, max_entries, lambda _: 1, clock)
        self._clock = clock

    @property
    def ttl(self) -> float:
        return self._lru.ttl

    def check(self, key: tuple[Any, ...]) -> None:
        """Raise the failure remembered for ``key``, if any."""
        entry = self._lru.get(key)
        if entry is None:
            return
        stored_at, error = entry
        age = max(0.0, self._clock() - stored_at)
        raise FetchError(f"{error} (remembered from a failed attempt {age:.0f} s ago; not tried again "
                         f"for {self.ttl:g} s)", code=error.code, details={**error.details, "cached": True})

    def put(self, key: tuple[Any, ...], error: FetchError) -> None:
        self._lru.put(key, error)

    def clear(self) -> None:
        self._lru.clear()

    def __len__(self) -> int:
        return len(self._lru)
