"""The verifier web app counts every answered verification by outcome (``microcred_verifications_total``).

A real issuer world on loopback https (tests.verifier.issuer_world): a genuine credential, a
tampered one, and one whose issuer's keys cannot be fetched; the page and the API both count.
No issuer package involved.
"""
from __future__ import annotations

import json

import pytest
from prometheus_client import REGISTRY

from tests.verifier.issuer_world import IssuerWorld
from verifier.web import create_app


@pytest.fixture()
def world(https_server):
    world = IssuerWorld(https_server)
    yield world
    world.close()


def counted(outcome: str) -> float:
    return REGISTRY.get_sample_value("microcred_verifications_total", {"outcome": outcome}) or 0.0


def test_each_outcome_is_counted_once_per_answer(world):
    client = create_app({"ALLOW_HOSTS": {world.server.host}, "CA_FILE": world.server.ca_file,
                         "TESTING": True}).test_client()
    genuine = world.issue()
    tampered = json.loads(json.dumps(genuine))
    tampered["name"] = "Something else"
    elsewhere = world.sign(world.unsigned(issuer={"id": "did:web:unreachable.invalid", "type": ["Profile"]}),
                           vm="did:web:unreachable.invalid#key-1")
    before = {o: counted(o) for o in ("verified", "not_verified", "indeterminate")}
    assert client.post("/api/verify", json={"credential": json.dumps(genuine)}).get_json()["verified"] is True
    assert client.post("/verify", data={"credential": json.dumps(genuine)}).status_code == 200        # the page
    assert client.post("/api/verify", json={"credential": json.dumps(tampered)}).status_code == 200
    assert client.post("/api/verify", json={"credential": json.dumps(elsewhere)}).status_code == 200
    assert client.post("/api/verify", json={"nothing": 1}).status_code == 400                # no report: not counted
    after = {o: counted(o) for o in before}
    assert {o: after[o] - before[o] for o in before} == {"verified": 2, "not_verified": 1, "indeterminate": 1}


def test_the_standalone_verifier_serves_metrics_to_loopback_only():
    client = create_app({"TESTING": True}).test_client()
    client.post("/api/verify", json={"credential": "{}"})
    answer = client.get("/metrics")
    assert answer.status_code == 200 and "microcred_verifications_total" in answer.get_data(as_text=True)
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code == 404
    assert client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 404
    behind_proxy = create_app({"TESTING": True, "TRUSTED_PROXIES": 1}).test_client()
    assert behind_proxy.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"}).status_code == 404
