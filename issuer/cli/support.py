"""What every ``microcred`` command shares: bad input is one ``error:`` line, exit 2."""
from __future__ import annotations

from typing import Any

import click

from verifier.errors import CredentialError

EXIT_USAGE = 2


def error_line(exc: BaseException) -> str:
    if isinstance(exc, click.UsageError):
        message = exc.format_message()
    elif isinstance(exc, OSError) and exc.filename:
        message = f"{exc.filename}: {exc.strerror}"
    else:
        message = str(exc)
    return "error: " + " ".join(message.split())


class CleanErrorsGroup(click.Group):
    """A click group whose usage, credential and file errors print one line and exit 2.

    Nothing is written to stdout on error, and no traceback is shown.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.UsageError, CredentialError, OSError) as exc:
            click.echo(error_line(exc), err=True)
            ctx.exit(EXIT_USAGE)
