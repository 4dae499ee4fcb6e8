"""``microcred issue-bulk FILE.csv [--dry-run] [--mode all-or-nothing|valid-rows]``: issue many awards from a CSV.

The file format is described in ``docs/bulk-csv.md``; the work is
:class:`issuer.bulk.service.BulkService`'s. ``--dry-run`` checks every row and prints one
``line N: reason`` per bad row (exit 0 when the file is clean, 2 otherwise; with
``--mode valid-rows`` 3 when only rows would be left out). A real run checks first; then

* ``--mode all-or-nothing`` (the default) issues nothing if any row is bad (one ``error:``
  line, exit 2);
* ``--mode valid-rows`` issues the good rows, prints each bad one as ``line N: reason`` on
  stderr and writes them to a CSV to fix and run again (``--rejected``, default
  ``FILE.rejected.csv`` beside the file: line, reason and the row's cells), and exits with
  :data:`EXIT_ROWS_REJECTED` so a script notices. A bad header or CSV syntax still issues
  nothing (exit 2).

Issuing shows a progress bar on stderr and prints a summary. Other errors (no issuer,
unreadable file) are one ``error:`` line from the command group's handler.
"""
from __future__ import annotations

import sys
from pathlib import Path

import click

from issuer.bulk.limits import BulkMode
from issuer.bulk.reading import BulkInputError, read_source
from issuer.bulk.rejected import rejected_csv
from issuer.cli.shell import EXIT_USAGE
from issuer.cli.support import ProgressBar, cli_actor, cli_services

#: exit status of a valid-rows run that left rows out (the others were issued)
EXIT_ROWS_REJECTED = 3


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def rejected_path(csv_file: str) -> Path:
    """Where the rejected rows go by default: ``awards.csv`` -> ``awards.rejected.csv`` beside it."""
    path = Path(csv_file)
    return path.with_name(f"{path.stem}.rejected.csv")


@click.command("issue-bulk")
@click.argument("csv_file", metavar="FILE.csv", type=click.Path(dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Only check the file: report every bad row, issue nothing.")
@click.option("--mode", type=click.Choice([m.value for m in BulkMode]), default=BulkMode.ALL_OR_NOTHING.value,
              show_default=True, help="With bad rows: issue nothing, or issue the valid rows and list the others.")
@click.option("--rejected", "rejected_file", type=click.Path(dir_okay=False), default=None,
              help="With --mode valid-rows: where to write the rejected rows (default: FILE.rejected.csv).")
@click.option("--chunk-size", type=click.IntRange(1, 10_000), default=500, show_default=True,
              help="Awards stored per transaction.")
def issue_bulk(csv_file: str, dry_run: bool, mode: str, rejected_file: str | None, chunk_size: int) -> None:
    """Issue one award per row of FILE.csv (see docs/bulk-csv.md for the columns).

    Rows already issued (same row, or same external_id) are skipped, so a run that was
    interrupted can simply be started again.
    """
    chosen = BulkMode(mode)
    if rejected_file and chosen is not BulkMode.VALID_ROWS:
        raise click.UsageError("--rejected goes with --mode valid-rows (all-or-nothing leaves no rows out)")
    services = cli_services()
    if dry_run:
        report = services.bulk.validate(csv_file)
        for line in report.lines():
            click.echo(line)
        if not report.ok and report.issuable(chosen):
            click.echo(f"{_plural(len(report.problems), 'bad row')} of {report.total_rows:,} would be left out; "
                       f"{report.to_issue:,} to issue, {report.already_issued:,} already issued "
                       "(dry run: nothing was issued)", err=True)
            sys.exit(EXIT_ROWS_REJECTED)
        if not report.ok:
            click.echo(f"{_plural(len(report.problems), 'bad row')} of {report.total_rows:,}; nothing was issued",
                       err=True)
            sys.exit(EXIT_USAGE)
        click.echo(f"{_plural(report.total_rows, 'row')}, all valid: {report.to_issue:,} to issue, "
                   f"{report.already_issued:,} already issued (dry run: nothing was issued)")
        return
    progress = ProgressBar("issuing")
    try:
        result = services.bulk.run(csv_file, actor=cli_actor(), progress=progress, chunk_size=chunk_size,
                                   mode=chosen)
    finally:
        progress.close()
    report = result.report
    if not result.started:
        more = f" and {_plural(len(report.problems) - 1, 'more bad row')}" if len(report.problems) > 1 else ""
        why = "the file itself has a problem, so no row is issued; " if report.fatal else ""
        raise BulkInputError(f"{csv_file}: {report.problems[0]}{more}; nothing was issued ({why}see them all "
                             "with --dry-run)")
    click.echo(f"issued {_plural(result.issued, 'award')}, {result.already_issued:,} already issued "
               f"({_plural(report.total_rows, 'row')}) in {result.seconds:.1f} s")
    if result.issued:
        delivery = services.awards.deliver_mail()     # the award emails queued with each chunk
        if delivery is not None:
            click.echo(f"award emails: {delivery.sent} sent, {delivery.failed + delivery.waiting} queued")
    if result.rejected:
        target = Path(rejected_file) if rejected_file else rejected_path(csv_file)
        target.write_bytes(rejected_csv(read_source(csv_file)[0], result.rejected))
        for line in report.lines():
            click.echo(line, err=True)
        click.echo(f"{_plural(len(result.rejected), 'row')} not issued, written with the reasons to {target}: "
                   "fix them there, delete its line and reason columns, and run that file", err=True)
        sys.exit(EXIT_ROWS_REJECTED)
