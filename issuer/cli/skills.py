"""``microcred skills``: skill frameworks and their catalogues (import a framework's CSV download).

    microcred skills import skills_en.csv --framework ESCO
    microcred skills import Skills.txt --framework "O*NET" --skip-bad-rows
    microcred skills import ours.csv --framework "Example Corp skills" --publisher "Example Corp" --url https://...
    microcred skills frameworks
    microcred skills search "sql"

A shell over :class:`issuer.skills.service.SkillService` (the formats: ``docs/skills-csv.md``).
A file with a bad row imports nothing: every bad row is printed as ``line N: reason`` on stderr
and the exit status is 2; ``--skip-bad-rows`` imports the good rows and prints the bad ones.
"""
from __future__ import annotations

from pathlib import Path

import click

from issuer.cli.shell import EXIT_USAGE
from issuer.cli.support import cli_actor, cli_services
from issuer.skills.readers import MAX_FILE_BYTES
from issuer.skills.service import ImportRefused


@click.group()
def skills() -> None:
    """Skill frameworks and their catalogues: import a framework's CSV, list, search."""


@skills.command("import")
@click.argument("csv_file", metavar="FILE", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--framework", required=True, help="The framework's name or id; a new name creates it (e.g. ESCO).")
@click.option("--publisher", help="Who publishes the framework (for a new one).")
@click.option("--url", help="The framework's web address (for a new one).")
@click.option("--skip-bad-rows", is_flag=True,
              help="Import the good rows and list the bad ones (default: all or nothing).")
def skills_import(csv_file: Path, framework: str, publisher: str | None, url: str | None, skip_bad_rows: bool) -> None:
    """Import FILE (ESCO, O*NET or your own list; see docs/skills-csv.md) into a framework's catalogue.

    Importing the same file again updates the skills; none is added twice."""
    with csv_file.open("rb") as handle:
        data = handle.read(MAX_FILE_BYTES + 1)
    try:
        report = cli_services().skills.import_csv(data, framework=framework, actor=cli_actor(),
                                                  skip_bad_rows=skip_bad_rows, publisher=publisher, url=url)
    except ImportRefused as exc:
        for problem in exc.details.get("problems", []):
            click.echo(f"line {problem['line']}: {problem['reason']}", err=True)
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(EXIT_USAGE) from None
    for problem in report.problems:
        click.echo(f"line {problem.line}: {problem.reason} (skipped)", err=True)
    click.echo(report.summary())


@skills.command("frameworks")
def skills_frameworks() -> None:
    """List the skill frameworks: name, skills in the catalogue, achievements aligned, publisher."""
    for entry in cli_services().skills.listing():
        framework = entry.framework
        click.echo(f"{framework.name}\t{entry.skills} skills\t{entry.achievements} achievements"
                   f"\t{framework.publisher or ''}\t{framework.url or ''}".rstrip())


@skills.command("search")
@click.argument("words")
@click.option("--framework", help="Only this framework (name or id).")
def skills_search(words: str, framework: str | None) -> None:
    """Find skills in the catalogues by name or code."""
    services = cli_services()
    framework_id = services.skills.framework(framework).id if framework else None
    for hit in services.skills.search(words, framework_id=framework_id, limit=50):
        click.echo(f"{hit.name}\t{hit.framework}\t{hit.code or ''}\t{hit.url}")
