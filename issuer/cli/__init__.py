"""The ``microcred`` command: a thin shell over :mod:`issuer` and :mod:`verifier`.

Each command lives in a module (:data:`COMMANDS` names them); a command's module is imported
only when that command runs (or ``--help`` lists them all), so ``microcred verify`` loads the
verifier and nothing of the issuer but this shell: not its database, web app, services or signing
stack (``import issuer`` does not load it either). The recruiter's command starts in about a
quarter of a second (benchmarks/bench_cold_start.py; tests/issuer/cli/test_cold_start.py keeps it
lean). Errors are handled once, by :class:`~issuer.cli.shell.CleanErrorsGroup`.
"""
from __future__ import annotations

import importlib

import click

from issuer.cli.shell import CleanErrorsGroup

#: command name -> "module:attribute" of its click command
COMMANDS = {
    "achievements": "issuer.cli.achievements:achievements",
    "demo": "issuer.cli.demo:demo",
    "expiring": "issuer.cli.awards:expiring_command",
    "init": "issuer.cli.instance:init",
    "issue": "issuer.cli.awards:issue",
    "issue-bulk": "issuer.cli.bulk:issue_bulk",
    "keys": "issuer.cli.keys:keys",
    "mail": "issuer.cli.share:mail",
    "profile": "issuer.cli.share:profile",
    "renew": "issuer.cli.awards:renew_command",
    "revoke": "issuer.cli.awards:revoke",
    "serve": "issuer.cli.serve:serve",
    "sign": "issuer.cli.sign:sign",
    "suspend": "issuer.cli.awards:suspend",
    "tokens": "issuer.cli.tokens:tokens",
    "unsuspend": "issuer.cli.awards:unsuspend",
    "users": "issuer.cli.users:users",
    "verifier": "verifier.web.cli:verifier",
    "verify": "verifier.cli:verify",
}


class LazyGroup(CleanErrorsGroup):
    """A group whose commands are imported when they are looked up (click's lazy-loading pattern)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        spec = COMMANDS.get(cmd_name)
        if spec is None:
            return None
        module, _, attribute = spec.partition(":")
        command = getattr(importlib.import_module(module), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{spec} is not a click command")
        return command


@click.group(cls=LazyGroup)
@click.version_option(package_name="microcred", prog_name="microcred")
def main() -> None:
    """microcred: Open Badges 3.0 credentials for workplace skills."""
