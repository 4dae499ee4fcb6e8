"""``microcred sign``: the installed command, real files, exit codes and error lines."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from issuer.keys.files import generate_key, save_key
from tests.support import EXAMPLES
from verifier.jws import verify_compact_jws
from verifier.keys import public_key_from_did_key
from verifier.proofs import verify_proofs

BASIC = "examples__basicOpenBadgeCredential__L7__sample-openbadgecredential.json"


def microcred(*args: str, cwd: Path, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    exe = shutil.which("microcred") or str(Path(sys.executable).parent / "microcred")
    return subprocess.run([exe, *args], cwd=cwd, input=stdin, capture_output=True, timeout=60)


@pytest.fixture()
def workdir(tmp_path, spec):
    key = generate_key("ed25519")
    save_key(key, tmp_path / "issuer.jwk")
    save_key(generate_key("p256"), tmp_path / "p256.jwk")
    shutil.copyfile(EXAMPLES / BASIC, tmp_path / "credential.json")
    vm = f"{key.public.to_did_key()}#{key.public.to_multibase()}"
    return tmp_path, key, vm


def test_sign_prints_a_credential_that_verifies(workdir):
    cwd, _, vm = workdir
    done = microcred("sign", "credential.json", "--key", "issuer.jwk", "--verification-method", vm,
                     "--created", "2026-03-01T10:00:00Z", cwd=cwd)
    assert done.returncode == 0, done.stderr
    assert done.stderr == b""
    signed = json.loads(done.stdout)
    assert signed["proof"]["created"] == "2026-03-01T10:00:00Z"
    assert verify_proofs(signed, public_key_from_did_key).verified


def test_sign_reads_standard_input_and_makes_jcs_and_jwt(workdir):
    cwd, key, vm = workdir
    raw = (cwd / "credential.json").read_bytes()
    jcs = microcred("sign", "-", "--key", "issuer.jwk", "--verification-method", vm,
                    "--cryptosuite", "eddsa-jcs-2022", cwd=cwd, stdin=raw)
    assert jcs.returncode == 0, jcs.stderr
    assert verify_proofs(json.loads(jcs.stdout), public_key_from_did_key).verified
    jwt = microcred("sign", "credential.json", "--key", "issuer.jwk", "--verification-method", vm,
                    "--cryptosuite", "jwt", cwd=cwd)
    assert jwt.returncode == 0, jwt.stderr
    header, _ = verify_compact_jws(jwt.stdout.decode().strip(), key.public)
    assert header["kid"] == vm


@pytest.mark.parametrize("setup,args,message", [
    (lambda d: (d / "c.json").write_text("{not json"), ["c.json"], "is not JSON"),
    (lambda d: (d / "c.json").write_text('{"@context": ["https://example.com/ctx"], "type": "X"}'),
     ["c.json"], "https://example.com/ctx is not bundled"),
    (lambda d: (d / "c.json").write_text(json.dumps({
        "@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
        "issuer": "did:example:1", "credentialSubject": {"id": "did:example:2"}, "shoeSize": 44})),
     ["c.json"], "'shoeSize' is not defined"),
    (lambda d: (d / "c.json").write_text("[" * 100_000 + "]" * 100_000), ["c.json"], "nested too deeply"),
    (lambda d: (d / "c.json").write_text('{"a":' * 200 + "1" + "}" * 200), ["c.json"], "nested more than 64"),
    (None, ["credential.json", "--key-override", "p256.jwk"], "needs an Ed25519 key"),
    (None, ["credential.json", "--key-override", "missing.jwk"], "missing.jwk: No such file"),
    (lambda d: (d / "bad.jwk").write_text("hello"), ["credential.json", "--key-override", "bad.jwk"], "bad.jwk"),
    (None, ["credential.json", "--cryptosuite", "rsa-2018"], "Invalid value for '--cryptosuite'"),
])
def test_bad_input_exits_2_with_one_line_and_no_output(workdir, setup, args, message):
    cwd, _, vm = workdir
    if setup:
        setup(cwd)
    key_file = "issuer.jwk"
    if "--key-override" in args:
        key_file = args[args.index("--key-override") + 1]
        args = args[: args.index("--key-override")]
    if (cwd / key_file).exists():
        (cwd / key_file).chmod(0o600)
    done = microcred("sign", *args, "--key", key_file, "--verification-method", vm, cwd=cwd)
    assert done.returncode == 2
    assert done.stdout == b""
    lines = done.stderr.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    assert message in lines[0]
