"""Starting a server for a benchmark: wait until it listens on loopback, or give up."""
from __future__ import annotations

import socket
import subprocess
import time


def wait_until_listening(process: subprocess.Popen, port: int, *, seconds: float = 30.0) -> subprocess.Popen:
    """``process`` once 127.0.0.1:``port`` accepts connections; terminate it and exit after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit("the server did not start")
