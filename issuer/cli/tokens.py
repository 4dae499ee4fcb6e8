"""``microcred tokens create|list|revoke``: bearer tokens for the REST API and the VC-API.

    microcred tokens create --scope issue --name "LMS integration"   # prints the token once
    microcred tokens list
    microcred tokens revoke TOKEN_ID

Scopes: ``read`` (look things up, verify), ``issue`` (also issue, revoke, suspend, renew,
bulk), ``admin`` (also define achievements), and ``vcapi-issue``: only VC-API issuing
(``POST /credentials/issue``, off unless ``MICROCRED_VCAPI_ISSUING=1``), included in no other scope. Only a hash of
each token is stored: a lost token cannot be shown again; revoke it and create a new one.
"""
from __future__ import annotations

from datetime import datetime

import click

from issuer.access.tokens import SCOPES
from issuer.cli.shell import CleanErrorsGroup
from issuer.cli.support import cli_services


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else "-"


@click.group(cls=CleanErrorsGroup)
def tokens() -> None:
    """API tokens for the REST API (/api/v1) and the VC-API endpoints."""


@tokens.command("create")
@click.option("--scope", required=True, type=click.Choice(SCOPES),
              help="read < issue < admin: what the token may do; vcapi-issue: only VC-API issuing.")
@click.option("--name", default=None, help="What the token is for (shown by 'tokens list').")
def create(scope: str, name: str | None) -> None:
    """Create a token and print it once (it is stored only as a hash)."""
    row, secret = cli_services().access.create_token(scope=scope, name=name)
    click.echo(secret)
    click.echo(f"Created token {row.id} (scope {scope}). Store it now: it cannot be shown again.", err=True)


@tokens.command("list")
def list_command() -> None:
    """List tokens: id, scope, state, created, last used, name (never the token itself)."""
    for row in cli_services().access.list_tokens():
        state = f"revoked {_when(row.revoked_at)}" if row.revoked_at else "active"
        click.echo(f"{row.id}\t{row.scope}\t{state}\tcreated {_when(row.created_at)}\t"
                   f"last used {_when(row.last_used_at)}\t{row.name or ''}")


@tokens.command("revoke")
@click.argument("token_id", metavar="TOKEN_ID")
def revoke(token_id: str) -> None:
    """Revoke a token for good; requests with it are refused from now on."""
    row, changed = cli_services().access.revoke_token(token_id)
    click.echo(f"{row.id}: revoked" + ("" if changed else " (already revoked)"))
