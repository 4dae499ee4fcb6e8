"""``microcred issue-bulk FILE.csv [--dry-run]``: issue many awards from a CSV file.

The file format is described in ``docs/bulk-csv.md``. ``--dry-run`` checks every row and
prints one ``line N: reason`` per bad row (exit 0 when the file is clean, 2 otherwise);
a real run checks first and issues nothing if any row is bad (one ``error:`` line,
exit 2), then issues with a progress bar on stderr and prints a summary.
"""
from __future__ import annotations

import getpass
import sys

import click

from issuer.bulk.reading import BulkInputError, validate_csv
from issuer.bulk.run import issue_csv
from issuer.cli.support import EXIT_USAGE, cli_services, error_line
from issuer.errors import IssuerError


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


@click.command("issue-bulk")
@click.argument("csv_file", metavar="FILE.csv", type=click.Path(dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Only check the file: report every bad row, issue nothing.")
@click.option("--chunk-size", type=click.IntRange(1, 10_000), default=500, show_default=True,
              help="Awards stored per transaction.")
@click.pass_context
def issue_bulk(ctx: click.Context, csv_file: str, dry_run: bool, chunk_size: int) -> None:
    """Issue one award per row of FILE.csv (see docs/bulk-csv.md for the columns).

    Rows already issued (same row, or same external_id) are skipped, so a run that was
    interrupted can simply be started again.
    """
    try:
        _run(csv_file, dry_run, chunk_size)
    except IssuerError as exc:
        click.echo(error_line(exc), err=True)
        ctx.exit(exc.exit_code)
    except OSError as exc:
        click.echo(error_line(exc), err=True)
        ctx.exit(EXIT_USAGE)


def _run(csv_file: str, dry_run: bool, chunk_size: int) -> None:
    services = cli_services()
    sessions = services.runtime.sessions
    if dry_run:
        with sessions() as session:
            report = validate_csv(csv_file, session, services.runtime.load_issuer(session))
        for line in report.lines():
            click.echo(line)
        if not report.ok:
            click.echo(f"{_plural(len(report.problems), 'bad row')} of {report.total_rows:,}; nothing was issued",
                       err=True)
            sys.exit(EXIT_USAGE)
        click.echo(f"{_plural(report.total_rows, 'row')}, all valid: {report.to_issue:,} to issue, "
                   f"{report.already_issued:,} already issued (dry run: nothing was issued)")
        return

    bar = None
    shown = 0

    def progress(done: int, total: int) -> None:
        nonlocal bar, shown
        if bar is None:
            bar = click.progressbar(length=total, label="issuing", file=sys.stderr, show_pos=True)
            bar.__enter__()
        bar.update(done - shown)
        shown = done

    with sessions() as session:
        services.runtime.load_issuer(session)    # a clear error before reading the file if not set up
    try:
        result = issue_csv(csv_file, services.runtime, actor=_actor(), progress=progress, chunk_size=chunk_size,
                           indexes=services.indexes)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    report = result.report
    if not result.started:
        first = report.problems[0]
        more = f" and {_plural(len(report.problems) - 1, 'more bad row')}" if len(report.problems) > 1 else ""
        raise BulkInputError(f"{csv_file}: {first}{more}; nothing was issued (see them all with --dry-run)")
    click.echo(f"issued {_plural(result.issued, 'award')}, {result.already_issued:,} already issued "
               f"({_plural(report.total_rows, 'row')}) in {result.seconds:.1f} s")
    if result.issued:
        delivery = services.awards.deliver_mail()     # the award emails queued with each chunk
        if delivery is not None:
            click.echo(f"award emails: {delivery.sent} sent, {delivery.failed + delivery.waiting} queued")
