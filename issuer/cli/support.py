"""What the issuer's commands share: the service layer, progress bars, the actor for the audit log.

Errors are one ``error:`` line (:mod:`issuer.cli.shell`). The commands that start or prepare a
server (``serve``, ``demo``) promise one ``error:`` line and exit status 2 for anything that stops
them (:func:`clean_errors`).

:func:`cli_services` is the process's service layer (its database pool stays open);
:func:`own_services` one whose pool is closed when the block ends (``serve`` checks the
installation with it before gunicorn forks its workers).
"""
from __future__ import annotations

import getpass
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from issuer.cli.shell import EXIT_USAGE, error_line
from issuer.config import Settings, load_settings
from issuer.errors import IssuerError
from issuer.instance import database_sessions, open_instance
from issuer.runtime import Runtime
from issuer.services import Services, build_services
from verifier.errors import CredentialError

_services: dict[Settings, Services] = {}


def cli_services(settings: Settings | None = None) -> Services:
    """The service layer for this installation (from the environment), built once per process."""
    settings = settings or load_settings()
    services = _services.get(settings)
    if services is None:
        services = _services[settings] = build_services(Runtime(settings, open_instance(settings)))
    return services


@contextmanager
def own_services(settings: Settings) -> Iterator[Services]:
    """A service layer on a database pool of its own, closed (every connection) when the block ends."""
    with database_sessions(settings) as sessions:
        yield build_services(Runtime(settings, sessions))




@contextmanager
def clean_errors() -> Iterator[None]:
    """Any error (the issuer's, configuration, credential, file, usage) as one ``error:`` line and exit 2."""
    try:
        yield
    except (IssuerError, click.UsageError, CredentialError, OSError) as exc:
        click.echo(error_line(exc), err=True)
        raise click.exceptions.Exit(EXIT_USAGE) from None


def cli_actor() -> str:
    """Who acts, for the audit log: ``cli:<login name>`` (``cli`` when the system does not say)."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


class ProgressBar:
    """``progress(done, total)`` for a long command: a bar on stderr, shown once there is something to do."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.bar: Any = None
        self.shown = 0

    def __call__(self, done: int, total: int) -> None:
        if total == 0:
            return
        if self.bar is None:
            self.bar = click.progressbar(length=total, label=self.label, file=sys.stderr, show_pos=True)
            self.bar.__enter__()
        self.bar.update(done - self.shown)
        self.shown = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
