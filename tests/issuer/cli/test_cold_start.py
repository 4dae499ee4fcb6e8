"""``microcred verify --offline`` through the ``microcred`` entry point loads the verifier alone (issue 13).

The entry point is issuer.cli's command group: a command's module is imported when that command
runs, and ``import issuer`` looks ``sign_credential`` up only when it is used. So verifying a
credential offline loads nothing of the issuer but the command shell and its error tree: no
database (SQLAlchemy), web app (Flask), services or key files (jwcrypto), and none of the
verifier's other paths (tests/verifier/test_cold_start.py). Run in a fresh interpreter as the
console script runs it; behaviour only (benchmarks/bench_cold_start.py measures the time).
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import issuer
from issuer.keys.files import generate_key

SAMPLE = Path(issuer.__file__).parent / "samples" / "teamwork-badge.json"
#: the only issuer modules ``microcred verify`` needs: the group, its error handler, the error tree
SHELL = ["issuer", "issuer.cli", "issuer.cli.shell", "issuer.errors"]
ELSEWHERE = ("sqlalchemy", "flask", "jwcrypto", "jsonschema", "defusedxml", "verifier.net.transport", "verifier.web")
PROBE = (
    "import json, sys\n"
    "sys.argv = ['microcred', *sys.argv[1:]]\n"
    "from issuer.cli import main\n"
    "try:\n"
    "    main()\n"
    "except SystemExit as done:\n"
    "    code = done.code\n"
    "print(json.dumps({'exit': code,\n"
    "                  'issuer': sorted(m for m in sys.modules if m.split('.')[0] == 'issuer'),\n"
    f"                  'elsewhere': sorted(m for m in {ELSEWHERE!r} if m in sys.modules)}}), file=sys.stderr)\n"
)


def test_microcred_verify_offline_loads_only_the_command_shell_of_the_issuer(tmp_path):
    key = generate_key("ed25519")
    did = key.public.to_did_key()
    credential = json.loads(SAMPLE.read_text(encoding="utf-8"))
    credential["issuer"]["id"] = did
    signed = issuer.sign_credential(credential, key, verification_method=f"{did}#{did[8:]}")
    path = tmp_path / "badge.json"
    path.write_text(json.dumps(signed))
    done = subprocess.run([sys.executable, "-c", PROBE, "verify", str(path), "--offline", "--json"],
                          capture_output=True, text=True, timeout=120)
    loaded = json.loads(done.stderr.strip().splitlines()[-1])
    assert (loaded["exit"], json.loads(done.stdout)["verified"]) == (0, True)
    assert loaded["issuer"] == SHELL
    assert loaded["elsewhere"] == []
