#!/usr/bin/env python3
"""The recruiter's command as a whole process: ``microcred verify FILE --offline``, cold.

    python benchmarks/bench_cold_start.py [--rounds 5] [FILE]

Every figure is a fresh Python process (wall time, median and best of ``--rounds``), the
variants interleaved round by round so they share the machine's load:

* ``python``: the interpreter starting and doing nothing (the floor of any command);
* ``import verifier.cli``: what verifying needs, imported and nothing run;
* ``microcred verify``: the real command, as its console script runs it (commands are imported
  only when they run, issuer/cli/__init__.py);
* ``eager baseline``: the same command with every command module of ``microcred`` imported first,
  as the CLI did before it loaded commands lazily (issue 13 measured 1.1-1.35 s then);
* ``without requests``: the real command with ``requests`` made unimportable, i.e. what is left
  once pyld's import-time ``requests`` (its default document loader, which microcred never uses:
  every JSON-LD call gets the bundled-context loader) is gone. A diagnostic, not a way to run.

Bytecode: every process reads compiled modules from one fresh ``PYTHONPYCACHEPREFIX`` directory,
written by the warm-up round, as an installed package has them. The environment's
``PYTHONDONTWRITEBYTECODE`` is dropped for these processes: with it, every module edited since
its ``.pyc`` was last written is compiled from source in every run (a development artefact
worth 0.1 s and more, that no installed copy pays).

FILE defaults to the W3C eddsa-rdfc-2022 test vector in ../shared/spec (a full offline
verification: contexts, schema, key, proof; it exits 1 because the vector's key is not its
issuer's). Issue 13's target for ``microcred verify``: 0.3 s. Not part of the test suite.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VECTOR = ROOT.parent / "shared" / "spec" / "vectors" / "eddsa-rdfc-2022" / "signedDataInt.json"
COMMAND_MODULES = ("issuer.cli.achievements", "issuer.cli.awards", "issuer.cli.bulk", "issuer.cli.demo",
                   "issuer.cli.instance", "issuer.cli.keys", "issuer.cli.serve", "issuer.cli.share",
                   "issuer.cli.sign", "issuer.cli.tokens", "issuer.cli.users", "verifier.web.cli")


def variants(path: Path) -> dict[str, list[str]]:
    run = f"import sys; sys.argv = ['microcred', 'verify', '--offline', {str(path)!r}]; "
    eager = "; ".join(f"import {module}" for module in COMMAND_MODULES)
    return {
        "python": [sys.executable, "-c", "pass"],
        "import verifier.cli": [sys.executable, "-c", "import verifier.cli"],
        "microcred verify": [sys.executable, "-c", run + "from issuer.cli import main; main()"],
        "eager baseline": [sys.executable, "-c", run + eager + "; from issuer.cli import main; main()"],
        "without requests": [sys.executable, "-c",
                             run + "sys.modules['requests'] = None; from issuer.cli import main; main()"],
    }


def once(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):        # 1: verified "no" (the vector's key is not its issuer's)
        raise SystemExit(f"{argv[-1][:60]}... failed ({done.returncode}): {done.stderr.decode()[-500:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", type=Path, default=VECTOR)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    if not args.file.exists():
        raise SystemExit(f"{args.file} is missing: give a credential file to verify")
    cases = variants(args.file.resolve())
    times: dict[str, list[float]] = {name: [] for name in cases}
    with tempfile.TemporaryDirectory(prefix="microcred-bench-pyc-") as pycache:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = pycache
        for argv in cases.values():              # compile every module once, warm the file cache
            once(argv, env)
        for _ in range(args.rounds):
            for name, argv in cases.items():
                times[name].append(once(argv, env))
    print(f"{args.file.name}, {args.rounds} rounds, cold processes (median / best)")
    for name, values in times.items():
        print(f"  {name:22} {statistics.median(values):6.3f} s / {min(values):6.3f} s")
    ratio = statistics.median(times["eager baseline"]) / statistics.median(times["microcred verify"])
    print(f"microcred verify is {ratio:.1f}x faster than the eager baseline; target 0.300 s")


if __name__ == "__main__":
    main()
