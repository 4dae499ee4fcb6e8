"""The node side of the benchmarks: a script of ``benchmarks/js`` in one long-lived node process.

The scripts load Digital Bazaar's packages from the interop tests' ``node_modules``
(``npm ci --prefix tests/interop``); :func:`unavailable` says why they cannot run here.
One JSON command per line on the script's stdin, one JSON answer per line on its stdout,
so a benchmark can alternate batches of node rounds with batches of its own.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
INTEROP = ROOT / "tests" / "interop"
PACKAGES = ("jsonld", "@digitalbazaar/vc", "@digitalbazaar/data-integrity",
            "@digitalbazaar/eddsa-rdfc-2022-cryptosuite", "@digitalbazaar/ed25519-multikey",
            "@digitalbazaar/did-method-key")


def unavailable() -> str | None:
    """Why the node side cannot run here, or None."""
    if shutil.which("node") is None:
        return "node is not on PATH"
    missing = [p for p in PACKAGES if not (INTEROP / "node_modules" / p / "package.json").is_file()]
    if missing:
        return f"{', '.join(missing)} missing: run `npm ci --prefix tests/interop`"
    return None


class NodeScript:
    """``benchmarks/js/<name>`` running in node until :meth:`close`."""

    def __init__(self, name: str):
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 (closed by close())
        self._proc = subprocess.Popen([shutil.which("node") or "node", str(HERE / name)], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, stderr=self._stderr, text=True, encoding="utf-8",
                                      cwd=ROOT)

    def ask(self, command: dict) -> dict:
        """Send one command; its answer (``RuntimeError`` if the script failed or exited)."""
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write(json.dumps(command) + "\n")
        self._proc.stdin.flush()
        line = self._proc.stdout.readline()
        if not line:
            self._stderr.seek(0)
            raise RuntimeError(f"node exited: {self._stderr.read().decode(errors='replace')[-2000:]}")
        answer = json.loads(line)
        if "error" in answer:
            raise RuntimeError(f"node: {answer['error']}")
        return answer

    def close(self) -> None:
        assert self._proc.stdin is not None
        self._proc.stdin.close()
        try:
            self._proc.wait(30)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._stderr.close()
