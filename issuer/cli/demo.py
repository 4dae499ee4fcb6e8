"""``microcred demo``: a ready-to-browse issuer with a small workplace skills framework.

Sets up the issuer for the configured base URL if there is none yet (what ``microcred init``
does: Example Corp's People Team, an Ed25519 key, revocation and suspension lists), five
achievements aligned to ESCO and O*NET skills, and issues them to six sample employees
(:meth:`issuer.setup_service.SetupService.demo`, data in :mod:`issuer.demo_data`). It is
idempotent: running it again finds everything in place and adds nothing. Any error is one
``error:`` line and exit status 2.
"""
from __future__ import annotations

import os

import click

from issuer.cli.support import clean_errors, cli_services
from issuer.config import load_settings


@click.command("demo")
def demo() -> None:
    """Set up a demo issuer with a skills framework and sample awards (safe to run again)."""
    with clean_errors():
        settings = load_settings()
        done = cli_services(settings).setup.demo()
    result, admin = done.seeded, done.admin
    state = "created" if result.issuer_created else "already set up"
    click.echo(f"issuer: {result.issuer_did} ({state})")
    click.echo(f"DID document: {settings.did_document_location}")
    click.echo(f"achievements: {result.achievements_total} ({result.achievements_created} new)")
    click.echo(f"awards: {len(result.awards)} ({result.awards_created} new)")
    for award in result.awards:
        click.echo(f"  {award.url}  {award.achievement}: {award.recipient}")
    if done.emails_sent:
        where = "instance/outbox-mail/" if not os.environ.get("MICROCRED_SMTP_HOST") else "the SMTP server"
        click.echo(f"award emails: {done.emails_sent} sent to {where}")
    if admin.password:
        click.echo(f"HR console: {settings.url('/admin/')}  user {admin.username}, password {admin.password} "
                   f"(kept in {admin.password_file})")
    hint = " --allow-http-host HOST" if settings.base_url.startswith("http:") else ""
    click.echo(f"Serve them with 'microcred serve'; check one with 'microcred verify URL{hint}'.")
