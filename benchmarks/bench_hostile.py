#!/usr/bin/env python3
"""Hostile credentials: answer time, a worker's memory, and the latency of normal requests meanwhile.

    python benchmarks/bench_hostile.py [--rounds 5] [--requests 1000] [--hostile-clients 16]

Issue 11 section 3 asks that everything before the signature is known to be good be bounded.
Four kinds of hostile credential of about 160 KB each (signed by the attacker's own did:key,
so the verifier goes all the way, or refused by a cap first), and a normal credential as the
baseline of the same run:

* ``wide``: 4,000 values in one property (pyld's node map alone took 36 s on these);
* ``inline``: 8 inline ``@context`` objects of 250 terms, new ones in every request (each used
  to stay in the shared engine's memo: a worker grew from 95 to 383 MiB in 30 requests);
* ``within caps``: 16 properties of 1,000 values: the most the caps let through;
* ``deep``: nested 60 levels deep with 125 values at each level.

Three measurements, everything on 127.0.0.1, nothing from the network (did:key issuers):

a. in process, ``verifier.verify_credential`` on each kind: median and max over ``--rounds``;
b. a worker's memory: ``microcred verifier serve`` (gunicorn, one worker) gets ``--requests``
   hostile requests after a warm-up; its RSS before and after (target: within 20 MB);
c. normal verifications (one client, one after the other) with and without ``--hostile-clients``
   threads sending hostile credentials all the time, against the production setup (2 workers x
   32 threads); p50/p99 of the normal ones (target: p99 under 50 ms), rounds interleaved.

``--verifier-tree DIR`` serves (b) and (c) from another checkout (e.g. an older commit
extracted with ``git archive``) to compare before and after. Not part of the test suite.
"""
from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import issuer
from benchmarks.credentials import small_credential
from benchmarks.serving import wait_until_listening
from issuer.keys.files import generate_key
from verifier import verify_credential

TARGET_SECONDS = 1.0
TARGET_RSS_MB = 20
TARGET_P99_MS = 50


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] if ordered else float("nan")


# ---------------------------------------------------------------- the credentials

class Attacker:
    """Signs whatever it likes with its own did:key (the verifier resolves did:key offline)."""

    def __init__(self) -> None:
        self.key = generate_key("ed25519")
        self.did = self.key.public.to_did_key()
        self.vm = f"{self.did}#{self.did.split(':')[-1]}"
        self.proof = self.sign(self.base())["proof"]

    def base(self) -> dict:
        doc = small_credential()
        doc["issuer"] = {"id": self.did, "type": ["Profile"], "name": "Attacker"}
        return doc

    def sign(self, doc: dict) -> dict:
        """Signed if the issuer accepts it; else with another document's proof (the verifier still reads it)."""
        try:
            return issuer.sign_credential(doc, self.key, verification_method=self.vm)
        except Exception:  # noqa: BLE001 - refused by a cap: the verifier must refuse it as fast
            return {**doc, "proof": self.proof}

    def wide(self) -> dict:
        doc = self.base()
        doc["credentialSubject"]["https://example.com/p"] = [
            f"https://example.com/values/{i:06d}/x" for i in range(4000)]
        return doc

    def inline(self, seed: int) -> dict:
        rng = random.Random(seed)
        doc = self.base()
        contexts = [{f"t{c}x{t}": f"https://vocab.example/{rng.getrandbits(48):012x}/{c}/{t}" for t in range(250)}
                    for c in range(8)]
        doc["@context"] = doc["@context"] + contexts
        doc["credentialSubject"].update({f"t{c}x{t}": f"value {seed} {c} {t}" for c in range(8) for t in range(250)})
        return doc

    def within_caps(self) -> dict:
        doc = self.base()
        for p in range(16):
            doc["credentialSubject"][f"https://example.com/p{p}"] = [f"v{p}-{i}" for i in range(1000)]
        return doc

    def deep(self) -> dict:
        doc = self.base()
        node = doc["credentialSubject"]
        for level in range(60):
            node["https://example.com/v"] = [f"level {level} value {i}" for i in range(125)]
            node["https://example.com/child"] = {}
            node = node["https://example.com/child"]
        return doc


KINDS = ("wide", "inline", "within caps", "deep")
_kinds = set(KINDS)  # set by --kinds


def hostile_bodies(attacker: Attacker, inline_seeds: range) -> dict[str, list[bytes]]:
    """Request bodies (``{"credential": ...}``) of each kind; ``inline`` gets one per seed."""
    if "inline" not in _kinds:
        inline_seeds = range(0)
    inline_template = attacker.sign(attacker.inline(0))
    inline = []
    for seed in inline_seeds:  # new contexts each time, the template's proof (computing is the cost)
        doc = attacker.inline(seed)
        inline.append(json.dumps({"credential": {**doc, "proof": inline_template["proof"]}}).encode())
    makers = {"wide": attacker.wide, "within caps": attacker.within_caps, "deep": attacker.deep}
    bodies = {name: [json.dumps({"credential": attacker.sign(make())}).encode()]
              for name, make in makers.items() if name in _kinds}
    if inline:
        bodies["inline"] = inline
    return bodies


# ---------------------------------------------------------------- (a) answer time, in process

def answer_times(attacker: Attacker, rounds: int) -> None:
    bodies = {"normal (baseline)": [json.dumps({"credential": attacker.sign(attacker.base())}).encode()]}
    bodies.update(hostile_bodies(attacker, range(1, rounds + 1)))
    print("(a) verify_credential in process, median / max over", rounds, "rounds")
    worst = 0.0
    for name, variants in bodies.items():
        times, outcome = [], ""
        for i in range(rounds):
            credential = json.loads(variants[i % len(variants)])["credential"]
            raw = json.dumps(credential).encode()
            started = time.perf_counter()
            report = verify_credential(raw, offline=True)
            times.append(time.perf_counter() - started)
            failed = [c for c in report.checks if c.status in ("failed", "indeterminate")]
            outcome = f"{report.outcome}" + (f" ({failed[0].check}: {failed[0].reason})" if failed else "")
        if name != "normal (baseline)":
            worst = max(worst, max(times))
        print(f"  {name:<18} {len(raw) / 1024:5.0f} KB  {statistics.median(times) * 1000:7.1f} / "
              f"{max(times) * 1000:7.1f} ms  {outcome}")
    print(f"  slowest hostile answer {worst:.2f} s: {'under' if worst < TARGET_SECONDS else 'OVER'} "
          f"the {TARGET_SECONDS:g} s target")


# ---------------------------------------------------------------- the verifier served on loopback

def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_verifier(port: int, workers: int, threads: int, tree: Path) -> subprocess.Popen:
    command = [sys.executable, "-m", "verifier.web.cli", "serve", "--port", str(port), "--workers", str(workers),
               "--threads", str(threads), "--rate-limit", "1000000 per minute", "--no-access-log"]
    env = {**os.environ, "PYTHONPATH": str(tree)}
    process = subprocess.Popen(command, cwd=tree, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return wait_until_listening(process, port)


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    process.wait(30)


def worker_pids(master: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{master}/task/{master}/children").read_text().split()]
    except OSError:
        return []


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Client:
    """One keep-alive connection to the verifier's JSON API."""

    def __init__(self, port: int) -> None:
        self.port, self.conn = port, None

    def verify(self, body: bytes) -> tuple[int, str]:
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            try:
                self.conn.request("POST", "/api/verify", body, {"Content-Type": "application/json"})
                response = self.conn.getresponse()
                payload = response.read()
                return response.status, json.loads(payload).get("outcome", "") if payload else ""
            except (ConnectionError, http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


def send_all(port: int, bodies: list[bytes], clients: int) -> list[tuple[int, str]]:
    results: list[tuple[int, str]] = []
    lock = threading.Lock()
    queue = list(reversed(bodies))

    def work() -> None:
        client = Client(port)
        while True:
            with lock:
                if not queue:
                    return
                body = queue.pop()
            outcome = client.verify(body)
            with lock:
                results.append(outcome)

    threads = [threading.Thread(target=work) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


# ---------------------------------------------------------------- (b) a worker's memory

def memory(attacker: Attacker, requests: int, tree: Path) -> None:
    port = unused_port()
    process = start_verifier(port, workers=1, threads=8, tree=tree)
    try:
        normal = json.dumps({"credential": attacker.sign(attacker.base())}).encode()
        kinds = hostile_bodies(attacker, range(10_000, 10_000 + requests + 50))
        inline = iter(kinds.pop("inline", []))
        fixed = [body for variants in kinds.values() for body in variants]
        warm = [normal] * 20 + fixed * 5 + [body for body, _ in zip(inline, range(40), strict=False)]
        send_all(port, warm, clients=4)
        pids = worker_pids(process.pid)
        before = sum(rss_mb(pid) for pid in pids)
        # every other request has new inline contexts; the others cycle through the fixed kinds
        hostile = []
        for i in range(requests):
            body = next(inline, None) if i % 2 == 0 or not fixed else None
            hostile.append(body if body is not None else fixed[i % len(fixed)])
        started = time.perf_counter()
        results = send_all(port, hostile, clients=4)
        wall = time.perf_counter() - started
        after = sum(rss_mb(pid) for pid in worker_pids(process.pid))
        statuses = [f"{n} HTTP {s} {o}" for (s, o), n in sorted(Counter(results).items())]
        growth = after - before
        print(f"(b) one worker (pid {', '.join(map(str, pids))}), {len(results)} hostile requests in {wall:.1f} s "
              f"({', '.join(statuses)})")
        print(f"  RSS {before:.0f} MiB after warm-up -> {after:.0f} MiB after: {growth:+.1f} MiB "
              f"({'flat' if growth <= TARGET_RSS_MB else 'NOT FLAT'}: target within {TARGET_RSS_MB} MB)")
    finally:
        stop(process)


# ---------------------------------------------------------------- (c) normal latency under hostile load

def normal_latencies(port: int, body: bytes, count: int) -> list[float]:
    client, latencies = Client(port), []
    for _ in range(count):
        started = time.perf_counter()
        status, outcome = client.verify(body)
        latencies.append(time.perf_counter() - started)
        if status != 200 or outcome != "verified":
            raise SystemExit(f"a normal verification was answered {status} {outcome}")
    return latencies


def attack(port: int, pool: list[bytes], clients: int, stop_event, done) -> None:
    """``clients`` threads sending hostile credentials back to back until ``stop_event``."""
    def one(seed: int) -> None:
        client, rng = Client(port), random.Random(seed)
        while not stop_event.is_set():
            client.verify(rng.choice(pool))
            with done.get_lock():
                done.value += 1

    threads = [threading.Thread(target=one, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def latency(attacker: Attacker, args, tree: Path) -> None:
    port = unused_port()
    process = start_verifier(port, workers=2, threads=32, tree=tree)
    try:
        normal = json.dumps({"credential": attacker.sign(attacker.base())}).encode()
        kinds = hostile_bodies(attacker, range(20_000, 20_000 + 64))
        pool = [body for variants in kinds.values() for body in variants]
        normal_latencies(port, normal, 20)
        phases: dict[str, list[float]] = {"alone": [], f"with {args.hostile_clients} hostile": []}
        hostile_done = multiprocessing.Value("i", 0)
        for _ in range(args.latency_rounds):
            phases["alone"] += normal_latencies(port, normal, args.normal_requests)
            stop_event = multiprocessing.Event()
            # the attackers run in a process of their own: their GIL is not the measuring client's
            attackers = multiprocessing.get_context("fork").Process(
                target=attack, args=(port, pool, args.hostile_clients, stop_event, hostile_done))
            attackers.start()
            time.sleep(1.0)  # hostile requests in flight first
            phases[f"with {args.hostile_clients} hostile"] += normal_latencies(port, normal, args.normal_requests)
            stop_event.set()
            attackers.join(120)
        print(f"(c) normal verifications, one client, 2 workers x 32 threads, {args.latency_rounds} rounds "
              f"({hostile_done.value} hostile requests answered meanwhile)")
        for name, values in phases.items():
            ms = [v * 1000 for v in values]
            print(f"  {name:<20} {len(ms):>5} req  p50 {percentile(ms, 50):6.1f}  p90 {percentile(ms, 90):6.1f}  "
                  f"p99 {percentile(ms, 99):6.1f}  max {max(ms):6.1f} ms")
        p99 = percentile([v * 1000 for v in phases[f"with {args.hostile_clients} hostile"]], 99)
        print(f"  p99 under hostile load {p99:.1f} ms: {'under' if p99 < TARGET_P99_MS else 'OVER'} "
              f"the {TARGET_P99_MS} ms target")
    finally:
        stop(process)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="(a) verifications of each kind")
    parser.add_argument("--requests", type=int, default=1000, help="(b) hostile requests to one worker")
    parser.add_argument("--hostile-clients", type=int, default=16, help="(c) threads sending hostile requests")
    parser.add_argument("--normal-requests", type=int, default=200, help="(c) normal requests per phase and round")
    parser.add_argument("--latency-rounds", type=int, default=3, help="(c) rounds of (alone, with hostile)")
    parser.add_argument("--only", choices=("a", "b", "c"), action="append", help="run only these parts")
    parser.add_argument("--kinds", default=",".join(KINDS), help=f"hostile kinds to send, of {', '.join(KINDS)}")
    parser.add_argument("--verifier-tree", type=Path, default=ROOT, help="serve (b) and (c) from this checkout")
    args = parser.parse_args()
    parts = set(args.only or ("a", "b", "c"))
    _kinds.intersection_update(k.strip() for k in args.kinds.split(","))
    if not _kinds:
        parser.error(f"--kinds: choose among {', '.join(KINDS)}")
    attacker = Attacker()
    print(f"{os.cpu_count()} CPUs; verifier served from {args.verifier_tree}")
    if "a" in parts:
        answer_times(attacker, args.rounds)
    if "b" in parts:
        memory(attacker, args.requests, args.verifier_tree.resolve())
    if "c" in parts:
        latency(attacker, args, args.verifier_tree.resolve())


if __name__ == "__main__":
    main()
