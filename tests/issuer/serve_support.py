"""A real ``microcred serve`` (gunicorn) for tests: an instance initialised in ``tmp_path`` and
served on a free loopback port, answering when :func:`serve_instance` returns.

    process, base = serve_instance(tmp_path, monkeypatch, env={"MICROCRED_LOG_FORMAT": "json"})
    try:
        requests.get(f"{base}/healthz")
    finally:
        process.terminate()
        output = process.communicate(timeout=30)[0]
"""
from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from issuer.config import Settings, load_settings
from issuer.setup import init_instance
from tests.http_fixtures import unused_port
from tests.verifier.test_web_serve import wait_for


def serve_instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, workers: int = 1,
                   env: Mapping[str, str] | None = None, child_env: Mapping[str, str] | None = None,
                   stdout: int = subprocess.PIPE, stderr: int = subprocess.STDOUT,
                   prepare: Callable[[Settings], object] | None = None,
                   ) -> tuple[subprocess.Popen[str], str]:
    """(the server process, its base URL). ``env`` is set here (for ``init``) and in the server;
    ``child_env`` in the server only; ``prepare`` is called with the settings after ``init`` and before
    the server starts (data the server should find). The caller terminates the process."""
    port = unused_port()
    settings = {"MICROCRED_INSTANCE": str(tmp_path / "instance"), "MICROCRED_KEYS": str(tmp_path / "keys"),
                "MICROCRED_BASE_URL": f"http://127.0.0.1:{port}",
                "DATABASE_URL": f"sqlite:///{tmp_path / 'm.db'}", **(env or {})}
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    init_instance(load_settings(), name="Example Corp")
    if prepare is not None:
        prepare(load_settings())
    process = subprocess.Popen([sys.executable, "-c", "from issuer.cli.serve import serve; serve()", "--port",
                                str(port), "--workers", str(workers), "--threads", "2"],
                               env={**os.environ, **settings, **(child_env or {})},
                               stdout=stdout, stderr=stderr, text=True)
    try:
        wait_for(port, process)
    except BaseException:
        process.terminate()
        process.communicate(timeout=30)
        raise
    return process, f"http://127.0.0.1:{port}"
