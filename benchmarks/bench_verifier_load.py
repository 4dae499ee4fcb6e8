#!/usr/bin/env python3
"""Load test of the verifier web app: throughput and latency against a baseline, where the CPU goes, isolation.

    python benchmarks/bench_verifier_load.py [--requests 2000] [--rounds 3] [--baseline REF|none]

Everything runs on 127.0.0.1. Each verifier is started the way production starts it
(``python -m verifier.web.cli serve``: gunicorn, 2 workers x 32 threads), allowed to reach
loopback issuers only for this run: this tree's, and the baseline's (``--baseline``, a git
revision of this repository, exported with ``git archive``; default :data:`BASELINE_REF`, the
verifier before issue 13's work on serving), side by side so both see the same machine.

Issue 13's target: at least 800 verifications a second on 2 cores with warm caches, p99 under
50 ms (at that rate: phase 1b). Phase 1 sends ``--requests`` verifications of one healthy credential (``POST
/api/verify``, pasted JSON-LD with a status list entry; the issuer's key, DID document and
status list come from the app's caches after the first request, the report is computed every
time) from ``--concurrency`` client threads on keep-alive connections, as fast as the server
answers: its throughput is the capacity, and its latency is set by the number of clients (a
closed loop at full load: clients / throughput on average). Phase 1b offers the same request
at 800 a second (an open loop: each request is due at its time and its latency counts from
then, whether or not a connection was free) and gives the p99 at the target rate. The load generator
runs on the same 2 cores: it sends prepared bytes and reads the answer without parsing its
JSON, and its own CPU is reported. Rounds are interleaved (baseline, this tree; the order
alternates) so that drift of a shared machine hits both alike; throughput is the median over
rounds, percentiles are over all requests of a phase. Phase 2 (this tree only) repeats phase
1 while ``--bad-clients`` more threads keep sending credentials of slow and unreachable
issuers (a loopback issuer answering one byte every 0.5 s, a closed port, a black hole): the
healthy p99 must hold, and every bad request must be "indeterminate" within its fetch limit.

Where the CPU goes: the workers' CPU (from /proc) per verification in phase 1; then, in a
process of its own for each tree, the same request through the same app in one thread
(``--breakdown-only``), its thread CPU split by what runs (each part's own time, timed by
wrappers around the functions named in :data:`PARTS`, scaled to the uninstrumented CPU), and
the cost of one access log line. What the workers spend beyond those two (gunicorn's HTTP
parsing and sockets, handing requests to threads, GIL switches among 32 threads) is the
difference.
"""
from __future__ import annotations

import argparse
import functools
import http.client
import importlib
import io
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

TARGET_PER_SECOND = 800
TARGET_P99_MS = 50.0
BASELINE_REF = "9ea3fc8"      # the verifier web app before issue 13's work on serving
CLK_TCK = os.sysconf("SC_CLK_TCK")

#: what the in-process breakdown times: (part, [module:attribute, ...]); a function's own time
#: goes to its part, time in a function of another part to that one. Names missing from a tree
#: are skipped. The rest of the WSGI call is Flask and werkzeug (routing, request and response
#: objects, before/after-request hooks, security headers).
PARTS: list[tuple[str, list[str]]] = [
    ("rate limit per client", ["verifier.web.ratelimit:ClientLimit.count",
                               "verifier.web.ratelimit:ClientLimit.add_headers",
                               "flask_limiter._extension:Limiter._check_request_limit",
                               "flask_limiter._extension:Limiter._Limiter__inject_headers"]),
    ("request body: read, strict JSON", ["verifier.web.app:from_json"]),
    ("PARSE: input, limits, Unicode", ["verifier.verify:read_source", "verifier.verify:check_parse"]),
    ("CONTEXTS: one reading", ["verifier.verify:check_contexts"]),
    ("CONFORMANCE: OB 3.0 schema", ["verifier.verify:check_conformance"]),
    ("KEY, ISSUER_BINDING (cached DID document)", ["verifier.checks.signature:_check_keys"]),
    ("PROOF: canonicalization", ["verifier.proofs.eddsa_rdfc_2022:canonicalize"]),
    ("PROOF: SHA-256 + Ed25519", ["verifier.proofs.eddsa_rdfc_2022:hash_data",
                                  "verifier.proofs.eddsa_rdfc_2022:verify_proof_value"]),
    ("PROOF: the rest", ["verifier.checks.signature:_check_proofs"]),
    ("STATUS (cached list)", ["verifier.verify:check_status"]),
    ("VALIDITY, RECIPIENT, RELATED, ENDORSEMENTS", [
        "verifier.verify:check_validity", "verifier.verify:check_recipient",
        "verifier.verify:check_related_resources", "verifier.verify:check_endorsements"]),
    ("verify_credential: the rest", ["verifier.web.app:verify"]),
    ("report to JSON", ["verifier.web.app:report_json"]),
]
FLASK = "Flask, werkzeug, hooks, headers"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


# ---------------------------------------------------------------- clients

class Client:
    """One keep-alive connection to the verifier, answers parsed (phase 2's bad traffic)."""

    def __init__(self, port: int, timeout: float = 60.0) -> None:
        self.port, self.timeout = port, timeout
        self.conn: http.client.HTTPConnection | None = None

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


class LeanClient:
    """One keep-alive connection sending prepared request bytes; the answer is checked, not parsed."""

    VERIFIED = b'"outcome": "verified"'

    def __init__(self, port: int, body: bytes, timeout: float = 60.0) -> None:
        self.port, self.timeout = port, timeout
        self.request = (b"POST /api/verify HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                        b"Content-Length: %d\r\n\r\n" % len(body)) + body
        self.sock: socket.socket | None = None
        self.buffer = b""

    def verify(self) -> tuple[int, bool]:
        """(status, whether the answer says verified)."""
        for attempt in (1, 2):
            try:
                if self.sock is None:
                    self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=self.timeout)
                    self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    self.buffer = b""
                self.sock.sendall(self.request)
                return self._answer()
            except OSError:
                if self.sock is not None:
                    self.sock.close()
                self.sock = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _answer(self) -> tuple[int, bool]:
        while b"\r\n\r\n" not in self.buffer:
            self._receive()
        head, _, rest = self.buffer.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split()[1])
        length = next(int(line.split(b":", 1)[1]) for line in lines[1:] if line.lower().startswith(b"content-length:"))
        while len(rest) < length:
            self.buffer = rest
            self._receive()
            rest = self.buffer
        body, self.buffer = rest[:length], rest[length:]
        return status, self.VERIFIED in body

    def _receive(self) -> None:
        assert self.sock is not None
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        self.buffer += chunk


def black_hole() -> tuple[socket.socket, int]:
    """A listening socket nobody accepts on: connects succeed, nothing is ever answered."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    return sock, sock.getsockname()[1]


# ---------------------------------------------------------------- servers

def baseline_tree(ref: str) -> Path:
    """This repository at ``ref``, exported into a temporary directory."""
    target = Path(tempfile.mkdtemp(prefix="bench-verifier-baseline-"))
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref],  # noqa: S607 - git from PATH
                             capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")
    return target


def start_verifier(tree: Path, port: int, ca_file: str, args) -> subprocess.Popen:
    from benchmarks.serving import wait_until_listening

    command = [sys.executable, "-m", "verifier.web.cli", "serve", "--port", str(port),
               "--workers", str(args.workers), "--threads", str(args.threads), "--allow-host", "127.0.0.1",
               "--ca-file", ca_file, "--rate-limit", "1000000 per minute",
               "--fetch-timeout", str(args.fetch_timeout)]
    env = {**os.environ, "PYTHONPATH": str(tree)}
    process = subprocess.Popen(command, cwd=tree, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return wait_until_listening(process, port)


def server_cpu(master: int) -> float:
    """CPU seconds of the gunicorn master and its workers so far (from /proc)."""
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(entry) == master or int(fields[1]) == master:     # fields[1]: the parent's pid
            total += (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime
    return total


# ---------------------------------------------------------------- phases

def healthy_phase(port: int, master: int, body: bytes, args) -> dict:
    """``args.requests`` healthy verifications from ``args.concurrency`` threads, each sent as soon as
    the thread's previous one is answered (closed loop)."""
    return client_phase(port, master, body, args.concurrency, args.requests, max_seconds=args.max_seconds)


def paced_phase(port: int, master: int, body: bytes, args, rate: float) -> dict:
    """``args.paced_requests`` healthy verifications offered at ``rate`` per second (open loop)."""
    return client_phase(port, master, body, args.paced_clients, args.paced_requests, rate=rate,
                        max_seconds=args.max_seconds + args.paced_requests / rate)


def client_phase(port: int, master: int, body: bytes, clients: int, requests: int, *, max_seconds: float,
                 rate: float | None = None) -> dict:
    """``requests`` verifications of ``body`` over ``clients`` keep-alive connections (threads).

    Without ``rate``, a thread sends its next request as soon as the last is answered; the latency
    is from sending to the answer. With ``rate``, request i is due at ``start + i / rate`` and
    whichever thread is free sends it, no earlier; its latency counts from when it was due, so a
    request that waited for a free connection (the server fell behind) counts that wait too (no
    coordinated omission)."""
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    next_index = [0]
    stop_at = time.monotonic() + max_seconds

    def worker() -> None:
        client = LeanClient(port, body)
        mine: list[float] = []
        while time.monotonic() < stop_at:
            with lock:
                index = next_index[0]
                if index >= requests:
                    break
                next_index[0] += 1
            if rate is None:
                begun = time.perf_counter()
            else:
                begun = start + index / rate
                wait = begun - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
            status, verified = client.verify()
            mine.append(time.perf_counter() - begun)
            if status != 200 or not verified:
                with lock:
                    failures.append(f"{status} {'verified' if verified else 'not verified'}")
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    cpu, own = server_cpu(master), time.process_time()
    start = time.perf_counter() + (0.05 if rate is not None else 0.0)  # paced: the threads start first
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    count = len(latencies)
    return {"count": count, "wall": wall, "rate": count / wall, "latencies": latencies, "failures": failures,
            "server_cpu": (server_cpu(master) - cpu) / max(1, count),
            "client_cpu": (time.process_time() - own) / max(1, count)}


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


def merged(rounds: list[dict]) -> dict:
    latencies = [v * 1000 for r in rounds for v in r["latencies"]]
    return {"latencies": latencies, "rates": [r["rate"] for r in rounds],
            "rate": statistics.median(r["rate"] for r in rounds),
            "server_cpu": statistics.median(r["server_cpu"] for r in rounds) * 1000,
            "client_cpu": statistics.median(r["client_cpu"] for r in rounds) * 1000,
            "failures": [f for r in rounds for f in r["failures"]]}


def print_phase(name: str, m: dict) -> None:
    lat = m["latencies"]
    print(f"{name:<30} {len(lat):>6} req {m['rate']:6.0f}/s ({', '.join(f'{r:.0f}' for r in m['rates'])})  "
          f"p50 {percentile(lat, 50):5.1f}  p95 {percentile(lat, 95):5.1f}  p99 {percentile(lat, 99):6.1f}  "
          f"max {max(lat):6.1f} ms  server CPU {m['server_cpu']:.2f} ms/req, client {m['client_cpu']:.2f}")


# ---------------------------------------------------------------- where the CPU goes (in process)

class Ledger:
    """Thread CPU time per part: a timed function's own time goes to its part (one thread)."""

    def __init__(self) -> None:
        self.totals: dict[str, int] = defaultdict(int)
        self.stack = [FLASK]
        self.last = time.thread_time_ns()

    def wrap(self, function: Callable[..., Any], part: str) -> Callable[..., Any]:
        @functools.wraps(function)
        def timed(*args: Any, **kwargs: Any) -> Any:
            now = time.thread_time_ns()
            self.totals[self.stack[-1]] += now - self.last
            self.stack.append(part)
            self.last = now
            try:
                return function(*args, **kwargs)
            finally:
                now = time.thread_time_ns()
                self.totals[self.stack.pop()] += now - self.last
                self.last = now
        return timed

    def install(self) -> list[str]:
        """Wrap every function of :data:`PARTS` this tree has; the names wrapped."""
        wrapped = []
        for part, names in PARTS:
            for name in names:
                module_name, _, path = name.partition(":")
                try:
                    owner: Any = importlib.import_module(module_name)
                    *outer, attribute = path.split(".")
                    for step in outer:
                        owner = getattr(owner, step)
                    setattr(owner, attribute, self.wrap(getattr(owner, attribute), part))
                    wrapped.append(name)
                except (ImportError, AttributeError):
                    continue
        return wrapped


def breakdown(count: int) -> dict:
    """This tree's app, one thread, warm caches: CPU per request and its parts (printed as JSON)."""
    from werkzeug.test import EnvironBuilder

    from tests.http_fixtures import LoopbackServer, make_tls_material
    from tests.verifier.issuer_world import IssuerWorld

    tls = make_tls_material(Path(tempfile.mkdtemp(prefix="bench-verifier-")))
    server = LoopbackServer(tls=tls)
    world = IssuerWorld(server)
    status_url = world.publish_status_list("/status/1", revoked=[5])
    body = json.dumps({"credential": world.sign(world.with_status(world.unsigned(), status_url, 6))}).encode()
    ledger = Ledger()
    wrapped = ledger.install()          # before the app exists: it registers some of them as hooks
    from verifier.web.app import create_app
    app = create_app({"ALLOW_HOSTS": frozenset({"127.0.0.1"}), "CA_FILE": tls.ca_file,
                      "RATE_LIMIT": "1000000 per minute"})
    environ = EnvironBuilder(path="/api/verify", method="POST", data=body,
                             headers={"Content-Type": "application/json"}).get_environ()
    environ["REMOTE_ADDR"] = "127.0.0.1"

    def call() -> None:
        request = dict(environ, **{"wsgi.input": io.BytesIO(body)})
        statuses: list[str] = []
        answer = b"".join(app(request, lambda status, headers, exc_info=None: statuses.append(status)))
        if not statuses[0].startswith("200") or LeanClient.VERIFIED not in answer:
            raise SystemExit(f"breakdown: the request was not verified: {statuses} {answer[:300]!r}")

    for _ in range(100):
        call()
    ledger.totals.clear()
    started = time.thread_time_ns()
    for _ in range(count):
        ledger.stack, ledger.last = [FLASK], time.thread_time_ns()
        call()
        ledger.totals[FLASK] += time.thread_time_ns() - ledger.last
    instrumented = (time.thread_time_ns() - started) / count / 1e6
    server.stop()
    return {"instrumented_ms": instrumented, "wrapped": wrapped,
            "parts_ms": {part: ns / count / 1e6 for part, ns in ledger.totals.items()},
            "access_log_ms": access_log_cost(count)}


def access_log_cost(count: int) -> float:
    """CPU of one access log line (to /dev/null) with the logger ``microcred verifier serve`` uses."""
    from gunicorn.config import Config
    from gunicorn.glogging import Logger

    from verifier.web import cli
    logger_class = cli.gunicorn_options("127.0.0.1", 1, 1, 1, True).get("logger_class", Logger)
    cfg = Config()
    cfg.set("accesslog", os.devnull)
    logger = logger_class(cfg)
    response = type("Response", (), {"status": "200 OK", "sent": 2900,
                                     "headers": [("Content-Type", "application/json")] * 12})()
    request = type("Request", (), {"headers": [("HOST", "127.0.0.1"), ("CONTENT-TYPE", "application/json"),
                                               ("CONTENT-LENGTH", "4000")]})()
    environ = {"REMOTE_ADDR": "127.0.0.1", "REQUEST_METHOD": "POST", "RAW_URI": "/api/verify",
               "SERVER_PROTOCOL": "HTTP/1.1", "PATH_INFO": "/api/verify", "QUERY_STRING": "",
               **{f"wsgi.{i}": i for i in range(10)}, **{f"HTTP_X_{i}": str(i) for i in range(8)}}
    import datetime
    elapsed = datetime.timedelta(milliseconds=3)
    started = time.thread_time_ns()
    for _ in range(count):
        logger.access(response, request, environ, elapsed)
    return (time.thread_time_ns() - started) / count / 1e6


def run_breakdown(tree: Path, count: int) -> dict:
    command = [sys.executable, str(Path(__file__).resolve()), "--breakdown-only", "--breakdown-requests", str(count),
               "--root", str(tree)]
    done = subprocess.run(command, cwd=tree, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise SystemExit(f"breakdown in {tree} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def uninstrumented(tree: Path, count: int) -> float:
    """CPU per request of the same WSGI calls without the wrappers (ms), in a process of its own."""
    command = [sys.executable, str(Path(__file__).resolve()), "--breakdown-only", "--breakdown-requests", str(count),
               "--root", str(tree), "--plain"]
    done = subprocess.run(command, cwd=tree, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise SystemExit(f"measuring in {tree} failed:\n{done.stderr[-3000:]}")
    return float(json.loads(done.stdout.strip().splitlines()[-1])["instrumented_ms"])


def print_breakdown(columns: dict[str, dict], servers: dict[str, dict]) -> None:
    names = list(columns)
    print("\nwhere a verification's CPU goes (ms; in the app: one thread, warm caches, each part's own time, "
          "scaled to the uninstrumented CPU)")
    print(f"{'':<46}" + "".join(f"{name:>20}" for name in names))
    rows: list[tuple[str, list[float]]] = []
    server = [servers[n]["server_cpu"] for n in names]
    app = [columns[n]["plain_ms"] for n in names]
    log = [columns[n]["access_log_ms"] for n in names]
    rows.append(("the server's CPU per verification (/proc)", server))
    rows.append(("  the app (one WSGI call)", app))
    parts = [p for p, _ in PARTS] + [FLASK]
    order = sorted(parts, key=lambda p: -columns[names[-1]]["parts_ms"].get(p, 0.0))
    for part in order:
        values = []
        for n in names:
            measured = columns[n]["parts_ms"]
            scale = columns[n]["plain_ms"] / max(1e-9, sum(measured.values()))
            values.append(measured.get(part, 0.0) * scale)
        rows.append((f"    {part}", values))
    rows.append(("  access log line", log))
    rest = [s - a - g for s, a, g in zip(server, app, log, strict=True)]
    rows.append(("  gunicorn: HTTP, sockets, threads, GIL", rest))
    rows.append(("the load generator's CPU per verification", [servers[n]["client_cpu"] for n in names]))
    for label, values in rows:
        cells = (f"{v:14.3f} ({100 * v / max(1e-9, s):3.0f}%)" for v, s in zip(values, server, strict=True))
        print(f"{label:<46}" + "".join(cells))


# ---------------------------------------------------------------- main

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="healthy verifications per phase and round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of (phase 1 baseline, phase 1, phase 2)")
    parser.add_argument("--concurrency", type=int, default=16, help="healthy client threads")
    parser.add_argument("--bad-clients", type=int, default=8, help="client threads sending bad-issuer credentials")
    parser.add_argument("--paced-clients", type=int, default=16,
                        help="connections of the paced phase (as many as the healthy clients of phase 1)")
    parser.add_argument("--paced-requests", type=int, default=1600,
                        help="requests of the paced phase per round (1,600: two seconds at 800/s)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=32, help="threads per gunicorn worker")
    parser.add_argument("--fetch-timeout", type=float, default=3.0, help="the verifier's time limit per fetch")
    parser.add_argument("--max-seconds", type=float, default=30.0, help="time limit of each phase of a round")
    parser.add_argument("--baseline", default=BASELINE_REF, help="git revision to compare with ('none': no baseline)")
    parser.add_argument("--breakdown-requests", type=int, default=2000, help="requests of the in-process breakdown")
    parser.add_argument("--breakdown-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--plain", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--root", default=str(ROOT), help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.path.insert(0, args.root)
    if args.breakdown_only:
        if args.plain:
            PARTS.clear()
        print(json.dumps(breakdown(args.breakdown_requests)))
        return
    run(args)


def run(args) -> None:
    import issuer
    from issuer.keys.files import generate_key
    from tests.http_fixtures import LoopbackServer, make_tls_material, unused_port
    from tests.verifier.issuer_world import IssuerWorld, sample_credential

    def signed_for(did: str) -> dict:
        credential = sample_credential()
        credential["issuer"]["id"] = did
        return issuer.sign_credential(credential, generate_key("ed25519"), verification_method=f"{did}#key-1")

    trees = {"this tree": ROOT}
    if args.baseline != "none":
        trees = {f"baseline {args.baseline}": baseline_tree(args.baseline), **trees}
    tls = make_tls_material(Path(tempfile.mkdtemp(prefix="bench-verifier-")))
    healthy_server, slow_server = LoopbackServer(tls=tls), LoopbackServer(tls=tls)
    hole, hole_port = black_hole()
    ports = {name: unused_port() for name in trees}
    processes = {name: start_verifier(tree, ports[name], tls.ca_file, args) for name, tree in trees.items()}
    now = "this tree"
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
        for name in trees:                                               # warms the caches
            for _ in range(50):
                status, report = Client(ports[name]).verify(healthy)
                assert status == 200 and report["outcome"] == "verified", (name, report)
        print(f"verifiers: gunicorn {args.workers} workers x {args.threads} threads, {os.cpu_count()} CPUs, "
              f"fetch limit {args.fetch_timeout} s; clients: {args.concurrency} healthy, {args.bad_clients} bad "
              f"(phase 2); {args.rounds} rounds of {args.requests} requests per phase")
        phase1: dict[str, list[dict]] = {name: [] for name in trees}
        phase2: list[dict] = []
        paced: list[dict] = []
        bad_results: dict[str, list] = {name: [] for name in bad}
        for round_number in range(args.rounds):    # interleaved: drift of a shared machine hits all alike
            order = list(trees) if round_number % 2 == 0 else list(reversed(trees))
            for name in order:
                phase1[name].append(healthy_phase(ports[name], processes[name].pid, healthy, args))
            paced.append(paced_phase(ports[now], processes[now].pid, healthy, args, TARGET_PER_SECOND))
            stop = threading.Event()
            attack = bad_traffic(ports[now], bad, args.bad_clients, stop)
            time.sleep(min(2.0, args.fetch_timeout))                       # bad requests in flight first
            phase2.append(healthy_phase(ports[now], processes[now].pid, healthy, args))
            stop.set()
            for thread in attack["threads"]:
                thread.join(args.fetch_timeout * 4 + 10)
            for name, results in attack["results"].items():
                bad_results[name].extend(results)
    finally:
        for process in processes.values():
            process.terminate()
        for process in processes.values():
            process.wait(30)
        healthy_server.stop()
        slow_server.stop()
        hole.close()

    print("\nphase 1, warm caches (verifications/s: median of rounds (each round); latency over all requests)")
    results = {name: merged(rounds) for name, rounds in phase1.items()}
    for name, m in results.items():
        print_phase(name, m)
    mine = results[now]
    if len(results) > 1:
        base = results[next(iter(results))]
        print(f"this tree / baseline: throughput {mine['rate'] / base['rate']:.2f}x, p99 "
              f"{percentile(mine['latencies'], 99) / percentile(base['latencies'], 99):.2f}x, server CPU per "
              f"verification {mine['server_cpu'] / base['server_cpu']:.2f}x")
    p99 = percentile(mine["latencies"], 99)
    print(f"target >= {TARGET_PER_SECOND}/s: {'met' if mine['rate'] >= TARGET_PER_SECOND else 'MISSED'} "
          f"({mine['rate']:.0f}/s; capacity by the server's CPU alone: "
          f"{(os.cpu_count() or 1) * 1000 / mine['server_cpu']:.0f}/s); p99 at full load with "
          f"{args.concurrency} clients {p99:.1f} ms (latency there is clients / throughput: phase 1b "
          f"measures p99 at {TARGET_PER_SECOND}/s)")
    for name, m in results.items():
        failures = m["failures"]
        print(f"healthy requests not verified, {name}: {len(failures)}{' ' + str(failures[:3]) if failures else ''}")

    print(f"\nphase 1b, this tree, offered at {TARGET_PER_SECOND}/s (open loop, {args.paced_clients} connections; "
          "latency from when each request was due)")
    at_target = merged(paced)
    print_phase(f"paced {TARGET_PER_SECOND}/s", at_target)
    paced_p99 = percentile(at_target["latencies"], 99)
    kept_up = at_target["rate"] >= TARGET_PER_SECOND * 0.98
    print(f"target p99 < {TARGET_P99_MS:.0f} ms at {TARGET_PER_SECOND}/s: "
          f"{'met' if kept_up and paced_p99 < TARGET_P99_MS else 'MISSED'} ({at_target['rate']:.0f}/s served, "
          f"p99 {paced_p99:.1f} ms); not verified: {len(at_target['failures'])}")

    print("\nphase 2, this tree, with bad-issuer traffic")
    with_bad = merged(phase2)
    print_phase("healthy, with bad", with_bad)
    for name, found in bad_results.items():
        if not found:
            print(f"  {name:<26} none finished")
            continue
        outcomes = sorted({f"{r[1]} {r[2]} ({r[3]})" for r in found})
        print(f"  {name:<26} {len(found):>4} done, {max(r[0] for r in found):5.2f} s max: {', '.join(outcomes)}")
    print(f"healthy p99 with bad traffic / without: {percentile(with_bad['latencies'], 99) / p99:.2f}x; "
          f"not verified: {len(with_bad['failures'])}")
    bad_ok = all(r[2] == "indeterminate" and r[0] < args.fetch_timeout * 3 + 2
                 for found in bad_results.values() for r in found)
    print(f"bad issuers: {'every one indeterminate within its time limit' if bad_ok else 'UNEXPECTED OUTCOMES'}")

    columns = {}
    for name, tree in trees.items():
        column = run_breakdown(tree, args.breakdown_requests)
        column["plain_ms"] = uninstrumented(tree, args.breakdown_requests)
        columns[name] = column
    print_breakdown(columns, results)


if __name__ == "__main__":
    main()
