"""Fixed-window request limits (console and employee sign-in, certificates, API tokens, OIDC).

Role: :func:`over_limit` counts one request of a key for a purpose and says how long to wait
once the limit is spent. Counting is the verifier's :func:`~verifier.web.ratelimit.window_limiter`
over the settings' ``ratelimit_storage_uri`` (``MICROCRED_RATELIMIT_STORAGE_URI``): ``memory://``,
the default, counts in this process (several server processes each keep their own counts);
``redis://host:port`` (the ``limits`` library's storage, with the ``redis`` package) shares one
count between all app servers. One limiter per app, created on first use.

A shared store that cannot be reached (decided per limit, issue 15 §2):

* sign-in limits (:data:`FAIL_CLOSED`: console, employee /me and OIDC sign-in) fail closed: the
  attempt is refused with a wait of :data:`UNREACHABLE_WAIT` seconds, because a limit that turns
  itself off when the store goes down would let a password guesser through unnoticed;
* the others (API tokens, certificate downloads) fall back to counting in this process, so the
  service stays up and each process still enforces the limit.

Either way a warning is logged with the purpose and the error's class only (no address, email,
or token id).
"""
from __future__ import annotations

import logging
import time

from flask import current_app
from limits import parse
from limits.errors import ConfigurationError

from verifier.web.ratelimit import MemoryWindows, WindowLimiter, window_limiter

__all__ = ["FAIL_CLOSED", "UNREACHABLE_WAIT", "over_limit"]

FAIL_CLOSED = frozenset({"admin-login", "me-sign-in-client", "me-sign-in-address", "oidc"})
UNREACHABLE_WAIT = 60       # seconds a sign-in waits while the shared store cannot be reached
_LIMITER = "microcred_rate_limiter"
_FALLBACK = "microcred_rate_limiter_fallback"
log = logging.getLogger(__name__)


def _limiter() -> WindowLimiter:
    limiter: WindowLimiter | None = current_app.extensions.get(_LIMITER)
    if limiter is None:
        uri = current_app.extensions["microcred"].settings.ratelimit_storage_uri
        limiter = current_app.extensions[_LIMITER] = window_limiter(uri)
    return limiter


def over_limit(purpose: str, rate: str, key: str) -> int | None:
    """Count one request of ``key`` for ``purpose`` against ``rate`` (e.g. "600/minute").

    None while within the limit; once over it, the seconds until the window ends (≥ 1)."""
    item = parse(rate)
    limiter = _limiter()
    try:
        allowed = limiter.hit(item, "microcred", purpose, key)
        reset = None if allowed else limiter.get_window_stats(item, "microcred", purpose, key).reset_time
    except ConfigurationError:
        raise
    except Exception as exc:     # the store's own errors (redis.ConnectionError, TimeoutError, ...)
        if purpose in FAIL_CLOSED:
            log.warning("rate-limit store unreachable (%s): refusing %s", type(exc).__name__, purpose)
            return UNREACHABLE_WAIT
        log.warning("rate-limit store unreachable (%s): counting %s in this process", type(exc).__name__, purpose)
        limiter = current_app.extensions.setdefault(_FALLBACK, MemoryWindows())
        allowed = limiter.hit(item, "microcred", purpose, key)
        reset = None if allowed else limiter.get_window_stats(item, "microcred", purpose, key).reset_time
    if reset is None:
        return None
    return max(1, int(reset - time.time() + 0.999))
