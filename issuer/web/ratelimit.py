"""Fixed-window request limits kept in this process's memory (the ``limits`` library).

One limiter per app and purpose, created on first use. With several server processes each
keeps its own counts, so the effective limit is the configured one times the processes.
"""
from __future__ import annotations

import time

from flask import current_app
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter


def over_limit(purpose: str, rate: str, key: str) -> int | None:
    """Count one request of ``key`` for ``purpose`` against ``rate`` (e.g. "600/minute").

    None while within the limit; once over it, the seconds until the window ends (≥ 1)."""
    limiters = current_app.extensions.setdefault("microcred_rate_limiters", {})
    limiter = limiters.get(purpose)
    if limiter is None:
        limiter = limiters[purpose] = FixedWindowRateLimiter(storage_from_string("memory://"))
    item = parse(rate)
    if limiter.hit(item, purpose, key):
        return None
    reset = limiter.get_window_stats(item, purpose, key).reset_time
    return max(1, int(reset - time.time() + 0.999))
