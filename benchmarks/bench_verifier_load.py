#!/usr/bin/env python3
"""Load test of the verifier web app: throughput, latency, and isolation from bad issuers.

    python benchmarks/bench_verifier_load.py [--requests 3000] [--concurrency 16] [--workers 2]

Everything runs on 127.0.0.1. The verifier is started the way production starts it
(``python -m verifier.web.cli serve``: gunicorn, gthread workers), allowed to reach loopback
issuers only for this run. Three kinds of issuer serve did:web documents:

* healthy: a loopback HTTPS issuer (did:web DID document and a Bitstring status list);
* slow: answers one byte every 0.5 s, so every fetch runs into the verifier's time limit;
* unreachable: a closed port (connection refused), and a black hole (accepts, never answers).

Each of ``--rounds`` rounds runs two phases. Phase 1 sends ``--requests`` verifications of one healthy credential
(``POST /api/verify``, pasted JSON-LD with a status list entry; the issuer's key, DID document and status list come
from the app's cache after the first request, the report is computed every time) from
``--concurrency`` client threads on keep-alive connections. Phase 2 repeats phase 1 while
``--bad-clients`` more threads keep sending credentials of the slow and unreachable issuers.
Reported: throughput, latency percentiles of the healthy requests in both phases, and what
the bad requests got (all must be "indeterminate", each within the fetch time limit). The
load generator runs on the same machine and takes some of its CPU. Bounded: each phase stops
after ``--max-seconds``. Phases are interleaved round by round so that other load on a shared
machine affects both alike; throughput is the median over rounds, percentiles are over all
requests of a phase.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import issuer  # noqa: E402
from benchmarks.serving import wait_until_listening  # noqa: E402
from issuer.keys.files import generate_key  # noqa: E402
from tests.http_fixtures import LoopbackServer, make_tls_material, unused_port  # noqa: E402
from tests.verifier.issuer_world import IssuerWorld, sample_credential  # noqa: E402

TARGET_PER_SECOND = 300


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


class Client:
    """One keep-alive connection to the verifier."""

    def __init__(self, port: int, timeout: float = 60.0) -> None:
        self.port, self.timeout, self.conn = port, timeout, None

    def verify(self, body: bytes) -> tuple[int, dict]:
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            try:
                self.conn.request("POST", "/api/verify", body, {"Content-Type": "application/json"})
                response = self.conn.getresponse()
                return response.status, json.loads(response.read())
            except (ConnectionError, http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


def black_hole() -> tuple[socket.socket, int]:
    """A listening socket nobody accepts on: connects succeed, nothing is ever answered."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    return sock, sock.getsockname()[1]


def signed_for(did: str) -> dict:
    key = generate_key("ed25519")
    credential = sample_credential()
    credential["issuer"]["id"] = did
    return issuer.sign_credential(credential, key, verification_method=f"{did}#key-1")


def start_verifier(port: int, ca_file: str, args) -> subprocess.Popen:
    command = [sys.executable, "-m", "verifier.web.cli", "serve", "--port", str(port),
               "--workers", str(args.workers), "--threads", str(args.threads), "--allow-host", "127.0.0.1",
               "--ca-file", ca_file, "--rate-limit", "1000000 per minute",
               "--fetch-timeout", str(args.fetch_timeout)]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return wait_until_listening(process, port)


def healthy_phase(port: int, body: bytes, args) -> dict:
    """``args.requests`` healthy verifications from ``args.concurrency`` threads."""
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    remaining = [args.requests]
    stop_at = time.monotonic() + args.max_seconds

    def worker() -> None:
        client = Client(port)
        while time.monotonic() < stop_at:
            with lock:
                if remaining[0] <= 0:
                    return
                remaining[0] -= 1
            started = time.perf_counter()
            status, report = client.verify(body)
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                if status != 200 or report.get("outcome") != "verified":
                    failures.append(f"{status} {report.get('outcome') or report.get('title')}")

    threads = [threading.Thread(target=worker) for _ in range(args.concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    return {"count": len(latencies), "wall": wall, "rate": len(latencies) / wall, "latencies": latencies,
            "failures": failures}


def bad_traffic(port: int, bodies: dict[str, bytes], clients: int, stop: threading.Event) -> dict:
    """Keep ``clients`` threads sending bad-issuer credentials until ``stop``; collect what they got."""
    results: dict[str, list] = {name: [] for name in bodies}
    lock = threading.Lock()

    def worker(seed: int) -> None:
        client, rng = Client(port), random.Random(seed)
        while not stop.is_set():
            name = rng.choice(sorted(bodies))
            started = time.perf_counter()
            status, report = client.verify(bodies[name])
            elapsed = time.perf_counter() - started
            key = next((c for c in report.get("checks", []) if c["check"] == "key"), {})
            with lock:
                results[name].append((elapsed, status, report.get("outcome"),
                                      (key.get("details") or {}).get("fetch_error") or key.get("reason")))

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    return {"threads": threads, "results": results}


def report_results(phases: dict[str, list[dict]], bad_results: dict[str, list], args) -> None:
    merged = {}
    for name, rounds in phases.items():
        latencies = [v * 1000 for r in rounds for v in r["latencies"]]
        rates = [r["rate"] for r in rounds]
        merged[name] = {"latencies": latencies, "rate": statistics.median(rates),
                        "failures": [f for r in rounds for f in r["failures"]]}
        print(f"{name:<28} {len(latencies):>6} req  {statistics.median(rates):5.0f}/s median "
              f"({', '.join(f'{r:.0f}' for r in rates)})  p50 {percentile(latencies, 50):5.1f}  "
              f"p90 {percentile(latencies, 90):5.1f}  p99 {percentile(latencies, 99):6.1f}  "
              f"max {max(latencies):6.1f} ms")
    for name, results in bad_results.items():
        if not results:
            print(f"  {name:<26} none finished")
            continue
        outcomes = sorted({f"{r[1]} {r[2]} ({r[3]})" for r in results})
        print(f"  {name:<26} {len(results):>4} done, {max(r[0] for r in results):5.2f} s max: {', '.join(outcomes)}")
    base, mixed = merged.values()
    failures = base["failures"] + mixed["failures"]
    print(f"healthy requests not verified: {len(failures)}{' ' + str(failures[:3]) if failures else ''}")
    ratio = percentile(mixed["latencies"], 99) / percentile(base["latencies"], 99)
    print(f"throughput target {TARGET_PER_SECOND}/s: {'met' if base['rate'] >= TARGET_PER_SECOND else 'MISSED'} "
          f"({base['rate']:.0f}/s median, healthy only); healthy p99 with bad traffic / without: {ratio:.2f}x")
    bad_ok = all(r[2] == "indeterminate" and r[0] < args.fetch_timeout * 3 + 2
                 for results in bad_results.values() for r in results)
    print(f"bad issuers: {'every one indeterminate within its time limit' if bad_ok else 'UNEXPECTED OUTCOMES'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1000, help="healthy verifications per phase and round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of (phase 1, phase 2)")
    parser.add_argument("--concurrency", type=int, default=16, help="healthy client threads")
    parser.add_argument("--bad-clients", type=int, default=8, help="client threads sending bad-issuer credentials")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=32, help="threads per gunicorn worker")
    parser.add_argument("--fetch-timeout", type=float, default=3.0, help="the verifier's time limit per fetch")
    parser.add_argument("--max-seconds", type=float, default=30.0, help="time limit of each phase of a round")
    args = parser.parse_args()

    tls = make_tls_material(Path(tempfile.mkdtemp(prefix="bench-verifier-")))
    healthy_server, slow_server = LoopbackServer(tls=tls), LoopbackServer(tls=tls)
    hole, hole_port = black_hole()
    verifier_port = unused_port()
    process = start_verifier(verifier_port, tls.ca_file, args)
    try:
        world = IssuerWorld(healthy_server)
        status_url = world.publish_status_list("/status/1", revoked=[5])
        healthy = json.dumps({"credential": world.sign(world.with_status(world.unsigned(), status_url, 6))}).encode()
        slow_world = IssuerWorld(slow_server)
        slow_server.trickle("/.well-known/did.json", json.dumps(slow_world.did_document).encode(), interval=0.5,
                            in_headers=True)
        bad = {
            "slow (trickles)": json.dumps({"credential": slow_world.issue()}).encode(),
            "unreachable (refused)": json.dumps({"credential": signed_for(
                f"did:web:127.0.0.1%3A{unused_port()}")}).encode(),
            "black hole (no answer)": json.dumps({"credential": signed_for(
                f"did:web:127.0.0.1%3A{hole_port}")}).encode(),
        }
        status, report = Client(verifier_port).verify(healthy)           # warms the cache
        assert status == 200 and report["outcome"] == "verified", report
        print(f"verifier: gunicorn {args.workers} workers x {args.threads} threads (gthread), "
              f"{os.cpu_count()} CPUs, fetch limit {args.fetch_timeout} s; clients: {args.concurrency} healthy, "
              f"{args.bad_clients} bad (phase 2); {args.rounds} rounds of {args.requests} requests per phase")
        phases: dict[str, list[dict]] = {"phase 1: healthy only": [], "phase 2: healthy, with bad": []}
        bad_results: dict[str, list] = {name: [] for name in bad}
        for _ in range(args.rounds):       # interleaved, so that drift of a shared machine hits both alike
            phases["phase 1: healthy only"].append(healthy_phase(verifier_port, healthy, args))
            stop = threading.Event()
            attack = bad_traffic(verifier_port, bad, args.bad_clients, stop)
            time.sleep(min(2.0, args.fetch_timeout))                       # bad requests in flight first
            phases["phase 2: healthy, with bad"].append(healthy_phase(verifier_port, healthy, args))
            stop.set()
            for thread in attack["threads"]:
                thread.join(args.fetch_timeout * 4 + 10)
            for name, results in attack["results"].items():
                bad_results[name].extend(results)
        report_results(phases, bad_results, args)
    finally:
        process.terminate()
        process.wait(30)
        healthy_server.stop()
        slow_server.stop()
        hole.close()


if __name__ == "__main__":
    main()
