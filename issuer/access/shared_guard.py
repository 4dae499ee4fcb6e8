"""The console's sign-in lock in a shared store: one lock for all app servers (issue 15 §2).

:class:`~issuer.access.staff.SignInGuard` counts wrong passwords per (account, client address) in
this process's memory: behind a load balancer each app server would keep its own count and its
own lock, so attempts spread over N servers get N times the tries before a lock, and a pair
locked on one server could still sign in on another. :class:`SharedSignInGuard` keeps the count
and the lock in the ``limits`` library's storage that the request limits already share
(``MICROCRED_RATELIMIT_STORAGE_URI``, e.g. ``redis://...``); :func:`sign_in_guard` chooses:
``memory://`` (the default, one process) keeps the in-memory guard.

The rules are the in-memory guard's: after :data:`~issuer.access.staff.MAX_FAILED_LOGINS` wrong
passwords in a row the pair is locked for :data:`~issuer.access.staff.LOCK_MINUTES` minutes; a
success clears the count. Two differences, both from the store's keys needing an expiry: the
count is forgotten :data:`FAILURE_MEMORY` after the first failure it holds, and the lock's end
is the store's (its key's time to live), not the runtime's clock. Keys hold a hash of the
(account, address) pair, not the name or the address.

A store that cannot be reached fails closed: the pair counts as locked (the attempt is refused
like a wrong password; the console's request limit, checked first, already answers with a wait
in that case) and a warning names the error's class only. The store's client is made on first
use, so commands that never sign anyone in never connect.
"""
from __future__ import annotations

import hashlib
import logging
import threading
import time
from datetime import datetime, timedelta

from limits.storage import Storage

from issuer.access.staff import LOCK_MINUTES, MAX_FAILED_LOGINS, FailureGuard, SignInGuard, normalize_username
from issuer.errors import ConfigError
from verifier.shared_store import STORE_TIMEOUT, shared_storage

__all__ = ["FAILURE_MEMORY", "STORE_TIMEOUT", "SharedSignInGuard", "sign_in_guard"]

FAILURE_MEMORY = timedelta(days=1)     # a count of wrong passwords is kept this long after its first
UNREACHABLE_LOCK = timedelta(seconds=60)
_PREFIX = "microcred-sign-in"
log = logging.getLogger(__name__)


def sign_in_guard(storage_uri: str) -> FailureGuard:
    """The guard for a limits store: in this process for ``memory://``, else shared through the store."""
    if storage_uri.split("://", 1)[0].lower() == "memory":
        return SignInGuard()
    return SharedSignInGuard(storage_uri)


class SharedSignInGuard:
    """Failed sign-ins per (user name, client address), in a shared ``limits`` store (same methods
    as :class:`~issuer.access.staff.SignInGuard`)."""

    def __init__(self, storage_uri: str, max_failures: int = MAX_FAILED_LOGINS,
                 lock: timedelta = timedelta(minutes=LOCK_MINUTES)) -> None:
        self.storage_uri, self.max_failures, self.lock = storage_uri, max_failures, lock
        self._storage: Storage | None = None
        self._mutex = threading.Lock()

    def _store(self) -> Storage:
        with self._mutex:
            if self._storage is None:
                store = shared_storage(self.storage_uri)       # the request limits' store, same bounded waits
                if not isinstance(store, Storage):          # an async:// store: not for this synchronous app
                    raise ConfigError(f"the limits store {self.storage_uri.split('://', 1)[0]}:// is asynchronous; "
                                      "use a synchronous one such as redis://", code="invalid_config")
                self._storage = store
            return self._storage

    @staticmethod
    def _keys(username: str, client: str) -> tuple[str, str]:
        pair = hashlib.sha256(f"{normalize_username(username)}\n{client}".encode("utf-8", "surrogatepass"))
        return f"{_PREFIX}/failures/{pair.hexdigest()}", f"{_PREFIX}/locked/{pair.hexdigest()}"

    def locked_until(self, username: str, client: str, now: datetime) -> datetime | None:
        """When the pair's lock ends, or None if it is not locked now."""
        _, locked = self._keys(username, client)
        try:
            store = self._store()
            if store.get(locked) <= 0:
                return None
            left = store.get_expiry(locked) - time.time()
        except ConfigError:
            raise
        except Exception as exc:     # noqa: BLE001 - the store's own errors (redis.ConnectionError, ...)
            log.warning("sign-in lock store unreachable (%s): refusing the sign-in", type(exc).__name__)
            return now + UNREACHABLE_LOCK
        return now + timedelta(seconds=max(1.0, left))

    def failed(self, username: str, client: str, now: datetime) -> None:
        failures, locked = self._keys(username, client)
        try:
            store = self._store()
            if store.incr(failures, int(FAILURE_MEMORY.total_seconds())) >= self.max_failures:
                store.incr(locked, int(self.lock.total_seconds()))
                store.clear(failures)
        except Exception as exc:     # noqa: BLE001 - as above; the attempt is refused anyway
            log.warning("sign-in lock store unreachable (%s): a failed sign-in was not counted", type(exc).__name__)

    def succeeded(self, username: str, client: str) -> None:
        failures, _ = self._keys(username, client)
        try:
            self._store().clear(failures)
        except Exception as exc:     # noqa: BLE001 - as above
            log.warning("sign-in lock store unreachable (%s): a count was not cleared", type(exc).__name__)
