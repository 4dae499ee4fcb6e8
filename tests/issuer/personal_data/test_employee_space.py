"""Personal data of the employee space (``/me``): sign-in links, sessions, privacy choices, sign-in emails.

On SQLite and PostgreSQL, with the demo awards and the app's settable clock; people sign in the way
a person does (the link read from the outbox, through Flask's test client). The export lists the
person's sign-ins by their times and their choices, and never the text of a sign-in email (it holds
a working link until sent); an erasure deletes them all, so a signed-in browser is signed out on its
next request, and leaves everyone else's alone; retention removes sign-ins once they can no longer
be used, a dry run counting the same and changing nothing.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from issuer.config import RetentionSettings
from issuer.db.models import AuditEntry, OutboxMessage
from issuer.db.models_employee import AwardPrivacy, EmployeeSession, EmployeeSignInLink
from issuer.personal_data.retention import Purged
from tests.admin_support import Clock
from tests.issuer.employees.support import ALEX, SOFIA, EmployeeClient, award_ids, employee_app
from tests.issuer.personal_data.people_support import dump, files_naming, services

OFF = RetentionSettings(sent_mail_days=None, ended_awards_days=None)     # only the sign-ins' own rule applies
T0 = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


@pytest.fixture()
def clock() -> Clock:
    clock = Clock()
    clock.now = T0
    return clock


@pytest.fixture()
def app(db_url, tmp_path, monkeypatch, clock):
    monkeypatch.delenv("MICROCRED_SMTP_HOST", raising=False)
    app = employee_app(tmp_path, db_url, clock)
    yield app
    app.extensions["microcred"].engine.dispose()


def rows(app, model, email: str | None = None) -> list:
    with app.extensions["microcred"].sessions() as session:
        query = select(model)
        if email is not None:
            column = model.to_address if model is OutboxMessage else model.email
            query = query.where(column == email)
        if model is OutboxMessage:
            query = query.where(OutboxMessage.key.like("sign-in:%"))
        return list(session.scalars(query))


def privacy(app, award_ids_: list[str]) -> list[AwardPrivacy]:
    with app.extensions["microcred"].sessions() as session:
        return list(session.scalars(select(AwardPrivacy).where(AwardPrivacy.award_id.in_(award_ids_))))


def test_the_export_lists_sign_ins_and_choices_but_never_a_sign_in_link(app):
    ids = award_ids(app)
    team = ids[(ALEX, "Team Leadership")]
    alex = EmployeeClient(app).sign_in(ALEX)
    alex.post(f"/me/badges/{team}/profile", {"listed": "no"}, token_from="/me/")
    services(app).employees.request_sign_in(ALEX)            # queued, not sent yet: its text holds a live link
    pending = max(rows(app, OutboxMessage, ALEX), key=lambda m: m.id)
    assert pending.sent_at is None and "/me/sign-in/" in pending.body

    document = services(app).people.export(ALEX)
    text = repr(document)
    assert [(p["award_id"], p["show_name"], p["on_profile"]) for p in document["privacy"]] == [(team, False, False)]
    assert len(document["sign_in_links"]) == 2
    assert sorted(link["used_at"] is None for link in document["sign_in_links"]) == [False, True]
    [session] = document["sessions"]
    assert session["active"] is True and session["created_at"] == "2026-12-06T09:00:00Z"
    sign_in_mails = [m for m in document["messages"] if m["kind"] == "Sign-in link"]
    assert len(sign_in_mails) == 2 and all(m["award_id"] is None for m in sign_in_mails)
    assert all(m["body"].startswith("(A one-time sign-in link") and m["html"] is None for m in sign_in_mails)
    assert pending.html and "/me/sign-in/" in pending.html                  # held, but not exported
    with app.extensions["microcred"].sessions.begin() as session:           # one queued before kinds were stored
        session.execute(update(OutboxMessage).where(OutboxMessage.id == pending.id).values(kind=None))
    legacy = [m for m in services(app).people.export(ALEX)["messages"] if m["id"] == pending.id]
    assert [(m["kind"], m["body"][:24], m["html"]) for m in legacy] == [("Sign-in link", "(A one-time sign-in link", None)]
    assert "/me/sign-in/" not in text
    for row in rows(app, EmployeeSignInLink) + rows(app, EmployeeSession):
        assert row.token_hash not in text                     # no hash either: of no use to anyone

    sofia = services(app).people.export(SOFIA)                # nothing of Alex's sign-ins in someone else's
    assert sofia["sign_in_links"] == [] and sofia["sessions"] == [] and sofia["privacy"] == []


def test_erasure_deletes_sign_ins_and_choices_and_signs_the_browser_out_at_once(app):
    ids = award_ids(app)
    alex_awards = [i for (email, _), i in ids.items() if email == ALEX]
    sofia_awards = [i for (email, _), i in ids.items() if email == SOFIA]
    alex, sofia = EmployeeClient(app).sign_in(ALEX), EmployeeClient(app).sign_in(SOFIA)
    alex.post(f"/me/badges/{alex_awards[0]}/name", {"show": "yes"}, token_from="/me/")
    sofia.post(f"/me/badges/{sofia_awards[0]}/name", {"show": "yes"}, token_from="/me/")
    services(app).employees.deliver_mail()                    # as .eml files: no SMTP server is set
    assert files_naming(app, ALEX)
    services(app).employees.request_sign_in(ALEX)             # a link still waiting in the outbox
    assert alex.get("/me/").status_code == 200
    assert len(rows(app, OutboxMessage, ALEX)) == 2 and rows(app, EmployeeSession, ALEX)

    erasure = services(app).people.erase(ALEX, actor="staff:hana")
    assert (erasure.erased.sign_ins, erasure.erased.privacy) == (3, 1)      # two links and a session; one choice
    assert alex.get("/me/").status_code == 302                                # signed out on the next request
    assert alex.get("/me/data.json").status_code == 302
    assert rows(app, EmployeeSignInLink, ALEX) == [] and rows(app, EmployeeSession, ALEX) == []
    assert rows(app, OutboxMessage, ALEX) == [] and privacy(app, alex_awards) == []
    assert ALEX not in dump(app) and files_naming(app, ALEX) == []      # the sign-in emails' .eml copies too
    with app.extensions["microcred"].sessions() as session:
        [entry] = session.scalars(select(AuditEntry).where(AuditEntry.action == "erase_person"))
    assert entry.details["sign_ins"] == 3 and entry.details["privacy"] == 1

    assert sofia.get("/me/").status_code == 200                              # everyone else is left alone
    assert len(rows(app, EmployeeSession, SOFIA)) == 1 and len(rows(app, EmployeeSignInLink, SOFIA)) == 1
    assert len(privacy(app, sofia_awards)) == 1 and len(rows(app, OutboxMessage, SOFIA)) == 1
    assert services(app).people.erase(ALEX, actor="staff:hana").nothing       # repeated: nothing left to do


def test_retention_removes_sign_ins_once_they_cannot_be_used(app, clock):
    people = services(app).people
    alex = EmployeeClient(app).sign_in(ALEX)                   # a used link, a live session, a sent email
    ended = EmployeeClient(app).sign_in(SOFIA)
    ended.post("/me/sign-out", token_from="/me/")             # an ended session
    assert people.purge(retention=OFF) == Purged(False, sign_ins=1)    # the ended session, at once
    assert rows(app, EmployeeSession, SOFIA) == [] and len(rows(app, EmployeeSession, ALEX)) == 1
    assert len(rows(app, EmployeeSignInLink)) == 2                       # used, but the hourly cap counts them

    clock.now = T0 + timedelta(hours=2)                        # links and sign-in emails are past use
    services(app).employees.request_sign_in(SOFIA)            # a fresh link: kept
    before = dump(app)
    assert people.purge(dry_run=True, retention=OFF) == Purged(True, sign_ins=4)   # 2 links, 2 emails
    assert dump(app) == before
    assert people.purge(retention=OFF) == Purged(False, sign_ins=4)
    assert rows(app, EmployeeSignInLink, ALEX) == [] and rows(app, OutboxMessage, ALEX) == []
    assert len(rows(app, EmployeeSignInLink, SOFIA)) == 1 and len(rows(app, OutboxMessage, SOFIA)) == 1
    assert len(rows(app, EmployeeSession, ALEX)) == 1
    assert alex.get("/me/").status_code == 200                 # a live session is not touched

    clock.now = T0 + timedelta(hours=13)                       # the session has expired (12 hours)
    assert people.purge(retention=OFF) == Purged(False, sign_ins=3)    # Sofia's link and email, Alex's session
    assert rows(app, EmployeeSession) == [] and rows(app, EmployeeSignInLink) == [] and rows(app, OutboxMessage) == []
    with app.extensions["microcred"].sessions() as session:
        entries = list(session.scalars(select(AuditEntry).where(AuditEntry.action == "retention_purge").order_by(AuditEntry.id)))
    assert [e.details["sign_ins"] for e in entries] == [1, 4, 3]
