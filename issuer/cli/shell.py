"""The one click error handler, in a module that costs nothing to import.

:class:`CleanErrorsGroup`: an error of the issuer's tree (:mod:`issuer.errors`) exits with its
class's code (2 for bad input, 1 for a conflict or an installation not set up, 75 for a mail
server failure, ...); click's usage errors, the verifier's credential errors and file errors
exit 2. One ``error:`` line on stderr, nothing on stdout, no traceback. It imports neither the
issuer's services nor its database, so ``microcred verify`` starts fast.
"""
from __future__ import annotations

from typing import Any

import click

from issuer.errors import IssuerError
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
        except IssuerError as exc:
            click.echo(error_line(exc), err=True)
            ctx.exit(exc.exit_code)
        except (click.UsageError, CredentialError, OSError) as exc:
            click.echo(error_line(exc), err=True)
            ctx.exit(EXIT_USAGE)
