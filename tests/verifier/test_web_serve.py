"""``microcred verifier serve`` against slow clients (slow-loris).

gunicorn's plain ``gthread`` worker gave each connection a thread once its first bytes came, so
``workers x threads`` clients trickling a request stopped the verifier. The served worker
(:class:`verifier.web.cli.BufferingThreadWorker`) reads each request whole in its event loop:
here 50 slow connections, against 1 worker x 4 threads, must not keep a verification from its
answer. ``benchmarks/bench_slow_clients.py`` measures the latency.
"""
from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.http_fixtures import unused_port
from tests.verifier.signing_support import TestSigner, sign_data_integrity
from verifier.web.cli import MAX_BUFFERED_BODY, MAX_HEAD_BYTES, request_is_whole

SLOW_CONNECTIONS = 50


def wait_for(port: int, process: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            assert process.poll() is None and time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)


@contextmanager
def slow_clients(port: int, path: str, count: int = SLOW_CONNECTIONS) -> Iterator[list[socket.socket]]:
    """``count`` connections that never finish: half stop inside the headers, half inside the body."""
    sockets: list[socket.socket] = []
    try:
        for n in range(count):
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            if n % 2:
                sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: a".encode())
            else:
                sock.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                             "Content-Length: 10000\r\n\r\n{".encode())
            sockets.append(sock)
        time.sleep(0.5)                      # long enough for a worker to hand them to threads
        for sock in sockets:
            sock.sendall(b" ")               # still trickling
        yield sockets
    finally:
        for sock in sockets:
            sock.close()


def still_open(sockets: list[socket.socket]) -> int:
    """How many of ``sockets`` the server has neither answered nor closed."""
    count = 0
    for sock in sockets:
        sock.setblocking(False)
        try:
            sock.recv(1)
        except BlockingIOError:
            count += 1
        except OSError:
            pass
    return count


def did_key_credential() -> dict:
    signer = TestSigner()
    return sign_data_integrity({
        "@context": ["https://www.w3.org/ns/credentials/v2",
                     "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
        "id": "urn:uuid:0b4f3c2e-8f0a-4d55-9d3e-6a1c2b3d4e5f",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": "Teamwork Badge",
        "issuer": {"id": signer.did, "type": ["Profile"], "name": "Slow clients test"},
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"type": ["AchievementSubject"], "achievement": {
            "id": "https://example.com/achievements/teamwork", "type": ["Achievement"], "name": "Teamwork",
            "criteria": {"narrative": "Nominated by peers."}, "description": "Collaboration."}},
    }, signer)


def test_a_verification_is_answered_while_50_slow_clients_hang():
    port = unused_port()
    process = subprocess.Popen([sys.executable, "-m", "verifier.web.cli", "serve", "--port", str(port),
                                "--workers", "1", "--threads", "4", "--no-access-log"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for(port, process)
        body = json.dumps({"credential": did_key_credential()}).encode()
        with slow_clients(port, "/api/verify") as sockets:
            request = urllib.request.Request(f"http://127.0.0.1:{port}/api/verify", data=body,
                                             headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310 - http on loopback
                report = json.loads(response.read())
            assert report["verified"], report
            assert still_open(sockets) == SLOW_CONNECTIONS      # answered while they all still hang
    finally:
        process.terminate()
        output = process.communicate(timeout=30)[0]
    assert "gthread workers that read each request whole" in output and "Traceback" not in output


@pytest.mark.parametrize("data, whole", [
    (b"GET / HTTP/1.1\r\nHost: a\r\n", False),
    (b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", True),
    (b"\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", True),
    (b"POST /api/verify HTTP/1.1\r\nContent-Length: 5\r\n\r\n{\"a\"", False),
    (b"POST /api/verify HTTP/1.1\r\ncontent-length: 5\r\n\r\n{\"a\"}", True),
    (b"POST /api/verify HTTP/1.1\r\nContent-Length: 5\r\n\r\n{\"a\"}GET / HTTP/1.1\r\n", True),  # pipelined
    (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", False),
    (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n", False),
    (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", True),
    (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;x=1\r\nhello\r\n0\r\nX-T: 1\r\n\r\n", True),
    (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", True),        # malformed: gunicorn's 400
    (b"POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n", True),
    (f"POST / HTTP/1.1\r\nContent-Length: {MAX_BUFFERED_BODY + 1}\r\n\r\n".encode(), True),   # apps refuse it
    (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", True),                       # a TLS hello
    (b"G", False),
    (b"GET /" + b"a" * MAX_HEAD_BYTES, True),
])
def test_a_thread_gets_a_request_only_when_it_is_whole(data, whole):
    assert request_is_whole(data) is whole


def test_the_worker_tells_the_arbiter_it_is_alive_once_a_second_not_per_request(monkeypatch):
    """gunicorn's loop calls ``notify`` (a system call) on every turn; the arbiter needs one per
    timeout (60 s): one a second is plenty, and the rest are skipped."""
    from verifier.web import cli

    class Heartbeats:
        count = 0

        def notify(self) -> None:
            self.count += 1

    worker = object.__new__(cli.BufferingThreadWorker)
    worker.tmp, worker.notified = Heartbeats(), float("-inf")
    clock = [1000.0]
    monkeypatch.setattr(cli.time, "monotonic", lambda: clock[0])
    for _ in range(500):
        worker.notify()
    assert worker.tmp.count == 1
    clock[0] += cli.NOTIFY_SECONDS
    worker.notify()
    worker.notify()
    assert worker.tmp.count == 2
