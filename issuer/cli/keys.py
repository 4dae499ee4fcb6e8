"""``microcred keys`` commands: key files (generate, show, import) and the issuer's keys (list, rotate, revoke).

``rotate`` makes a new key current and destroys the old private key file (optionally
exporting it once, encrypted); ``revoke KEY --compromised`` withdraws a key from the
issuer's published documents and re-issues the awards it signed
(:class:`issuer.keys.service.KeyService`).

On any error the commands print exactly one ``error: ...`` line on stderr, nothing on
stdout, and exit with the error's status (2 for bad input or an unknown key).
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from issuer.cli.shell import CleanErrorsGroup
from issuer.cli.support import ProgressBar, cli_actor, cli_services
from issuer.keys.files import (
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
        key = key_from_ed25519_secret(sys.stdin.readline() if secret == "-" else secret)  # noqa: S105 - "-" is stdin
    _store(key, out, force, passphrase)


# ---- the issuer's keys (database + keys folder of this installation: issuer.keys.service)

@keys.command("list")
def list_keys() -> None:
    """List the issuer's keys: KEY_ID, type, state, created, verification method."""
    for key in cli_services().keys.list().keys:
        click.echo(f"{key.id}\t{key.type}\t{key.state}\t{key.created:%Y-%m-%d}\t{key.method}")


@keys.command("rotate")
@click.option("--export-old", "export_old", type=click.Path(dir_okay=False),
              help=f"First write the old private key to this file, encrypted with the passphrase in "
                   f"{PASSPHRASE_ENV} (asked for if unset).")
def rotate(export_old: str | None) -> None:
    """Make a new Ed25519 signing key current and destroy the old private key file.

    The old public key stays published, so everything it signed still verifies.
    """
    export_passphrase = None
    if export_old is not None:
        if Path(export_old).exists():
            raise click.UsageError(f"{export_old} already exists; the old key is exported to a new file only")
        export_passphrase = os.environ.get(PASSPHRASE_ENV) or click.prompt(
            "Passphrase to encrypt the exported key", hide_input=True, confirmation_prompt=True, err=True)
    rotated = cli_services().keys.rotate(actor=cli_actor(), export_old=Path(export_old) if export_old else None,
                                         export_passphrase=export_passphrase)
    click.echo(f"Current key: {rotated.method} (earlier keys stay in the DID document; "
               "the old private key file was deleted)")
    if rotated.exported_to:
        click.echo(f"The old private key was exported, encrypted, to {rotated.exported_to}")


@keys.command("revoke")
@click.argument("key_ref", metavar="KEY_ID")
@click.option("--compromised", is_flag=True,
              help="The key may be known to someone else: withdraw it and re-issue what it signed.")
@click.option("--reason", required=True, help="Why (kept in the audit log).")
def revoke(key_ref: str, compromised: bool, reason: str) -> None:
    """Withdraw a compromised key (KEY_ID as 'microcred keys list' shows it, e.g. key-1).

    The key leaves the DID document and the JWKS, its private key file is deleted, and
    every active award it signed is re-issued with the current key (the old credential is
    superseded; the recipient is emailed the new one). Running it again finishes an
    interrupted re-issue.
    """
    if not compromised:
        raise click.UsageError("only --compromised is supported; to stop signing with a key, run 'keys rotate'")
    services, progress = cli_services(), ProgressBar("re-issuing")
    try:
        done = services.keys.withdraw(key_ref, reason=reason, actor=cli_actor(), progress=progress)
    finally:
        progress.close()
    click.echo(f"{done.method}: " + ("withdrawn (no longer published; private key file deleted)"
                                     if done.changed else "already withdrawn"))
    count = len(done.reissued)
    click.echo(f"{count} badge{'' if count == 1 else 's'} re-issued with the current key"
               + ("; the recipients were emailed the new credentials" if count else ""))
    if count:
        services.awards.deliver_mail()
