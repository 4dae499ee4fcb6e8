"""The console's sign-in lock in a shared store (:mod:`issuer.access.shared_guard`), on a real Redis.

Two guards on one store stand for two app servers; the two-server flow over HTTP is in
``tests/issuer/web/test_two_servers.py``.
"""
from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta

import redis

from issuer.access.shared_guard import STORE_TIMEOUT, SharedSignInGuard, sign_in_guard
from issuer.access.staff import LOCK_MINUTES, MAX_FAILED_LOGINS, SignInGuard
from tests.redis_fixtures import _free_port
from verifier.web import ratelimit

NOW = datetime(2030, 1, 1, tzinfo=UTC)


def test_memory_keeps_the_guard_in_the_process_and_a_store_shares_it(redis_url):
    assert isinstance(sign_in_guard("memory://"), SignInGuard)
    assert isinstance(sign_in_guard(redis_url), SharedSignInGuard)
    assert STORE_TIMEOUT == ratelimit.STORE_TIMEOUT            # one answer time for every use of the store


def test_failures_counted_by_two_guards_on_one_store_lock_the_pair_for_both(redis_url):
    one, two = SharedSignInGuard(redis_url), SharedSignInGuard(redis_url)
    for n in range(MAX_FAILED_LOGINS - 1):
        (one, two)[n % 2].failed("Ike", "192.0.2.7", NOW)
    assert one.locked_until("ike", "192.0.2.7", NOW) is None and two.locked_until("ike", "192.0.2.7", NOW) is None
    two.failed("ike ", "192.0.2.7", NOW)                             # the fifth, names compared normalised
    for guard in (one, two):
        until = guard.locked_until("IKE", "192.0.2.7", NOW)
        assert until is not None and NOW + timedelta(minutes=LOCK_MINUTES - 1) < until \
            <= NOW + timedelta(minutes=LOCK_MINUTES)
    assert one.locked_until("ike", "198.51.100.4", NOW) is None       # another address
    assert one.locked_until("ada", "192.0.2.7", NOW) is None          # another account


def test_a_success_on_one_server_clears_the_count_kept_for_both(redis_url):
    one, two = SharedSignInGuard(redis_url), SharedSignInGuard(redis_url)
    for _ in range(MAX_FAILED_LOGINS - 1):
        one.failed("ike", "a", NOW)
    two.succeeded("ike", "a")
    for _ in range(MAX_FAILED_LOGINS - 1):
        one.failed("ike", "a", NOW)
    assert two.locked_until("ike", "a", NOW) is None


def test_the_lock_ends_when_its_time_is_over(redis_url):
    guard = SharedSignInGuard(redis_url, max_failures=1, lock=timedelta(seconds=1))
    guard.failed("ike", "a", NOW)
    assert guard.locked_until("ike", "a", NOW) is not None
    time.sleep(2.1)                      # Redis expires keys by whole seconds
    assert guard.locked_until("ike", "a", NOW) is None


def test_the_store_holds_no_user_name_or_address(redis_url):
    guard = SharedSignInGuard(redis_url)
    guard.failed("ike.person", "192.0.2.7", NOW)
    client = redis.Redis.from_url(redis_url)
    try:
        keys = [key.decode() for key in client.keys("*")]
    finally:
        client.close()
    assert keys and not any("ike" in key or "192.0.2.7" in key for key in keys)


def test_an_unreachable_store_refuses_the_sign_in_and_logs_no_personal_data(caplog):
    guard = SharedSignInGuard(f"redis://127.0.0.1:{_free_port()}/0")       # nothing listens there
    with caplog.at_level(logging.WARNING, logger="issuer.access.shared_guard"):
        assert guard.locked_until("ike", "192.0.2.7", NOW) == NOW + timedelta(seconds=60)
        guard.failed("ike", "192.0.2.7", NOW)            # not counted, but no error either
        guard.succeeded("ike", "192.0.2.7")
    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) == 3 and all("ConnectionError" in m for m in messages)
    assert not any("ike" in m or "192.0.2.7" in m for m in messages)
