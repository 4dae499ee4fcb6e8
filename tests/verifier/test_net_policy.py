"""verifier.net.policy without sockets: URL parsing, the allow list, and the registry of fetch codes."""
from __future__ import annotations

import ipaddress
import re
from importlib.resources import files

import pytest

from verifier.net.policy import FETCH_ERROR_CODES, FetchError, FetchPolicy, forbidden_address, parse_target


def code_of(url: str, policy: FetchPolicy = FetchPolicy()) -> str:
    with pytest.raises(FetchError) as info:
        parse_target(url, policy)
    return info.value.code


def test_a_public_https_url_is_split_for_the_transport():
    target = parse_target("https://Issuer.Example/a/b?x=1#key-1", FetchPolicy())
    assert (target.url, target.scheme, target.host, target.port) == ("https://Issuer.Example/a/b?x=1", "https",
                                                                     "issuer.example", 443)
    assert target.request_target == "/a/b?x=1" and target.host_header == "issuer.example"
    assert target.safe_for_log == "https://issuer.example/a/b" and not target.allowed


def test_legacy_numeric_hosts_are_read_as_addresses_and_refused():
    for host in ("2130706433", "0x7f000001", "0177.0.0.1", "127.1"):
        assert code_of(f"https://{host}/") == "private_address"
    target = parse_target("http://127.1:8080/", FetchPolicy(allow_hosts=frozenset({"127.0.0.1"})))
    assert target.ip_literal == ipaddress.IPv4Address("127.0.0.1") and target.allowed
    assert target.host_header == "127.0.0.1:8080"


@pytest.mark.parametrize("url, code", [
    ("http://issuer.example/", "scheme_not_allowed"), ("ftp://issuer.example/", "scheme_not_allowed"),
    ("https://issuer.example:8443/", "port_not_allowed"), ("https://u:p@issuer.example/", "userinfo_in_url"),
    ("https://[::1]/", "private_address"), ("https://localhost./", "invalid_url"),
    ("https://a.localhost/", "private_address"), ("https://bücher.example/", "invalid_url"),
    ("https://issuer.example:0443/", "invalid_url"), ("https://[fe80::1%25eth0]/", "invalid_url"),
    ("https://issuer.example/a b", "invalid_url"), ("https://" + "a" * 5000, "invalid_url"),
])
def test_urls_refused_before_any_lookup(url, code):
    assert code_of(url) == code


def test_wrapped_private_addresses_are_forbidden():
    for address in ("::ffff:127.0.0.1", "64:ff9b::a00:1", "2002:a00:1::", "169.254.169.254", "0.0.0.0"):
        assert forbidden_address(ipaddress.ip_address(address)), address
    assert not forbidden_address(ipaddress.ip_address("93.184.216.34"))


def test_every_fetch_error_code_raised_is_registered():
    raised: set[str] = set()
    for module in ("net/policy.py", "net/transport.py", "net/throttle.py", "net/cache.py", "fetcher.py"):
        text = files("verifier").joinpath(module).read_text(encoding="utf-8")
        raised |= set(re.findall(r'(?:fetch_error|self\.fail)\(\s*"([a-z_]+)"', text))
    assert raised and raised <= FETCH_ERROR_CODES, raised - FETCH_ERROR_CODES
    assert {"host_fetch_budget_exceeded", "host_rate_limited", "host_busy"} <= raised


def test_a_remembered_url_is_answered_for_its_own_policy():
    """parse_target remembers URLs that pass, by URL *and* policy: the same URL is refused under
    a policy that does not allow its host, after being allowed under one that does, and back."""
    url = "http://127.0.0.1:8443/status/1"
    loopback = FetchPolicy(allow_hosts=frozenset({"127.0.0.1"}))
    for _ in range(2):
        assert parse_target(url, loopback).allowed
        with pytest.raises(FetchError) as refused:
            parse_target(url, FetchPolicy())
        assert refused.value.code == "scheme_not_allowed"
