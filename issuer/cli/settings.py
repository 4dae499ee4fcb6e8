"""``microcred settings``: installation settings HR sets, today the company's LinkedIn id.

A thin shell over :class:`issuer.sharing_service.SharingService` (the rules and the audit entry
live there); the console has the same form at ``/admin/settings``.
"""
from __future__ import annotations

import click

from issuer.cli.support import cli_services


@click.group()
def settings() -> None:
    """Installation settings: the company's LinkedIn id for "Add to LinkedIn"."""


@settings.command("show")
def settings_show() -> None:
    """Print the current settings."""
    current = cli_services().sharing.settings()
    click.echo(f"organisation name:    {current.organization}")
    click.echo(f"LinkedIn company id:  {current.linkedin_organization_id or '(not set: LinkedIn gets the name)'}")


@settings.command("linkedin")
@click.argument("company_id", required=False)
@click.option("--clear", is_flag=True, help="Remove the id (LinkedIn then gets the organisation's name).")
def settings_linkedin(company_id: str | None, clear: bool) -> None:
    """Set the company's LinkedIn id (COMPANY_ID: the number in linkedin.com/company/COMPANY_ID/admin).

    With it, "Add to LinkedIn" on every badge page links the company page and shows its logo.
    """
    if clear == bool(company_id):
        raise click.UsageError("give the LinkedIn company id, or --clear to remove it (not both)")
    saved = cli_services().sharing.set_linkedin_organization(None if clear else company_id, actor="cli")
    click.echo(f"LinkedIn company id set to {saved.linkedin_organization_id}: badges link your company page."
               if saved.linkedin_organization_id else
               f"LinkedIn company id removed: badges name \"{saved.organization}\".")
