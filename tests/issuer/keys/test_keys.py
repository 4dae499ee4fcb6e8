"""Tests for issuer.keys.files: key pairs, signing, JWK import/export and key files."""
from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from jwcrypto import jwa, jws

from issuer.keys.files import (
    PASSPHRASE_ENV,
    KeyExistsError,
    KeyPair,
    coerce_key,
    destroy_key_file,
    generate_key,
    key_from_ed25519_secret,
    key_from_jwk,
    load_key,
    save_key,
)
from verifier.errors import CredentialError, KeyFormatError, KeyTypeMismatchError
from verifier.keys import (
    b64url_decode,
    public_key_from_did_key,
    public_key_from_jwk,
    public_key_from_multibase,
)

SHARED = Path(__file__).resolve().parents[3].parent / "shared"
VECTORS = SHARED / "spec" / "vectors"
KEY_TYPES = ["ed25519", "p256", "rsa"]
PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi"}


@pytest.fixture(scope="module")
def keys() -> dict[str, KeyPair]:
    return {name: generate_key(name) for name in KEY_TYPES}


@pytest.fixture(params=KEY_TYPES)
def key(request, keys) -> KeyPair:
    return keys[request.param]


def _shared_pairs() -> list[dict]:
    files = [VECTORS / "keyPair.json", VECTORS / "proof-set-chain" / "multiKeyPairs.json"]
    missing = [str(f) for f in files if not f.exists()]
    if missing:
        pytest.skip(f"shared spec vectors not available: {', '.join(missing)} missing")
    single = json.loads(files[0].read_text())
    return [single, *json.loads(files[1].read_text()).values()]


# --- generation and types -------------------------------------------------------------------


@pytest.mark.parametrize("alias,expected", [
    ("ed25519", "Ed25519"), ("Ed25519", "Ed25519"), ("P-256", "P-256"), ("p256", "P-256"),
])
def test_generate_key_aliases(alias: str, expected: str) -> None:
    assert generate_key(alias).key_type == expected


def test_generated_rsa_is_3072_bits(keys) -> None:
    assert keys["rsa"].private_key.key_size == 3072


def test_unknown_key_type() -> None:
    with pytest.raises(KeyFormatError, match="unknown key type 'dsa'"):
        generate_key("dsa")


def test_keypair_checks_its_object(keys) -> None:
    with pytest.raises(KeyTypeMismatchError):
        KeyPair("P-256", keys["ed25519"].private_key)


# --- signing --------------------------------------------------------------------------------


def test_sign_verify_round_trip(key: KeyPair) -> None:
    signature = key.sign(b"payload")
    expected_length = {"Ed25519": 64, "P-256": 64, "RSA": 384}[key.key_type]
    assert len(signature) == expected_length
    assert key.public.verify(signature, b"payload") is True
    assert key.public.verify(signature, b"payloae") is False
    tampered = bytes([signature[0] ^ 1]) + signature[1:]
    assert key.public.verify(tampered, b"payload") is False


def test_other_key_does_not_verify(keys) -> None:
    signature = keys["ed25519"].sign(b"x")
    assert generate_key("ed25519").public.verify(signature, b"x") is False


def test_jwcrypto_signature_verifies_with_public_key(key: KeyPair) -> None:
    alg = {"Ed25519": "EdDSA", "P-256": "ES256", "RSA": "RS256"}[key.key_type]
    token = jws.JWS(b"hello")
    token.add_signature(key.to_jwcrypto(), alg=alg, protected=json.dumps({"alg": alg}))
    compact = token.serialize(compact=True)
    header, payload, signature = compact.split(".")
    assert key.public.verify(b64url_decode(signature), f"{header}.{payload}".encode()) is True


# --- JWK ------------------------------------------------------------------------------------


def test_jwk_round_trip(key: KeyPair) -> None:
    jwk = key.to_jwk()
    assert jwk["kid"] == key.public.thumbprint()
    assert "d" in jwk
    again = key_from_jwk(jwk)
    assert again.key_type == key.key_type
    assert again.to_jwk() == jwk
    assert again.sign(b"m") and key.public.verify(again.sign(b"m"), b"m")


def test_public_jwk_export_has_no_private_members(key: KeyPair) -> None:
    public = key.to_jwk(private=False)
    assert not PRIVATE_MEMBERS & public.keys()
    assert public["kid"] == key.public.thumbprint()
    assert public_key_from_jwk({k: v for k, v in public.items() if k != "kid"}).to_jwk() == key.public.to_jwk()
    assert "d" not in key.public.to_jwk()


def test_to_jwcrypto_is_private_with_same_thumbprint(key: KeyPair) -> None:
    jwk = key.to_jwcrypto()
    assert jwk.has_private is True
    assert jwk.thumbprint() == key.public.thumbprint()


def test_key_from_public_jwk_has_no_private_part(key: KeyPair) -> None:
    with pytest.raises(KeyFormatError, match="has no private part"):
        key_from_jwk(key.to_jwk(private=False))


def test_key_from_jwk_mismatched_parts(keys) -> None:
    mixed = dict(keys["ed25519"].to_jwk(), d=generate_key("ed25519").to_jwk()["d"])
    with pytest.raises(KeyFormatError, match="does not match"):
        key_from_jwk(mixed)
    p256 = keys["p256"].to_jwk()
    with pytest.raises(KeyFormatError, match="does not match"):
        key_from_jwk(dict(p256, d=generate_key("p256").to_jwk()["d"]))


def test_key_from_rsa_jwk_needs_crt_members(keys) -> None:
    jwk = keys["rsa"].to_jwk()
    del jwk["qi"]
    with pytest.raises(KeyFormatError, match="missing 'qi'"):
        key_from_jwk(jwk)


def test_coerce_key(keys) -> None:
    pair = keys["p256"]
    assert coerce_key(pair) is pair
    assert coerce_key(pair.to_jwk()).to_jwk() == pair.to_jwk()
    with pytest.raises(KeyFormatError, match="got str"):
        coerce_key("keys/p256.jwk")


# --- multibase and did:key ------------------------------------------------------------------


def test_public_forms_round_trip(key: KeyPair) -> None:
    multibase = key.public.to_multibase()
    assert public_key_from_multibase(multibase).to_jwk() == key.public.to_jwk()
    assert public_key_from_did_key(key.public.to_did_key()).to_jwk() == key.public.to_jwk()


def test_private_multibase_round_trip(keys) -> None:
    from verifier.multiformats import multibase_decode

    ed = keys["ed25519"]
    secret = ed.private_multibase()
    # base58btc ("z") of the multicodec varint + the key; the base58 letters after "z" depend on
    # the key's bytes too (e.g. "z42t" or "z42u" for P-256), so the prefix is checked decoded
    assert secret.startswith("z") and multibase_decode(secret)[:2] == b"\x80\x26"      # ed25519-priv 0x1300
    assert len(multibase_decode(secret)) == 34
    assert key_from_ed25519_secret(secret).to_jwk() == ed.to_jwk()
    p256 = keys["p256"].private_multibase()
    assert p256.startswith("z") and multibase_decode(p256)[:2] == b"\x86\x26"           # p256-priv 0x1306
    assert len(multibase_decode(p256)) == 34
    with pytest.raises(KeyTypeMismatchError):
        keys["rsa"].private_multibase()


def test_ed25519_secret_hex() -> None:
    pair = generate_key("ed25519")
    seed = b64url_decode(pair.to_jwk()["d"])
    assert key_from_ed25519_secret(seed.hex()).to_jwk() == pair.to_jwk()
    assert key_from_ed25519_secret(seed.hex().upper() + "\n").to_jwk() == pair.to_jwk()


@pytest.mark.parametrize("value,error", [
    ("ab" * 31, KeyFormatError),
    ("xyz", KeyFormatError),
    ("z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjx", KeyFormatError),  # one char short
    ("z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2", KeyTypeMismatchError),  # a public key
])
def test_ed25519_secret_rejects(value: str, error: type) -> None:
    with pytest.raises(error):
        key_from_ed25519_secret(value)


def test_shared_vector_private_to_public() -> None:
    for pair in _shared_pairs():
        key = key_from_ed25519_secret(pair["privateKeyMultibase"])
        assert key.public.to_multibase() == pair["publicKeyMultibase"]
        assert key.private_multibase() == pair["privateKeyMultibase"]


# --- key files ------------------------------------------------------------------------------


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_save_and_load_plain(tmp_path: Path, key: KeyPair) -> None:
    path = save_key(key, tmp_path / "k.jwk")
    assert path == tmp_path / "k.jwk"
    assert _mode(path) == 0o600
    assert json.loads(path.read_text()) == key.to_jwk()
    assert load_key(path).to_jwk() == key.to_jwk()
    assert os.listdir(tmp_path) == ["k.jwk"]


def test_save_creates_private_parent(tmp_path: Path, keys) -> None:
    path = save_key(keys["ed25519"], tmp_path / "new" / "k.jwk")
    assert _mode(path.parent) == 0o700
    assert _mode(path) == 0o600


def test_no_overwrite_without_force(tmp_path: Path, keys) -> None:
    path = save_key(keys["ed25519"], tmp_path / "k.jwk")
    before = path.read_text()
    with pytest.raises(KeyExistsError, match=str(path)) as info:
        save_key(keys["p256"], path)
    assert info.value.code == "key_exists"
    assert path.read_text() == before
    assert os.listdir(tmp_path) == ["k.jwk"]
    save_key(keys["p256"], path, force=True)
    assert load_key(path).to_jwk() == keys["p256"].to_jwk()
    assert _mode(path) == 0o600
    assert os.listdir(tmp_path) == ["k.jwk"]


def test_file_appearing_during_write_is_not_clobbered(tmp_path: Path, keys, monkeypatch) -> None:
    """Another writer creates the file after the existence check: it must survive."""
    path = tmp_path / "k.jwk"
    real_fsync = os.fsync

    def racing_fsync(fd: int) -> None:
        real_fsync(fd)
        if not path.exists():
            path.write_text("other writer")

    monkeypatch.setattr(os, "fsync", racing_fsync)
    with pytest.raises(KeyExistsError):
        save_key(keys["ed25519"], path)
    assert path.read_text() == "other writer"
    assert os.listdir(tmp_path) == ["k.jwk"]


def test_force_replaces_lax_file_with_0600(tmp_path: Path, keys) -> None:
    path = tmp_path / "k.jwk"
    path.write_text("old")
    path.chmod(0o644)
    save_key(keys["ed25519"], path, force=True)
    assert _mode(path) == 0o600


def test_failed_write_leaves_no_temp_file(tmp_path: Path, keys, monkeypatch) -> None:
    def broken_fsync(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError):
        save_key(keys["ed25519"], tmp_path / "k.jwk")
    assert os.listdir(tmp_path) == []


def test_encrypted_round_trip(tmp_path: Path, keys) -> None:
    key = keys["p256"]
    path = save_key(key, tmp_path / "k.jwk", passphrase="correct horse")
    content = json.loads(path.read_text())
    assert set(content) == {"microcred_encrypted_key", "jwe"}
    assert content["microcred_encrypted_key"] == 1
    assert key.to_jwk()["d"] not in path.read_text()
    header = json.loads(base64.urlsafe_b64decode(content["jwe"].split(".")[0] + "=="))
    assert (header["alg"], header["enc"], header["p2c"]) == ("PBES2-HS512+A256KW", "A256GCM", 600_000)
    assert _mode(path) == 0o600
    assert load_key(path, passphrase="correct horse").to_jwk() == key.to_jwk()
    assert jwa.default_max_pbkdf2_iterations == 16384  # jwcrypto's global limit is restored


def test_encrypted_passphrase_from_env(tmp_path: Path, keys, monkeypatch) -> None:
    path = save_key(keys["ed25519"], tmp_path / "k.jwk", passphrase="s3cret")
    monkeypatch.setenv(PASSPHRASE_ENV, "s3cret")
    assert load_key(path).to_jwk() == keys["ed25519"].to_jwk()


def test_encrypted_wrong_and_missing_passphrase(tmp_path: Path, keys, monkeypatch) -> None:
    path = save_key(keys["ed25519"], tmp_path / "k.jwk", passphrase="s3cret")
    with pytest.raises(CredentialError, match="wrong passphrase") as info:
        load_key(path, passphrase="guess")
    assert info.value.code == "key_passphrase_wrong"
    monkeypatch.delenv(PASSPHRASE_ENV, raising=False)
    with pytest.raises(CredentialError, match=PASSPHRASE_ENV) as info:
        load_key(path)
    assert info.value.code == "key_passphrase_missing"
    monkeypatch.setenv(PASSPHRASE_ENV, "wrong")
    with pytest.raises(CredentialError) as info:
        load_key(path)
    assert info.value.code == "key_passphrase_wrong"


def test_empty_passphrase_refused(tmp_path: Path, keys) -> None:
    with pytest.raises(CredentialError) as info:
        save_key(keys["ed25519"], tmp_path / "k.jwk", passphrase="")
    assert info.value.code == "key_passphrase_missing"
    assert not (tmp_path / "k.jwk").exists()


def test_encrypted_file_with_huge_p2c_refused(tmp_path: Path, keys) -> None:
    path = save_key(keys["ed25519"], tmp_path / "k.jwk", passphrase="pw")
    wrapper = json.loads(path.read_text())
    parts = wrapper["jwe"].split(".")
    header = json.loads(base64.urlsafe_b64decode(parts[0] + "=="))
    header["p2c"] = 10**9
    parts[0] = base64.urlsafe_b64encode(json.dumps(header).encode()).rstrip(b"=").decode()
    wrapper["jwe"] = ".".join(parts)
    path.write_text(json.dumps(wrapper))
    with pytest.raises(KeyFormatError, match="p2c"):
        load_key(path, passphrase="pw")


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660])
def test_lax_permissions_refused(tmp_path: Path, keys, mode: int) -> None:
    path = save_key(keys["ed25519"], tmp_path / "k.jwk")
    path.chmod(mode)
    with pytest.raises(CredentialError, match=f"chmod 600 {path}") as info:
        load_key(path)
    assert info.value.code == "key_permissions"
    path.chmod(0o600)
    assert load_key(path).key_type == "Ed25519"


@pytest.mark.parametrize("content,message", [
    ("not json", "not a JSON key file"),
    ("[1, 2]", "JSON object"),
    ('{"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}', "no private part"),
    ('{"microcred_encrypted_key": 2, "jwe": "x"}', "unsupported encrypted key format"),
    ('{"microcred_encrypted_key": 1, "jwe": "a.b.c"}', "not a valid JWE"),
])
def test_load_rejects_non_keys(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "k.jwk"
    path.write_text(content)
    path.chmod(0o600)
    with pytest.raises(KeyFormatError, match=message) as info:
        load_key(path, passphrase="pw")
    assert str(path) in str(info.value)
    assert info.value.code == "invalid_key"


def test_load_missing_file(tmp_path: Path) -> None:
    with pytest.raises(KeyFormatError, match="cannot read key file .*missing.jwk"):
        load_key(tmp_path / "missing.jwk")


def test_key_file_usable_from_another_process(tmp_path: Path, keys) -> None:
    """A saved key loads in a fresh interpreter and its signature verifies here."""
    path = save_key(keys["p256"], tmp_path / "k.jwk")
    script = (
        "import sys; from issuer.keys.files import load_key; "
        "sys.stdout.write(load_key(sys.argv[1]).sign(b'cross-process').hex())"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(path)], capture_output=True, text=True, check=True
    )
    assert keys["p256"].public.verify(bytes.fromhex(result.stdout), b"cross-process") is True


def test_destroy_key_file_overwrites_then_deletes(tmp_path, monkeypatch):
    path = save_key(generate_key("ed25519"), tmp_path / "old.jwk")
    written = []
    real_write = os.write
    monkeypatch.setattr(os, "write", lambda fd, data: written.append(data) or real_write(fd, data))
    assert destroy_key_file(path) is True
    assert not path.exists() and written and b'"d"' not in written[0]
    assert destroy_key_file(path) is False                    # already gone: nothing to do
