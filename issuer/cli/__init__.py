"""The ``microcred`` command: a thin shell over :mod:`issuer` and :mod:`verifier`.

Each command lives in a module of this package; the modules are imported as modules (not
``from issuer.cli.serve import serve``), so ``issuer.cli.serve`` stays the module and not the
command of the same name (``import issuer.cli.serve as served`` gives the module: the slow-client
benchmark starts the server that way).
"""
from __future__ import annotations

import json
import sys

import click

from issuer.cli import achievements as cli_achievements
from issuer.cli import awards as cli_awards
from issuer.cli import demo as cli_demo
from issuer.cli import instance as cli_instance
from issuer.cli import keys as cli_keys
from issuer.cli import serve as cli_serve
from issuer.cli import tokens as cli_tokens
from issuer.cli import users as cli_users
from issuer.cli.bulk import issue_bulk
from issuer.cli.share import mail, profile
from issuer.cli.support import CleanErrorsGroup
from issuer.keys.files import load_key
from issuer.signing import SUPPORTED, sign_credential
from verifier.cli import verify
from verifier.errors import CredentialError
from verifier.web.cli import verifier as verifier_group

MAX_CREDENTIAL_BYTES = 2 * 1024 * 1024


@click.group(cls=CleanErrorsGroup)
@click.version_option(package_name="microcred", prog_name="microcred")
def main() -> None:
    """microcred: Open Badges 3.0 credentials for workplace skills."""


main.add_command(cli_keys.keys)
main.add_command(verify)
for _command in (cli_instance.init, cli_achievements.achievements, cli_awards.issue, cli_awards.revoke,
                 cli_awards.suspend, cli_awards.unsuspend, cli_awards.renew_command, cli_awards.expiring_command):
    main.add_command(_command)
main.add_command(cli_serve.serve)
main.add_command(cli_demo.demo)
main.add_command(issue_bulk)
main.add_command(cli_tokens.tokens)
main.add_command(cli_users.users)
main.add_command(verifier_group)
main.add_command(profile)
main.add_command(mail)


def _read_credential(source: str) -> dict:
    if source == "-":
        raw = sys.stdin.buffer.read(MAX_CREDENTIAL_BYTES + 1)
        name = "standard input"
    else:
        with open(source, "rb") as handle:
            raw = handle.read(MAX_CREDENTIAL_BYTES + 1)
        name = source
    if len(raw) > MAX_CREDENTIAL_BYTES:
        raise CredentialError(f"{name} is larger than {MAX_CREDENTIAL_BYTES // (1024 * 1024)} MiB",
                              code="too_large")
    try:
        credential = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CredentialError(f"{name} is not JSON: {exc}", code="not_json") from exc
    except RecursionError as exc:
        raise CredentialError(f"{name} is nested too deeply to be a credential", code="too_complex") from exc
    if not isinstance(credential, dict):
        raise CredentialError(f"{name} holds JSON but not a JSON object", code="invalid_credential")
    return credential


@main.command()
@click.argument("credential_file", metavar="CREDENTIAL.json")
@click.option("--key", "key_file", required=True, metavar="KEY.jwk", help="Private key file (JWK).")
@click.option("--verification-method", required=True, metavar="URL",
              help="The key's verification method URL, e.g. did:web:example.com#key-1.")
@click.option("--cryptosuite", type=click.Choice(SUPPORTED), default="eddsa-rdfc-2022", show_default=True)
@click.option("--created", metavar="ISO8601", help="Proof creation time (default: now, UTC).")
def sign(credential_file: str, key_file: str, verification_method: str, cryptosuite: str,
         created: str | None) -> None:
    """Sign CREDENTIAL.json ('-' for standard input) and print the result.

    Prints the signed credential as JSON, or the compact VC-JWT with --cryptosuite jwt.
    """
    credential = _read_credential(credential_file)
    key = load_key(key_file)
    signed = sign_credential(credential, key, verification_method=verification_method,
                             cryptosuite=cryptosuite, created=created)
    click.echo(signed if isinstance(signed, str) else json.dumps(signed, indent=2, ensure_ascii=False))
