"""``microcred demo``: a ready-to-browse issuer with a small workplace skills framework.

Sets up the issuer for the configured base URL if there is none yet (what ``microcred init``
does: Example Corp's People Team, an Ed25519 key, revocation and suspension lists), five
achievements aligned to ESCO and O*NET skills, and issues them to six sample employees
(:meth:`issuer.setup_service.SetupService.demo`, data in :mod:`issuer.demo_data`). It is
idempotent: running it again finds everything in place and adds nothing. Its settings are kept
in the instance folder (:func:`issuer.config.save_settings`) for the other commands. With
``--serve`` it then runs ``microcred serve`` (``scripts/demo.sh`` does), and says so instead of
telling you to. Any error is one ``error:`` line and exit status 2.
"""
from __future__ import annotations

import os
from urllib.parse import urlsplit

import click

from issuer.cli.serve import serve
from issuer.cli.support import clean_errors, cli_services
from issuer.config import load_settings, save_settings


@click.command("demo")
@click.option("--serve", "then_serve", is_flag=True, help="Then serve it (as 'microcred serve' does) until Ctrl-C.")
@click.option("--host", default="127.0.0.1", show_default=True, help="With --serve: the address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=None,
              help="With --serve: the port (default: the base URL's).")
@click.pass_context
def demo(ctx: click.Context, then_serve: bool, host: str, port: int | None) -> None:
    """Set up a demo issuer with a skills framework and sample awards (safe to run again)."""
    with clean_errors():
        settings = load_settings()
        done = cli_services(settings).setup.demo()
        saved = save_settings(settings)
    result, admin = done.seeded, done.admin
    state = "created" if result.issuer_created else "already set up"
    click.echo(f"issuer: {result.issuer_did} ({state})")
    click.echo(f"DID document: {settings.did_document_location}")
    click.echo(f"achievements: {result.achievements_total} ({result.achievements_created} new)")
    click.echo(f"awards: {len(result.awards)} ({result.awards_created} new)")
    for award in result.awards:
        click.echo(f"  {award.url}  {award.achievement}: {award.recipient}")
    if done.emails_sent:
        where = (f"written to {settings.instance / 'outbox-mail'}/ (no mail server is set: MICROCRED_SMTP_HOST)"
                 if not os.environ.get("MICROCRED_SMTP_HOST") else "sent to the SMTP server")
        click.echo(f"award emails: {done.emails_sent} {where}")
    if admin.password:
        click.echo(f"HR console: {settings.url('/admin/')}  user {admin.username}, password {admin.password} "
                   f"(kept in {admin.password_file})")
    click.echo(f"settings kept in {saved}: the other microcred commands use them with nothing exported")
    parts = urlsplit(settings.base_url)
    hint = f" --allow-http-host {parts.hostname}" if parts.scheme == "http" else ""
    if not then_serve:
        click.echo(f"Serve them with 'microcred serve' (then open {settings.url('/')}); check one the way a "
                   f"recruiter would with 'microcred verify URL{hint}'.")
        return
    click.echo(f"Serving them now: open {settings.url('/')} (Ctrl-C stops). In another terminal, check one the way "
               f"a recruiter would: microcred verify URL{hint}")
    click.echo()
    ctx.invoke(serve, host=host, port=port or parts.port or (443 if parts.scheme == "https" else 80))
