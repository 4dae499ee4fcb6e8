"""Issue 15 §5 (c): awards issued per second by ``microcred worker`` processes on PostgreSQL, with 1
and with 2 workers, on the same machine, in the same run.

    python benchmarks/bench_scale_out.py --only workers [--awards 10000] [--jobs 10]

For each configuration, a fresh database on one throwaway PostgreSQL server (started by the test
suite's own helpers, imported), ``microcred demo`` (the issuer, its keys and achievements),
``MICROCRED_QUEUE=postgres``, then N ``microcred worker`` processes (waited for until each has
registered its heartbeat). ``--awards`` rows are split into ``--jobs`` bulk jobs of equal size (as
HR uploads files), all stored with their dry run first; the clock starts when the first job is
handed to the queue and stops when the last is done. Each job runs on one worker at a time (the
queue's lock), signing on every core with its own signing processes, so two workers overlap the
database work of one job with the signing of another. Checked: every job done, every row issued
once (awards counted per recipient). The figure is awards/s = rows / elapsed.

On a 2-core machine the two workers share the two cores with their signing processes and
PostgreSQL: the ratio says how much of the remaining database and queue wait a second worker
hides, not what a second machine adds (said in the output).
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from issuer.cli.support import own_services
from issuer.config import load_settings
from issuer.db.models import Award, Recipient
from issuer.db.models_staff import BulkJob
from tests.db_fixtures import throwaway_database


def rows_csv(first: int, count: int) -> bytes:
    lines = ["email,name,achievement,external_id"]
    lines += [f"w-row{i}@example.com,Person {i},team-leadership,w-{i}" for i in range(first, first + count)]
    return ("\r\n".join(lines) + "\r\n").encode()


def _wait(condition, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _live_workers(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            exists = connection.exec_driver_sql("SELECT to_regclass('microcred_queue.procrastinate_workers')").scalar()
            if exists is None:
                return 0
            return int(connection.exec_driver_sql(
                "SELECT count(*) FROM microcred_queue.procrastinate_workers").scalar() or 0)
    finally:
        engine.dispose()


def one_configuration(server_url: str, workers: int, args: argparse.Namespace, command: list[str]) -> float | None:
    """Awards/s with ``workers`` workers on a fresh database (None when a check failed)."""
    with throwaway_database(server_url, "bench_w") as url:
        return _one_configuration(url, workers, args, command)


def _one_configuration(url: str, workers: int, args: argparse.Namespace, command: list[str]) -> float | None:
    folder = Path(tempfile.mkdtemp(prefix="bench-workers-"))
    env = {**os.environ, "MICROCRED_INSTANCE": str(folder / "instance"), "MICROCRED_KEYS": str(folder / "keys"),
           "MICROCRED_BASE_URL": "https://badges.example.com", "DATABASE_URL": url, "MICROCRED_QUEUE": "postgres"}
    processes: list[subprocess.Popen[bytes]] = []
    try:
        subprocess.run([*command, "demo"], env=env, check=True, capture_output=True)
        settings = load_settings(env)
        per_job = args.awards // args.jobs
        with own_services(settings) as services:
            ids = [services.bulk.upload(rows_csv(j * per_job, per_job), filename=f"part-{j}.csv",
                                        actor="bench").id for j in range(args.jobs)]
            logs = [folder / f"worker-{n}.log" for n in range(workers)]
            processes = [subprocess.Popen([*command, "worker"], env=env, stdout=log.open("wb"),  # noqa: SIM115
                                          stderr=subprocess.STDOUT) for log in logs]
            _wait(lambda: _live_workers(url) >= workers, 120, f"{workers} worker(s) to start")
            started = time.perf_counter()
            for job_id in ids:
                assert services.bulk.start(job_id, actor="bench")
            engine = create_engine(url)
            try:
                def all_done() -> bool:
                    with Session(engine) as session:
                        jobs = session.execute(select(BulkJob.state, BulkJob.error).where(BulkJob.id.in_(ids))).all()
                    failed = [error for state, error in jobs if state == "failed"]
                    if failed:
                        for log in logs:
                            print(f"--- {log.name} (last lines)\n" + "\n".join(log.read_text().splitlines()[-40:]))
                        raise RuntimeError(f"a bulk job failed: {failed[0]}")
                    return {state for state, _ in jobs} == {"done"}
                _wait(all_done, args.max_seconds * 10, "the bulk jobs")
                elapsed = time.perf_counter() - started
                with Session(engine) as session:
                    people = session.scalar(select(func.count(func.distinct(Recipient.email)))
                                            .join(Award, Award.recipient_id == Recipient.id)
                                            .where(Recipient.email.like("w-row%"))) or 0
                    awards = session.scalar(select(func.count()).select_from(Award).join(Recipient)
                                            .where(Recipient.email.like("w-row%"))) or 0
                    issuing = sum(float((summary or {}).get("seconds", 0)) for summary in session.scalars(
                        select(BulkJob.summary).where(BulkJob.id.in_(ids))))
            finally:
                engine.dispose()
        total = per_job * args.jobs
        if people != total or awards != total:
            print(f"workers, {workers}: WRONG: {awards} awards for {people} people, {total} rows")
            return None
        rate = total / elapsed
        print(f"workers, {workers} worker{'s' if workers > 1 else ''}: {total:,} awards in {elapsed:.1f} s  "
              f"{rate:.0f} awards/s  ({args.jobs} bulk jobs of {per_job:,}; every row issued once; the jobs' own "
              f"issuing time {issuing:.1f} s in all, the rest is the queue and the award emails the workers send "
              "between jobs)")
        return rate
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(folder, ignore_errors=True)


def awards_per_second(args: argparse.Namespace, server_url: str, command: list[str]) -> bool:
    """(c): 1 worker, then 2 workers (then again in the other order with --worker-rounds 2)."""
    print(f"(c) awards issued per second by microcred worker processes on PostgreSQL: {args.awards:,} awards, "
          f"{os.cpu_count()} cores shared by the workers, their signing processes and PostgreSQL")
    rates: dict[int, list[float]] = {1: [], 2: []}
    for round_number in range(args.worker_rounds):
        for workers in ((1, 2) if round_number % 2 == 0 else (2, 1)):
            rate = one_configuration(server_url, workers, args, command)
            if rate is None:
                return False
            rates[workers].append(rate)
    one, two = (sorted(rates[n])[len(rates[n]) // 2] for n in (1, 2))
    print(f"workers: 2 workers / 1 worker: {two / one:.2f}x  ({one:.0f} -> {two:.0f} awards/s, median of "
          f"{args.worker_rounds} round(s); on {os.cpu_count()} cores)")
    sys.stdout.flush()
    return True
