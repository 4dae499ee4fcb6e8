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

from issuer.access.staff import StaffError, create_user, find_user, set_active, set_password
from issuer.cli.support import CleanErrorsGroup
from issuer.config import load_settings
from issuer.db.models_staff import STAFF_ROLES, StaffUser
from issuer.instance import open_instance


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


def _user(session, username: str) -> StaffUser:
    user = find_user(session, username)
    if user is None:
        raise StaffError(f"no user named {username!r}", code="unknown_user")
    return user


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
    with open_instance(load_settings()).begin() as session:
        user = create_user(session, username, password, role, name=name)
        username, role = user.username, user.role
    click.echo(f"Created {role} {username}; sign in at /admin/login")


@users.command("list")
def list_command() -> None:
    """List accounts: user name, role, state, last sign-in, name."""
    with open_instance(load_settings())() as session:
        rows = session.query(StaffUser).order_by(StaffUser.username).all()
        for row in rows:
            last = row.last_login_at.strftime("%Y-%m-%dT%H:%M:%SZ") if row.last_login_at else "-"
            click.echo(f"{row.username}\t{row.role}\t{'active' if row.active else 'disabled'}\t"
                       f"last sign-in {last}\t{row.name or ''}")


@users.command("set-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
def set_password_command(username: str, password_stdin: bool) -> None:
    """Set a new password; the account's open sessions end."""
    password = _read_password(password_stdin)
    with open_instance(load_settings()).begin() as session:
        set_password(session, _user(session, username), password)
    click.echo(f"Password changed for {username.strip().lower()}; their sessions were ended")


def _set_active(username: str, active: bool) -> None:
    with open_instance(load_settings()).begin() as session:
        set_active(session, _user(session, username), active)
    click.echo(f"{username.strip().lower()}: {'enabled' if active else 'disabled'}")


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
