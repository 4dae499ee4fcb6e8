"""What the verifier web app's verifications share: parsed status lists, bitstrings and keys by exact content.

The app's status list memo carries a :class:`~verifier.checks.memo.ContentMemo`: verifications
of credentials of one issuer parse its status list, decode the list's bits and resolve its key
once; a list or DID document fetched anew with other content (after the cache's time-to-live)
is read anew, so a revocation or a new key counts at once.
"""
from __future__ import annotations

import threading
import time

import pytest

from tests.verifier.issuer_world import IssuerWorld
from tests.verifier.signing_support import TestSigner
from verifier.checks.memo import ContentMemo, SharedCache, content_memo
from verifier.web import create_app
from verifier.web import state as web_state


@pytest.fixture()
def world(https_server):
    world = IssuerWorld(https_server)
    yield world
    world.close()


def make_app(world, **config):
    return create_app({"ALLOW_HOSTS": {world.server.host}, "CA_FILE": world.server.ca_file, "TESTING": True,
                       **config})


def content(client) -> ContentMemo:
    found = content_memo(client.application.extensions[web_state.STATE]["verifier"].memo)
    assert found is not None
    return found


def test_verifications_share_the_parsed_list_its_bits_and_the_key(world):
    client = make_app(world).test_client()
    url = world.publish_status_list("/status/1", revoked=[5])
    for index in (6, 7, 8):
        signed = world.sign(world.with_status(world.unsigned(), url, index))
        assert client.post("/api/verify", json={"credential": signed}).get_json()["outcome"] == "verified"
    memo = content(client)
    assert memo.hits["parsed"] == 2 and memo.hits["bitstrings"] == 2
    assert memo.hits["methods"] >= 2
    revoked = world.sign(world.with_status(world.unsigned(), url, 5))
    assert client.post("/api/verify", json={"credential": revoked}).get_json()["outcome"] == "not_verified"


def test_a_list_fetched_anew_with_a_new_bit_is_read_anew(world):
    client = make_app(world, CACHE_TTL=0.2).test_client()
    url = world.publish_status_list("/status/1")
    signed = world.sign(world.with_status(world.unsigned(), url, 6))
    assert client.post("/api/verify", json={"credential": signed}).get_json()["outcome"] == "verified"
    world.publish_status_list("/status/1", revoked=[6])
    time.sleep(0.3)
    report = client.post("/api/verify", json={"credential": signed}).get_json()
    status = next(c for c in report["checks"] if c["check"] == "status")
    assert report["outcome"] == "not_verified" and status["reason"] == "revoked"


def test_a_did_document_fetched_anew_with_a_new_key_is_read_anew(world):
    client = make_app(world, CACHE_TTL=0.2).test_client()
    old = world.issue()
    assert client.post("/api/verify", json={"credential": old}).get_json()["outcome"] == "verified"
    world.key = TestSigner()                          # the issuer replaces its key
    world.did_document["verificationMethod"][0]["publicKeyMultibase"] = world.key.public.to_multibase()
    world.server.set_json("/.well-known/did.json", world.did_document, content_type="application/did+json")
    time.sleep(0.3)
    report = client.post("/api/verify", json={"credential": old}).get_json()
    proof = next(c for c in report["checks"] if c["check"] == "proof")
    assert (proof["status"], proof["reason"]) == ("failed", "signature_mismatch")
    assert client.post("/api/verify", json={"credential": world.issue()}).get_json()["outcome"] == "verified"


def test_the_shared_caches_are_bounded_by_entries_and_size():
    cache: SharedCache[bytes] = SharedCache(3, 100, lambda key, value: len(value))
    for name in "abcd":
        cache.put(name, b"x" * 10)
    assert len(cache) == 3 and cache.get("a") is None and cache.get("d") == b"x" * 10
    cache.put("big", b"x" * 101)                     # larger than the whole cache: not kept
    assert cache.get("big") is None
    cache.put("e", b"x" * 95)
    assert cache.get("e") is not None and len(cache) == 1
    memo = ContentMemo(max_parsed_bytes=10)
    memo.parsed.put(b"[1, 2, 3, 4, 5, 6]", ([1, 2, 3, 4, 5, 6], None))
    assert len(memo.parsed) == 0


def test_the_shared_caches_are_thread_safe():
    cache: SharedCache[int] = SharedCache(50, 10_000, lambda key, value: 1)
    errors: list[BaseException] = []

    def churn(offset: int) -> None:
        try:
            for i in range(2000):
                cache.put((offset, i % 97), i)
                cache.get((offset, (i * 7) % 97))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=churn, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and len(cache) <= 50
