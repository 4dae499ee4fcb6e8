"""``microcred profile`` and ``microcred mail``: employees' public profiles and the award email outbox.

Thin shells over the public service (:meth:`~issuer.public_service.PublicService.publish_profile`)
and the mail service (:class:`issuer.mail.service.MailService`). Register them with
``main.add_command(profile)`` and ``main.add_command(mail)``.
"""
from __future__ import annotations

import click

from issuer.cli.support import cli_services
from issuer.mail.outbox import Delivery


@click.group()
def profile() -> None:
    """Employees' public skill profiles (opt-in; none exists until published)."""


@profile.command("publish")
@click.argument("email")
@click.option("--slug", help="The profile address /profiles/SLUG (default: keep the current one, or a random one).")
@click.option("--show-name", is_flag=True, help="Show the employee's name on the profile and their badge pages.")
def profile_publish(email: str, slug: str | None, show_name: bool) -> None:
    """Publish EMAIL's skill profile (their active and expired badges, and the skills they certify)."""
    services = cli_services()
    recipient = services.public.publish_profile(email, slug=slug, show_name=show_name, actor="cli")
    click.echo(f"Published: {services.runtime.settings.url(f'/profiles/{recipient.public_profile_slug}')}"
               + (" (name shown)" if show_name else " (name not shown)"))


@profile.command("unpublish")
@click.argument("email")
def profile_unpublish(email: str) -> None:
    """Remove EMAIL's public profile; their name is hidden on badge pages again."""
    cli_services().public.unpublish_profile(email, actor="cli")
    click.echo("Unpublished: the profile is gone and the name is no longer shown.")


@click.group()
def mail() -> None:
    """Award emails: send what is queued, remind about expiring badges.

    Without MICROCRED_SMTP_HOST, messages are written to <instance>/outbox-mail/ as .eml files.
    """


def report_delivery(delivery: Delivery) -> None:
    """One summary line; failures are warnings on stderr (the messages stay queued) and exit status 1."""
    click.echo(f"sent {delivery.sent}, failed {delivery.failed}, still queued {delivery.waiting}")
    if delivery.failed:
        click.echo(f"warning: {delivery.failed} message(s) could not be sent and will be retried "
                   f"(last error: {delivery.errors[-1]})", err=True)
        raise SystemExit(1)


@mail.command("send-pending")
@click.option("--force", is_flag=True, help="Also retry messages waiting for their next attempt or given up.")
def send_pending(force: bool) -> None:
    """Send the queued award emails that are due. Exit status 1 if some could not be sent."""
    report_delivery(cli_services().mail.deliver_pending(force=force))


@mail.command("remind-expiring")
@click.option("--days", type=click.IntRange(1, 3650), required=True,
              help="Remind holders of active badges that expire within this many days (once per badge).")
def remind_expiring_command(days: int) -> None:
    """Queue and send a reminder to everyone whose badge expires within --days days."""
    reminded = cli_services().mail.remind_expiring(days)
    click.echo(f"queued {reminded.queued} reminder(s)")
    if reminded.delivery is not None:
        report_delivery(reminded.delivery)
