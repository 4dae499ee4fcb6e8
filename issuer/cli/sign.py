"""``microcred sign``: sign a credential file with a key file (no installation needed)."""
from __future__ import annotations

import json
import sys

import click

from issuer.keys.files import load_key
from issuer.signing import SUPPORTED, sign_credential
from verifier.errors import CredentialError

MAX_CREDENTIAL_BYTES = 2 * 1024 * 1024



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


@click.command()
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
