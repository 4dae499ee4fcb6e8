"""Valid-rows mode: a mixed file issues its good rows and lists the bad ones (library, command, rejected CSV)."""
from __future__ import annotations

import csv
import io

from click.testing import CliRunner
from sqlalchemy import select

from issuer.bulk.limits import BulkMode
from issuer.bulk.reading import RowProblem
from issuer.bulk.rejected import rejected_csv
from issuer.cli import main as cli_main
from issuer.db.models import Award, Recipient
from tests.issuer.bulk.test_run import (  # noqa: F401  (fixtures)
    HEADER,
    check_store,
    cli_env,
    counts,
    csv_text,
    inst,
    people,
    run,
    sqlite_inst,
)

GOOD = people(0, 4)
MIXED = [
    GOOD[0],
    {"email": "not-an-email", "achievement": "teamwork"},                             # line 3
    GOOD[1],
    {"email": "sam@example.com", "achievement": "no-such-badge"},                    # line 5
    GOOD[2],
    {"email": "eve@example.com", "name": "=HYPERLINK(\"x\")", "achievement": "teamwork"},  # line 7
    dict(GOOD[0]),                                                                   # line 8: a duplicate of line 2
    GOOD[3],
]
REJECTED = {3: "is not an email address", 5: "There is no achievement 'no-such-badge'", 7: "CSV injection",
            8: "duplicate of line 2"}


def rows_of(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_valid_rows_mode_issues_the_good_rows_and_lists_the_bad_ones(inst):
    text = csv_text(MIXED)
    refused = run(inst, text)                                   # the default: all or nothing
    assert not refused.started and counts(inst)["Award"] == 0
    result = run(inst, text, mode=BulkMode.VALID_ROWS)
    assert result.started and not result.ok
    assert result.issued == 4 and result.already_issued == 0
    assert [a.line for a in result.awards] == [2, 4, 6, 9]
    assert {p.line: p.reason for p in result.rejected}.keys() == REJECTED.keys()
    for problem in result.rejected:
        assert REJECTED[problem.line] in problem.reason
    awards = check_store(inst)                                  # every issued award complete and verifying
    assert len(awards) == 4
    with inst.sessions() as session:
        emails = set(session.scalars(select(Recipient.email).join(Award, Award.recipient_id == Recipient.id)))
    assert emails == {row["email"] for row in GOOD}
    again = run(inst, text, mode=BulkMode.VALID_ROWS)           # idempotent: the good rows were issued
    assert again.issued == 0 and again.already_issued == 4 and len(again.rejected) == 4
    assert counts(inst)["Award"] == 4


def test_a_bad_header_issues_nothing_in_any_mode(inst):
    text = csv_text(GOOD, header=[*HEADER[:-1], "extra_id"]).replace("extra_id", "externalid")
    result = run(inst, text, mode=BulkMode.VALID_ROWS)
    assert not result.started and result.report.fatal and counts(inst)["Award"] == 0
    unclosed = csv_text(GOOD[:2]) + '"open quote,teamwork\n' + csv_text(GOOD[2:]).split("\n", 1)[1]
    result = run(inst, unclosed, mode=BulkMode.VALID_ROWS)
    assert not result.started and result.report.fatal and counts(inst)["Award"] == 0


def test_the_rejected_rows_csv_gives_each_row_back_with_its_reason():
    raw = ("\ufeffEmail,name,achievement,awarded_date\r\n"
           "ok@example.com,Ok,teamwork,\r\n"
           "bad,Bad Person,teamwork,2026-01-01\r\n"
           "x@example.com,=cmd|' /C calc'!A0,teamwork,\r\n").encode()
    data = rejected_csv(raw, [RowProblem(4, "name starts with '='"), RowProblem(3, "'bad' is not an email address.")])
    assert data.startswith(b"\xef\xbb\xbf")
    assert rows_of(data) == [
        ["line", "reason", "email", "name", "achievement", "awarded_date"],
        ["3", "'bad' is not an email address.", "bad", "Bad Person", "teamwork", "2026-01-01"],
        ["4", "name starts with '='", "x@example.com", "'=cmd|' /C calc'!A0", "teamwork", ""],
    ]


def test_the_command_issues_the_valid_rows_writes_the_rejected_ones_and_exits_3(cli_env, tmp_path):
    path = tmp_path / "awards.csv"
    path.write_text(csv_text(MIXED), encoding="utf-8")
    runner = CliRunner()
    refused = runner.invoke(cli_main, ["issue-bulk", str(path)])
    assert refused.exit_code == 2 and counts(cli_env)["Award"] == 0
    dry = runner.invoke(cli_main, ["issue-bulk", str(path), "--mode", "valid-rows", "--dry-run"])
    assert dry.exit_code == 3 and [line.split(":")[0] for line in dry.stdout.splitlines()] == \
        ["line 3", "line 5", "line 7", "line 8"]
    assert dry.stderr == "4 bad rows of 8 would be left out; 4 to issue, 0 already issued (dry run: nothing was issued)\n"
    assert counts(cli_env)["Award"] == 0
    misuse = runner.invoke(cli_main, ["issue-bulk", str(path), "--rejected", str(tmp_path / "r.csv")])
    assert misuse.exit_code == 2 and "--rejected goes with --mode valid-rows" in misuse.stderr
    done = runner.invoke(cli_main, ["issue-bulk", str(path), "--mode", "valid-rows"])
    assert done.exit_code == 3, done.output
    assert done.stdout.startswith("issued 4 awards, 0 already issued (8 rows) in ")
    assert [line.split(":")[0] for line in done.stderr.splitlines() if line.startswith("line ")] == \
        ["line 3", "line 5", "line 7", "line 8"]
    written = tmp_path / "awards.rejected.csv"
    assert f"4 rows not issued, written with the reasons to {written}" in done.stderr
    rows = rows_of(written.read_bytes())
    assert rows[0] == ["line", "reason", *HEADER] and [r[0] for r in rows[1:]] == ["3", "5", "7", "8"]
    assert rows[2][2] == "sam@example.com" and "no-such-badge" in rows[2][1]
    assert counts(cli_env)["Award"] == 4
    elsewhere = tmp_path / "fix-me.csv"
    again = runner.invoke(cli_main, ["issue-bulk", str(path), "--mode", "valid-rows", "--rejected", str(elsewhere)])
    assert again.exit_code == 3 and again.stdout.startswith("issued 0 awards, 4 already issued")
    assert rows_of(elsewhere.read_bytes()) == rows
    clean = tmp_path / "clean.csv"
    clean.write_text(csv_text(people(10, 2)), encoding="utf-8")
    done = runner.invoke(cli_main, ["issue-bulk", str(clean), "--mode", "valid-rows"])
    assert done.exit_code == 0 and not (tmp_path / "clean.rejected.csv").exists()
