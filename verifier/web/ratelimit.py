"""Verifications per client address: one fixed-window limit for a blueprint's pages and API.

Role: :class:`ClientLimit` counts each verification request (a POST to the form or the API, a
``GET ...?url=``) of one client address against ``RATE_LIMIT``, refuses it with a 429 once the
window's budget is spent, and writes the window on every limited response as flask-limiter did
before it (``X-RateLimit-Limit``, ``X-RateLimit-Remaining``, ``X-RateLimit-Reset`` and
``Retry-After``, on answers and refusals alike). The form, the API description and static files
cost nothing. The client address is ``request.remote_addr`` (what ``ProxyFix`` made of it behind
``TRUSTED_PROXIES``); ``RATELIMIT_ENABLED = False`` in the app's config turns the limit off.

Counting is the ``limits`` library's fixed window (the window starts with a client's first
request) in ``RATELIMIT_STORAGE_URI`` storage, with the keys flask-limiter used, so a shared
redis or memcached store keeps its counts. For ``memory://``, the default, :class:`MemoryWindows`
here keeps the windows. Why not flask-limiter and ``limits``' own memory storage, as before:
together they were 8% of a verification's CPU (issue 13). flask-limiter evaluates its whole
machinery (limit managers, exemption scopes, meta limits, two storage reads for the headers) on
every request of every app it is registered on, and ``limits``' memory storage starts a new
timer thread whenever a hit comes more than 10 ms after its last expiry sweep: about a hundred
thread starts a second in a busy worker, each making a request wait for the thread to start.

Also here, :func:`window_limiter`: the strategy for a storage URI (the app's limit on links per
target site uses it too).
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from functools import wraps
from typing import Any, Protocol, TypeVar

from flask import Response, current_app, request
from limits import RateLimitItem, parse
from limits.strategies import FixedWindowRateLimiter
from limits.util import WindowStats
from werkzeug.exceptions import TooManyRequests

from verifier.shared_store import STORE_TIMEOUT, shared_storage

__all__ = ["STORE_TIMEOUT", "ClientLimit", "MemoryWindows", "WindowLimiter", "window_limiter"]

_WINDOW = "microcred.verifier.rate_limit"      # request.environ key: the window of this request's limit
View = TypeVar("View", bound=Callable[..., Any])


class WindowLimiter(Protocol):
    """What :class:`limits.strategies.FixedWindowRateLimiter` offers and the verifier uses."""

    def hit(self, item: RateLimitItem, *identifiers: str, cost: int = 1) -> bool: ...

    def get_window_stats(self, item: RateLimitItem, *identifiers: str) -> WindowStats: ...


class MemoryWindows:
    """Fixed windows counted in this process's memory: ``limits``' fixed-window strategy, without threads.

    Same answers as ``FixedWindowRateLimiter(MemoryStorage())``: a key's window starts at its
    first hit and lasts the item's period; every hit counts (also those refused); the window's
    reset time and remaining budget. Thread-safe. Bounded: at ``max_keys`` keys the expired
    windows are dropped, and if that is not enough (a flood of new addresses) the oldest half.
    """

    def __init__(self, *, max_keys: int = 65_536, clock: Callable[[], float] = time.time) -> None:
        self.max_keys = max_keys
        self._clock = clock
        self._windows: dict[str, list[float]] = {}      # key -> [window end, hits]
        self._lock = threading.Lock()

    def hit(self, item: RateLimitItem, *identifiers: str, cost: int = 1) -> bool:
        key, now = item.key_for(*identifiers), self._clock()
        with self._lock:
            window = self._windows.get(key)
            if window is None or window[0] <= now:
                if window is None and len(self._windows) >= self.max_keys:
                    self._make_room(now)
                window = self._windows[key] = [now + item.get_expiry(), 0]
            window[1] += cost
            return window[1] <= item.amount

    def get_window_stats(self, item: RateLimitItem, *identifiers: str) -> WindowStats:
        key, now = item.key_for(*identifiers), self._clock()
        with self._lock:
            window = self._windows.get(key)
        if window is None or window[0] <= now:
            return WindowStats(now, item.amount)
        return WindowStats(window[0], max(0, item.amount - int(window[1])))

    def __len__(self) -> int:
        return len(self._windows)

    def _make_room(self, now: float) -> None:
        """Drop expired windows; then, if still full, the oldest half (lock held)."""
        self._windows = {key: window for key, window in self._windows.items() if window[0] > now}
        if len(self._windows) >= self.max_keys:
            keep = list(self._windows.items())[len(self._windows) // 2:]
            self._windows = dict(keep)


def window_limiter(storage_uri: str) -> WindowLimiter:
    """The fixed-window strategy over ``storage_uri`` (``memory://``: :class:`MemoryWindows`).

    Other stores come from :func:`verifier.shared_store.shared_storage` (bounded waits on Redis:
    :data:`STORE_TIMEOUT`)."""
    if storage_uri.split("://", 1)[0].lower() == "memory":
        return MemoryWindows()
    return FixedWindowRateLimiter(shared_storage(storage_uri))


class ClientLimit:
    """``rate`` verifications per client address, shared by the views :meth:`limited` wraps.

    ``name`` is the blueprint's name: the counts are kept under flask-limiter's keys
    (``LIMITER/<name>/<address>/<name>-verify/...``). ``rate`` is text such as "60 per minute";
    a bad one raises ``ValueError`` here.
    """

    def __init__(self, name: str, rate: str, storage_uri: str) -> None:
        self.name, self.scope = name, f"{name}-verify"
        self.item = parse(rate)
        self.counts = window_limiter(storage_uri)

    def limited(self, view: View) -> View:
        """``view`` counted against the limit, except a GET without ``url`` (the empty form)."""
        @wraps(view)
        def counted(*args: Any, **kwargs: Any) -> Any:
            if request.method != "GET" or "url" in request.args:
                self.count()
            return view(*args, **kwargs)
        return counted  # type: ignore[return-value]

    def count(self) -> None:
        """Count this request; raise a 429 if its client is over the limit."""
        if not current_app.config.get("RATELIMIT_ENABLED", True):
            return
        address = request.remote_addr or "127.0.0.1"
        allowed = self.counts.hit(self.item, self.name, address, self.scope)
        request.environ[_WINDOW] = self.counts.get_window_stats(self.item, self.name, address, self.scope)
        if not allowed:
            raise TooManyRequests()

    def add_headers(self, response: Response) -> Response:
        """The window of this request's limit, as flask-limiter wrote it (after each limited request)."""
        window: WindowStats | None = request.environ.get(_WINDOW)
        if window is not None:
            reset = int(window.reset_time + 1)
            response.headers.add("X-RateLimit-Limit", str(self.item.amount))
            response.headers.add("X-RateLimit-Remaining", str(window.remaining))
            response.headers.add("X-RateLimit-Reset", str(reset))
            response.headers.set("Retry-After", str(int(reset - time.time())))
        return response
