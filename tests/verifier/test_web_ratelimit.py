"""The verifier web app's per-client limit (:mod:`verifier.web.ratelimit`).

:class:`MemoryWindows` gives the answers of the ``limits`` library's fixed-window strategy over
its memory storage (which it replaces for ``memory://``), without starting threads, and stays
bounded; the app writes the limit's window on every limited response.
"""
from __future__ import annotations

import socket
import threading
import time

from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter
from redis.exceptions import TimeoutError as RedisTimeout

from verifier.web.app import create_app
from verifier.web.ratelimit import STORE_TIMEOUT, MemoryWindows, window_limiter


def test_memory_windows_answer_as_the_limits_fixed_window_does():
    item = parse("3 per minute")
    ours, theirs = MemoryWindows(), FixedWindowRateLimiter(MemoryStorage())
    for client in ("a", "b", "a", "a", "a", "a", "b"):
        assert ours.hit(item, "p", client) == theirs.hit(item, "p", client)
        mine, reference = ours.get_window_stats(item, "p", client), theirs.get_window_stats(item, "p", client)
        assert mine.remaining == reference.remaining
        assert abs(mine.reset_time - reference.reset_time) < 1.0
    assert ours.get_window_stats(item, "p", "nobody").remaining == 3


def test_a_window_ends_after_its_period_and_a_new_one_starts():
    now = [1000.0]
    windows = MemoryWindows(clock=lambda: now[0])
    item = parse("1 per second")
    assert windows.hit(item, "k") and not windows.hit(item, "k")
    assert windows.get_window_stats(item, "k").reset_time == 1001.0
    now[0] = 1001.0
    assert windows.get_window_stats(item, "k").remaining == 1
    assert windows.hit(item, "k")


def test_memory_windows_are_bounded_and_start_no_threads():
    now = [0.0]
    windows = MemoryWindows(max_keys=100, clock=lambda: now[0])
    item = parse("1 per minute")
    before = set(threading.enumerate())
    for address in range(1000):
        windows.hit(item, str(address))
    assert len(windows) <= 100
    # no thread started (threads of earlier tests in this worker may end meanwhile: compare sets)
    assert not set(threading.enumerate()) - before
    now[0] = 61.0
    windows.hit(item, "late")
    assert windows.hit(item, "new") and len(windows) <= 100


def test_other_storage_uris_keep_the_limits_strategy():
    assert isinstance(window_limiter("memory://"), MemoryWindows)
    assert isinstance(window_limiter("memory://?x=1"), MemoryWindows)


def test_every_limited_response_carries_the_window():
    client = create_app({"TESTING": True, "RATE_LIMIT": "2 per minute"}).test_client()
    first = client.post("/api/verify", json={"credential": {}})
    assert (first.headers["X-RateLimit-Limit"], first.headers["X-RateLimit-Remaining"]) == ("2", "1")
    reset = int(first.headers["X-RateLimit-Reset"])
    assert time.time() + 55 < reset <= time.time() + 62
    assert 55 <= int(first.headers["Retry-After"]) <= 61
    bad = client.post("/api/verify", data=b"{", headers={"Content-Type": "application/json"})
    assert bad.status_code == 400 and bad.headers["X-RateLimit-Remaining"] == "0"
    refused = client.post("/api/verify", json={"credential": {}})
    assert refused.status_code == 429 and refused.headers["X-RateLimit-Remaining"] == "0"
    assert "X-RateLimit-Limit" not in client.get("/").headers               # the form is not counted
    assert "X-RateLimit-Limit" not in client.get("/openapi.json").headers


def test_the_limit_can_be_turned_off():
    client = create_app({"TESTING": True, "RATELIMIT_ENABLED": False, "RATE_LIMIT": "1 per minute"}).test_client()
    for _ in range(3):
        response = client.post("/api/verify", json={"credential": {}})
        assert response.status_code == 200 and "X-RateLimit-Limit" not in response.headers


def test_a_shared_store_that_never_answers_cannot_hold_a_request():
    """A Redis address that accepts connections and never answers: the limiter's call gives up
    after STORE_TIMEOUT with the store's own timeout error (the caller decides what a failing store
    means), instead of holding the request for as long as the peer likes."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)                                     # accepts (the kernel completes the handshake), never answers
    outcome: list[BaseException | bool] = []

    def hit() -> None:
        try:
            outcome.append(window_limiter(f"redis://127.0.0.1:{silent.getsockname()[1]}").hit(parse("5/minute"), "k"))
        except BaseException as exc:  # noqa: BLE001 - recorded for the assertion
            outcome.append(exc)

    worker = threading.Thread(target=hit, daemon=True)
    worker.start()
    worker.join(timeout=STORE_TIMEOUT * 15)              # a liveness bound, far above the timeout
    silent.close()
    assert not worker.is_alive(), "the limiter waited on a silent store"
    assert len(outcome) == 1 and isinstance(outcome[0], RedisTimeout), outcome
