#!/usr/bin/env python3
"""Slow clients (slow-loris) against both served apps: do normal requests still get answers?

    python benchmarks/bench_slow_clients.py [--slow 200] [--seconds 20] [--interval 2]

Everything runs on 127.0.0.1. Two servers are started the way production starts them: the
issuer (``microcred serve``, 2 workers, on a demo instance in a temporary folder) and the
standalone verifier (``microcred verifier serve``, 2 workers x 32 threads). Each is run twice
in the same run: with today's gunicorn worker (``--baseline``: ``sync`` for the issuer,
plain ``gthread`` for the verifier, as the code had them before) and with the worker the code
uses now (gthread reading each request whole in its event loop, see ``verifier/web/cli.py``).

For each, normal requests are timed on fresh connections, one after another: first quiet
(``--quiet`` requests), then while ``--slow`` slow connections hang. Half of the slow clients
send a request line and headers one byte every ``--interval`` seconds and never finish them;
the other half send complete headers announcing a 100 kB body and trickle the body at the same
rate. The slow connections are opened first, given 2 s to tie up what they can, then normal
requests run for ``--seconds``; each has a ``--timeout`` (counted as a failure at that time).
Normal requests: the issuer's ``/.well-known/did.json`` and a credential page (HTML, with its
in-process verification panel), the verifier's ``POST /api/verify`` of a did:key credential.
Reported per server and setup: p50 / p99 / max and failures. Bounded: every phase has a time
limit and a request count, and the slow connections are closed at the end of each phase.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import issuer  # noqa: E402
from benchmarks.credentials import small_credential  # noqa: E402
from benchmarks.serving import wait_until_listening  # noqa: E402
from issuer.keys.files import generate_key  # noqa: E402
from tests.http_fixtures import unused_port  # noqa: E402

# Today's setups, restored by overriding what gunicorn_options() returns.
BASELINE = {"issuer": {"worker_class": "sync", "threads": 1}, "verifier": {"worker_class": "gthread"}}
LAUNCH = """
import json, sys
import {module} as served
override = json.loads(sys.argv.pop(1))
options = served.gunicorn_options
served.gunicorn_options = lambda *a, **k: {{**options(*a, **k), **override}}
served.{command}()
"""


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] if ordered else float("nan")


# ---------------------------------------------------------------- servers

def start_issuer(folder: Path, port: int, baseline: bool) -> subprocess.Popen:
    env = {**os.environ, "MICROCRED_INSTANCE": str(folder / "instance"), "MICROCRED_KEYS": str(folder / "keys"),
           "MICROCRED_BASE_URL": f"http://127.0.0.1:{port}", "DATABASE_URL": f"sqlite:///{folder / 'bench.db'}"}
    code = LAUNCH.format(module="issuer.cli.serve", command="serve")
    override = json.dumps(BASELINE["issuer"] if baseline else {})
    process = subprocess.Popen([sys.executable, "-c", code, override, "--port", str(port), "--workers", "2"],
                               cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return wait_until_listening(process, port)


def start_verifier(port: int, baseline: bool) -> subprocess.Popen:
    code = LAUNCH.format(module="verifier.web.cli", command="verifier")
    override = json.dumps(BASELINE["verifier"] if baseline else {})
    process = subprocess.Popen([sys.executable, "-c", code, override, "serve", "--port", str(port), "--workers", "2",
                                "--threads", "32", "--rate-limit", "1000000 per minute", "--no-access-log"],
                               cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return wait_until_listening(process, port)


def seed_issuer(folder: Path, port: int) -> str:
    """A demo instance for http://127.0.0.1:``port``; one of its credential paths."""
    env = {**os.environ, "MICROCRED_INSTANCE": str(folder / "instance"), "MICROCRED_KEYS": str(folder / "keys"),
           "MICROCRED_BASE_URL": f"http://127.0.0.1:{port}", "DATABASE_URL": f"sqlite:///{folder / 'bench.db'}"}
    seeded = subprocess.run([sys.executable, "-c", "from issuer.cli.demo import demo; demo()"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    if seeded.returncode:
        raise SystemExit(seeded.stderr)
    return re.search(r"http://127\.0\.0\.1:\d+(/credentials/\S+)", seeded.stdout).group(1)


def did_key_credential() -> bytes:
    key = generate_key("ed25519")
    did = key.public.to_did_key()
    doc = small_credential()
    doc["issuer"] = {"id": did, "type": ["Profile"], "name": "Bench issuer"}
    signed = issuer.sign_credential(doc, key, verification_method=f"{did}#{did.split(':')[-1]}")
    return json.dumps({"credential": signed}).encode()


# ---------------------------------------------------------------- clients

class SlowClients:
    """``count`` connections that never finish their request: half trickle headers, half a body."""

    def __init__(self, port: int, count: int, interval: float, body_path: str) -> None:
        self.port, self.interval, self.body_path = port, interval, body_path
        self.sockets: list[socket.socket] = []
        self.dropped = 0
        self.stop = threading.Event()
        for n in range(count):
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            sock.setblocking(False)
            if n % 2:
                head = f"GET /.well-known/did.json HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Slow: "
            else:
                head = (f"POST {body_path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                        "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{")
            self._send(sock, head.encode())
            self.sockets.append(sock)
        self.thread = threading.Thread(target=self._trickle, daemon=True)
        self.thread.start()

    def _send(self, sock: socket.socket, data: bytes) -> None:
        try:
            sock.send(data)
        except BlockingIOError:
            pass
        except OSError:
            self.dropped += 1
            self.sockets.remove(sock)
            sock.close()

    def _trickle(self) -> None:
        while not self.stop.wait(self.interval):
            for sock in list(self.sockets):
                self._send(sock, b" ")

    def close(self) -> int:
        """Close every connection; how many the server had closed before."""
        self.stop.set()
        self.thread.join(self.interval + 5)
        for sock in self.sockets:
            try:
                if sock.recv(1) == b"":
                    self.dropped += 1
            except (BlockingIOError, OSError):
                pass
            sock.close()
        return self.dropped


def timed_requests(port: int, requests: list[tuple[str, str, bytes | None, dict]], *, count: int, seconds: float,
                   timeout: float) -> tuple[list[float], list[str]]:
    """Requests in turn on fresh connections until ``count`` or ``seconds``: latencies (ms), failures."""
    latencies, failures = [], []
    deadline = time.monotonic() + seconds
    n = 0
    while n < count and time.monotonic() < deadline:
        method, path, body, headers = requests[n % len(requests)]
        n += 1
        started = time.perf_counter()
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            connection.close()
            if response.status != 200:
                failures.append(f"{path}: {response.status}")
        except OSError as exc:
            failures.append(f"{path}: {type(exc).__name__}")
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies, failures


def measure(name: str, port: int, requests: list, body_path: str, args) -> None:
    quiet, quiet_failures = timed_requests(port, requests, count=args.quiet, seconds=args.seconds,
                                           timeout=args.timeout)
    slow = SlowClients(port, args.slow, args.interval, body_path)
    try:
        time.sleep(2.0)
        loaded, failures = timed_requests(port, requests, count=args.max_requests, seconds=args.seconds,
                                          timeout=args.timeout)
    finally:
        dropped = slow.close()
    for label, values, fails in (("quiet", quiet, quiet_failures), (f"{args.slow} slow", loaded, failures)):
        print(f"{name:<34} {label:<9} {len(values):>4} req  p50 {percentile(values, 50):7.1f}  "
              f"p99 {percentile(values, 99):7.1f}  max {max(values):7.1f} ms  failures {len(fails)}"
              f"{' (' + ', '.join(sorted(set(fails))[:2]) + ')' if fails else ''}")
    print(f"{'':<34} slow connections closed by the server meanwhile: {dropped} of {args.slow}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--slow", type=int, default=200, help="slow connections")
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between two bytes of a slow client")
    parser.add_argument("--seconds", type=float, default=20.0, help="time limit of each phase")
    parser.add_argument("--quiet", type=int, default=50, help="normal requests before the slow clients come")
    parser.add_argument("--max-requests", type=int, default=400, help="normal requests at most per slow phase")
    parser.add_argument("--timeout", type=float, default=5.0, help="time limit of one normal request")
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs; {args.slow} slow connections (1 byte per {args.interval:g} s), "
          f"phases of {args.seconds:g} s, normal requests time out after {args.timeout:g} s")

    with tempfile.TemporaryDirectory(prefix="bench-slow-") as folder:
        issuer_port = unused_port()
        credential_path = seed_issuer(Path(folder), issuer_port)
        issuer_requests = [("GET", "/.well-known/did.json", None, {}),
                           ("GET", credential_path, None, {"Accept": "text/html"})]
        for baseline in (True, False):
            process = start_issuer(Path(folder), issuer_port, baseline)
            try:
                label = "issuer, today (sync)" if baseline else "issuer, now (buffering gthread)"
                measure(label, issuer_port, issuer_requests, "/verify/api/verify", args)
            finally:
                process.terminate()
                process.wait(60)

    body = did_key_credential()
    verifier_requests = [("POST", "/api/verify", body, {"Content-Type": "application/json"})]
    for baseline in (True, False):
        port = unused_port()
        process = start_verifier(port, baseline)
        try:
            status = timed_requests(port, verifier_requests, count=1, seconds=30, timeout=30)
            assert not status[1], status
            label = "verifier, today (gthread)" if baseline else "verifier, now (buffering gthread)"
            measure(label, port, verifier_requests, "/api/verify", args)
        finally:
            process.terminate()
            process.wait(60)


if __name__ == "__main__":
    main()
