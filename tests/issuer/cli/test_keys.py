"""Tests for the ``microcred keys`` click group (generate, show, import)."""
from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from issuer.cli.keys import keys
from issuer.keys.files import PASSPHRASE_ENV, generate_key, load_key, save_key
from verifier.keys import public_key_from_did_key, public_key_from_jwk, public_key_from_multibase

# Ed25519 pair from the W3C vc-di-eddsa test vectors (spec/vectors/keyPair.json)
VECTOR_PUBLIC = "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
VECTOR_PRIVATE = "z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq"


@pytest.fixture
def runner(tmp_path: Path, monkeypatch) -> CliRunner:
    """A runner working inside an empty tmp_path, without a passphrase in the environment."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(PASSPHRASE_ENV, raising=False)
    return CliRunner()


def _invoke(runner: CliRunner, *args: str, env: dict | None = None, stdin: str | None = None):
    return runner.invoke(keys, list(args), env=env, input=stdin)


def _fields(output: str) -> dict[str, str]:
    return dict(line.split(": ", 1) for line in output.splitlines())


def _assert_error(result, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.mark.parametrize("key_type,label,prefix", [("ed25519", "ed25519", "z6Mk"), ("P256", "p256", "zDn")])
def test_generate_default_path(runner: CliRunner, tmp_path: Path, key_type: str, label: str, prefix: str) -> None:
    result = _invoke(runner, "generate", "--type", key_type)
    assert result.exit_code == 0, result.stderr
    fields = _fields(result.stdout)
    path = tmp_path / fields["file"]
    key = load_key(path)
    assert fields["file"] == f"keys/{label}-{key.public.thumbprint()[:12]}.jwk"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert fields["publicKeyMultibase"].startswith(prefix)
    assert fields["publicKeyMultibase"] == key.public.to_multibase()
    assert fields["did:key"] == "did:key:" + fields["publicKeyMultibase"]
    assert public_key_from_did_key(fields["did:key"]).to_jwk() == key.public.to_jwk()
    jwk = json.loads(fields["publicJwk"])
    assert "d" not in jwk
    assert jwk == key.to_jwk(private=False)


def test_generate_rsa_prints_multikey_but_no_did_key(runner: CliRunner, tmp_path: Path) -> None:
    result = _invoke(runner, "generate", "--type", "rsa", "--out", "rsa.jwk")
    assert result.exit_code == 0, result.stderr
    fields = _fields(result.stdout)
    key = load_key(tmp_path / "rsa.jwk")
    assert (fields["type"], key.private_key.key_size) == ("RSA", 3072)
    assert "did:key" not in fields
    assert public_key_from_multibase(fields["publicKeyMultibase"]).to_jwk() == key.public.to_jwk()
    jwk = json.loads(fields["publicJwk"])
    assert set(jwk) == {"kty", "n", "e", "kid"}


def test_generate_refuses_overwrite_without_force(runner: CliRunner, tmp_path: Path) -> None:
    first = _invoke(runner, "generate", "--type", "ed25519", "--out", "k.jwk")
    assert first.exit_code == 0
    before = (tmp_path / "k.jwk").read_text()
    second = _invoke(runner, "generate", "--type", "ed25519", "--out", "k.jwk")
    _assert_error(second, "k.jwk already exists", "--force")
    assert (tmp_path / "k.jwk").read_text() == before
    third = _invoke(runner, "generate", "--type", "ed25519", "--out", "k.jwk", "--force")
    assert third.exit_code == 0
    assert (tmp_path / "k.jwk").read_text() != before


def test_generate_encrypted(runner: CliRunner, tmp_path: Path) -> None:
    env = {PASSPHRASE_ENV: "open sesame"}
    result = _invoke(runner, "generate", "--type", "p256", "--out", "k.jwk", "--encrypt", env=env)
    assert result.exit_code == 0, result.stderr
    assert "microcred_encrypted_key" in (tmp_path / "k.jwk").read_text()
    key = load_key(tmp_path / "k.jwk", passphrase="open sesame")
    assert _fields(result.stdout)["publicKeyMultibase"] == key.public.to_multibase()
    shown = _invoke(runner, "show", "k.jwk", env=env)
    assert shown.exit_code == 0
    assert _fields(shown.stdout) == _fields(result.stdout)


def test_generate_encrypt_without_passphrase(runner: CliRunner, tmp_path: Path) -> None:
    result = _invoke(runner, "generate", "--type", "ed25519", "--encrypt")
    _assert_error(result, PASSPHRASE_ENV)
    assert not (tmp_path / "keys").exists()


def test_show(runner: CliRunner, tmp_path: Path) -> None:
    key = generate_key("ed25519")
    save_key(key, tmp_path / "k.jwk")
    result = _invoke(runner, "show", "k.jwk")
    assert result.exit_code == 0, result.stderr
    assert _fields(result.stdout) == {
        "file": "k.jwk",
        "type": "Ed25519",
        "publicKeyMultibase": key.public.to_multibase(),
        "did:key": key.public.to_did_key(),
        "publicJwk": json.dumps(key.to_jwk(private=False), sort_keys=True),
    }


@pytest.mark.parametrize("env,fragment", [(None, "is encrypted"), ({PASSPHRASE_ENV: "nope"}, "wrong passphrase")])
def test_show_encrypted_errors(runner: CliRunner, tmp_path: Path, env, fragment: str) -> None:
    save_key(generate_key("ed25519"), tmp_path / "k.jwk", passphrase="right")
    _assert_error(_invoke(runner, "show", "k.jwk", env=env), fragment)


def test_show_errors(runner: CliRunner, tmp_path: Path) -> None:
    _assert_error(_invoke(runner, "show", "missing.jwk"), "missing.jwk")
    (tmp_path / "lax.jwk").write_text(json.dumps(generate_key("ed25519").to_jwk()))
    (tmp_path / "lax.jwk").chmod(0o644)
    _assert_error(_invoke(runner, "show", "lax.jwk"), "chmod 600 lax.jwk")


def test_import_ed25519_secret_vector(runner: CliRunner, tmp_path: Path) -> None:
    result = _invoke(runner, "import", "--ed25519-secret", VECTOR_PRIVATE, "--out", "v.jwk")
    assert result.exit_code == 0, result.stderr
    fields = _fields(result.stdout)
    assert fields["publicKeyMultibase"] == VECTOR_PUBLIC
    assert fields["did:key"] == f"did:key:{VECTOR_PUBLIC}"
    assert load_key(tmp_path / "v.jwk").private_multibase() == VECTOR_PRIVATE


def test_import_ed25519_secret_from_stdin_default_path(runner: CliRunner, tmp_path: Path) -> None:
    key = generate_key("ed25519")
    result = _invoke(runner, "import", "--ed25519-secret", "-", stdin=key.private_multibase() + "\n")
    assert result.exit_code == 0, result.stderr
    path = _fields(result.stdout)["file"]
    assert path == f"keys/ed25519-{key.public.thumbprint()[:12]}.jwk"
    assert load_key(tmp_path / path).to_jwk() == key.to_jwk()


def test_import_jwk(runner: CliRunner, tmp_path: Path) -> None:
    key = generate_key("p256")
    (tmp_path / "in.json").write_text(json.dumps(key.to_jwk()))
    result = _invoke(runner, "import", "--jwk", "in.json", "--out", "out.jwk")
    assert result.exit_code == 0, result.stderr
    assert load_key(tmp_path / "out.jwk").to_jwk() == key.to_jwk()
    assert public_key_from_jwk(
        {k: v for k, v in json.loads(_fields(result.stdout)["publicJwk"]).items() if k != "kid"}
    ).to_jwk() == key.public.to_jwk()


def test_import_public_jwk_refused(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "pub.json").write_text(json.dumps(generate_key("ed25519").to_jwk(private=False)))
    _assert_error(_invoke(runner, "import", "--jwk", "pub.json"), "pub.json", "no private part")
    assert not (tmp_path / "keys").exists()


@pytest.mark.parametrize("args,fragment", [
    ((), "exactly one of --jwk or --ed25519-secret"),
    (("--jwk", "a.json", "--ed25519-secret", "00" * 32), "exactly one"),
    (("--jwk", "absent.json"), "absent.json: No such file or directory"),
    (("--ed25519-secret", "z0OIl"), "base58"),
    (("--ed25519-secret", "zzz"), "unknown or unsupported multicodec"),
    (("--ed25519-secret", "12345"), "64 hex characters"),
])
def test_import_errors(runner: CliRunner, args: tuple, fragment: str) -> None:
    _assert_error(_invoke(runner, "import", *args), fragment)


def test_import_not_json(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text("{not json")
    _assert_error(_invoke(runner, "import", "--jwk", "bad.json"), "bad.json is not a JSON file")


@pytest.mark.parametrize("args,fragment", [
    (("generate",), "Missing option '--type'"),
    (("generate", "--type", "dsa"), "'dsa' is not one of"),
    (("generate", "--type", "ed25519", "--bogus"), "--bogus"),
    (("frobnicate",), "No such command 'frobnicate'"),
])
def test_usage_errors_are_one_line(runner: CliRunner, args: tuple, fragment: str) -> None:
    _assert_error(_invoke(runner, *args), fragment)


def test_real_process_exit_code_and_streams(tmp_path: Path) -> None:
    """Outside CliRunner: a real interpreter gets status 2 and a single stderr line."""
    script = "from issuer.cli.keys import keys; keys(prog_name='microcred keys')"
    env = {k: v for k, v in os.environ.items() if k != PASSPHRASE_ENV}
    ok = subprocess.run(
        [sys.executable, "-c", script, "generate", "--type", "ed25519", "--out", "k.jwk"],
        cwd=tmp_path, env=env, capture_output=True, text=True,
    )
    assert (ok.returncode, ok.stderr) == (0, "")
    assert _fields(ok.stdout)["did:key"] == load_key(tmp_path / "k.jwk").public.to_did_key()
    again = subprocess.run(
        [sys.executable, "-c", script, "generate", "--type", "ed25519", "--out", "k.jwk"],
        cwd=tmp_path, env=env, capture_output=True, text=True,
    )
    assert (again.returncode, again.stdout) == (2, "")
    assert again.stderr == "error: k.jwk already exists; use --force to overwrite it\n"
