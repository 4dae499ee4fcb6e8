"""The People page of the console (Flask test client, SQLite and PostgreSQL) and ``microcred person`` /
``microcred retention`` (the real click group, SQLite).

Finding a person, downloading their data and erasing them are POSTs with CSRF tokens (no
address in any URL); erasure needs an administrator, the address typed again and the box ticked.
"""
from __future__ import annotations

import json
import os
import stat
from dataclasses import fields

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from issuer.cli import main
from issuer.db.models import AuditEntry
from issuer.personal_data.erase import Erased
from issuer.personal_data.retention import Purged
from issuer.personal_data.service import Erasure
from issuer.personal_data.summary import ERASED_WORDS, NOT_COUNTS, PURGED_WORDS, erasure_counts, purge_counts
from tests.admin_support import Console, add_staff, console_app, page_text
from tests.issuer.personal_data.people_support import PAT, PAT_NAME, SAM, dump, person, services

SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@pytest.fixture()
def app(db_url, tmp_path, monkeypatch):
    monkeypatch.delenv("MICROCRED_SMTP_HOST", raising=False)
    app = console_app(tmp_path, db_url, demo=True)
    add_staff(app, "hana", "issuer")
    add_staff(app, "root", "admin")
    yield app
    app.extensions["microcred"].engine.dispose()


def test_hr_finds_a_person_downloads_their_data_and_only_an_admin_erases(app):
    pat = person(app)
    hana = Console(app).login("hana")
    page = hana.get("/admin/people")
    assert page.status_code == 200 and 'method="post" action="/admin/people"' in page.get_data(as_text=True)
    found = hana.post("/admin/people", {"email": PAT.upper()})
    text = page_text(found)
    assert found.status_code == 200 and PAT_NAME in text and "3 badges, 4 emails" in text
    assert "Only an administrator can erase a person" in text and "Erase this person" not in text
    download = hana.post("/admin/people/export", {"email": PAT})
    assert download.status_code == 200 and download.mimetype == "application/json"
    assert download.headers["Content-Disposition"] == "attachment; filename=personal-data.json"
    assert download.headers["Cache-Control"] == "no-store"
    assert [a["id"] for a in download.json["awards"]] == pat.awards
    before = dump(app)
    refused = hana.post("/admin/people/erase", {"email": PAT, "confirm_email": PAT, "confirm": "yes"})
    assert refused.status_code == 403 and dump(app) == before
    assert hana.post("/admin/people", {"email": ""}).status_code == 422
    assert hana.post("/admin/people", {"email": "not an address"}).status_code == 422
    nobody = page_text(hana.post("/admin/people", {"email": "nobody@example.com"}))
    assert "Nothing: no badge was ever awarded to this address" in nobody


def test_erasing_needs_the_address_again_the_box_and_a_csrf_token(app):
    person(app)
    root = Console(app).login("root")
    assert "Erase this person" in page_text(root.post("/admin/people", {"email": PAT}))
    before = dump(app)
    for wrong in ({"confirm_email": SAM, "confirm": "yes"}, {"confirm_email": PAT}):
        answer = root.post("/admin/people/erase", {"email": PAT, **wrong})
        assert answer.status_code == 422 and "nothing was erased" in page_text(answer)
    no_token = root.client.post("/admin/people/erase", data={"email": PAT, "confirm_email": PAT, "confirm": "yes"})
    assert no_token.status_code == 400
    assert dump(app) == before
    done = root.post("/admin/people/erase", {"email": PAT, "confirm_email": PAT, "confirm": "yes"},
                     follow_redirects=True)
    assert ("Erased: 3 badges revoked and withdrawn, 3 of them revoked now, 4 emails deleted, 4 mail files deleted, "
            "1 person record erased, ") in page_text(done)
    assert PAT not in done.get_data(as_text=True)                 # the flashed message names nobody
    assert PAT not in dump(app)
    with app.extensions["microcred"].sessions() as session:
        assert session.scalar(select(AuditEntry.actor).where(AuditEntry.action == "erase_person")) == "staff:root"
    again = root.post("/admin/people/erase", {"email": PAT, "confirm_email": PAT, "confirm": "yes"},
                      follow_redirects=True)
    assert "Nothing is held about that address" in page_text(again)


# ------------------------------------------------------------------ the commands

@pytest.fixture()
def cli_env(app, db_url, tmp_path, monkeypatch):
    settings = app.extensions["microcred"].settings
    for name, value in {"MICROCRED_INSTANCE": str(settings.instance), "MICROCRED_KEYS": str(settings.keys_dir),
                        "MICROCRED_BASE_URL": settings.base_url, "DATABASE_URL": db_url}.items():
        monkeypatch.setenv(name, value)
    return app


def run(*args: str, code: int = 0, input: str | None = None):
    result = CliRunner().invoke(main, list(args), input=input)
    assert result.exit_code == code, result.output
    return result


@SQLITE_ONLY
def test_the_person_commands_export_to_a_private_file_and_erase_with_confirmation(cli_env, tmp_path):
    app = cli_env
    pat = person(app)
    printed = json.loads(run("person", "export", PAT).output)
    assert [a["id"] for a in printed["awards"]] == pat.awards
    out = tmp_path / "pat.json"
    assert "Written to" in run("person", "export", PAT, "--out", str(out)).output
    assert json.loads(out.read_text())["recipients"][0]["name"] == PAT_NAME
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    assert "error:" in run("person", "export", PAT, "--out", str(out), code=2).output     # never overwritten
    assert "Nothing is held" in run("person", "export", "nobody@example.com", code=2).output
    before = dump(app)
    assert "Aborted" in run("person", "erase", PAT, input="n\n", code=1).output
    assert dump(app) == before
    erased = run("person", "erase", PAT, "--yes").output
    assert erased.startswith("Erased: 3 badges revoked and withdrawn, 3 of them revoked now, 4 emails deleted, "
                              "4 mail files deleted, 1 person record erased, ")
    assert PAT not in dump(app)
    with app.extensions["microcred"].sessions() as session:
        assert session.scalar(select(AuditEntry.actor).where(AuditEntry.action == "erase_person")).startswith("cli")
    assert "nothing changed" in run("person", "erase", PAT, "--yes").output
    assert run("person", "erase", "not-an-address", "--yes", code=2).output.startswith("error: Give the person's")


@SQLITE_ONLY
def test_retention_purge_counts_on_a_dry_run_and_refuses_bad_settings(cli_env, monkeypatch):
    person(cli_env)
    before = dump(cli_env)
    assert run("retention", "purge", "--dry-run").output.strip() == (
        "Retention would remove: 0 sent emails (text and address), 0 mail files, 0 ended badges, "
        "0 people with no badge left, 0 sign-ins past use (links, sessions, their emails).")
    assert dump(cli_env) == before
    monkeypatch.setenv("MICROCRED_RETENTION_ENDED_AWARDS_DAYS", "0")
    assert "MICROCRED_RETENTION_ENDED_AWARDS_DAYS must be a number of days" in \
        run("retention", "purge", code=78).output
    assert services(cli_env).people.export(PAT)["recipients"]


def test_every_count_an_erasure_or_a_purge_returns_has_its_words():
    """The console and the commands print :mod:`issuer.personal_data.summary`: a count added to the
    service's result types without words here fails this test."""
    erasure_fields = {f.name for f in fields(Erased)} | {f.name for f in fields(Erasure)} - {"erased"}
    assert erasure_fields - set(NOT_COUNTS) == set(ERASED_WORDS)
    assert {f.name for f in fields(Purged)} - set(NOT_COUNTS) == set(PURGED_WORDS)
    erasure = Erasure(Erased(**{f.name: 7 for f in fields(Erased)}), files_deleted=7, files_left=2)
    said = erasure_counts(erasure)
    assert len(said) == len(ERASED_WORDS) and all(phrase.startswith("7 ") for phrase in said)
    assert erasure_counts(Erasure(Erased(awards=1, revoked=1), 0, 0)) == ["1 badge revoked and withdrawn",
                                                                          "1 of them revoked now"]
    purged = purge_counts(Purged(True, **{name: 1 for name in PURGED_WORDS}))
    assert purged == ["1 sent email (text and address)", "1 mail file", "1 ended badge", "1 person with no badge left",
                      "1 sign-in past use (link, session or its email)"]
