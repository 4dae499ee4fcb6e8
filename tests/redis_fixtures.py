"""A real, throwaway Redis server for tests (shared rate limits, issue 15 §2).

Registered for the whole suite in ``tests/conftest.py``::

    def test_something(redis_url):        # "redis://127.0.0.1:PORT/0", emptied before the test

* ``redis_server`` (session): ``redis-server --port <free port> --bind 127.0.0.1 --save ''
  --appendonly no`` in a temporary folder, stopped (and the folder deleted) at the end. Without
  ``redis-server`` on ``PATH`` the tests that need it skip, except when ``CI=true``: then they
  fail, because CI installs Debian's ``redis-server`` (``.ci/run``).
* ``redis_url`` (per test): the server's URL after ``FLUSHALL``, so no count leaks between tests.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator

import pytest
import redis

INSTALL_HINT = "install Redis (apt-get install redis-server) to run the shared rate-limit tests"
START_TIMEOUT = 30


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def redis_server() -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"redis-server not found: {INSTALL_HINT} (CI=true: Redis is required here)", pytrace=False)
        pytest.skip(f"redis-server not found: {INSTALL_HINT}")
    port = _free_port()
    url = f"redis://127.0.0.1:{port}/0"
    with tempfile.TemporaryDirectory(prefix="microcred-redis-") as folder:
        process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                    "--appendonly", "no", "--dir", folder],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            client = redis.Redis.from_url(url)
            deadline = time.monotonic() + START_TIMEOUT
            while True:
                try:
                    client.ping()
                    break
                except redis.ConnectionError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        pytest.fail(f"redis-server did not start on port {port}", pytrace=False)
                    time.sleep(0.05)
            client.close()
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture()
def redis_url(redis_server: str) -> str:
    client = redis.Redis.from_url(redis_server)
    client.flushall()
    client.close()
    return redis_server
