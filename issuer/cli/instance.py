"""``microcred init``: set up this installation (database, issuer identity, first key, status lists).

Its settings (base URL, keys folder, a named database) are then kept in the instance folder
(:func:`issuer.config.save_settings`), so later commands find the installation without them.
"""
from __future__ import annotations

import click

from issuer.achievements.rules import ALIGNMENT_KEYS, SLUG, achievement_fields  # noqa: F401  (SLUG: importable here)
from issuer.cli.support import cli_services
from issuer.config import save_settings


@click.command()
@click.option("--name", prompt="Issuer name (your organisation)", help="The issuer's display name.")
@click.option("--url", "url", default=None, help="The issuer's public website.")
@click.option("--email", default=None, help="A contact email for the issuer.")
@click.option("--description", default=None)
def init(name: str, url: str | None, email: str | None, description: str | None) -> None:
    """Set up this installation: database, issuer identity (did:web), first Ed25519 key, status lists."""
    services = cli_services()
    done = services.setup.init(name=name, url=url, email=email, description=description)
    settings = services.runtime.settings
    issuer = done.issuer
    click.echo(("Initialized " if done.created else "Already initialized: ") + f"{issuer.name} ({issuer.did})")
    click.echo(f"DID document: {settings.did_document_location}")
    click.echo(f"Database: {settings.database_url.split('@')[-1]}")
    click.echo(f"Settings kept in {save_settings(settings)} (other commands use them; the environment overrides)")
