"""``microcred init``: set up this installation (database, issuer identity, first key, status lists)."""
from __future__ import annotations

import click

from issuer.achievements.rules import ALIGNMENT_KEYS, SLUG, achievement_fields  # noqa: F401  (SLUG: importable here)
from issuer.config import Settings, load_settings
from issuer.setup import init_instance


def _settings() -> Settings:
    return load_settings()


@click.command()
@click.option("--name", prompt="Issuer name (your organisation)", help="The issuer's display name.")
@click.option("--url", "url", default=None, help="The issuer's public website.")
@click.option("--email", default=None, help="A contact email for the issuer.")
@click.option("--description", default=None)
def init(name: str, url: str | None, email: str | None, description: str | None) -> None:
    """Set up this installation: database, issuer identity (did:web), first Ed25519 key, status lists."""
    settings = _settings()
    issuer, created = init_instance(settings, name=name, url=url, email=email, description=description)
    click.echo(("Initialized " if created else "Already initialized: ") + f"{issuer.name} ({issuer.did})")
    click.echo(f"DID document: {settings.url('/.well-known/did.json')}")
    click.echo(f"Database: {settings.database_url.split('@')[-1]}")
