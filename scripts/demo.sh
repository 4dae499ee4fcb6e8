#!/usr/bin/env bash
# Set up microcred on its embedded defaults and start the issuer: SQLite in instance/,
# a generated Ed25519 key in keys/, base URL http://localhost:5000 (did:web:localhost%3A5000),
# and demo data (a small skills framework awarded to sample employees).
# Stop the server with Ctrl-C. Set MICROCRED_PORT to use another port.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
port="${MICROCRED_PORT:-5000}"
export MICROCRED_BASE_URL="${MICROCRED_BASE_URL:-http://localhost:$port}"

microcred demo
echo
echo "In another terminal, check any credential above the way a recruiter would:"
echo "  .venv/bin/microcred verify <credential URL> --allow-http-host localhost"
echo
exec microcred serve --host 127.0.0.1 --port "$port"
