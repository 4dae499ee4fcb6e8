"""``microcred serve`` against slow clients (slow-loris).

With gunicorn's ``sync`` workers two connections trickling a request stopped the issuer. The
served worker (:class:`verifier.web.cli.BufferingThreadWorker`) reads each request whole in its
event loop: 50 slow connections, against 1 worker, must not keep the DID document, a credential
or the verifier at ``/verify`` from answering. ``benchmarks/bench_slow_clients.py`` measures it.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

from issuer.config import load_settings
from issuer.setup import init_instance
from tests.http_fixtures import unused_port
from tests.verifier.test_web_serve import SLOW_CONNECTIONS, slow_clients, still_open, wait_for


def test_the_issuer_answers_while_50_slow_clients_hang(tmp_path: Path, monkeypatch):
    port = unused_port()
    env = {"MICROCRED_INSTANCE": str(tmp_path / "instance"), "MICROCRED_KEYS": str(tmp_path / "keys"),
           "MICROCRED_BASE_URL": f"http://127.0.0.1:{port}", "DATABASE_URL": f"sqlite:///{tmp_path / 'm.db'}"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    init_instance(load_settings(), name="Example Corp")
    process = subprocess.Popen([sys.executable, "-c", "from issuer.cli.serve import serve; serve()", "--port",
                                str(port), "--workers", "1", "--threads", "2"], env={**os.environ, **env},
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(port, process)
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
