"""Issuer signing keys: generation, signing, JWK import/export and key files on disk.

Key files hold a private JWK as JSON, or — with a passphrase — a JWE
(PBES2-HS512+A256KW / A256GCM) wrapping it::

    {"microcred_encrypted_key": 1, "jwe": "<compact JWE>"}

Files are written atomically with mode 0600 and refused on load if group- or
world-accessible. :func:`destroy_key_file` removes one for good (rotation, withdrawal).
"""
from __future__ import annotations

import json
import os
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from jwcrypto import jwa, jwe, jwk
from jwcrypto.common import JWException

from verifier import multiformats as mf
from verifier.errors import CredentialError, KeyFormatError, KeyTypeMismatchError
from verifier.keys import (
    ED25519,
    P256,
    PRIVATE_JWK_MEMBERS,
    RSA,
    PublicKey,
    b64url_decode,
    b64url_encode,
    int_to_b64url,
    public_key_from_jwk,
)

PASSPHRASE_ENV = "MICROCRED_KEY_PASSPHRASE"  # noqa: S105 - an environment variable name
RSA_BITS = 3072
ENCRYPTED_FORMAT_VERSION = 1
JWE_ALG = "PBES2-HS512+A256KW"
JWE_ENC = "A256GCM"
#: PBKDF2-HMAC-SHA512 iterations for new files (about 0.2 s on a current CPU)
PBKDF2_ITERATIONS = 600_000
#: upper bound accepted when loading, so a crafted file cannot make us spin for minutes
MAX_PBKDF2_ITERATIONS = 2_000_000

_PRIVATE_CLASSES = {
    ED25519: ed25519.Ed25519PrivateKey,
    P256: ec.EllipticCurvePrivateKey,
    RSA: rsa.RSAPrivateKey,
}
_TYPE_ALIASES = {"ed25519": ED25519, "p256": P256, "rsa": RSA}
_JWCRYPTO_LIMIT_LOCK = threading.Lock()


class KeyExistsError(CredentialError):
    """Refused to overwrite an existing key file."""

    code = "key_exists"


class KeyPassphraseMissingError(CredentialError):
    """An encrypted key file was given without a passphrase."""

    code = "key_passphrase_missing"


class KeyPassphraseWrongError(CredentialError):
    """The passphrase does not decrypt the key file."""

    code = "key_passphrase_wrong"


class KeyPermissionsError(CredentialError):
    """A private key file is readable by group or others."""

    code = "key_permissions"


def normalize_key_type(name: str) -> str:
    """Map ``ed25519``/``p256``/``rsa`` (any case, ``P-256`` too) to ``Ed25519``/``P-256``/``RSA``."""
    canonical = _TYPE_ALIASES.get(str(name).lower().replace("-", ""))
    if canonical is None:
        raise KeyFormatError(f"unknown key type {name!r}; use ed25519, p256 or rsa")
    return canonical


@dataclass
class KeyPair:
    """A private signing key of type ``Ed25519``, ``P-256`` or ``RSA``."""

    key_type: str
    private_key: object

    def __post_init__(self) -> None:
        expected = _PRIVATE_CLASSES.get(self.key_type)
        if expected is None:
            raise KeyFormatError(f"unsupported key type {self.key_type!r}")
        if not isinstance(self.private_key, expected):
            raise KeyTypeMismatchError(f"private key object is not an {self.key_type} key")
        PublicKey(self.key_type, self.private_key.public_key())  # checks curve and RSA size

    @property
    def public(self) -> PublicKey:
        """The matching public key."""
        return PublicKey(self.key_type, self.private_key.public_key())

    def sign(self, data: bytes) -> bytes:
        """Sign ``data``: Ed25519 raw, P-256 ECDSA/SHA-256 as raw ``r || s``, RSA PKCS#1 v1.5/SHA-256."""
        if self.key_type == ED25519:
            return self.private_key.sign(data)
        if self.key_type == P256:
            r, s = decode_dss_signature(self.private_key.sign(data, ec.ECDSA(hashes.SHA256())))
            return r.to_bytes(32, "big") + s.to_bytes(32, "big")
        return self.private_key.sign(data, padding.PKCS1v15(), hashes.SHA256())

    def to_jwk(self, *, private: bool = True) -> dict:
        """JWK with ``kid`` = RFC 7638 thumbprint; private members only if ``private``."""
        public = self.public
        out = public.to_jwk()
        if private:
            out.update(self._private_jwk_members())
        out["kid"] = public.thumbprint()
        return out

    def _secret_bytes(self) -> bytes:
        """The 32-byte Ed25519 seed or P-256 private scalar."""
        if self.key_type == ED25519:
            return self.private_key.private_bytes(
                serialization.Encoding.Raw,
                serialization.PrivateFormat.Raw,
                serialization.NoEncryption(),
            )
        return self.private_key.private_numbers().private_value.to_bytes(32, "big")

    def _private_jwk_members(self) -> dict:
        if self.key_type != RSA:
            return {"d": b64url_encode(self._secret_bytes())}
        numbers = self.private_key.private_numbers()
        return {
            name: int_to_b64url(value)
            for name, value in (
                ("d", numbers.d), ("p", numbers.p), ("q", numbers.q),
                ("dp", numbers.dmp1), ("dq", numbers.dmq1), ("qi", numbers.iqmp),
            )
        }

    def to_jwcrypto(self) -> jwk.JWK:
        """The private key as a jwcrypto JWK, for JWS signing."""
        return jwk.JWK(**self.to_jwk(private=True))

    def private_multibase(self) -> str:
        """Multikey ``secretKeyMultibase`` (Ed25519 ``z3u2...``, P-256); not defined for RSA."""
        if self.key_type == RSA:
            raise KeyTypeMismatchError("RSA keys have no private multibase form")
        codec = mf.ED25519_PRIV if self.key_type == ED25519 else mf.P256_PRIV
        return mf.encode_multikey(codec, self._secret_bytes())


def generate_key(key_type: str) -> KeyPair:
    """Generate a fresh key: ``ed25519``, ``p256`` or ``rsa`` (3072 bits)."""
    canonical = normalize_key_type(key_type)
    if canonical == ED25519:
        return KeyPair(ED25519, ed25519.Ed25519PrivateKey.generate())
    if canonical == P256:
        return KeyPair(P256, ec.generate_private_key(ec.SECP256R1()))
    return KeyPair(RSA, rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS))


def key_from_jwk(jwk_dict: dict) -> KeyPair:
    """Build a key pair from a private JWK; the public members must match the private ones."""
    if not isinstance(jwk_dict, dict):
        raise KeyFormatError("JWK must be a JSON object")
    if "d" not in jwk_dict:
        raise KeyFormatError("JWK has no private part ('d')")
    public = public_key_from_jwk({k: v for k, v in jwk_dict.items() if k not in PRIVATE_JWK_MEMBERS})
    try:
        if public.key_type == ED25519:
            d = b64url_decode(jwk_dict["d"], "JWK member 'd'")
            private = ed25519.Ed25519PrivateKey.from_private_bytes(d)
        elif public.key_type == P256:
            d = b64url_decode(jwk_dict["d"], "JWK member 'd'")
            if len(d) != 32:
                raise KeyFormatError(f"P-256 JWK 'd' must be 32 bytes, got {len(d)}")
            private = ec.derive_private_key(int.from_bytes(d, "big"), ec.SECP256R1())
        else:
            private = _rsa_private_from_jwk(jwk_dict, public.key.public_numbers())
    except ValueError as exc:
        raise KeyFormatError(f"JWK private part is invalid: {exc}") from exc
    pair = KeyPair(public.key_type, private)
    if pair.public.to_jwk() != public.to_jwk():
        raise KeyFormatError("JWK private part does not match its public part")
    return pair


def _rsa_private_from_jwk(jwk_dict: dict, public_numbers: rsa.RSAPublicNumbers) -> rsa.RSAPrivateKey:
    values = {}
    for name in ("d", "p", "q", "dp", "dq", "qi"):
        if name not in jwk_dict:
            raise KeyFormatError(f"RSA JWK is missing {name!r}; d, p, q, dp, dq and qi are required")
        values[name] = int.from_bytes(b64url_decode(jwk_dict[name], f"JWK member {name!r}"), "big")
    return rsa.RSAPrivateNumbers(
        p=values["p"], q=values["q"], d=values["d"],
        dmp1=values["dp"], dmq1=values["dq"], iqmp=values["qi"],
        public_numbers=public_numbers,
    ).private_key()


def key_from_ed25519_secret(value: str) -> KeyPair:
    """Ed25519 key from a 32-byte seed as 64 hex chars, or a ``z3u2...`` private multibase."""
    value = value.strip() if isinstance(value, str) else ""
    if len(value) == 64 and all(c in "0123456789abcdefABCDEF" for c in value):
        seed = bytes.fromhex(value)
    elif value.startswith("z"):
        codec, seed = mf.decode_multikey(value)
        if codec != mf.ED25519_PRIV:
            raise KeyTypeMismatchError(f"multibase secret is {codec}, not ed25519-priv")
    else:
        raise KeyFormatError(
            "Ed25519 secret must be 64 hex characters or a 'z3u2...' private multibase"
        )
    return KeyPair(ED25519, ed25519.Ed25519PrivateKey.from_private_bytes(seed))


def coerce_key(key: object) -> KeyPair:
    """Accept a :class:`KeyPair` as is, or a private JWK dict."""
    if isinstance(key, KeyPair):
        return key
    if isinstance(key, dict):
        return key_from_jwk(key)
    raise KeyFormatError(f"expected a KeyPair or a private JWK, got {type(key).__name__}")


@contextmanager
def _pbkdf2_limit(iterations: int) -> Iterator[None]:
    """Raise jwcrypto's p2c ceiling (16384, its CVE-2023-6681 default) for one call.

    jwcrypto's maintainers document the module-level default as the knob for
    applications that need more iterations; the lock keeps concurrent calls sane.
    """
    with _JWCRYPTO_LIMIT_LOCK:
        previous = jwa.default_max_pbkdf2_iterations
        jwa.default_max_pbkdf2_iterations = max(previous, iterations)
        try:
            yield
        finally:
            jwa.default_max_pbkdf2_iterations = previous


def _encrypt(plaintext: str, passphrase: str) -> str:
    header = {"alg": JWE_ALG, "enc": JWE_ENC, "p2c": PBKDF2_ITERATIONS, "cty": "jwk+json"}
    token = jwe.JWE(plaintext.encode("utf-8"), protected=json.dumps(header))
    with _pbkdf2_limit(PBKDF2_ITERATIONS):
        token.add_recipient(jwk.JWK.from_password(passphrase))
    return token.serialize(compact=True)


def _decrypt(compact: str, passphrase: str, path: Path) -> bytes:
    token = jwe.JWE()
    token.allowed_algs = [JWE_ALG, JWE_ENC]
    try:
        token.deserialize(compact)
        header = token.jose_header
    except (JWException, ValueError) as exc:
        raise KeyFormatError(f"{path}: encrypted key is not a valid JWE: {exc}") from exc
    p2c = header.get("p2c")
    if header.get("alg") != JWE_ALG or header.get("enc") != JWE_ENC:
        raise KeyFormatError(f"{path}: encrypted key must use {JWE_ALG} with {JWE_ENC}")
    if not isinstance(p2c, int) or not 1 <= p2c <= MAX_PBKDF2_ITERATIONS:
        raise KeyFormatError(f"{path}: encrypted key has an unacceptable p2c {p2c!r}")
    try:
        with _pbkdf2_limit(p2c):
            token.decrypt(jwk.JWK.from_password(passphrase))
    except JWException as exc:
        raise KeyPassphraseWrongError(
            f"wrong passphrase for {path} (or the file is corrupted)"
        ) from exc
    return token.payload


def save_key(
    key: KeyPair, path: str | os.PathLike, *, passphrase: str | None = None, force: bool = False
) -> Path:
    """Write ``key`` as a private JWK (JWE-encrypted if ``passphrase``) with mode 0600.

    The write is atomic (temp file in the same directory, fsync, rename). An
    existing file is only replaced with ``force=True``; otherwise
    :class:`KeyExistsError`. A missing parent directory is created with mode 0700.
    """
    path = Path(path)
    if passphrase == "":
        raise KeyPassphraseMissingError("the key passphrase is empty")
    if path.exists() and not force:
        raise KeyExistsError(f"{path} already exists; use --force to overwrite it")
    text = json.dumps(key.to_jwk(private=True), indent=2)
    if passphrase is not None:
        text = json.dumps(
            {"microcred_encrypted_key": ENCRYPTED_FORMAT_VERSION, "jwe": _encrypt(text, passphrase)},
            indent=2,
        )
    parent = path.parent
    if not parent.exists():
        parent.mkdir(parents=True, mode=0o700)
        os.chmod(parent, 0o700)
    tmp = parent / f".{path.name}.{secrets.token_hex(8)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        if force:
            os.replace(tmp, path)
        else:
            _link_no_clobber(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_dir(parent)
    return path


def destroy_key_file(path: str | os.PathLike) -> bool:
    """Delete a private key file; True if there was one.

    The file is first overwritten in place with random bytes (fsynced), then unlinked, and
    the directory entry's removal is fsynced. The overwrite is best effort only: on
    journaling or copy-on-write filesystems, SSDs and backups the old blocks may survive,
    so what this guarantees is "deleted; nothing keeps reading it". Keys that must be
    unrecoverable also need the disk (or its backups) handled accordingly.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return False
    try:
        fd = os.open(path, os.O_WRONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        fd = None
    if fd is not None:
        try:
            os.write(fd, secrets.token_bytes(max(size, 1)))
            os.fsync(fd)
        finally:
            os.close(fd)
    path.unlink(missing_ok=True)
    _fsync_dir(path.parent)
    return True


def _link_no_clobber(tmp: Path, path: Path) -> None:
    """Publish ``tmp`` at ``path`` atomically, failing if ``path`` appeared meanwhile."""
    try:
        os.link(tmp, path)
    except FileExistsError as exc:
        raise KeyExistsError(f"{path} already exists; use --force to overwrite it") from exc


def _fsync_dir(directory: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def load_key(path: str | os.PathLike, *, passphrase: str | None = None) -> KeyPair:
    """Read a key file written by :func:`save_key` (plain or encrypted).

    For an encrypted file without ``passphrase``, ``$MICROCRED_KEY_PASSPHRASE`` is used.
    """
    path = Path(path)
    try:
        mode = path.stat().st_mode
        if os.name == "posix" and mode & 0o077:
            raise KeyPermissionsError(
                f"{path} is accessible by group or others (mode {mode & 0o777:o}); "
                f"run: chmod 600 {path}"
            )
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise KeyFormatError(f"cannot read key file {path}: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise KeyFormatError(f"{path} is not a JSON key file: {exc}") from exc
    if isinstance(data, dict) and "microcred_encrypted_key" in data:
        data = _load_encrypted(data, path, passphrase)
    try:
        return key_from_jwk(data)
    except CredentialError as exc:
        raise type(exc)(f"{path} is not a usable private key: {exc}", code=exc.code) from exc


def _load_encrypted(wrapper: dict, path: Path, passphrase: str | None) -> object:
    if wrapper.get("microcred_encrypted_key") != ENCRYPTED_FORMAT_VERSION or not isinstance(
        wrapper.get("jwe"), str
    ):
        raise KeyFormatError(f"{path}: unsupported encrypted key format")
    if passphrase is None:
        passphrase = os.environ.get(PASSPHRASE_ENV)
    if not passphrase:
        raise KeyPassphraseMissingError(
            f"{path} is encrypted; give a passphrase via {PASSPHRASE_ENV}"
        )
    plaintext = _decrypt(wrapper["jwe"], passphrase, path)
    try:
        return json.loads(plaintext)
    except ValueError as exc:
        raise KeyFormatError(f"{path}: decrypted content is not JSON") from exc
