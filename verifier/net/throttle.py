"""Per-target-host limits on outbound fetches, shared by every verification of a process.

Role: :class:`HostLimiter` is given to a long-lived :class:`verifier.fetcher.NetworkFetcher`
(the verifier web app has one); every request it sends (redirect hops included, cache hits
not) first takes a token from the target host's bucket and then one of the host's
concurrency slots.

Threat model (research notes, cases 77 and 78): many clients, or one client through many
verifications, submit credentials pointing at one victim host (the verifier as a reflector),
or at blackholed hosts that hold connections open until the deadline (worker exhaustion). A
token bucket per host bounds the rate of requests any host receives from this process
(``host_rate_limited`` beyond it), and a cap on simultaneous requests per host bounds the
threads one slow host can hold; a request waits for a slot at most until its verification's
deadline (``host_busy`` after that). The table of hosts is keyed by attacker-chosen names, so
it is bounded (``max_hosts``, least recently used idle hosts forgotten first) and thread-safe.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from .policy import fetch_error

__all__ = ["HostLimiter"]


@dataclass
class _Host:
    tokens: float
    updated: float
    in_flight: int = 0
    waiting: int = 0


class HostLimiter:
    """A token bucket and a concurrency cap per target host; thread-safe.

    ``rate`` requests per second refill each host's bucket of ``burst`` tokens;
    ``max_concurrent`` requests to one host may be under way at once. ``clock`` (seconds,
    monotonic) is injectable for tests; waiting for a slot uses real time up to the deadline.
    """

    def __init__(self, rate: float, burst: int, *, max_concurrent: int = 4, max_hosts: int = 4096,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0 or burst < 1 or max_concurrent < 1 or max_hosts < 1:
            raise ValueError("rate must be > 0; burst, max_concurrent and max_hosts >= 1")
        self.rate, self.burst, self.max_concurrent, self.max_hosts = rate, burst, max_concurrent, max_hosts
        self._clock = clock
        self._hosts: OrderedDict[str, _Host] = OrderedDict()
        self._changed = threading.Condition(threading.Lock())

    @classmethod
    def per_period(cls, amount: int, seconds: float, **options: Any) -> HostLimiter:
        """``amount`` requests per ``seconds`` per host (e.g. 300 per 60), bursts up to ``amount``."""
        return cls(amount / seconds, amount, **options)

    @contextmanager
    def admit(self, host: str, deadline: float, url: str) -> Iterator[None]:
        """Hold one of ``host``'s slots for one request; raise ``FetchError`` if over the limits."""
        with self._changed:
            state = self._state(host)
            self._take_token(state, host, url)
            self._wait_for_slot(state, host, deadline, url)
            state.in_flight += 1
        try:
            yield
        finally:
            with self._changed:
                state.in_flight -= 1
                self._changed.notify_all()

    def in_flight(self, host: str) -> int:
        """Requests to ``host`` under way now."""
        with self._changed:
            state = self._hosts.get(host)
            return state.in_flight if state is not None else 0

    def waiting(self, host: str) -> int:
        """Requests to ``host`` waiting for a slot now."""
        with self._changed:
            state = self._hosts.get(host)
            return state.waiting if state is not None else 0

    def __len__(self) -> int:
        with self._changed:
            return len(self._hosts)

    # ------------------------------------------------------------------ internals (lock held)
    def _state(self, host: str) -> _Host:
        state = self._hosts.get(host)
        if state is None:
            self._forget_idle(len(self._hosts) + 1 - self.max_hosts)
            state = self._hosts[host] = _Host(float(self.burst), self._clock())
        self._hosts.move_to_end(host)
        return state

    def _forget_idle(self, excess: int) -> None:
        """Drop the ``excess`` least recently used hosts with nothing under way (a busy host is
        never forgotten: there are at most as many of those as threads)."""
        if excess <= 0:
            return
        idle = [name for name, s in self._hosts.items() if not s.in_flight and not s.waiting]
        for name in idle[:excess]:
            del self._hosts[name]

    def _take_token(self, state: _Host, host: str, url: str) -> None:
        now = self._clock()
        state.tokens = min(float(self.burst), state.tokens + max(0.0, now - state.updated) * self.rate)
        state.updated = now
        if state.tokens < 1.0:
            raise fetch_error("host_rate_limited", f"This verifier has sent as many requests to {host} as it may "
                              f"for now ({self.burst} at most, {self.rate:g} a second).", url, host=host)
        state.tokens -= 1.0

    def _wait_for_slot(self, state: _Host, host: str, deadline: float, url: str) -> None:
        state.waiting += 1
        try:
            while state.in_flight >= self.max_concurrent:
                remaining = deadline - self._clock()
                if remaining <= 0:
                    raise fetch_error("host_busy", f"{self.max_concurrent} requests to {host} were already under "
                                      "way, and none finished within this verification's time.", url, host=host)
                self._changed.wait(remaining)
        finally:
            state.waiting -= 1
