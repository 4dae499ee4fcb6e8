#!/usr/bin/env bash
# Set up microcred and run it on its embedded defaults: a generated Ed25519 issuer key
# in keys/, and a sample skills badge signed with it (written to instance/demo/).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"

key=keys/demo-issuer-ed25519.jwk
[ -f "$key" ] || microcred keys generate --type ed25519 --out "$key" >/dev/null
did=$(microcred keys show "$key" | awk '$1 == "did:key:" {print $2}')
vm="$did#${did#did:key:}"

mkdir -p instance/demo
python - "$did" > instance/demo/teamwork-badge.json <<'PY'
import json, sys
from importlib.resources import files
credential = json.loads(files("issuer").joinpath("samples/teamwork-badge.json").read_text())
credential["issuer"]["id"] = sys.argv[1]
print(json.dumps(credential, indent=2))
PY
microcred sign instance/demo/teamwork-badge.json --key "$key" --verification-method "$vm" \
    > instance/demo/teamwork-badge.signed.json
microcred sign instance/demo/teamwork-badge.json --key "$key" --verification-method "$vm" \
    --cryptosuite jwt > instance/demo/teamwork-badge.jwt

cat instance/demo/teamwork-badge.signed.json
echo
echo "--- microcred verify instance/demo/teamwork-badge.signed.json --recipient-email alex.rivera@example.com"
microcred verify instance/demo/teamwork-badge.signed.json --recipient-email alex.rivera@example.com
echo
echo "Issuer: $did (key: $key)"
echo "Signed credential: instance/demo/teamwork-badge.signed.json"
echo "Same credential as a VC-JWT: instance/demo/teamwork-badge.jwt"
