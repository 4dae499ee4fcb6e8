"""The hardened fetcher against loopback servers and an injected resolver (no internet)."""
from __future__ import annotations

import gzip
import ipaddress
import json
import socket
import time

import pytest

import verifier.fetcher as fetcher_mod
import verifier.net.transport as transport_mod
from tests.http_fixtures import LoopbackServer, http_server, https_server, tls_material, unused_port  # noqa: F401
from verifier.errors import CredentialError
from verifier.fetcher import Fetcher, FetchError, FetchPolicy, ResponseCache, forbidden_address
from verifier.net.response import freshness

ACCEPT = "application/json"


@pytest.fixture
def connects(monkeypatch):
    """Record every TCP connect the fetcher attempts; only loopback ones really happen."""
    seen: list[tuple[str, int]] = []
    real = transport_mod._open_connection

    def spy(ip, port, timeout):
        seen.append((ip, port))
        if not ipaddress.ip_address(ip).is_loopback:
            raise ConnectionRefusedError("the test network has no route there")
        return real(ip, port, timeout)

    monkeypatch.setattr(transport_mod, "_open_connection", spy)
    return seen


def resolver(table: dict[str, list[str]], calls: list | None = None):
    def resolve(host, port):
        if calls is not None:
            calls.append((host, port))
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "unknown in test")
        return list(table[host])
    return resolve


def code_of(call) -> str:
    with pytest.raises(FetchError) as info:
        call()
    assert isinstance(info.value, CredentialError)
    return info.value.code


# --------------------------------------------------------------------------- #
# Basic https / http and the allow list
# --------------------------------------------------------------------------- #
def test_https_loopback_with_allow_and_ca(https_server, connects):
    https_server.set_json("/doc.json", {"ok": True})
    fetcher = Fetcher(https_server.policy())
    response = fetcher.fetch(https_server.url("/doc.json"), accept=ACCEPT)
    assert response.status == 200 and response.content_type == "application/json"
    assert json.loads(response.body) == {"ok": True}
    assert response.final_url == https_server.url("/doc.json")
    assert fetcher.fetch_count == 1 and https_server.hits("/doc.json") == 1
    path, headers = https_server.requests[-1]
    assert headers["Host"] == https_server.netloc and headers["Accept"] == ACCEPT
    assert connects == [("127.0.0.1", https_server.port)]


def test_https_loopback_refused_without_allow(https_server, connects):
    https_server.set_json("/doc.json", {})
    assert code_of(lambda: Fetcher(FetchPolicy(ca_file=https_server.ca_file)).fetch(
        https_server.url("/doc.json"), accept=ACCEPT)) == "port_not_allowed"
    # on port 443 the address check refuses it
    assert code_of(lambda: Fetcher(FetchPolicy(ca_file=https_server.ca_file)).fetch(
        "https://127.0.0.1/doc.json", accept=ACCEPT)) == "private_address"
    assert https_server.total_hits() == 0 and connects == []


def test_https_loopback_refused_without_ca(https_server):
    https_server.set_json("/doc.json", {})
    assert code_of(lambda: Fetcher(https_server.policy(ca_file=None)).fetch(
        https_server.url("/doc.json"), accept=ACCEPT)) == "tls_error"
    assert https_server.hits("/doc.json") == 0


def test_allow_host_with_port_only_allows_that_port(https_server):
    https_server.set_json("/doc.json", {"a": 1})
    ok = Fetcher(https_server.policy(allow_hosts=frozenset({https_server.netloc})))
    assert ok.fetch_json(https_server.url("/doc.json")) == {"a": 1}
    other = Fetcher(https_server.policy(allow_hosts=frozenset({f"127.0.0.1:{https_server.port + 1}"})))
    assert code_of(lambda: other.fetch(https_server.url("/doc.json"), accept=ACCEPT)) == "port_not_allowed"


def test_plain_http_only_for_allowed_hosts(http_server, connects):
    http_server.set_json("/doc.json", {"plain": True})
    assert Fetcher(http_server.policy()).fetch_json(http_server.url("/doc.json")) == {"plain": True}
    public = Fetcher(resolve_host=resolver({"public.example": ["93.184.216.34"]}))
    assert code_of(lambda: public.fetch("http://public.example/doc.json", accept=ACCEPT)) == "scheme_not_allowed"
    assert code_of(lambda: Fetcher(FetchPolicy(allow_hosts=frozenset({"other.example"}))).fetch(
        http_server.url("/doc.json"), accept=ACCEPT)) == "scheme_not_allowed"
    assert http_server.hits("/doc.json") == 1 and len(connects) == 1


@pytest.mark.parametrize("url", ["ftp://example.com/x", "file:///etc/passwd", "data:,{}", "//example.com/x",
                                 "gopher://example.com/", "/relative/path"])
def test_other_schemes_refused(url):
    assert code_of(lambda: Fetcher().fetch(url, accept=ACCEPT)) == "scheme_not_allowed"


@pytest.mark.parametrize("url", ["https://example.com:8443/x", "https://example.com:80/x", "https://example.com:0443/y"])
def test_only_port_443(url, connects):
    fetcher = Fetcher(resolve_host=resolver({"example.com": ["93.184.216.34"]}))
    assert code_of(lambda: fetcher.fetch(url, accept=ACCEPT)) in ("port_not_allowed", "invalid_url")
    assert connects == []


@pytest.mark.parametrize("url", ["https://user:pw@example.com/x", "https://user@example.com/x",
                                 "https://example.com@evil.example/x", "https://:@example.com/",
                                 "https://univ.example:x@evil.example/"])
def test_userinfo_refused(url, connects):
    fetcher = Fetcher(resolve_host=resolver({"example.com": ["93.184.216.34"], "evil.example": ["93.184.216.35"]}))
    assert code_of(lambda: fetcher.fetch(url, accept=ACCEPT)) == "userinfo_in_url"
    assert connects == []


@pytest.mark.parametrize("url", ["https://exa mple.com/", "https://example.com/\r\nX: y", "https://ex_ample.com/",
                                 "https://bücher.example/", "https://localhost./", "https://[fe80::1%25eth0]/",
                                 "https://", "https://example.com\\@evil.example/", "https://" + "a" * 5000 + ".com/",
                                 "https://example..com/"])
def test_malformed_urls_refused(url, connects):
    assert code_of(lambda: Fetcher(resolve_host=resolver({})).fetch(url, accept=ACCEPT)) in (
        "invalid_url", "userinfo_in_url")
    assert connects == []


# --------------------------------------------------------------------------- #
# Address checks (SSRF)
# --------------------------------------------------------------------------- #
FORBIDDEN_IPS = [
    "127.0.0.1", "127.255.0.9", "10.0.0.1", "10.255.255.254", "172.16.0.1", "172.31.255.254", "192.168.1.1",
    "169.254.169.254", "0.0.0.0", "100.64.0.1", "224.0.0.1", "255.255.255.255", "240.0.0.1",
    "::1", "::", "fc00::1", "fd12:3456::1", "fe80::1", "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1",
    "::ffff:169.254.169.254", "64:ff9b::7f00:1", "64:ff9b::a00:1", "2002:7f00:1::1", "2002:a00:1::1",
]


@pytest.mark.parametrize("ip", FORBIDDEN_IPS)
def test_resolved_private_addresses_refused_before_connecting(ip, https_server, connects):
    calls: list = []
    fetcher = Fetcher(FetchPolicy(ca_file=https_server.ca_file),
                      resolve_host=resolver({"public.example": [ip]}, calls))
    assert code_of(lambda: fetcher.fetch("https://public.example/.well-known/did.json", accept=ACCEPT)) \
        == "private_address"
    assert calls == [("public.example", 443)]
    assert connects == [] and https_server.total_hits() == 0 and fetcher.fetch_count == 1


def test_any_private_address_among_several_refuses(connects):
    fetcher = Fetcher(resolve_host=resolver({"public.example": ["93.184.216.34", "10.0.0.7"]}))
    assert code_of(lambda: fetcher.fetch("https://public.example/", accept=ACCEPT)) == "private_address"
    assert connects == []


@pytest.mark.parametrize("ip", ["93.184.216.34", "8.8.8.8", "2606:2800:220:1:248:1893:25c8:1946"])
def test_public_addresses_pass_the_check(ip):
    assert not forbidden_address(ipaddress.ip_address(ip))


@pytest.mark.parametrize("host", ["127.0.0.1", "[::1]", "[::ffff:127.0.0.1]", "169.254.169.254", "10.1.2.3",
                                  "0.0.0.0", "[fe80::1]", "[fc00::1]", "192.168.0.1",
                                  # numeric tricks, read as inet_aton reads them
                                  "2130706433", "0x7f000001", "0177.0.0.1", "127.1", "0", "0x7f.1",
                                  "017700000001", "3232235521", "localhost", "api.localhost"])
def test_ip_literals_and_numeric_tricks_refused(host, connects):
    calls: list = []
    fetcher = Fetcher(resolve_host=resolver({"localhost": ["127.0.0.1"], "api.localhost": ["93.184.216.34"]}, calls))
    assert code_of(lambda: fetcher.fetch(f"https://{host}/latest/meta-data", accept=ACCEPT)) == "private_address"
    assert connects == [] and calls == []


def test_numeric_trick_hosts_reach_nothing_even_on_the_real_port(https_server, connects):
    """``https://2130706433:PORT/`` is 127.0.0.1:PORT; with the default policy it is refused."""
    https_server.set_json("/x", {})
    for host in ("2130706433", "0x7f000001", "0177.0.0.1", "127.1"):
        url = f"https://{host}:{https_server.port}/x"
        assert code_of(lambda url=url: Fetcher(FetchPolicy(ca_file=https_server.ca_file)).fetch(url, accept=ACCEPT)) \
            in ("port_not_allowed", "private_address")
    assert https_server.total_hits() == 0 and connects == []


def test_resolved_address_is_pinned_no_second_lookup(connects):
    """DNS rebinding: a public answer at check time, a private one later. Only one lookup happens
    and the connection goes to the checked address."""
    answers = [["93.184.216.34"], ["127.0.0.1"]]
    calls: list = []

    def rebinding(host, port):
        calls.append(host)
        return answers[min(len(calls) - 1, 1)]

    fetcher = Fetcher(resolve_host=rebinding)
    assert code_of(lambda: fetcher.fetch("https://rebind.example/key", accept=ACCEPT)) == "connection_failed"
    assert calls == ["rebind.example"]
    assert connects == [("93.184.216.34", 443)]


def test_pinned_connection_verifies_certificate_for_the_host_name(https_server, connects):
    """Connected to the checked IP, TLS is verified for the URL's name ('localhost' is in the cert)."""
    https_server.set_json("/doc", {"pinned": True})
    policy = FetchPolicy(allow_hosts=frozenset({"localhost"}), ca_file=https_server.ca_file)
    fetcher = Fetcher(policy, resolve_host=resolver({"localhost": ["127.0.0.1"]}))
    assert fetcher.fetch_json(f"https://localhost:{https_server.port}/doc") == {"pinned": True}
    assert https_server.requests[-1][1]["Host"] == f"localhost:{https_server.port}"
    assert connects == [("127.0.0.1", https_server.port)]


def test_certificate_for_another_name_is_a_tls_error(https_server):
    https_server.set_json("/doc", {})
    policy = FetchPolicy(allow_hosts=frozenset({"other.test"}), ca_file=https_server.ca_file)
    fetcher = Fetcher(policy, resolve_host=resolver({"other.test": ["127.0.0.1"]}))
    assert code_of(lambda: fetcher.fetch(f"https://other.test:{https_server.port}/doc", accept=ACCEPT)) == "tls_error"
    assert https_server.hits("/doc") == 0


def test_untrusted_certificate_is_a_tls_error(tls_material, tmp_path):
    from tests.http_fixtures import make_tls_material

    stranger = make_tls_material(tmp_path / "stranger")  # same names, another CA
    with LoopbackServer(tls=stranger) as server:
        server.set_json("/doc", {})
        fetcher = Fetcher(server.policy(ca_file=tls_material.ca_file))
        assert code_of(lambda: fetcher.fetch(server.url("/doc"), accept=ACCEPT)) == "tls_error"
        assert server.hits("/doc") == 0


def test_environment_proxies_are_ignored(https_server, monkeypatch):
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    monkeypatch.setenv("NETRC", "/nonexistent")
    https_server.set_json("/doc", {"direct": True})
    assert Fetcher(https_server.policy()).fetch_json(https_server.url("/doc")) == {"direct": True}


def test_dns_failures():
    assert code_of(lambda: Fetcher(resolve_host=resolver({})).fetch("https://nx.example/", accept=ACCEPT)) \
        == "dns_failure"
    assert code_of(lambda: Fetcher(resolve_host=resolver({"empty.example": []})).fetch(
        "https://empty.example/", accept=ACCEPT)) == "dns_failure"


def test_slow_dns_is_bounded_by_the_deadline():
    def slow(host, port):
        time.sleep(2)
        return ["93.184.216.34"]

    start = time.monotonic()
    fetcher = Fetcher(FetchPolicy(connect_timeout=0.3), resolve_host=slow)
    assert code_of(lambda: fetcher.fetch("https://slow.example/", accept=ACCEPT)) == "timeout"
    assert time.monotonic() - start < 1.0


def test_connection_refused():
    port = unused_port()
    fetcher = Fetcher(FetchPolicy(allow_hosts=frozenset({"127.0.0.1"})))
    assert code_of(lambda: fetcher.fetch(f"http://127.0.0.1:{port}/", accept=ACCEPT)) == "connection_failed"


# --------------------------------------------------------------------------- #
# Redirects
# --------------------------------------------------------------------------- #
def test_redirects_followed_and_rechecked(https_server):
    https_server.set_json("/final", {"hop": 3})
    https_server.redirect("/r1", "/r2", 301)
    https_server.redirect("/r2", https_server.url("/r3"), 307)
    https_server.redirect("/r3", "final", 308)
    fetcher = Fetcher(https_server.policy())
    response = fetcher.fetch(https_server.url("/r1"), accept=ACCEPT)
    assert json.loads(response.body) == {"hop": 3}
    assert response.url == https_server.url("/r1") and response.final_url == https_server.url("/final")
    assert fetcher.fetch_count == 4  # every hop is a request


def test_more_than_three_redirects_refused(https_server):
    for i in range(1, 5):
        https_server.redirect(f"/r{i}", f"/r{i + 1}")
    https_server.set_json("/r5", {})
    assert code_of(lambda: Fetcher(https_server.policy()).fetch(https_server.url("/r1"), accept=ACCEPT)) \
        == "too_many_redirects"
    assert https_server.hits("/r5") == 0
    https_server.redirect("/loop", "/loop")
    assert code_of(lambda: Fetcher(https_server.policy()).fetch(https_server.url("/loop"), accept=ACCEPT)) \
        == "too_many_redirects"
    assert https_server.hits("/loop") == 4


def test_redirect_to_private_address_refused(https_server, connects):
    """An allowed (public-looking) host redirects to a name that resolves to 10/8."""
    https_server.redirect("/key", "https://internal.example/admin")
    policy = FetchPolicy(allow_hosts=frozenset({"localhost"}), ca_file=https_server.ca_file)
    fetcher = Fetcher(policy, resolve_host=resolver({"localhost": ["127.0.0.1"], "internal.example": ["10.0.0.5"]}))
    assert code_of(lambda: fetcher.fetch(f"https://localhost:{https_server.port}/key", accept=ACCEPT)) \
        == "private_address"
    assert all(ip == "127.0.0.1" for ip, _ in connects)


@pytest.mark.parametrize("location,code", [
    ("https://169.254.169.254/latest/meta-data", "private_address"),
    ("https://[::1]/x", "private_address"),
    ("https://2130706433/x", "private_address"),
    ("http://public.example/x", "scheme_not_allowed"),
    ("https://user:pw@public.example/x", "userinfo_in_url"),
    ("https://public.example:8080/x", "port_not_allowed"),
    ("file:///etc/passwd", "scheme_not_allowed"),
])
def test_every_redirect_hop_is_validated(https_server, connects, location, code):
    https_server.redirect("/start", location)
    policy = FetchPolicy(allow_hosts=frozenset({https_server.netloc}), ca_file=https_server.ca_file)
    fetcher = Fetcher(policy, resolve_host=resolver({"public.example": ["93.184.216.34"]}))
    assert code_of(lambda: fetcher.fetch(https_server.url("/start"), accept=ACCEPT)) == code
    assert connects == [("127.0.0.1", https_server.port)]


def test_redirect_to_another_port_of_an_allowed_ip_needs_that_port_allowed(https_server):
    https_server.redirect("/start", f"https://127.0.0.1:{https_server.port + 1}/x")
    policy = https_server.policy(allow_hosts=frozenset({https_server.netloc}))
    assert code_of(lambda: Fetcher(policy).fetch(https_server.url("/start"), accept=ACCEPT)) == "port_not_allowed"


# --------------------------------------------------------------------------- #
# Size and time limits
# --------------------------------------------------------------------------- #
def test_body_over_the_cap(https_server):
    fetcher = Fetcher(https_server.policy(max_bytes=1000))
    https_server.huge("/huge", 5 << 20)
    assert code_of(lambda: fetcher.fetch(https_server.url("/huge"), accept=ACCEPT)) == "too_large"
    https_server.endless("/endless")
    assert code_of(lambda: fetcher.fetch(https_server.url("/endless"), accept=ACCEPT)) == "too_large"
    https_server.endless("/chunked", chunked=True)
    assert code_of(lambda: fetcher.fetch(https_server.url("/chunked"), accept=ACCEPT)) == "too_large"


def test_cap_is_exact_and_per_call(https_server):
    https_server.set("/exact", b"x" * 1000, content_type="text/plain")
    fetcher = Fetcher(https_server.policy(max_bytes=1000))
    assert len(fetcher.fetch(https_server.url("/exact"), accept="*/*").body) == 1000
    https_server.set("/over", b"x" * 1001, content_type="text/plain")
    assert code_of(lambda: fetcher.fetch(https_server.url("/over"), accept="*/*")) == "too_large"
    # a smaller per-call cap, also applied to an already fetched (memoised) document
    assert code_of(lambda: fetcher.fetch(https_server.url("/exact"), accept="*/*", max_bytes=999)) == "too_large"
    # a larger per-call cap never exceeds the policy's
    assert code_of(lambda: fetcher.fetch(https_server.url("/over"), accept="*/*", max_bytes=10**9)) == "too_large"


def test_slow_trickle_hits_the_total_deadline(https_server):
    https_server.trickle("/slow", interval=0.5)
    fetcher = Fetcher(https_server.policy(total_timeout=1.0, read_timeout=5.0))
    start = time.monotonic()
    assert code_of(lambda: fetcher.fetch(https_server.url("/slow"), accept=ACCEPT)) == "timeout"
    assert time.monotonic() - start < 2.0


def test_slow_trickle_in_the_headers_hits_the_total_deadline(http_server):
    http_server.trickle("/slow", interval=0.2, in_headers=True)
    fetcher = Fetcher(http_server.policy(total_timeout=0.8, read_timeout=5.0))
    start = time.monotonic()
    assert code_of(lambda: fetcher.fetch(http_server.url("/slow"), accept=ACCEPT)) == "timeout"
    assert time.monotonic() - start < 1.8


def test_one_verification_has_one_time_budget_for_all_its_fetches(http_server):
    """Each fetch may take total_timeout, but all fetches of one Fetcher share verification_timeout."""
    http_server.trickle("/slow", interval=0.2)
    fetcher = Fetcher(http_server.policy(total_timeout=5.0, read_timeout=5.0, verification_timeout=0.8))
    start = time.monotonic()
    error = None
    try:
        fetcher.fetch(http_server.url("/slow"), accept=ACCEPT)
    except FetchError as exc:
        error = exc
    assert error is not None and error.code == "timeout"
    assert time.monotonic() - start < 4.0             # cut by the verification's budget, not the fetch's 5 s
    http_server.set("/fast", b"{}", content_type="application/json")
    with pytest.raises(FetchError, match="spent its 0.8 s for fetching documents") as spent:
        fetcher.fetch(http_server.url("/fast"), accept=ACCEPT)
    assert spent.value.code == "timeout"
    assert fetcher.fetch_count == 1                   # refused before any request was sent


def test_the_verification_budget_is_counted_from_the_fetchers_creation(http_server):
    http_server.set("/doc", b"{}", content_type="application/json")
    clock = FakeClock()
    fetcher = Fetcher(http_server.policy(verification_timeout=20.0), clock=clock)
    assert fetcher.fetch(http_server.url("/doc"), accept=ACCEPT).body == b"{}"
    clock.now += 21
    http_server.set("/other", b"[]", content_type="application/json")
    assert code_of(lambda: fetcher.fetch(http_server.url("/other"), accept=ACCEPT)) == "timeout"
    assert fetcher.fetch(http_server.url("/doc"), accept=ACCEPT).body == b"{}"     # memoised: no new fetch


def test_read_timeout_on_a_stalled_server(http_server):
    http_server.trickle("/stall", interval=3.0)
    fetcher = Fetcher(http_server.policy(read_timeout=0.3, total_timeout=5.0))
    start = time.monotonic()
    assert code_of(lambda: fetcher.fetch(http_server.url("/stall"), accept=ACCEPT)) == "timeout"
    assert time.monotonic() - start < 1.5


def test_gzip_bomb_is_capped(https_server):
    https_server.gzip_bomb("/bomb", decoded_size=64 << 20)
    fetcher = Fetcher(https_server.policy())
    start = time.monotonic()
    assert code_of(lambda: fetcher.fetch(https_server.url("/bomb"), accept=ACCEPT)) == "too_large"
    assert time.monotonic() - start < 2.0


def test_gzip_bodies_are_decoded(https_server):
    https_server.gzip("/gz", {"compressed": True})
    assert Fetcher(https_server.policy()).fetch_json(https_server.url("/gz")) == {"compressed": True}
    https_server.set("/corrupt", gzip.compress(b'{"a": 1}')[:-6], headers={"Content-Encoding": "gzip"})
    assert code_of(lambda: Fetcher(https_server.policy()).fetch(https_server.url("/corrupt"), accept=ACCEPT)) \
        == "bad_encoding"
    https_server.set("/garbage", b"not gzip at all", headers={"Content-Encoding": "gzip"})
    assert code_of(lambda: Fetcher(https_server.policy()).fetch(https_server.url("/garbage"), accept=ACCEPT)) \
        == "bad_encoding"
    https_server.set("/br", b"xx", headers={"Content-Encoding": "br"})
    assert code_of(lambda: Fetcher(https_server.policy()).fetch(https_server.url("/br"), accept=ACCEPT)) \
        == "bad_encoding"


def test_http_errors_carry_the_status(https_server):
    https_server.set("/missing", b"no", status=404)
    with pytest.raises(FetchError) as info:
        Fetcher(https_server.policy()).fetch(https_server.url("/missing"), accept=ACCEPT)
    assert info.value.code == "http_status" and info.value.details["http_status"] == 404
    assert info.value.details["url"] == https_server.url("/missing")
    assert code_of(lambda: Fetcher(https_server.policy()).fetch(https_server.url("/nothing-here"),
                                                                accept=ACCEPT)) == "http_status"


# --------------------------------------------------------------------------- #
# Offline, local documents, budget
# --------------------------------------------------------------------------- #
def test_offline_refuses_the_network(https_server):
    https_server.set_json("/doc", {})
    fetcher = Fetcher(https_server.policy(), offline=True)
    assert code_of(lambda: fetcher.fetch(https_server.url("/doc"), accept=ACCEPT)) == "network_forbidden"
    assert https_server.total_hits() == 0 and fetcher.fetch_count == 0


def test_local_documents_served_offline_and_free(https_server):
    url = "https://issuer.example/.well-known/did.json"
    fetcher = Fetcher(FetchPolicy(max_fetches=0), offline=True, local_documents={url: b'{"id": "did:web:issuer.example"}'})
    assert fetcher.fetch_json(url) == {"id": "did:web:issuer.example"}
    assert fetcher.fetch_json(url + "#key-1") == {"id": "did:web:issuer.example"}
    response = fetcher.fetch(url, accept=ACCEPT)
    assert response.final_url == url and response.status == 200
    assert fetcher.fetch_count == 0
    # they win over the network too
    https_server.set_json("/doc", {"from": "network"})
    online = Fetcher(https_server.policy(), local_documents={https_server.url("/doc"): b'{"from": "file"}'})
    assert online.fetch_json(https_server.url("/doc")) == {"from": "file"}
    assert https_server.total_hits() == 0


def test_fetch_budget(https_server):
    for i in range(4):
        https_server.set_json(f"/d{i}", {"i": i})
    https_server.redirect("/hop", "/d3")
    fetcher = Fetcher(https_server.policy(max_fetches=3))
    fetcher.fetch(https_server.url("/d0"), accept=ACCEPT)
    fetcher.fetch(https_server.url("/d0"), accept=ACCEPT)  # remembered: no second request
    fetcher.fetch(https_server.url("/d1"), accept=ACCEPT)
    assert fetcher.fetch_count == 2
    assert code_of(lambda: fetcher.fetch(https_server.url("/hop"), accept=ACCEPT)) == "fetch_budget_exceeded"
    assert code_of(lambda: fetcher.fetch(https_server.url("/d2"), accept=ACCEPT)) == "fetch_budget_exceeded"
    assert https_server.hits("/d2") == 0 and https_server.hits("/d3") == 0


# --------------------------------------------------------------------------- #
# Cache
# --------------------------------------------------------------------------- #
class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_cache_hit_within_ttl_and_expiry(https_server):
    https_server.set_json("/doc", {"v": 1})
    clock = FakeClock()
    cache = ResponseCache(ttl=300, clock=clock)
    url = https_server.url("/doc")
    assert Fetcher(https_server.policy(), cache=cache).fetch_json(url) == {"v": 1}
    second = Fetcher(https_server.policy(), cache=cache)
    assert second.fetch_json(url) == {"v": 1}
    assert https_server.hits("/doc") == 1 and second.fetch_count == 0
    https_server.set_json("/doc", {"v": 2})
    clock.now += 299
    assert Fetcher(https_server.policy(), cache=cache).fetch_json(url) == {"v": 1}
    clock.now += 2
    assert Fetcher(https_server.policy(), cache=cache).fetch_json(url) == {"v": 2}
    assert https_server.hits("/doc") == 2


def test_the_cache_keeps_a_document_no_longer_than_its_server_allows(https_server):
    """An issuer's Cache-Control bounds how long the verifier reuses a document (a status list
    with max-age=60 is fetched again after 60 s, not after the cache's 300 s); it never
    lengthens the cache's own time-to-live, and no-store / no-cache / private are not reused."""
    clock = FakeClock()
    cache = ResponseCache(ttl=300, clock=clock)
    lists = {"/status-60": "public, max-age=60, must-revalidate", "/status-aged": "max-age=60",
             "/forever": "public, max-age=31536000", "/shared": "max-age=600, s-maxage=30",
             "/no-store": "no-store", "/no-cache": "no-cache", "/private": "private, max-age=600"}
    for path, header in lists.items():
        extra = {"Age": "50"} if path == "/status-aged" else {}
        https_server.set(path, b'{"v": 1}', headers={"Cache-Control": header, **extra})

    def fetch(path: str) -> None:
        Fetcher(https_server.policy(), cache=cache).fetch_json(https_server.url(path))

    for path in lists:
        fetch(path)
    clock.now += 9.9
    for path in lists:
        fetch(path)
    assert {p: https_server.hits(p) for p in lists} == {
        "/status-60": 1, "/status-aged": 1, "/forever": 1, "/shared": 1, "/no-store": 2, "/no-cache": 2,
        "/private": 2}
    clock.now += 0.2                                   # 10.1 s: the list 50 s old when fetched has expired
    fetch("/status-aged")
    clock.now += 19.9                                  # 30.0 s: s-maxage=30 wins over max-age=600
    fetch("/shared")
    clock.now += 29.9                                  # 59.9 s
    fetch("/status-60")
    assert [https_server.hits(p) for p in ("/status-aged", "/shared", "/status-60")] == [2, 2, 1]
    clock.now += 0.1                                   # 60 s: fetched again
    fetch("/status-60")
    clock.now += 239.9                                 # 299.9 s: a year's max-age is still only the cache's 300 s
    fetch("/forever")
    assert [https_server.hits(p) for p in ("/status-60", "/forever")] == [2, 1]
    clock.now += 0.1
    fetch("/forever")
    assert https_server.hits("/forever") == 2


@pytest.mark.parametrize("header,age,expected", [
    (None, None, None), ("", None, None), ("public", None, None), ("max-age=60", None, 60.0),
    ("max-age=60", "70", 0.0), ("max-age=60", "junk", 60.0), ('max-age="120"', None, 120.0),
    ("s-maxage=5, max-age=60", None, 5.0), ("MAX-AGE=7", None, 7.0), ("max-age=-1", None, None),
    ("max-age=60, no-cache", None, 0.0), ("no-store", None, 0.0), ("private", None, 0.0),
    ("max-age=99999999999", None, None), ("max-age=" + "9" * 5000, None, None),
])
def test_freshness_reads_cache_control_as_a_shared_cache(header, age, expected):
    assert freshness(header, age) == expected


def test_cache_key_includes_accept_url_and_policy(https_server):
    https_server.set_json("/doc", {"v": 1})
    cache = ResponseCache()
    url = https_server.url("/doc")
    Fetcher(https_server.policy(), cache=cache).fetch(url, accept="application/json")
    Fetcher(https_server.policy(), cache=cache).fetch(url, accept="application/did+json")
    Fetcher(https_server.policy(), cache=cache).fetch(url + "?other", accept="application/json")
    assert https_server.hits("/doc") == 3
    # a fetcher whose policy refuses the URL never gets the cached copy
    assert code_of(lambda: Fetcher(FetchPolicy(), cache=cache).fetch(url, accept="application/json")) \
        == "port_not_allowed"
    assert code_of(lambda: Fetcher(https_server.policy(allow_hosts=frozenset({"127.0.0.1", "x.example"})),
                                   cache=cache, offline=True).fetch(url, accept="application/json")) \
        == "network_forbidden"


def test_errors_and_5xx_are_not_cached(https_server):
    https_server.set("/flaky", b"busy", status=503)
    cache = ResponseCache()
    url = https_server.url("/flaky")
    assert code_of(lambda: Fetcher(https_server.policy(), cache=cache).fetch(url, accept=ACCEPT)) == "http_status"
    https_server.set_json("/flaky", {"ok": True})
    assert Fetcher(https_server.policy(), cache=cache).fetch_json(url) == {"ok": True}
    assert https_server.hits("/flaky") == 2 and len(cache) == 1


def test_cache_is_bounded():
    cache = ResponseCache(max_entries=2)
    for i in range(5):
        cache.put((f"u{i}",), fetcher_mod.FetchResponse(f"u{i}", f"u{i}", 200, "", b""))
    assert len(cache) == 2 and cache.get(("u4",)) is not None and cache.get(("u0",)) is None
    cache.put(("bad",), fetcher_mod.FetchResponse("bad", "bad", 500, "", b""))
    assert cache.get(("bad",)) is None


# --------------------------------------------------------------------------- #
# Strict JSON
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("body", [
    b'{"a": NaN}', b'{"a": Infinity}', b'[-Infinity]', b'{"a": 1, "a": 2}', b'{"x": {"b": 1, "b": 1}}',
    b"[" * 65 + b"]" * 65, b"[" * 10000 + b"]" * 10000, b"<html>error</html>", b"\xef\xbb\xbf{}",
    b'{"a": "\xff"}', b"", b'{"a": 1} trailing',
])
def test_fetch_json_is_strict(https_server, body):
    https_server.set("/doc", body)
    assert code_of(lambda: Fetcher(https_server.policy()).fetch_json(https_server.url("/doc"))) == "not_json"


def test_fetch_json_accepts_depth_64(https_server):
    https_server.set("/doc", b"[" * 64 + b"]" * 64)
    assert Fetcher(https_server.policy()).fetch_json(https_server.url("/doc")) is not None
    https_server.set("/str", b'["[[[[' + b"[" * 100 + b'"]')
    assert Fetcher(https_server.policy()).fetch_json(https_server.url("/str")) == ["[[[[" + "[" * 100]
