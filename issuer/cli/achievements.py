"""``microcred achievements``: define the achievements (skills badges) this issuer awards.

The rules are :mod:`issuer.achievements.rules`, shared with the API and the console.
"""
from __future__ import annotations

import json
from pathlib import Path

import click
from sqlalchemy import select

from issuer.achievements.rules import ALIGNMENT_KEYS, SLUG, achievement_fields  # noqa: F401  (SLUG: importable here)
from issuer.awards.issuance import load_issuer
from issuer.config import Settings, load_settings
from issuer.db.models import Achievement
from issuer.images import image_data_uri
from issuer.instance import open_instance
from verifier.errors import CredentialError


def _settings() -> Settings:
    return load_settings()


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
