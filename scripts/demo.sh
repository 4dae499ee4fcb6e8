#!/usr/bin/env bash
# Set up microcred on its embedded defaults and start the issuer: SQLite in instance/,
# a generated Ed25519 key in keys/, base URL http://localhost:5000 (did:web:localhost%3A5000),
# and demo data (a small skills framework awarded to sample employees).
# Stop the server with Ctrl-C. Another port: MICROCRED_PORT=8080 scripts/demo.sh (the base URL
# follows it). The settings are kept in instance/settings.json, so the other microcred commands,
# run in another terminal, find this installation with nothing exported.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
port="${MICROCRED_PORT:-5000}"
export MICROCRED_BASE_URL="${MICROCRED_BASE_URL:-http://localhost:$port}"
exec microcred demo --serve --host 127.0.0.1 --port "$port"
