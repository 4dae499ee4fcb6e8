"""``microcred achievements``: define the achievements (skills badges) this issuer awards.

A shell over :class:`issuer.achievements.service.AchievementService`: the rules are
:mod:`issuer.achievements.rules`, shared with the API and the console, and so are the dry run,
the duplicate-slug check and the audit entry (actor ``cli``).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from issuer.achievements.rules import ALIGNMENT_KEYS, SLUG, achievement_fields  # noqa: F401  (SLUG: importable here)
from issuer.cli.support import cli_services
from issuer.errors import InvalidInput
from issuer.images import image_data_uri


def _parse_alignment(text: str) -> dict[str, str]:
    """``targetName=...;targetUrl=...;targetFramework=...;targetCode=...;targetType=...``"""
    alignment = {}
    for part in text.split(";"):
        key, sep, value = part.partition("=")
        if not sep or key.strip() not in ALIGNMENT_KEYS:
            raise InvalidInput(f"--alignment takes key=value pairs separated by ';' with keys "
                               f"{', '.join(ALIGNMENT_KEYS)}; got {part!r}", field="alignment")
        alignment[key.strip()] = value.strip()
    if "targetName" not in alignment or "targetUrl" not in alignment:
        raise InvalidInput("an alignment needs at least targetName and targetUrl", field="alignment")
    return alignment


def _definition_file(path: str) -> dict[str, Any]:
    try:
        definition = json.loads(Path(path).read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{path} is not JSON: {exc}", field="from_json") from None
    if not isinstance(definition, dict):
        raise InvalidInput(f"{path} must hold one JSON object (the achievement definition)", field="from_json")
    return definition


def achievement_from_definition(definition: dict[str, Any]) -> dict[str, Any]:
    """Validate an achievement definition (JSON file or flags) into model fields.

    The rules are those of :mod:`issuer.achievements.rules`, shared with the API and the console;
    a broken rule raises :class:`~issuer.achievements.rules.AchievementError` (invalid input)."""
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
def achievements_create(from_json: str | None, image_file: str | None, **flags: Any) -> None:
    """Create an achievement."""
    definition = _definition_file(from_json) if from_json else {}
    if image_file:
        definition["image"] = image_data_uri(image_file)
    for key, value in flags.items():
        if value not in (None, ()):
            definition[key] = [_parse_alignment(a) for a in value] if key == "alignments" else \
                (list(value) if key == "tags" else value)
    achievement = cli_services().achievements.create(definition, actor="cli")
    page = cli_services().runtime.settings.url("/achievements/" + achievement.id)
    click.echo(f"Created {achievement.slug}: {achievement.name} ({page})")


@achievements.command("list")
def achievements_list() -> None:
    """List achievements."""
    for a in cli_services().achievements.all():
        validity = f", valid {a.validity_months} months" if a.validity_months else ""
        click.echo(f"{a.slug}\t{a.name}\t{len(a.alignments or [])} skills{validity}")


@achievements.command("show")
@click.argument("ref")
def achievements_show(ref: str) -> None:
    """Show one achievement (slug or id) as the JSON embedded in credentials."""
    click.echo(json.dumps(cli_services().achievements.document(ref), indent=2))
