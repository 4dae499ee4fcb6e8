"""The Fetcher port: a long-lived NetworkFetcher, per-verification budgets, remembered failures,
per-host rate and concurrency limits, bounded caches, and the StaticFetcher (loopback only)."""
from __future__ import annotations

import threading
import time
from dataclasses import replace

import pytest

import verifier.net.transport as transport_mod
from tests.http_fixtures import http_server, https_server, tls_material, unused_port  # noqa: F401
from verifier.fetcher import (
    FailureCache,
    Fetcher,
    FetchError,
    FetchPolicy,
    FetchResponse,
    HostLimiter,
    NetworkFetcher,
    ResponseCache,
    StaticFetcher,
    VerificationFetcher,
)

ACCEPT = "application/json"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def error_of(call) -> FetchError:
    with pytest.raises(FetchError) as info:
        call()
    return info.value


def code_of(call) -> str:
    return error_of(call).code


def wait_until(condition, limit: float = 10.0) -> None:
    """Wait for another thread to reach a state (bounded; never a timing assertion)."""
    stop = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < stop, "the other thread never got there"
        time.sleep(0.005)


def other_name(server) -> dict:
    """Let ``localhost`` reach the loopback server too: a second target host for the same server."""
    return {"policy": server.policy(allow_hosts=frozenset({"127.0.0.1", "localhost"})),
            "resolve_host": lambda host, port: ["127.0.0.1"]}


# --------------------------------------------------------------------------- #
# The port and its implementations
# --------------------------------------------------------------------------- #
def test_every_implementation_is_a_fetcher(https_server):
    network = NetworkFetcher(https_server.policy())
    view = network.for_verification()
    for fetcher in (network, view, StaticFetcher({}), view.for_verification()):
        assert isinstance(fetcher, Fetcher)
    assert isinstance(view, VerificationFetcher) and view.policy is network.policy
    assert not isinstance(object(), Fetcher)


def test_the_old_constructor_still_gives_a_per_verification_fetcher(https_server):
    https_server.set_json("/doc", {"ok": True})
    url = https_server.url("/doc")
    cache = ResponseCache()
    fetcher = Fetcher(https_server.policy(), cache=cache, local_documents={"https://x.example/a": b"{}"})
    assert isinstance(fetcher, VerificationFetcher)
    assert fetcher.fetch_json(url) == {"ok": True} and fetcher.fetch_json("https://x.example/a") == {}
    assert len(cache) == 1 and fetcher.fetch_count == 1
    assert code_of(lambda: Fetcher(offline=True).fetch(url, accept=ACCEPT)) == "network_forbidden"


def test_static_fetcher_serves_its_documents_and_refuses_the_rest():
    url = "https://issuer.example/.well-known/did.json"
    fetcher = StaticFetcher({url: {"id": "did:web:issuer.example"}, "https://a.example/t": "text",
                             "https://a.example/b": b"\x00bytes"}, policy=FetchPolicy(max_bytes=100))
    assert fetcher.fetch_json(url) == {"id": "did:web:issuer.example"}
    assert fetcher.fetch_json(url + "#key-1") == {"id": "did:web:issuer.example"}
    response = fetcher.fetch("https://a.example/t", accept=ACCEPT)
    assert response == FetchResponse("https://a.example/t", "https://a.example/t", 200, "", b"text")
    assert fetcher.fetch("https://a.example/b", accept=ACCEPT).body == b"\x00bytes"
    assert code_of(lambda: fetcher.fetch("https://other.example/", accept=ACCEPT)) == "network_forbidden"
    assert code_of(lambda: fetcher.fetch_json("https://a.example/t")) == "not_json"
    assert code_of(lambda: fetcher.fetch("https://a.example/t", accept=ACCEPT, max_bytes=2)) == "too_large"
    more = fetcher.for_verification(documents={"https://other.example/": "[1]"})
    assert more.fetch_json("https://other.example/") == [1] and more.fetch_json(url)["id"]
    assert code_of(lambda: fetcher.fetch("https://other.example/", accept=ACCEPT)) == "network_forbidden"


def test_static_fetcher_never_opens_a_socket(monkeypatch):
    def refuse(*args):
        raise AssertionError("a StaticFetcher opened a connection")

    monkeypatch.setattr(transport_mod, "_open_connection", refuse)
    assert code_of(lambda: StaticFetcher({}).fetch_json("https://93.184.216.34/")) == "network_forbidden"


# --------------------------------------------------------------------------- #
# One long-lived fetcher, one budget per verification
# --------------------------------------------------------------------------- #
def test_each_verification_has_its_own_budget_over_a_shared_cache(https_server):
    for i in range(3):
        https_server.set_json(f"/d{i}", {"i": i})
    network = NetworkFetcher(https_server.policy(max_fetches=2))
    first = network.for_verification()
    first.fetch_json(https_server.url("/d0"))
    first.fetch_json(https_server.url("/d1"))
    assert code_of(lambda: first.fetch_json(https_server.url("/d2"))) == "fetch_budget_exceeded"
    second = network.for_verification()
    assert second.fetch_json(https_server.url("/d0")) == {"i": 0} and second.fetch_count == 0   # cached
    assert second.fetch_json(https_server.url("/d2")) == {"i": 2} and second.fetch_count == 1
    assert https_server.hits("/d0") == 1


def test_a_view_of_a_view_shares_its_budget_and_adds_documents(https_server):
    https_server.set_json("/d0", {})
    https_server.set_json("/d1", {})
    view = NetworkFetcher(https_server.policy(max_fetches=1)).for_verification()
    view.fetch_json(https_server.url("/d0"))
    inner = view.for_verification(documents={"https://local.example/": {"local": True}})
    assert inner.fetch_json("https://local.example/") == {"local": True}
    assert code_of(lambda: inner.fetch_json(https_server.url("/d1"))) == "fetch_budget_exceeded"
    assert code_of(lambda: view.for_verification(offline=True).fetch_json(https_server.url("/d0"))) \
        == "network_forbidden"


def test_the_per_host_budget_is_spent_per_target_host(http_server):
    for name in ("/a", "/b", "/c"):
        http_server.set_json(name, {"doc": name})
    http_server.redirect("/hop", "/c")
    options = other_name(http_server)
    network = NetworkFetcher(replace(options["policy"], max_fetches_per_host=2), resolve_host=options["resolve_host"])
    view = network.for_verification()
    view.fetch_json(http_server.url("/a"))
    error = error_of(lambda: view.fetch_json(http_server.url("/hop")))     # the hop is the 2nd, /c the 3rd
    assert error.code == "host_fetch_budget_exceeded" and error.details["host"] == "127.0.0.1"
    assert "2 requests to 127.0.0.1" in str(error)
    assert code_of(lambda: view.fetch_json(http_server.url("/b"))) == "host_fetch_budget_exceeded"
    assert http_server.hits("/c") == 0 and http_server.hits("/b") == 0
    other = f"http://localhost:{http_server.port}/b"
    assert view.fetch_json(other) == {"doc": "/b"}                        # another host has its own
    assert network.for_verification().fetch_json(http_server.url("/b")) == {"doc": "/b"}   # another verification


def test_the_default_policy_allows_eight_fetches_per_host():
    assert FetchPolicy().max_fetches_per_host == 8 and FetchPolicy().max_fetches == 10


# --------------------------------------------------------------------------- #
# Remembered failures
# --------------------------------------------------------------------------- #
def test_a_failing_url_is_asked_once_per_window(https_server):
    https_server.set("/down", b"busy", status=503)
    clock = FakeClock()
    network = NetworkFetcher(https_server.policy(), failures=FailureCache(ttl=30, clock=clock))
    url = https_server.url("/down")
    first = error_of(lambda: network.for_verification().fetch(url, accept=ACCEPT))
    second = error_of(lambda: network.for_verification().fetch(url + "#frag", accept=ACCEPT))
    assert https_server.hits("/down") == 1
    assert first.code == second.code == "http_status" and second.details["http_status"] == 503
    assert second.details["cached"] is True and "cached" not in first.details
    assert "remembered" in str(second)
    clock.now += 29
    assert code_of(lambda: network.fetch(url, accept=ACCEPT)) == "http_status"
    assert https_server.hits("/down") == 1
    clock.now += 2
    https_server.set_json("/down", {"up": True})
    assert network.fetch_json(url) == {"up": True} and https_server.hits("/down") == 2


def test_a_dead_host_is_not_hammered(monkeypatch):
    attempts: list = []
    real = transport_mod._open_connection

    def counting(ip, port, timeout):
        attempts.append((ip, port))
        return real(ip, port, timeout)

    monkeypatch.setattr(transport_mod, "_open_connection", counting)
    network = NetworkFetcher(FetchPolicy(allow_hosts=frozenset({"127.0.0.1"})))
    url = f"http://127.0.0.1:{unused_port()}/did.json"
    for _ in range(3):
        assert code_of(lambda: network.for_verification().fetch(url, accept=ACCEPT)) == "connection_failed"
    assert len(attempts) == 1 and len(network.failures) == 1


def test_limits_of_the_caller_are_not_remembered_as_failures(https_server):
    https_server.set_json("/big", {"x": "y" * 500})
    network = NetworkFetcher(https_server.policy(max_fetches=0))
    url = https_server.url("/big")
    assert code_of(lambda: network.fetch(url, accept=ACCEPT)) == "fetch_budget_exceeded"
    roomy = NetworkFetcher(https_server.policy())
    assert code_of(lambda: roomy.fetch(url, accept=ACCEPT, max_bytes=100)) == "too_large"
    assert len(network.failures) == 0 and len(roomy.failures) == 0
    assert roomy.fetch_json(url)["x"]


def test_the_failure_cache_is_bounded():
    failures = FailureCache(max_entries=2)
    for i in range(5):
        failures.put((f"u{i}",), FetchError("down", code="connection_failed", details={"url": f"u{i}"}))
    assert len(failures) == 2
    failures.check(("u0",))                                              # forgotten: no error
    assert code_of(lambda: failures.check(("u4",))) == "connection_failed"


# --------------------------------------------------------------------------- #
# Per-target-host rate and concurrency limits
# --------------------------------------------------------------------------- #
def test_every_outbound_request_to_a_host_takes_a_token(http_server):
    for name in ("/a", "/b", "/c"):
        http_server.set_json(name, {})
    http_server.redirect("/hop", "/b")
    clock = FakeClock()
    options = other_name(http_server)
    limiter = HostLimiter(rate=1.0, burst=3, clock=clock)
    network = NetworkFetcher(options["policy"], limiter=limiter, resolve_host=options["resolve_host"])
    network.for_verification().fetch_json(http_server.url("/a"))
    network.for_verification().fetch_json(http_server.url("/hop"))      # two requests: the hop and /b
    network.for_verification().fetch_json(http_server.url("/a"))        # cached: no token
    error = error_of(lambda: network.for_verification().fetch_json(http_server.url("/c")))
    assert error.code == "host_rate_limited" and error.details["host"] == "127.0.0.1"
    assert http_server.hits("/c") == 0 and len(network.failures) == 0
    assert network.fetch_json(f"http://localhost:{http_server.port}/c") == {}   # another host's bucket
    clock.now += 1.0
    assert network.fetch_json(http_server.url("/c")) == {}
    assert code_of(lambda: network.fetch_json(http_server.url("/nothing"))) == "host_rate_limited"


def test_host_limiter_per_period_and_settings():
    limiter = HostLimiter.per_period(300, 60, max_concurrent=2)
    assert (limiter.rate, limiter.burst, limiter.max_concurrent) == (5.0, 300, 2)
    with pytest.raises(ValueError):
        HostLimiter(rate=0, burst=1)


def test_at_most_max_concurrent_requests_reach_one_host(http_server):
    release = threading.Event()
    under_way = [0, 0]        # now, most ever
    lock = threading.Lock()

    def slow(path, headers):
        with lock:
            under_way[0] += 1
            under_way[1] = max(under_way)
        release.wait(20)
        with lock:
            under_way[0] -= 1
        return 200, {"Content-Type": "application/json"}, b"{}"

    http_server.handler("/slow", slow)
    limiter = HostLimiter(rate=100.0, burst=100, max_concurrent=2)
    network = NetworkFetcher(http_server.policy(), limiter=limiter)
    results: list = []
    threads = [threading.Thread(target=lambda i=i: results.append(
        network.for_verification().fetch_json(http_server.url(f"/slow?{i}")))) for i in range(5)]
    for thread in threads:
        thread.start()
    wait_until(lambda: under_way[0] == 2 and limiter.waiting("127.0.0.1") == 3)
    assert limiter.in_flight("127.0.0.1") == 2 and http_server.hits("/slow") == 2
    release.set()
    for thread in threads:
        thread.join(20)
    assert results == [{}] * 5 and under_way[1] == 2 and http_server.hits("/slow") == 5
    assert limiter.in_flight("127.0.0.1") == 0 and limiter.waiting("127.0.0.1") == 0


def test_waiting_for_a_busy_host_ends_with_the_verification(http_server):
    http_server.set_json("/doc", {"ok": True})
    limiter = HostLimiter(rate=100.0, burst=100, max_concurrent=1)
    network = NetworkFetcher(http_server.policy(verification_timeout=0.2), limiter=limiter)
    with limiter.admit("127.0.0.1", float("inf"), "held by the test"):
        error = error_of(lambda: network.fetch(http_server.url("/doc"), accept=ACCEPT))
    assert error.code == "host_busy" and error.details["host"] == "127.0.0.1"
    assert http_server.hits("/doc") == 0 and len(network.failures) == 0
    assert network.fetch_json(http_server.url("/doc")) == {"ok": True}


def test_the_host_table_is_bounded_but_busy_hosts_are_kept():
    limiter = HostLimiter(rate=1.0, burst=1, max_hosts=3, clock=FakeClock())
    with limiter.admit("busy.example", float("inf"), "u"):
        for i in range(10):
            with limiter.admit(f"h{i}.example", float("inf"), "u"):
                pass
        assert len(limiter) == 3 and limiter.in_flight("busy.example") == 1
    assert code_of(lambda: limiter.admit("busy.example", float("inf"), "u").__enter__()) == "host_rate_limited"


# --------------------------------------------------------------------------- #
# Bounded response cache
# --------------------------------------------------------------------------- #
def response(url: str, size: int) -> FetchResponse:
    return FetchResponse(url, url, 200, "", b"x" * size)


def test_the_response_cache_is_bounded_by_bytes():
    cache = ResponseCache(max_entries=100, max_bytes=1000)
    for i in range(3):
        cache.put((f"u{i}",), response(f"u{i}", 400))
    assert len(cache) == 2 and cache.total_bytes <= 1000
    assert cache.get(("u0",)) is None and cache.get(("u2",)) is not None
    cache.put(("huge",), response("huge", 2000))                        # larger than the whole cache
    assert cache.get(("huge",)) is None and len(cache) == 2
    cache.put(("u2",), response("u2", 10))                              # replacing frees the old bytes
    assert cache.total_bytes == 400 + len("u1") + 10 + len("u2")
    assert ResponseCache().max_bytes == 32 * 1024 * 1024


def test_a_body_too_large_for_the_cache_is_fetched_again(https_server):
    https_server.set("/big", b"[" + b"1," * 600 + b"1]")
    network = NetworkFetcher(https_server.policy(), cache=ResponseCache(max_bytes=1000))
    for _ in range(2):
        assert len(network.for_verification().fetch_json(https_server.url("/big"))) == 601
    assert https_server.hits("/big") == 2 and len(network.cache) == 0


def test_many_verifications_share_one_fetcher_at_once(https_server):
    https_server.set_json("/doc", {"shared": True})
    network = NetworkFetcher(https_server.policy(), limiter=HostLimiter(rate=100.0, burst=100))
    results: list = []
    threads = [threading.Thread(target=lambda: results.append(
        network.for_verification().fetch_json(https_server.url("/doc")))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert results == [{"shared": True}] * 8 and 1 <= https_server.hits("/doc") <= 8


def test_verify_credential_without_a_fetcher_policy_or_cache_uses_one_long_lived_fetcher(monkeypatch):
    """Its memory of failed hosts and its transport last across calls, as a web app's do; a call
    with its own policy or cache still gets a fetcher of its own."""
    from verifier import verify_credential

    views: list[NetworkFetcher] = []
    take_view = NetworkFetcher.for_verification

    def recorded(self, **kwargs):
        views.append(self)
        return take_view(self, **kwargs)

    monkeypatch.setattr(NetworkFetcher, "for_verification", recorded)
    for _ in range(2):
        verify_credential({"type": ["VerifiableCredential"]}, offline=True)
    verify_credential({"type": ["VerifiableCredential"]}, offline=True, policy=FetchPolicy())
    verify_credential({"type": ["VerifiableCredential"]}, offline=True, cache=ResponseCache())
    assert views[0] is views[1]
    assert len({id(view) for view in views}) == 3
