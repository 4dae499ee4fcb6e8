"""``microcred users create|list|set-password|disable|enable``: staff accounts of the web console.

    microcred users create alice --role admin --name "Alice HR"    # asks for the password twice
    printf '%s\n' "$PASSWORD" | microcred users create bob --role issuer --password-stdin
    microcred users list

Roles: ``admin`` (everything, including keys and users) and ``issuer`` (achievements and
awards). Passwords (12 characters or more) are stored only as salted scrypt hashes.
"""
from __future__ import annotations

import sys

import click

from issuer.access.staff import STAFF_ROLES
from issuer.cli.shell import CleanErrorsGroup
from issuer.cli.support import cli_services


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


@click.group(cls=CleanErrorsGroup)
def users() -> None:
    """Staff accounts for the web console (/admin)."""


@users.command("create")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(STAFF_ROLES),
              help="admin: everything, keys and users; issuer: achievements and awards.")
@click.option("--name", default=None, help="The person's name, shown in the console.")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
def create(username: str, role: str, name: str | None, password_stdin: bool) -> None:
    """Create an account (the password is asked for, or read from standard input)."""
    password = _read_password(password_stdin)
    user = cli_services().access.create_user(username, password, role, name=name)
    click.echo(f"Created {user.role} {user.username}; sign in at /admin/login")


@users.command("list")
def list_command() -> None:
    """List accounts: user name, role, state, last sign-in, name."""
    for row in cli_services().access.list_users():
        last = row.last_login_at.strftime("%Y-%m-%dT%H:%M:%SZ") if row.last_login_at else "-"
        click.echo(f"{row.username}\t{row.role}\t{'active' if row.active else 'disabled'}\t"
                   f"last sign-in {last}\t{row.name or ''}")


@users.command("set-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
def set_password_command(username: str, password_stdin: bool) -> None:
    """Set a new password; the account's open sessions end."""
    password = _read_password(password_stdin)
    user = cli_services().access.set_password(username, password)
    click.echo(f"Password changed for {user.username}; their sessions were ended")


def _set_active(username: str, active: bool) -> None:
    user = cli_services().access.set_active(username, active)
    click.echo(f"{user.username}: {'enabled' if active else 'disabled'}")


@users.command("disable")
@click.argument("username")
def disable(username: str) -> None:
    """Disable an account (it can no longer sign in; open sessions end)."""
    _set_active(username, False)


@users.command("enable")
@click.argument("username")
def enable(username: str) -> None:
    """Enable a disabled account again."""
    _set_active(username, True)
