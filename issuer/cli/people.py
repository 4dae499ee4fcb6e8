"""``microcred person`` and ``microcred retention``: data-protection requests and retention, from the shell.

    microcred person export alex@example.com --out alex.json     # everything held about them (JSON)
    microcred person erase alex@example.com --yes                # revoke their badges, erase their data
    microcred retention purge --dry-run                          # what retention would remove now

Thin shells over :class:`issuer.personal_data.service.PersonalDataService`: parse, call one service
function, print. An export written to a file is created new, readable by its owner only (it is
personal data). Erasure asks for confirmation unless ``--yes``; the audit log records the login
name that ran it (``cli:<user>``). ``retention purge`` runs the purge by hand: it also runs daily by
itself (``microcred serve`` or ``microcred worker``: :data:`issuer.tasks.names.SCHEDULE`, docs/operations.md).
Both print every count the service returns, in the words of :mod:`issuer.personal_data.summary`.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import click

from issuer.cli.support import cli_actor, cli_services
from issuer.errors import NotFound
from issuer.personal_data.summary import erasure_counts, purge_counts


@click.group()
def person() -> None:
    """Data-protection requests: export or erase what the installation holds about a person."""


@person.command("export")
@click.argument("email")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this new file (readable by you only) instead of standard output.")
def export_command(email: str, out: Path | None) -> None:
    """Print everything held about EMAIL as JSON: badges, emails, audit entries, profile settings."""
    document = cli_services().people.export(email)
    if not any(document[k] for k in ("recipients", "messages", "bulk_uploads", "vcapi_credentials")):
        raise NotFound("Nothing is held about this address (never awarded, or erased).", code="unknown_person")
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if out is None:
        click.echo(text, nl=False)
        return
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)     # FileExistsError: never overwritten
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    click.echo(f"Written to {out} ({len(document['awards'])} badge(s), {len(document['messages'])} email(s)).")


@person.command("erase")
@click.argument("email")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def erase_command(email: str, yes: bool) -> None:
    """Revoke EMAIL's badges and erase their personal data (database, emails, mail files). Cannot be undone."""
    if not yes:
        click.confirm(f"Revoke every badge of {email} and erase their personal data? This cannot be undone",
                      abort=True, err=True)
    erasure = cli_services().people.erase(email, actor=cli_actor())
    if erasure.nothing:
        click.echo("Nothing is held about this address (never awarded, or erased already); nothing changed.")
        return
    click.echo(f"Erased: {', '.join(erasure_counts(erasure))}.")
    if erasure.files_left:
        click.echo(f"warning: {erasure.files_left} mail file(s) could not be deleted yet; the next erasure or "
                   "'microcred retention purge' deletes them.", err=True)


@click.group()
def retention() -> None:
    """Remove personal data kept longer than the retention settings allow (docs/personal-data.md)."""


@retention.command("purge")
@click.option("--dry-run", is_flag=True, help="Only count what would be removed.")
def purge_command(dry_run: bool) -> None:
    """Apply the retention settings now: old sent emails, and ended badges' personal data."""
    purged = cli_services().people.purge(dry_run=dry_run)
    verb = "would remove" if dry_run else "removed"
    click.echo(f"Retention {verb}: {', '.join(purge_counts(purged))}.")
