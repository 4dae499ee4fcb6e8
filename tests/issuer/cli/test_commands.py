"""The HR commands through the real click group: outputs, exit codes, nothing changed on bad input."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from issuer.cli import main
from issuer.config import load_settings
from issuer.db.models import Award, IssuerKey
from issuer.instance import open_instance


@pytest.fixture()
def env(tmp_path, monkeypatch):
    values = {"MICROCRED_INSTANCE": str(tmp_path / "instance"), "MICROCRED_KEYS": str(tmp_path / "keys"),
              "MICROCRED_BASE_URL": "https://hr.example.com"}
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    return values


def run(*args, ok=True):
    result = CliRunner().invoke(main, list(args))
    if ok:
        assert result.exit_code == 0, result.output
    return result


def count_awards() -> int:
    with open_instance(load_settings())() as session:
        return session.scalar(select(func.count()).select_from(Award))


def test_init_then_achievement_then_issue_then_revoke(env, tmp_path):
    assert "Initialized Example Corp (did:web:hr.example.com)" in run("init", "--name", "Example Corp").output
    assert "Already initialized" in run("init", "--name", "Other").output
    definition = tmp_path / "achievement.json"
    definition.write_text(json.dumps({
        "slug": "first-aid", "name": "First aid", "description": "Can give first aid at work.",
        "criteria_narrative": "Passed the practical assessment.", "validity_months": 36,
        "alignments": [{"targetName": "First aid", "targetUrl": "https://example.com/skills/first-aid",
                        "targetFramework": "O*NET", "targetCode": "2.B.3.j"}]}))
    run("achievements", "create", "--from-json", str(definition))
    assert "first-aid\tFirst aid\t1 skills, valid 36 months" in run("achievements", "list").output
    shown = json.loads(run("achievements", "show", "first-aid").output)
    assert shown["alignment"][0]["targetCode"] == "2.B.3.j"
    out = run("issue", "--achievement", "first-aid", "--email", "alex@example.com",
              "--evidence-url", "https://lms.example.com/records/42").output.splitlines()
    award_id = out[0].split()[1]
    assert out[1] == f"https://hr.example.com/credentials/{award_id}"
    assert run("issue", "--achievement", "first-aid", "--email", "alex@example.com",
               "--evidence-url", "https://lms.example.com/records/42").output.startswith("Already issued")
    assert run("revoke", award_id, "--reason", "issued in error").output.strip() == f"{award_id}: revoked"
    mails = [p.read_text() for p in sorted((tmp_path / "instance" / "outbox-mail").glob("*.eml"))]
    notices = [m for m in mails if "issued in error" in m]       # the notice left with the command
    assert len(notices) == 1 and "alex@example.com" in notices[0] and "multipart/alternative" in notices[0]
    assert run("revoke", award_id, "--reason", "again").output.strip() == f"{award_id}: revoked (no change)"
    assert len(list((tmp_path / "instance" / "outbox-mail").glob("*.eml"))) == len(mails)
    assert "2 " not in run("expiring", "--days", "30").output
    before = run("keys", "rotate").output
    assert "#key-2" in before
    with open_instance(load_settings())() as session:
        assert [k.state for k in session.scalars(select(IssuerKey).order_by(IssuerKey.id))] == ["retired", "current"]


@pytest.mark.parametrize("args,message", [  # refused input: exit 2
    (["issue", "--achievement", "missing", "--email", "a@example.com"], "There is no achievement 'missing'"),
    (["issue", "--achievement", "sql", "--email", "nope"], "is not an email address"),
    (["issue", "--achievement", "sql", "--email", "a@example.com", "--evidence-url", "javascript:alert(1)"],
     "is not an http(s) URL"),
    (["issue", "--achievement", "sql", "--email", "a@example.com", "--result", "nope"], "RESULT_DESCRIPTION_ID=VALUE"),
    (["issue", "--achievement", "sql", "--email", "a@example.com", "--awarded", "yesterday"], "ISO 8601"),
    (["revoke", "00000000-0000-4000-8000-000000000000", "--reason", "x"], "there is no award"),
    (["revoke", "00000000-0000-4000-8000-000000000000"], "Missing option '--reason'"),
    (["achievements", "create", "--slug", "Bad Slug", "--name", "x", "--description", "y", "--criteria", "z"],
     "must be lower-case"),
    (["achievements", "create", "--slug", "no-criteria", "--name", "x", "--description", "y"], "needs criteria"),
])
def test_bad_input_is_one_line_exit_2_and_changes_nothing(env, args, message):
    run("init", "--name", "Example Corp")
    run("achievements", "create", "--slug", "sql", "--name", "SQL", "--description", "Writes SQL.",
        "--criteria", "Practical test.")
    before = count_awards()
    result = run(*args, ok=False)
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], result.output
    assert count_awards() == before


def test_a_taken_slug_is_a_conflict_exit_1_and_changes_nothing(env):
    run("init", "--name", "Example Corp")
    run("achievements", "create", "--slug", "sql", "--name", "SQL", "--description", "Writes SQL.",
        "--criteria", "Practical test.")
    result = run("achievements", "create", "--slug", "sql", "--name", "x", "--description", "y", "--criteria", "z",
                 ok=False)
    assert result.exit_code == 1                # a Conflict (the API's 409), not a usage error
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0] == "error: An achievement with the slug 'sql' already exists.", result.output
    assert run("achievements", "list").output.splitlines() == ["sql\tSQL\t0 skills"]


def test_commands_before_init_say_so(env):
    result = run("issue", "--achievement", "sql", "--email", "a@example.com", ok=False)
    assert result.exit_code == 1 and "run 'microcred init'" in result.output      # NotReady
