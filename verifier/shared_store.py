"""The ``limits`` library's storage for a URI, with bounded waits: one place for every shared count.

    store = shared_storage("redis://redis:6379/0")     # a limits Storage; memory:// works too

Used by the request limits (:func:`verifier.web.ratelimit.window_limiter`) and the issuer's
shared sign-in lock (:mod:`issuer.access.shared_guard`), so both wait on a store the same way: a
Redis store's client gets :data:`STORE_TIMEOUT` for connecting and for each answer unless the URI
names its own ``socket_timeout``/``socket_connect_timeout``, so a store that accepts and never
answers cannot hold a request (the caller's error handling decides what a failing store means).
"""
from __future__ import annotations

from limits.storage import StorageTypes, storage_from_string

__all__ = ["STORE_TIMEOUT", "shared_storage"]

STORE_TIMEOUT = 2.0     # seconds
REDIS_SCHEMES = ("redis", "rediss", "redis+unix")


def shared_storage(storage_uri: str) -> StorageTypes:
    """The storage ``storage_uri`` names (``limits.storage.storage_from_string``), Redis with bounded waits."""
    options: dict[str, float] = {}
    if storage_uri.split("://", 1)[0].lower() in REDIS_SCHEMES:
        options = {name: STORE_TIMEOUT for name in ("socket_timeout", "socket_connect_timeout")
                   if name not in storage_uri}
    return storage_from_string(storage_uri, **options)
