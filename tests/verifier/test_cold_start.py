"""``microcred verify --offline`` loads only what verifying needs (issue 13: the command's cold start).

Each test runs the verifier's command (``verifier.cli.verify``, which ``microcred verify`` is) in a
fresh interpreter on a credential written here, then reads that process's ``sys.modules``. What
only another path needs must not be loaded by an offline Data Integrity verification: jwcrypto
(VC-JWTs), jsonschema and referencing (explaining a schema failure), defusedxml (SVG badges), the
socket layer (fetching), the web stack and the issuer. The other paths, taken from a cold start,
load what they need and give the same verdicts as ever. Behaviour only: the time is measured by
benchmarks/bench_cold_start.py.

``requests`` is in the list too: pyld builds its default document loader on it when imported,
and :mod:`verifier.pyld_loaded` keeps it out (microcred never uses that loader).
"""
from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.verifier.issuer_world import sample_credential
from tests.verifier.signing_support import TestSigner, sign_credential_jwt, sign_data_integrity
from verifier.baked import bake_svg

NOW = "2026-06-01T12:00:00Z"
#: modules an offline verification of a Data Integrity credential must not load
ELSEWHERE = ("jwcrypto", "jsonschema", "referencing", "defusedxml", "verifier.net.transport", "verifier.web",
             "flask", "sqlalchemy", "issuer", "requests", "urllib3")
PROBE = (
    "import json, sys\n"
    "from verifier.cli import verify\n"
    "try:\n"
    "    verify.main(sys.argv[1:], prog_name='microcred verify')\n"
    "except SystemExit as done:\n"
    "    code = done.code\n"
    f"loaded = sorted(name for name in {ELSEWHERE!r} if name in sys.modules)\n"
    "print(json.dumps({'exit': code, 'loaded': loaded}), file=sys.stderr)\n"
)
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>'


def _cold(path: Path, *options: str) -> tuple[int, dict, set[str]]:
    """(exit code, JSON report, which of ELSEWHERE got loaded) of ``verify --offline --json`` in a new process."""
    done = subprocess.run([sys.executable, "-c", PROBE, str(path), "--offline", "--json", "--at", NOW, *options],
                          capture_output=True, text=True, timeout=120)
    outcome = json.loads(done.stderr.strip().splitlines()[-1])
    return outcome["exit"], json.loads(done.stdout), set(outcome["loaded"])


def _statuses(report: dict) -> dict[str, str]:
    return {check["check"]: check["status"] for check in report["checks"]}


@pytest.fixture(scope="module")
def issuer_key() -> tuple[TestSigner, str]:
    signer = TestSigner()
    return signer, signer.public.to_did_key()


def _credential(did: str) -> dict:
    credential = sample_credential()
    credential["issuer"]["id"] = did
    return credential


def test_an_offline_data_integrity_verification_loads_nothing_another_path_needs(issuer_key, tmp_path):
    signer, did = issuer_key
    path = tmp_path / "badge.json"
    path.write_text(json.dumps(sign_data_integrity(_credential(did), signer)))
    code, report, loaded = _cold(path)
    assert (code, report["verified"]) == (0, True)
    assert _statuses(report)["conformance"] == "passed"   # the schema check ran (jsonschema-rs said "valid")
    assert loaded == set()

    path.write_text(json.dumps({**json.loads(path.read_text()), "name": "Forged"}))
    code, report, loaded = _cold(path)
    assert (code, report["verified"], _statuses(report)["proof"]) == (1, False, "failed")
    assert loaded == set()


def test_each_left_out_module_loads_on_the_path_that_needs_it_and_verdicts_hold(issuer_key, tmp_path):
    signer, did = issuer_key
    jwt = tmp_path / "badge.jwt"
    jwt.write_text(sign_credential_jwt(_credential(did), signer, kid=f"{did}#{did[8:]}"))
    code, report, loaded = _cold(jwt)
    assert (code, report["verified"], _statuses(report)["proof"]) == (0, True, "passed")
    assert loaded == {"jwcrypto"}

    svg = tmp_path / "badge.svg"
    svg.write_bytes(bake_svg(SVG, json.dumps(sign_data_integrity(_credential(did), signer))))
    code, report, loaded = _cold(svg)
    assert (code, report["verified"]) == (0, True)
    assert loaded == {"defusedxml"}

    deviant = _credential(did)
    del deviant["credentialSubject"]["achievement"]["name"]   # required by the OB 3.0 schema
    path = tmp_path / "deviant.json"
    path.write_text(json.dumps(sign_data_integrity(copy.deepcopy(deviant), signer)))
    code, report, loaded = _cold(path, "--strict")
    conformance = next(check for check in report["checks"] if check["check"] == "conformance")
    assert (code, conformance["status"]) == (1, "failed")
    assert any("name" in str(item) for item in conformance["details"]["deviations"])   # explained by jsonschema
    assert loaded == {"jsonschema", "referencing"}
