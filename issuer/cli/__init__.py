"""The ``microcred`` command: a thin shell over :mod:`issuer` and :mod:`verifier`.

Each command lives in a module (:data:`COMMANDS` names them); a command's module is imported
only when that command runs (``--help`` lists them from :data:`SUMMARIES`), so ``microcred verify`` loads the
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
    "person": "issuer.cli.people:person",
    "profile": "issuer.cli.share:profile",
    "renew": "issuer.cli.awards:renew_command",
    "retention": "issuer.cli.people:retention",
    "revoke": "issuer.cli.awards:revoke",
    "serve": "issuer.cli.serve:serve",
    "settings": "issuer.cli.settings:settings",
    "sign": "issuer.cli.sign:sign",
    "skills": "issuer.cli.skills:skills",
    "suspend": "issuer.cli.awards:suspend",
    "tokens": "issuer.cli.tokens:tokens",
    "unsuspend": "issuer.cli.awards:unsuspend",
    "users": "issuer.cli.users:users",
    "verifier": "verifier.web.cli:verifier",
    "verify": "verifier.cli:verify",
    "worker": "issuer.cli.worker:worker",
}


#: command name -> its one-line help as ``microcred --help`` lists it (the first sentence of the
#: command's help; tests/issuer/cli/test_lazy_help.py holds the two together), so that listing
#: the commands imports none of them
SUMMARIES = {
    "achievements": "Define the achievements (skills badges) this issuer awards.",
    "demo": "Set up a demo issuer with a skills framework and sample awards (safe to run again).",
    "expiring": "List active awards that expire within --days days.",
    "init": "Set up this installation: database, issuer identity (did:web), first Ed25519 key, status lists.",
    "issue": "Issue one award: build, sign, verify, store.",
    "issue-bulk": "Issue one award per row of FILE.csv (see docs/bulk-csv.md for the columns).",
    "keys": "Generate, inspect and import issuer signing keys.",
    "mail": "Award emails: send what is queued, remind about expiring badges.",
    "person": "Data-protection requests: export or erase what the installation holds about a person.",
    "profile": "Employees' public skill profiles (opt-in; none exists until published).",
    "renew": "Issue a fresh credential for the same achievement and recipient; the old one is superseded.",
    "retention": "Remove personal data kept longer than the retention settings allow (docs/personal-data.md).",
    "revoke": "Revoke an award for good (the status list shows it).",
    "serve": "Serve the issuer's public documents: DID document, profile, status lists, credentials.",
    "settings": "Installation settings: the company's LinkedIn id for \"Add to LinkedIn\".",
    "sign": "Sign CREDENTIAL.json ('-' for standard input) and print the result.",
    "skills": "Skill frameworks and their catalogues: import a framework's CSV, list, search.",
    "suspend": "Suspend an award (can be lifted with unsuspend).",
    "tokens": "API tokens for the REST API (/api/v1) and the VC-API endpoints.",
    "unsuspend": "Lift a suspension.",
    "users": "Staff accounts for the web console (/admin).",
    "verifier": "The recruiter's verifier web app.",
    "verify": "Verify a credential: a file (JSON, JWT, PNG or SVG badge), '-' for stdin, or an https URL.",
    "worker": "Run background work from the PostgreSQL queue: bulk jobs, emails, reminders (MICROCRED_QUEUE=postgres).",
}


class LazyGroup(CleanErrorsGroup):
    """A group whose commands are imported when they are looked up (click's lazy-loading pattern)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list of ``--help``, as click writes it, from :data:`SUMMARIES` (no imports)."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = [(name, click.Command(name, help=SUMMARIES[name]).get_short_help_str(limit)) for name in names]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

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
