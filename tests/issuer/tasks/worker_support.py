"""Real ``microcred worker`` processes on a throwaway PostgreSQL database, for the queue's tests.

    url = fresh_database(postgres_url)                     # dropped by the caller (drop_database)
    app = queue_app(tmp_path, url)                         # create_app with MICROCRED_QUEUE=postgres, demo data
    worker = start_worker(tmp_path, url)                   # its own process group: kill -9 takes it all
    kill_hard(worker)
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from flask import Flask
from sqlalchemy.engine import make_url

from issuer.config import load_settings
from issuer.web.app import create_app
from tests.db_fixtures import _admin

BASE = "https://badges.example.com"
STALLED = "3"                  # seconds without a heartbeat before a worker's tasks go to another


def fresh_database(server_url: str) -> str:
    name = f"microcred_q_{uuid.uuid4().hex[:16]}"
    _admin(server_url, f'CREATE DATABASE "{name}"')
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    name = make_url(url).database
    _admin(make_url(url).set(database="postgres").render_as_string(hide_password=False),
           f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def environment(tmp_path: Path, url: str) -> dict[str, str]:
    return {"MICROCRED_INSTANCE": str(tmp_path / "instance"), "MICROCRED_KEYS": str(tmp_path / "keys"),
            "MICROCRED_BASE_URL": BASE, "DATABASE_URL": url, "MICROCRED_QUEUE": "postgres",
            "MICROCRED_WORKER_STALLED_SECONDS": STALLED, "MICROCRED_SECRET_KEY": "s" * 40}


def queue_app(tmp_path: Path, url: str, *, demo: bool = True) -> Flask:
    """An issuer app on ``url`` whose background work goes to the PostgreSQL queue (the demo data seeded)."""
    settings = load_settings(environment(tmp_path, url))
    app = create_app(settings)
    if demo:
        app.extensions["microcred"].use.setup.seed_demo()
    return app


def start_worker(tmp_path: Path, url: str, *, log: Path | None = None) -> subprocess.Popen[bytes]:
    out = open(log or tmp_path / f"worker-{uuid.uuid4().hex[:6]}.log", "wb")  # noqa: SIM115 - the child's
    return subprocess.Popen([sys.executable, "-c", "from issuer.cli.worker import worker; worker()"],
                            env={**os.environ, **environment(tmp_path, url)}, stdout=out, stderr=subprocess.STDOUT,
                            start_new_session=True)


def kill_hard(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL to the worker and every process it started (its signing pool): no clean-up runs."""
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(30)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            kill_hard(process)


def wait_until(condition: Callable[[], object], timeout: float, what: str, every: float = 0.05) -> object:
    """Poll ``condition`` until it returns something true (returned); AssertionError after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(every)
