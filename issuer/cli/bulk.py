"""``microcred issue-bulk FILE.csv [--dry-run]``: issue many awards from a CSV file.

The file format is described in ``docs/bulk-csv.md``; the work is
:class:`issuer.bulk.service.BulkService`'s. ``--dry-run`` checks every row and prints one
``line N: reason`` per bad row (exit 0 when the file is clean, 2 otherwise); a real run checks
first and issues nothing if any row is bad (one ``error:`` line, exit 2), then issues with a
progress bar on stderr and prints a summary. Other errors (no issuer, unreadable file) are one
``error:`` line from the command group's handler.
"""
from __future__ import annotations

import sys

import click

from issuer.bulk.reading import BulkInputError
from issuer.cli.shell import EXIT_USAGE
from issuer.cli.support import ProgressBar, cli_actor, cli_services


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


@click.command("issue-bulk")
@click.argument("csv_file", metavar="FILE.csv", type=click.Path(dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Only check the file: report every bad row, issue nothing.")
@click.option("--chunk-size", type=click.IntRange(1, 10_000), default=500, show_default=True,
              help="Awards stored per transaction.")
def issue_bulk(csv_file: str, dry_run: bool, chunk_size: int) -> None:
    """Issue one award per row of FILE.csv (see docs/bulk-csv.md for the columns).

    Rows already issued (same row, or same external_id) are skipped, so a run that was
    interrupted can simply be started again.
    """
    services = cli_services()
    if dry_run:
        report = services.bulk.validate(csv_file)
        for line in report.lines():
            click.echo(line)
        if not report.ok:
            click.echo(f"{_plural(len(report.problems), 'bad row')} of {report.total_rows:,}; nothing was issued",
                       err=True)
            sys.exit(EXIT_USAGE)
        click.echo(f"{_plural(report.total_rows, 'row')}, all valid: {report.to_issue:,} to issue, "
                   f"{report.already_issued:,} already issued (dry run: nothing was issued)")
        return
    progress = ProgressBar("issuing")
    try:
        result = services.bulk.run(csv_file, actor=cli_actor(), progress=progress, chunk_size=chunk_size)
    finally:
        progress.close()
    report = result.report
    if not result.started:
        more = f" and {_plural(len(report.problems) - 1, 'more bad row')}" if len(report.problems) > 1 else ""
        raise BulkInputError(f"{csv_file}: {report.problems[0]}{more}; nothing was issued "
                             "(see them all with --dry-run)")
    click.echo(f"issued {_plural(result.issued, 'award')}, {result.already_issued:,} already issued "
               f"({_plural(report.total_rows, 'row')}) in {result.seconds:.1f} s")
    if result.issued:
        delivery = services.awards.deliver_mail()     # the award emails queued with each chunk
        if delivery is not None:
            click.echo(f"award emails: {delivery.sent} sent, {delivery.failed + delivery.waiting} queued")
