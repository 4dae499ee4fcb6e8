"""The award commands: issue, revoke / suspend / unsuspend, renew, expiring: each one service call.

``revoke``, ``suspend``, ``unsuspend`` and ``renew`` take the award id or the credential link
``issue`` printed (:mod:`issuer.cli.references`). ``issue`` makes of its options the body the
REST API takes and calls the one issuing service
(:meth:`issuer.awards.service.AwardService.issue`), so the same rules apply; the others call
:class:`issuer.awards.status_service.StatusService`. Errors are the service's (one ``error:`` line).
"""
from __future__ import annotations

from typing import Any

import click

from issuer.achievements.rules import ALIGNMENT_KEYS, SLUG, achievement_fields  # noqa: F401  (SLUG: importable here)
from issuer.awards.credentials import credential_url
from issuer.awards.rules import AwardRuleError
from issuer.cli.references import award_id_from
from issuer.cli.support import cli_services

AWARD_HELP = "AWARD is the award id or the credential link 'issue' printed."


@click.command()
@click.option("--achievement", required=True, help="Achievement slug or id.")
@click.option("--email", required=True, help="The recipient's email (published only as a salted hash).")
@click.option("--name", help="The recipient's name (kept in the database, not in the credential).")
@click.option("--employee-id")
@click.option("--did", help="The recipient's DID, if they have one.")
@click.option("--evidence-url", "evidence_urls", multiple=True, help="A link to the assessed work. Repeatable.")
@click.option("--evidence", "evidence_narratives", multiple=True, help="A narrative of the evidence. Repeatable.")
@click.option("--result", "results", multiple=True, metavar="RESULT_DESCRIPTION_ID=VALUE",
              help="A result against one of the achievement's result descriptions. Repeatable.")
@click.option("--awarded", help="When it was awarded (an ISO 8601 date, or date-time with its time zone; "
                                "default now).")
@click.option("--external-id", help="Your own id for this award: issuing it again changes nothing.")
@click.option("--jwt", "also_jwt", is_flag=True, help="Also store a VC-JWT version.")
def issue(achievement: str, email: str, name: str | None, employee_id: str | None, did: str | None,
          evidence_urls: tuple[str, ...], evidence_narratives: tuple[str, ...], results: tuple[str, ...],
          awarded: str | None, external_id: str | None, also_jwt: bool) -> None:
    """Issue one award: build, sign, verify, store. Prints the credential URL.

    The options make the same request the REST API takes, checked by the same rules.
    """
    body = award_body(achievement=achievement, email=email, name=name, employee_id=employee_id, did=did,
                      evidence_urls=evidence_urls, evidence_narratives=evidence_narratives, results=results,
                      awarded=awarded, jwt=also_jwt)
    services = cli_services()
    issued = services.awards.issue(body, actor="cli", external_id=external_id)
    click.echo(("Issued " if issued.created else "Already issued ") + f"{issued.award.id}")
    click.echo(credential_url(services.runtime.settings, issued.award.id))
    services.awards.deliver_mail()


def award_body(*, achievement: str, email: str, name: str | None, employee_id: str | None, did: str | None,
               evidence_urls: tuple[str, ...], evidence_narratives: tuple[str, ...], results: tuple[str, ...],
               awarded: str | None, jwt: bool) -> dict[str, Any]:
    """The REST API's award body of the command's options."""
    body: dict[str, Any] = {"achievement": achievement, "email": email, "name": name, "employee_id": employee_id,
                            "did": did, "awarded_at": awarded, "jwt": jwt}
    evidence = [{"id": url} for url in evidence_urls] + [{"narrative": text} for text in evidence_narratives]
    parsed = []
    for result in results:
        ref, sep, value = result.partition("=")
        if not sep:
            raise AwardRuleError(f"--result takes RESULT_DESCRIPTION_ID=VALUE, got {result!r}", "results")
        parsed.append({"resultDescription": ref, "value": value})
    body["evidence"] = evidence or None
    body["results"] = parsed or None
    return {key: value for key, value in body.items() if value is not None}


_STATUS_HELP = {"revoke": "Revoke an award for good (the status list shows it).",
                "suspend": "Suspend an award (can be lifted with unsuspend).",
                "unsuspend": "Lift a suspension."}


def _status_command(action: str) -> click.Command:
    @click.command(action, help=f"{_STATUS_HELP[action]}\n\n{AWARD_HELP}")
    @click.argument("award_ref", metavar="AWARD")
    @click.option("--reason", required=True,
                  help="Why (kept in the audit log, and told to the recipient in the email about the change).")
    def command(award_ref: str, reason: str) -> None:
        services = cli_services()
        award_id = award_id_from(award_ref, services.runtime.settings)
        change = services.status.change_status(award_id, action, {"reason": reason}, actor="cli")
        click.echo(f"{change.id}: {change.state}" + ("" if change.changed else " (no change)"))
        if change.changed:
            services.awards.deliver_mail()      # the recipient's notice, queued with the change

    return command


revoke = _status_command("revoke")
suspend = _status_command("suspend")
unsuspend = _status_command("unsuspend")


@click.command("renew")
@click.argument("award_ref", metavar="AWARD")
def renew_command(award_ref: str) -> None:
    """Issue a fresh credential for the same achievement and recipient; the old one is superseded.

    AWARD is the award id or the credential link 'issue' printed.
    """
    services = cli_services()
    renewal = services.status.renew(award_id_from(award_ref, services.runtime.settings), actor="cli")
    click.echo(f"Renewed as {renewal.award.id}")
    click.echo(credential_url(services.runtime.settings, renewal.award.id))
    services.awards.deliver_mail()


@click.command("expiring")
@click.option("--days", type=click.IntRange(0, 3650), default=30, show_default=True)
def expiring_command(days: int) -> None:
    """List active awards that expire within --days days."""
    awards = cli_services().status.expiring(days)
    if not awards:
        click.echo(f"No active award expires within {days} day{'' if days == 1 else 's'}.")
        return
    for award in awards:
        ends = award.valid_until.date().isoformat() if award.valid_until else ""
        click.echo(f"{ends}\t{award.id}\t{award.achievement.slug}\t{award.recipient.email}")
