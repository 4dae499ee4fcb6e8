"""What every ``microcred`` command shares: the service layer, and errors as one ``error:`` line.

The one click handler (:class:`CleanErrorsGroup`): an error of the issuer's tree
(:mod:`issuer.errors`) exits with its class's code (2 for bad input, 75 for a mail server
failure, ...); click's usage errors, the verifier's credential errors and file errors exit 2.
"""
from __future__ import annotations

from typing import Any

import click

from issuer.config import Settings, load_settings
from issuer.errors import IssuerError
from issuer.instance import open_instance
from issuer.runtime import Runtime
from issuer.services import Services, build_services
from verifier.errors import CredentialError

EXIT_USAGE = 2
_services: dict[Settings, Services] = {}


def cli_services(settings: Settings | None = None) -> Services:
    """The service layer for this installation (from the environment), built once per process."""
    settings = settings or load_settings()
    services = _services.get(settings)
    if services is None:
        services = _services[settings] = build_services(Runtime(settings, open_instance(settings)))
    return services


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
