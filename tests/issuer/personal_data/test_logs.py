"""No log line carries a person's email address or name: a whole issue -> find -> export -> erase flow, logged.

What the issuer logs was read from its code (:mod:`issuer.personal_data.logs` says what and why): only
the servers' access logs could hold personal data, through query strings and the Referer. Two
real servers are watched:

* ``microcred serve`` (gunicorn, a real subprocess on loopback): its access log, on its stdout;
* the development server (werkzeug on loopback, as ``microcred serve --dev`` runs it, with its
  filter installed) serving the HR console through a whole flow over real HTTP, every log record of
  every logger captured at DEBUG: sign in, issue to Pat Doe with the email sent, search the awards
  by their address, find, export and erase them, open their withdrawn badge.

A real database error (a duplicate recipient, SQLite and PostgreSQL) shows no bound values, and
logged with its traceback through the issuer's log handler it names no address (PostgreSQL's
``DETAIL`` line included). ``traces`` is checked against an unfiltered line first, so the check
itself can fail.
"""
from __future__ import annotations

import io
import logging
import re
import urllib.parse
from pathlib import Path

import pytest
import requests
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from issuer.db.models import Achievement, Issuer, Recipient
from issuer.personal_data import logs
from tests.admin_support import PASSWORD, add_staff, console_app, live_console
from tests.issuer.personal_data.people_support import PAT, PAT_NAME
from tests.issuer.serve_support import serve_instance

SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def traces(text: str) -> list[str]:
    """Pat's address or name in any form a log could write them (as typed, URL-encoded, form-encoded)."""
    forms = {PAT, PAT_NAME, urllib.parse.quote(PAT), urllib.parse.quote_plus(PAT), urllib.parse.quote_plus(PAT_NAME),
             urllib.parse.quote(PAT_NAME), "pat.doe"}
    lowered = text.lower()
    return sorted(f for f in forms if f.lower() in lowered)


def test_the_check_finds_an_address_in_an_unfiltered_request_line():
    line = f'127.0.0.1 - - "GET /admin/awards?recipient={urllib.parse.quote(PAT)} HTTP/1.1" 200 -'
    assert traces(line) and traces(f"Pat Doe <{PAT}>")
    assert traces(logs.without_query(line)) == []


def test_microcred_serve_access_log_has_no_query_strings_nor_referers(tmp_path: Path, monkeypatch):
    process, base = serve_instance(tmp_path, monkeypatch)
    try:
        for path in (f"/admin/awards?recipient={urllib.parse.quote(PAT)}",
                     f"/api/v1/awards?email={urllib.parse.quote(PAT)}",
                     "/admin/login?next=" + urllib.parse.quote(f"/admin/awards?recipient={PAT}&name={PAT_NAME}")):
            requests.get(base + path, headers={"Referer": f"{base}/admin/awards?recipient={PAT}"},
                         allow_redirects=False, timeout=20)
    finally:
        process.terminate()
        output = process.communicate(timeout=30)[0]
    assert '"GET /admin/awards HTTP/1.1" 302' in output and '"GET /api/v1/awards HTTP/1.1" 401' in output
    assert traces(output) == []


@SQLITE_ONLY
def test_a_whole_issue_to_erase_flow_logs_no_email_and_no_name(db_url, tmp_path, monkeypatch, caplog):
    monkeypatch.delenv("MICROCRED_SMTP_HOST", raising=False)
    logs.install()
    caplog.set_level(logging.DEBUG)

    def factory(base_url: str):
        app = console_app(tmp_path, db_url, base_url=base_url, demo=True)
        add_staff(app, "root", "admin")
        return app

    try:
        with live_console(factory) as (app, base):
            with app.extensions["microcred"].sessions() as session:
                achievement = session.scalar(select(Achievement.id).where(Achievement.slug == "team-leadership"))
            browser = requests.Session()

            def post(path: str, data: dict, page: str = "/admin/people") -> requests.Response:
                token = CSRF.search(browser.get(base + page, timeout=20).text).group(1)
                return browser.post(base + path, data={**data, "csrf_token": token}, timeout=60,
                                    headers={"Origin": base})

            post("/admin/login", {"username": "root", "password": PASSWORD}, page="/admin/login")
            issued = post("/admin/awards/new", {"achievement": achievement, "email": PAT, "name": PAT_NAME,
                                                "evidence_narrative": f"{PAT_NAME} led the audit", "notify": "yes"},
                          page=f"/admin/awards/new?achievement={achievement}")
            award_id = re.search(r"/admin/awards/([0-9a-f-]{36})", issued.url).group(1)
            assert browser.get(f"{base}/admin/awards?recipient={urllib.parse.quote(PAT)}", timeout=20).ok
            assert PAT_NAME in post("/admin/people", {"email": PAT}).text
            exported = post("/admin/people/export", {"email": PAT}).json()
            assert exported["recipients"][0]["name"] == PAT_NAME and len(exported["messages"]) == 1
            erased = post("/admin/people/erase", {"email": PAT, "confirm_email": PAT, "confirm": "yes"})
            assert "Erased: 1 badge revoked and withdrawn" in erased.text
            assert requests.get(f"{base}/credentials/{award_id}", timeout=20).status_code == 410
            mail_folder = app.extensions["microcred"].settings.instance / "outbox-mail"
    finally:
        logging.getLogger(logs.DEV_SERVER_LOGGER).filters.clear()
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", record.getMessage())       # werkzeug colours its lines
             + (logging.Formatter().formatException(record.exc_info) if record.exc_info else "")
             for record in caplog.records if not record.name.startswith("urllib3")]   # the test's own client
    requested = [line for line in lines if "/admin/awards" in line]
    assert any('"GET /admin/awards HTTP/1.1" 200' in line for line in requested), lines   # the search was logged
    assert any('"POST /admin/people/erase HTTP/1.1" 303' in line for line in lines)
    assert traces("\n".join(lines)) == []
    assert not any(p.name.endswith(".eml") for p in mail_folder.iterdir())             # the email went, then left


def test_a_database_error_and_its_logged_traceback_show_no_bound_values(db_engine):
    with db_engine.begin() as connection:
        connection.execute(insert(Issuer).values(id="i", did="did:web:x", base_url="https://x", name="X"))
        connection.execute(insert(Recipient).values(id="r1", issuer_id="i", email=PAT, name=PAT_NAME))
    with pytest.raises(IntegrityError) as duplicate, db_engine.begin() as connection:
        connection.execute(insert(Recipient).values(id="r2", issuer_id="i", email=PAT, name=PAT_NAME))
    stream = io.StringIO()
    handler = logs.install_app_logging(stream)           # as microcred serve does
    try:
        logging.getLogger("issuer.bulk.jobs").error("bulk job %s failed", "j1", exc_info=duplicate.value)
    finally:
        logging.getLogger(logs.APP_LOGGER).removeHandler(handler)
    message = str(duplicate.value)
    assert "INSERT INTO recipients" in message and "SQL parameters hidden" in message   # the values are not
    if db_engine.dialect.name == "sqlite":
        assert traces(message) == []
    written = stream.getvalue()
    assert "bulk job j1 failed" in written and "IntegrityError" in written and "Traceback" in written
    assert traces(written) == []
    if db_engine.dialect.name == "postgresql":       # the server's DETAIL line names the key: redacted
        assert "[address]" in written
