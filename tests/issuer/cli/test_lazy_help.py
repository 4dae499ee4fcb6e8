"""``microcred --help`` lists the commands from SUMMARIES without importing them, exactly as click would."""
from __future__ import annotations

import subprocess
import sys

import click
from click.testing import CliRunner

from issuer import cli


def test_each_summary_is_the_commands_own_first_sentence() -> None:
    group = cli.main
    assert set(cli.SUMMARIES) == set(cli.COMMANDS)
    for name in cli.COMMANDS:
        command = group.get_command(click.Context(group), name)
        assert command is not None and not command.hidden
        assert command.get_short_help_str(limit=1000) == cli.SUMMARIES[name], name


def test_the_help_page_is_the_one_click_writes_from_the_commands_themselves() -> None:
    lazy = CliRunner().invoke(cli.main, ["--help"], terminal_width=100)

    class Eager(cli.LazyGroup):
        format_commands = click.Group.format_commands  # click's own: reads each command's help

    eager_group = Eager(name="main", callback=cli.main.callback, params=cli.main.params, help=cli.main.help)
    eager = CliRunner().invoke(eager_group, ["--help"], terminal_width=100, prog_name="main")
    assert lazy.exit_code == eager.exit_code == 0
    assert lazy.output == eager.output
    assert "verify" in lazy.output and "Verify a credential" in lazy.output


def test_listing_the_commands_imports_none_of_them() -> None:
    probe = ("import sys\nfrom issuer.cli import main\n"
             "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
             "print(sorted(m for m in ('issuer.cli.awards', 'verifier.cli', 'issuer.cli.serve', 'sqlalchemy', 'pyld')"
             " if m in sys.modules), file=sys.stderr)\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    assert done.stderr.strip() == "[]"
