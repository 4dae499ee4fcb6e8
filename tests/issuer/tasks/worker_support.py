"""Real ``microcred worker`` processes on a throwaway PostgreSQL database, for the queue's tests.

    with throwaway_database(postgres_url) as url:          # tests/db_fixtures.py
    app = queue_app(tmp_path, url)                         # create_app with MICROCRED_QUEUE=postgres, demo data
    worker = start_worker(tmp_path, url)                   # its own process group: kill -9 takes it all
    kill_hard(worker)
"""
from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from flask import Flask

from issuer.config import load_settings
from issuer.web.app import create_app

BASE = "https://badges.example.com"
STALLED = "3"                  # seconds without a heartbeat before a worker's tasks go to another
SECRET = secrets.token_urlsafe(48)     # one secret shared by every server of the deployment


def environment(tmp_path: Path, url: str) -> dict[str, str]:
    return {"MICROCRED_INSTANCE": str(tmp_path / "instance"), "MICROCRED_KEYS": str(tmp_path / "keys"),
            "MICROCRED_BASE_URL": BASE, "DATABASE_URL": url, "MICROCRED_QUEUE": "postgres",
            "MICROCRED_WORKER_STALLED_SECONDS": STALLED, "MICROCRED_SECRET_KEY": SECRET}


def queue_app(tmp_path: Path, url: str, *, demo: bool = True) -> Flask:
    """An issuer app on ``url`` whose background work goes to the PostgreSQL queue (the demo data seeded)."""
    settings = load_settings(environment(tmp_path, url))
    app = create_app(settings)
    if demo:
        app.extensions["microcred"].use.setup.seed_demo()
    return app


def start_worker(tmp_path: Path, url: str, *, log: Path | None = None,
                 env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """``microcred worker`` with the deployment's settings (``env`` on top); its output in ``log``."""
    out = open(log or tmp_path / f"worker-{uuid.uuid4().hex[:6]}.log", "wb")  # noqa: SIM115 - the child's
    return subprocess.Popen([sys.executable, "-c", "from issuer.cli.worker import worker; worker()"],
                            env={**os.environ, **environment(tmp_path, url), **(env or {})}, stdout=out,
                            stderr=subprocess.STDOUT, start_new_session=True)


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
