"""``microcred keys`` commands: generate, show and import signing keys.

On any error the commands print exactly one ``error: ...`` line on stderr,
nothing on stdout, and exit with status 2.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from issuer.cli_support import CleanErrorsGroup
from issuer.keys import (
    PASSPHRASE_ENV,
    KeyPair,
    KeyPassphraseMissingError,
    generate_key,
    key_from_ed25519_secret,
    key_from_jwk,
    load_key,
    save_key,
)
from verifier.errors import CredentialError, KeyFormatError
from verifier.keys import RSA

_TYPE_LABELS = {"Ed25519": "ed25519", "P-256": "p256", "RSA": "rsa"}


@click.group(cls=CleanErrorsGroup)
def keys() -> None:
    """Generate, inspect and import issuer signing keys."""


def _default_path(key: KeyPair) -> Path:
    return Path("keys") / f"{_TYPE_LABELS[key.key_type]}-{key.public.thumbprint()[:12]}.jwk"


def _passphrase(encrypt: bool) -> str | None:
    if not encrypt:
        return None
    value = os.environ.get(PASSPHRASE_ENV)
    if not value:
        raise KeyPassphraseMissingError(f"--encrypt needs the passphrase in {PASSPHRASE_ENV}")
    return value


def _print_public(path: Path, key: KeyPair) -> None:
    public = key.public
    click.echo(f"file: {path}")
    click.echo(f"type: {key.key_type}")
    click.echo(f"publicKeyMultibase: {public.to_multibase()}")
    if key.key_type != RSA:
        click.echo(f"did:key: {public.to_did_key()}")
    click.echo(f"publicJwk: {json.dumps(key.to_jwk(private=False), sort_keys=True)}")


def _store(key: KeyPair, out: str | None, force: bool, passphrase: str | None) -> None:
    path = save_key(key, Path(out) if out else _default_path(key), passphrase=passphrase, force=force)
    _print_public(path, key)


def _key_from_jwk_file(path: str) -> KeyPair:
    try:
        return key_from_jwk(json.loads(Path(path).read_text(encoding="utf-8")))
    except ValueError as exc:
        raise KeyFormatError(f"{path} is not a JSON file: {exc}") from exc
    except CredentialError as exc:
        raise type(exc)(f"{path}: {exc}", code=exc.code) from exc


_out_option = click.option("--out", type=click.Path(dir_okay=False), help="Key file to write.")
_force_option = click.option("--force", is_flag=True, help="Overwrite an existing key file.")
_encrypt_option = click.option(
    "--encrypt", is_flag=True, help=f"Encrypt the key with the passphrase in {PASSPHRASE_ENV}."
)


@keys.command()
@click.option(
    "--type", "key_type", required=True,
    type=click.Choice(["ed25519", "p256", "rsa"], case_sensitive=False), help="Key algorithm.",
)
@_out_option
@_force_option
@_encrypt_option
def generate(key_type: str, out: str | None, force: bool, encrypt: bool) -> None:
    """Generate a new key and save it (default: keys/<type>-<thumbprint>.jwk)."""
    passphrase = _passphrase(encrypt)
    _store(generate_key(key_type), out, force, passphrase)


@keys.command()
@click.argument("key_file", type=click.Path(dir_okay=False))
def show(key_file: str) -> None:
    """Print the public forms of an existing key file."""
    _print_public(Path(key_file), load_key(key_file))


@keys.command("import")
@click.option("--jwk", "jwk_file", type=click.Path(dir_okay=False), help="Private JWK file.")
@click.option(
    "--ed25519-secret", "secret",
    help="Ed25519 seed (64 hex chars) or 'z3u2...' multibase; '-' reads it from stdin.",
)
@_out_option
@_force_option
@_encrypt_option
def import_key(
    jwk_file: str | None, secret: str | None, out: str | None, force: bool, encrypt: bool
) -> None:
    """Import an existing private key and save it as a key file."""
    if (jwk_file is None) == (secret is None):
        raise click.UsageError("give exactly one of --jwk or --ed25519-secret")
    passphrase = _passphrase(encrypt)
    if jwk_file is not None:
        key = _key_from_jwk_file(jwk_file)
    else:
        key = key_from_ed25519_secret(sys.stdin.readline() if secret == "-" else secret)
    _store(key, out, force, passphrase)
