#!/usr/bin/env bash
# Set up everything the tests need and run the whole test suite.
# Extra arguments go to pytest, e.g. scripts/test.sh -k vectors
# The tests run in parallel on every core (pytest-xdist: -n auto); tests marked
# @pytest.mark.xdist_group("name") run in one worker. scripts/test.sh -n 0 runs them in one process.
# Lint and type checks run first (ruff over the repository, mypy --strict over verifier/ and the issuer service layer: the
# settings are in pyproject.toml); either failing fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh test
if [ -f tests/interop/package-lock.json ]; then
    if ! command -v npm >/dev/null; then
        echo "scripts/test.sh: npm is needed for the JavaScript interoperability tests" >&2
        exit 1
    fi
    npm ci --prefix tests/interop --no-audit --no-fund --loglevel=error
fi
echo "ruff and mypy:"
.venv/bin/ruff check .
.venv/bin/mypy
exec .venv/bin/python -m pytest -n auto --dist loadgroup "$@"
