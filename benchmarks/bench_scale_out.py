#!/usr/bin/env python3
"""Issue 15's figures past one process: the verifier with 1 and 2 server processes, and how long a
revocation takes to reach a verifier behind a real caching proxy.

    python benchmarks/bench_scale_out.py [--only verifier,revocation] [--requests 2000] [--rounds 3]
                                         [--trials 5] [--span 120] [--database postgresql|sqlite]

Each part is a function of the parsed arguments that prints its own lines (the format is what
``run_all.py`` reads back); :data:`PARTS` lists them in the order they run. Everything runs on
127.0.0.1.

**(a) verifier requests/s with 1 and 2 server processes** (``verifier``). Two verifiers are
started the way production starts them (``python -m verifier.web.cli serve``, i.e. ``microcred
verifier serve``: gunicorn, ``--threads`` threads per worker) with ``--workers 1`` and ``--workers
2``, both up for the whole part. The load is :mod:`bench_verifier_load`'s phase 1, imported, not
copied: ``--requests`` verifications of one healthy credential (status list entry, loopback TLS
issuer, warm caches) from ``--concurrency`` keep-alive client threads, closed loop, every answer
checked to be HTTP 200 saying "verified". Rounds alternate the order of the two configurations
(1, 2 / 2, 1 / ...) so a shared machine's drift hits both alike; the rate is the median over
rounds, percentiles over all requests. The load generator runs on the same cores as the servers
(said in the output, with its CPU per request): on a 2-core machine a second process cannot
double the rate, and the figure says how much of the second core the verifier gets.

**(b) revocation -> visible through a cache** (``revocation``). A real issuer: a throwaway
PostgreSQL server (started by ``tests/db_fixtures.py``'s own helpers, imported: ``--database
sqlite`` or no PostgreSQL installed: a SQLite file), ``microcred demo`` for its awards and
``microcred serve``; in front of it Varnish (Debian's ``varnish``, a real shared cache that
honours ``Cache-Control`` and sends ``Age``), whose address is the issuer's base URL, as a CDN's
would be. Varnish keeps a stale copy for a 10 s "grace" by default, which ``must-revalidate``
forbids (RFC 9111 §5.2.2.2) and Varnish 7.1 does not honour on its own, so the VCL sets grace to
0 for such responses: the cache the documented bound assumes (docs/caching.md). A long-running
verifier (one :class:`verifier.fetcher.NetworkFetcher`, with its own response cache, as a
verifier service keeps one) calls :func:`verifier.verify_credential` on each chosen credential URL
every ``--poll`` seconds through the cache. ``--trials`` ``microcred revoke <credential URL>``
commands run at random moments over ``--span`` seconds (so at random points of the status
list's cache window; seeded, ``--seed``); each trial's figure is the time from the start of its
``revoke`` command to the first verdict "revoked". Every verdict is checked: "verified" before
the revoke, "verified" or "revoked" after it; anything else is reported as a wrong verdict.
The verifier reaches the issuer over plain http on loopback, so did:web tries https first and
Varnish (which speaks no TLS) holds that attempt for its idle timeout (5 s): the verifier's
failure cache remembers that failure for the whole run (it does so for 30 s by default), so the
figure is the cache's delay, not that artefact of a TLS-less test setup.

**(c) awards/s with 1 and 2 workers on PostgreSQL** is added to :data:`PARTS` by the job queue
work (``microcred worker``).
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy.engine import make_url  # noqa: E402

from benchmarks.bench_verifier_load import Client, client_phase, merged, percentile, print_phase, start_verifier  # noqa: E402
from benchmarks.bench_workers import awards_per_second  # noqa: E402
from benchmarks.serving import wait_until_listening  # noqa: E402
from tests.db_fixtures import TEST_DATABASE, _admin, _Server, postgres_bin  # noqa: E402
from tests.http_fixtures import LoopbackServer, make_tls_material, unused_port  # noqa: E402
from tests.verifier.issuer_world import IssuerWorld  # noqa: E402
from verifier import verify_credential  # noqa: E402
from verifier.fetcher import FailureCache, FetchPolicy, NetworkFetcher  # noqa: E402

STATUS_LIST_MAX_AGE = 60        # docs/caching.md: what a cache may keep a status list for
VCL = """vcl 4.1;
backend issuer {{ .host = "127.0.0.1"; .port = "{port}"; }}
sub vcl_backend_response {{
    # must-revalidate: never serve a stale copy (Varnish's default grace would allow 10 s more)
    if (beresp.http.Cache-Control ~ "must-revalidate") {{ set beresp.grace = 0s; }}
}}
"""


def machine_note(clients: str) -> str:
    return (f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; the load generator ({clients}) "
            "runs on the same cores as the servers")


# ---------------------------------------------------------------- (a) verifier processes

def verifier_processes(args: argparse.Namespace) -> bool:
    """Verifications/s and p50/p99 of one and of two server processes, interleaved; True when every
    answer said "verified"."""
    print(f"\n(a) verifier requests/s with 1 and 2 server processes: gunicorn x {args.threads} threads each, "
          f"{args.concurrency} clients (closed loop), {args.rounds} rounds of {args.requests} requests, interleaved")
    print(machine_note(f"{args.concurrency} threads of this process"))
    tls_folder = tempfile.TemporaryDirectory(prefix="bench-scale-out-")
    tls = make_tls_material(Path(tls_folder.name))
    issuer_server = LoopbackServer(tls=tls)
    configs = {f"{n} process{'es' if n > 1 else ''}": n for n in (1, 2)}
    ports = {name: unused_port() for name in configs}
    processes = {}
    try:
        world = IssuerWorld(issuer_server)
        status_url = world.publish_status_list("/status/1", revoked=[5])
        body = json.dumps({"credential": world.sign(world.with_status(world.unsigned(), status_url, 6))}).encode()
        for name, workers in configs.items():
            options = SimpleNamespace(workers=workers, threads=args.threads, fetch_timeout=3.0)
            processes[name] = start_verifier(ROOT, ports[name], tls.ca_file, options)
            status, report = Client(ports[name]).verify(body)
            assert status == 200 and report["outcome"] == "verified", (name, report)
            # every worker's caches warm: many connections, so each process gets some
            client_phase(ports[name], processes[name].pid, body, args.concurrency, 200, max_seconds=30)
        rounds: dict[str, list[dict]] = {name: [] for name in configs}
        for number in range(args.rounds):
            for name in (list(configs) if number % 2 == 0 else list(reversed(configs))):
                rounds[name].append(client_phase(ports[name], processes[name].pid, body, args.concurrency,
                                                 args.requests, max_seconds=args.max_seconds))
    finally:
        for process in processes.values():
            process.terminate()
        for process in processes.values():
            process.wait(30)
        issuer_server.stop()
        tls_folder.cleanup()
    results = {name: merged(r) for name, r in rounds.items()}
    for name, m in results.items():
        print_phase(f"verifier, {name}", m)
    one, two = results["1 process"], results["2 processes"]
    print("cores the servers used: " + ", ".join(f"{name} {m['server_cpu'] * m['rate'] / 1000:.2f}"
                                                 for name, m in results.items())
          + f" of {os.cpu_count()} (server CPU per request x rate; the rest went to the load generator and to "
          "whatever else ran on the machine: see the load average)")
    print(f"2 processes / 1: throughput {two['rate'] / one['rate']:.2f}x, p99 "
          f"{percentile(two['latencies'], 99) / percentile(one['latencies'], 99):.2f}x (on {os.cpu_count()} cores "
          f"shared with the load generator: not a measure of what a second machine adds)")
    failures = [f for m in results.values() for f in m["failures"]]
    print(f"answers not 'verified': {len(failures)}{' ' + str(failures[:3]) if failures else ''}")
    return not failures


# ---------------------------------------------------------------- (b) revocation -> visible

def microcred_command() -> list[str]:
    """The ``microcred`` command of this Python (the console script beside it, else the same entry point)."""
    script = Path(sys.executable).with_name("microcred")
    return [str(script)] if script.exists() else [sys.executable, "-c", "import sys; from issuer.cli import main; "
                                                                         "sys.exit(main())"]


@contextmanager
def database(kind: str) -> Iterator[tuple[str, str]]:
    """(SQLAlchemy URL, what it is): a throwaway PostgreSQL server as the tests start it, or a SQLite file."""
    folder = Path(tempfile.mkdtemp(prefix="bench-scale-out-db-"))
    bin_dir = postgres_bin() if kind == "postgresql" else None
    if bin_dir is None:
        if kind == "postgresql":
            print("PostgreSQL not installed (apt-get install postgresql): SQLite instead")
        try:
            yield f"sqlite:///{folder / 'microcred.db'}", "SQLite"
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    server = _Server(bin_dir)
    try:
        server.start()
        _admin(make_url(server.url).set(database="postgres").render_as_string(), f'CREATE DATABASE "{TEST_DATABASE}"')
        yield server.url, f"PostgreSQL ({bin_dir.parent.name})"
    finally:
        server.delete()
        shutil.rmtree(folder, ignore_errors=True)


@dataclass
class Trial:
    url: str
    at: float                                   # when its revoke starts (monotonic)
    started: float | None = None
    took: float | None = None                   # the revoke command's own time
    cache_age: int | None = None                # the cached list's Age when the revoke started
    seen: float | None = None                   # the first verdict "revoked"
    error: str | None = None


@dataclass
class Poller:
    """The long-running verifier: one NetworkFetcher, every credential verified every ``interval`` s."""

    base: str
    interval: float
    verdicts: int = 0
    wrong: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        host = self.base.split("//", 1)[1]
        self.fetcher = NetworkFetcher(FetchPolicy(allow_hosts=frozenset({host})), failures=FailureCache(ttl=24 * 3600))

    def verdict(self, url: str) -> str:
        report = verify_credential(url, fetcher=self.fetcher)
        self.verdicts += 1
        status = report.check("status")
        if report.verified:
            return "verified"
        if status is not None and status.reason == "revoked":
            return "revoked"
        return f"{report.outcome}: {report.headline}"

    def run(self, trials: list[Trial], until: float) -> None:
        tick = time.monotonic()
        while time.monotonic() < until and any(t.seen is None and t.error is None for t in trials):
            for trial in trials:
                if trial.seen is not None or trial.error is not None:
                    continue
                revoking = trial.started is not None
                verdict = self.verdict(trial.url)
                if verdict == "revoked" and revoking:
                    trial.seen = time.monotonic()
                elif verdict != "verified":
                    self.wrong.append(f"{verdict} ({'after' if revoking else 'before'} the revoke)")
            tick += self.interval
            time.sleep(max(0.0, tick - time.monotonic()))


def cached_age(base: str, path: str) -> int | None:
    """The ``Age`` the cache sends with its copy of ``path`` now (None: not from the cache)."""
    host, port = base.split("//", 1)[1].split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        age = response.getheader("Age")
        return int(age) if age is not None else None
    finally:
        conn.close()


def revoke_at(trial: Trial, command: list[str], env: dict[str, str], status_path: str, base: str) -> None:
    time.sleep(max(0.0, trial.at - time.monotonic()))
    try:
        trial.cache_age = cached_age(base, status_path)
    except OSError:
        trial.cache_age = None          # shown as "?": the revoke still runs
    trial.started = time.monotonic()
    try:
        done = subprocess.run([*command, "revoke", trial.url, "--reason", "benchmark: revocation through a cache"],
                              env=env, capture_output=True, text=True, timeout=120, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        trial.error = f"microcred revoke did not run: {exc}"
        return
    trial.took = time.monotonic() - trial.started
    if done.returncode != 0 or "revoked" not in done.stdout:
        trial.error = f"microcred revoke failed ({done.returncode}): {(done.stdout + done.stderr).strip()[-300:]}"


def revocation_visible(args: argparse.Namespace) -> bool:
    """Revoke -> a verifier behind Varnish sees it, ``args.trials`` times; True when every trial was
    seen and every verdict was right."""
    varnishd = shutil.which("varnishd") or ("/usr/sbin/varnishd" if Path("/usr/sbin/varnishd").exists() else None)
    if varnishd is None:
        print("\n(b) revocation through a cache: skipped: varnishd not found (apt-get install varnish)")
        return True
    folder = Path(tempfile.mkdtemp(prefix="bench-scale-out-"))
    folder.chmod(0o755)                 # varnishd's child runs as its own user and reads the VCL and work folder
    issuer_port, cache_port = unused_port(), unused_port()
    base = f"http://127.0.0.1:{cache_port}"
    command = microcred_command()
    started: list[subprocess.Popen] = []
    with database(args.database) as (url, engine):
        env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": url, "MICROCRED_BASE_URL": base,
               "MICROCRED_INSTANCE": str(folder / "instance"), "MICROCRED_KEYS": str(folder / "keys")}
        try:
            demo = subprocess.run([*command, "demo"], env=env, capture_output=True, text=True, timeout=300, check=True)
            urls = [line.split()[0] for line in demo.stdout.splitlines() if line.startswith(f"  {base}/credentials/")]
            assert len(urls) >= args.trials, f"the demo issued {len(urls)} awards, fewer than --trials {args.trials}"
            started.append(wait_until_listening(subprocess.Popen(
                [*command, "serve", "--port", str(issuer_port)], env=env, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL), issuer_port))
            (folder / "issuer.vcl").write_text(VCL.format(port=issuer_port))
            started.append(wait_until_listening(subprocess.Popen(
                [varnishd, "-F", "-a", f"127.0.0.1:{cache_port}", "-f", str(folder / "issuer.vcl"),
                 "-n", str(folder / "varnish"), "-s", "malloc,64m"], stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL), cache_port))
            version = subprocess.run([varnishd, "-V"], capture_output=True, text=True, check=False).stderr
            version = version.split("\n")[0]
            return run_trials(args, urls[:args.trials], command, env, base, engine, version)
        finally:
            for process in reversed(started):
                process.terminate()
            for process in started:
                process.wait(30)
            shutil.rmtree(folder, ignore_errors=True)


def run_trials(args: argparse.Namespace, urls: list[str], command: list[str], env: dict[str, str], base: str,
               engine: str, cache: str) -> bool:
    poller = Poller(base, args.poll)
    for url in urls:                    # warm: the verifier's caches, and the varnish copy of each document
        assert poller.verdict(url) == "verified", f"{url}: {poller.verdict(url)}"
    status_path = "/status/revocation/1"
    rng = random.Random(args.seed)
    now = time.monotonic()
    trials = [Trial(url, now + offset) for url, offset in zip(urls, sorted(rng.uniform(0, args.span) for _ in urls),
                                                               strict=True)]
    print(f"\n(b) revocation -> visible: {args.trials} x microcred revoke at random moments over {args.span:g} s "
          f"(seed {args.seed}); issuer: microcred serve on {engine}; cache: {cache} (VCL: Cache-Control honoured, "
          f"no grace past must-revalidate); verifier: verify_credential(URL) every {args.poll:g} s through the cache")
    threads = [threading.Thread(target=revoke_at, args=(t, command, env, status_path, base), daemon=True)
               for t in trials]
    for thread in threads:
        thread.start()
    limit = args.span + 2 * STATUS_LIST_MAX_AGE + 30
    poller.run(trials, until=now + limit)
    for thread in threads:
        thread.join(130)
    delays, after_commit = [], []
    for number, trial in enumerate(trials, 1):
        if trial.error or trial.started is None or trial.took is None or trial.seen is None:
            print(f"  trial {number}: {trial.error or f'NOT SEEN within {limit:g} s'}")
            continue
        delays.append(trial.seen - trial.started)
        after_commit.append(trial.seen - trial.started - trial.took)
        age = trial.cache_age if trial.cache_age is not None else "?"
        print(f"  trial {number}: the cached list was {age} s old; microcred revoke took {trial.took:.2f} s; "
              f"revoked seen {delays[-1]:.1f} s after it started, {after_commit[-1]:.1f} s after it returned")
    if delays:
        # the revocation commits inside the command: between its start and its end; the verdict is
        # seen at the first poll after the copies expire, so one poll interval is the resolution
        within = len(delays) == len(trials) and max(after_commit) <= STATUS_LIST_MAX_AGE + args.poll
        print(f"revoke -> visible ({len(delays)} of {len(trials)} trials, from the start of microcred revoke): "
              f"min {min(delays):.1f} s  median {statistics.median(delays):.1f} s  max {max(delays):.1f} s")
        print(f"documented bound {STATUS_LIST_MAX_AGE} s (the status lists' max-age, docs/caching.md): "
              f"{'within' if within else 'EXCEEDED'} (latest {max(after_commit):.1f} s after a revoke returned; "
              f"the poll interval, {args.poll:g} s, is the resolution)")
    wrong = poller.wrong
    print(f"verdicts: {poller.verdicts}, wrong: {len(wrong)}{' ' + str(wrong[:3]) if wrong else ''}")
    return len(delays) == len(trials) and not poller.wrong


# ---------------------------------------------------------------- main

#: the parts, in the order they run: name -> function(args) -> True when everything it checked was right.
def worker_processes(args: argparse.Namespace) -> bool:
    """(c) awards/s with 1 and 2 ``microcred worker`` processes on PostgreSQL (:mod:`bench_workers`)."""
    with database("postgresql") as (url, what):
        if not url.startswith("postgresql"):
            print("(c) needs PostgreSQL: skipped")
            return True
        return awards_per_second(args, url, microcred_command())


PARTS: dict[str, Callable[[argparse.Namespace], bool]] = {
    "verifier": verifier_processes,
    "revocation": revocation_visible,
    "workers": worker_processes,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default=",".join(PARTS), help=f"comma-separated, of {', '.join(PARTS)}")
    parser.add_argument("--requests", type=int, default=2000, help="(a) verifications per configuration and round")
    parser.add_argument("--rounds", type=int, default=3, help="(a) rounds, alternating the order of 1 and 2 processes")
    parser.add_argument("--concurrency", type=int, default=16, help="(a) client threads")
    parser.add_argument("--threads", type=int, default=32, help="(a) threads per gunicorn worker")
    parser.add_argument("--max-seconds", type=float, default=60.0, help="(a) time limit of one round")
    parser.add_argument("--trials", type=int, default=5, help="(b) revocations (at most the demo's 10 awards)")
    parser.add_argument("--span", type=float, default=2.0 * STATUS_LIST_MAX_AGE,
                        help="(b) the revocations start at random moments within this many seconds")
    parser.add_argument("--poll", type=float, default=0.5, help="(b) seconds between a credential's verifications")
    parser.add_argument("--seed", type=int, default=None, help="(b) random seed of the revocation moments")
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql", help="(b) the issuer's")
    parser.add_argument("--awards", type=int, default=10_000, help="(c) awards issued by the workers")
    parser.add_argument("--jobs", type=int, default=10, help="(c) bulk jobs the awards are split into")
    parser.add_argument("--worker-rounds", type=int, default=1, help="(c) rounds (1 then 2 workers; then 2, 1)")
    args = parser.parse_args()
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(PARTS))
    if unknown:
        parser.error(f"--only: unknown {', '.join(unknown)}; choose among {', '.join(PARTS)}")
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(10_000)
    ok = [PARTS[name](args) for name in PARTS if name in chosen]
    return 0 if all(ok) else 1


if __name__ == "__main__":
    sys.exit(main())
