"""The commands HR runs: init, achievements, issue, revoke/suspend/unsuspend, renew, expiring, keys rotate.

Thin shells over :mod:`issuer.awards.issuance`, :mod:`issuer.awards.lifecycle` and
:mod:`issuer.keys.keyring`. Every command reads the installation from the environment
(``issuer.config.load_settings``); bad input gives one ``error:`` line, exit 2, and
changes nothing (each command runs in one transaction).
"""
from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import click
from sqlalchemy import select

from issuer.achievements.rules import ALIGNMENT_KEYS, SLUG, achievement_fields  # noqa: F401  (SLUG: importable here)
from issuer.awards.credentials import credential_url
from issuer.awards.issuance import AwardRequest, IssuerContext, issue_award, load_issuer
from issuer.awards.lifecycle import change_status, expiring, renew
from issuer.awards.status_lists import ensure_lists
from issuer.config import Settings, load_settings
from issuer.db.models import Achievement, Issuer
from issuer.images import image_data_uri
from issuer.instance import open_instance
from issuer.keys.keyring import add_key
from issuer.mail.outbox import send_after_commit
from verifier.errors import CredentialError


def _settings() -> Settings:
    return load_settings()


def init_instance(settings: Settings, *, name: str, url: str | None = None, email: str | None = None,
                  description: str | None = None) -> tuple[Issuer, bool]:
    """Create the database, the issuer (did:web from the base URL), its first key and status lists.

    Returns (issuer, created); running it again changes nothing.
    """
    factory = open_instance(settings)
    with factory.begin() as session:
        issuer = session.scalars(select(Issuer).where(Issuer.did == settings.did)).one_or_none()
        if issuer is not None:
            return issuer, False
        if not name or not name.strip():
            raise CredentialError("the issuer needs a name (--name)", code="invalid_input")
        issuer = Issuer(did=settings.did, base_url=settings.base_url, name=name.strip(), url=url, email=email,
                        description=description)
        session.add(issuer)
        session.flush()
        add_key(session, settings, issuer)  # Ed25519: what eddsa-rdfc-2022 signs with
        ensure_lists(session, settings, issuer)
        return issuer, True


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


# ------------------------------------------------------------------ achievements

def _parse_alignment(text: str) -> dict:
    """``targetName=...;targetUrl=...;targetFramework=...;targetCode=...;targetType=...``"""
    alignment = {}
    for part in text.split(";"):
        key, sep, value = part.partition("=")
        if not sep or key.strip() not in ALIGNMENT_KEYS:
            raise CredentialError(f"--alignment takes key=value pairs separated by ';' with keys "
                                  f"{', '.join(ALIGNMENT_KEYS)}; got {part!r}", code="invalid_input")
        alignment[key.strip()] = value.strip()
    if "targetName" not in alignment or "targetUrl" not in alignment:
        raise CredentialError("an alignment needs at least targetName and targetUrl", code="invalid_input")
    return alignment


def achievement_from_definition(definition: dict) -> dict:
    """Validate an achievement definition (JSON file or flags) into model fields.

    The rules are those of :mod:`issuer.achievements.rules`, shared with the API and the console;
    a broken rule raises :class:`~issuer.achievements.rules.AchievementError` (a CredentialError)."""
    return achievement_fields(definition)


@click.group()
def achievements() -> None:
    """Define the achievements (skills badges) this issuer awards."""


@achievements.command("create")
@click.option("--from-json", "from_json", type=click.Path(exists=True, dir_okay=False),
              help="A JSON file with the whole definition (slug, name, description, criteria_narrative, "
                   "alignments, result_descriptions, validity_months, ...).")
@click.option("--slug")
@click.option("--name")
@click.option("--description")
@click.option("--criteria", "criteria_narrative", help="How the skill is assessed (Markdown).")
@click.option("--criteria-url")
@click.option("--type", "achievement_type", help="OB achievementType, e.g. Competency, Certificate.")
@click.option("--validity-months", type=int)
@click.option("--alignment", "alignments", multiple=True,
              help="A skill alignment: 'targetName=...;targetUrl=...;targetFramework=...;targetCode=...'.")
@click.option("--tag", "tags", multiple=True)
@click.option("--image", "image_file", type=click.Path(exists=True, dir_okay=False),
              help="Badge art (PNG or SVG); a default badge is drawn when omitted.")
def achievements_create(from_json: str | None, image_file: str | None, **flags) -> None:
    """Create an achievement."""
    definition = json.loads(Path(from_json).read_text(encoding="utf-8")) if from_json else {}
    if image_file:
        definition["image"] = image_data_uri(image_file)
    for key, value in flags.items():
        if value not in (None, ()):
            definition[key] = [_parse_alignment(a) for a in value] if key == "alignments" else \
                (list(value) if key == "tags" else value)
    fields = achievement_from_definition(definition)
    settings = _settings()
    with open_instance(settings).begin() as session:
        issuer = load_issuer(session, settings)
        if session.scalars(select(Achievement).where(Achievement.issuer_id == issuer.id,
                                                     Achievement.slug == fields["slug"])).first():
            raise CredentialError(f"an achievement with the slug {fields['slug']!r} already exists",
                                  code="duplicate")
        achievement = Achievement(issuer_id=issuer.id, **fields)
        session.add(achievement)
        session.flush()
        page = settings.url("/achievements/" + achievement.id)
        click.echo(f"Created {achievement.slug}: {achievement.name} ({page})")


@achievements.command("list")
def achievements_list() -> None:
    """List achievements."""
    settings = _settings()
    with open_instance(settings)() as session:
        issuer = load_issuer(session, settings)
        for a in session.scalars(select(Achievement).where(Achievement.issuer_id == issuer.id)
                                 .order_by(Achievement.slug)):
            validity = f", valid {a.validity_months} months" if a.validity_months else ""
            click.echo(f"{a.slug}\t{a.name}\t{len(a.alignments or [])} skills{validity}")


@achievements.command("show")
@click.argument("ref")
def achievements_show(ref: str) -> None:
    """Show one achievement (slug or id) as the JSON embedded in credentials."""
    from issuer.awards.credentials import achievement_document
    from issuer.awards.issuance import find_achievement
    from issuer.identity import profile

    settings = _settings()
    with open_instance(settings)() as session:
        issuer = load_issuer(session, settings)
        achievement = find_achievement(session, issuer, ref)
        click.echo(json.dumps(achievement_document(settings, achievement, profile(issuer, settings)), indent=2))


# ------------------------------------------------------------------ awards

def _parse_when(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise CredentialError(f"{value!r} is not an ISO 8601 date or date-time", code="invalid_input") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


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
@click.option("--awarded", help="When it was awarded (ISO 8601; default now).")
@click.option("--jwt", "also_jwt", is_flag=True, help="Also store a VC-JWT version.")
def issue(achievement: str, email: str, name: str | None, employee_id: str | None, did: str | None,
          evidence_urls: tuple[str, ...], evidence_narratives: tuple[str, ...], results: tuple[str, ...],
          awarded: str | None, also_jwt: bool) -> None:
    """Issue one award: build, sign, verify, store. Prints the credential URL."""
    evidence = [{"id": url} for url in evidence_urls] + [{"narrative": text} for text in evidence_narratives]
    for item in evidence:
        if "id" in item and not re.match(r"^https?://\S+$", item["id"]):
            raise CredentialError(f"--evidence-url {item['id']!r} is not an http(s) URL", code="invalid_input")
    parsed_results = []
    for result in results:
        ref, sep, value = result.partition("=")
        if not sep:
            raise CredentialError(f"--result takes RESULT_DESCRIPTION_ID=VALUE, got {result!r}", code="invalid_input")
        parsed_results.append({"resultDescription": ref, "value": value})
    request = AwardRequest(achievement=achievement, email=email, name=name, employee_id=employee_id, did=did,
                           evidence=tuple(evidence), results=tuple(parsed_results), awarded_at=_parse_when(awarded))
    settings = _settings()
    with open_instance(settings).begin() as session:
        issuer = load_issuer(session, settings)
        award, created = issue_award(session, IssuerContext.load(session, settings, issuer), request, actor="cli",
                                     jwt=also_jwt, notify="awarded")
    click.echo(("Issued " if created else "Already issued ") + f"{award.id}")
    click.echo(credential_url(settings, award.id))
    send_after_commit(open_instance(settings), settings)


_STATUS_HELP = {"revoke": "Revoke an award for good (the status list shows it).",
                "suspend": "Suspend an award (can be lifted with unsuspend).",
                "unsuspend": "Lift a suspension."}


def _status_command(action: str):
    @click.command(action, help=_STATUS_HELP[action])
    @click.argument("award_id", metavar="AWARD")
    @click.option("--reason", required=True, help="Why (kept in the audit log).")
    def command(award_id: str, reason: str) -> None:
        settings = _settings()
        change = change_status(open_instance(settings), settings, award_id, action, reason=reason, actor="cli")
        click.echo(f"{change.award_id}: {change.state}" + ("" if change.changed else " (no change)"))

    return command


revoke = _status_command("revoke")
suspend = _status_command("suspend")
unsuspend = _status_command("unsuspend")


@click.command("renew")
@click.argument("award_id", metavar="AWARD")
def renew_command(award_id: str) -> None:
    """Issue a fresh credential for the same achievement and recipient; the old one is superseded."""
    settings = _settings()
    new = renew(open_instance(settings), settings, award_id, actor="cli")
    click.echo(f"Renewed as {new.id}")
    click.echo(credential_url(settings, new.id))
    send_after_commit(open_instance(settings), settings)


@click.command("expiring")
@click.option("--days", type=click.IntRange(0, 3650), default=30, show_default=True)
def expiring_command(days: int) -> None:
    """List active awards that expire within --days days."""
    settings = _settings()
    with open_instance(settings)() as session:
        issuer = load_issuer(session, settings)
        for award in expiring(session, issuer, days):
            click.echo(f"{award.valid_until.date().isoformat()}\t{award.id}\t{award.achievement.slug}\t"
                       f"{award.recipient.email}")
