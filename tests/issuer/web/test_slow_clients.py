"""``microcred serve`` against slow clients (slow-loris).

With gunicorn's ``sync`` workers two connections trickling a request stopped the issuer. The
served worker (:class:`verifier.web.cli.BufferingThreadWorker`) reads each request whole in its
event loop: 50 slow connections, against 1 worker, must not keep the DID document, a credential
or the verifier at ``/verify`` from answering. ``benchmarks/bench_slow_clients.py`` measures it.
"""
from __future__ import annotations

import json
import urllib.request
from pathlib import Path

from tests.issuer.serve_support import serve_instance
from tests.verifier.test_web_serve import SLOW_CONNECTIONS, slow_clients, still_open


def test_the_issuer_answers_while_50_slow_clients_hang(tmp_path: Path, monkeypatch):
    process, base = serve_instance(tmp_path, monkeypatch)
    port = int(base.rsplit(":", 1)[1])
    try:
        with slow_clients(port, "/verify/api/verify") as sockets:
            with urllib.request.urlopen(base + "/.well-known/did.json", timeout=20) as response:  # noqa: S310 - http on loopback
                assert json.loads(response.read())["id"].startswith("did:web:127.0.0.1")
            with urllib.request.urlopen(base + "/verify", timeout=20) as response:  # noqa: S310 - http on loopback
                assert response.status == 200
            assert still_open(sockets) == SLOW_CONNECTIONS      # answered while they all still hang
    finally:
        process.terminate()
        output = process.communicate(timeout=30)[0]
    assert "gthread workers that read each request whole" in output and "Traceback" not in output
