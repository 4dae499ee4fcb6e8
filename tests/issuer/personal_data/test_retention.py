"""Retention purge with an injected clock, on SQLite and PostgreSQL; the settings and their refusals.

The app's clock is moved forward (the runtime's clock, which the purge and mail delivery read):
sent mail loses its text and address after ``sent_mail_days`` (the ``.eml`` copies go too), a
superseded or revoked award is erased ``ended_awards_days`` after the change (revoked on the
status list, as a verifier sees it), and a person left with no award is erased as well. A dry run
counts the same and changes nothing.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from issuer.config import ConfigError, RetentionSettings, load_retention
from issuer.db.models import AuditEntry, Award, OutboxMessage, Recipient
from issuer.personal_data.retention import Purged
from tests.admin_support import Clock, console_app
from tests.issuer.personal_data.people_support import PAT, PAT_TRACES, SAM, dump, mail_files, other, person, services
from tests.issuer.personal_data.test_erasure import status_reason

RULES = RetentionSettings(sent_mail_days=30, ended_awards_days=365)


@pytest.fixture()
def clock() -> Clock:
    return Clock()


@pytest.fixture()
def app(db_url, tmp_path, monkeypatch, clock):
    monkeypatch.delenv("MICROCRED_SMTP_HOST", raising=False)
    app = console_app(tmp_path, db_url, clock=clock, demo=True)
    yield app
    app.extensions["microcred"].engine.dispose()


def messages(app) -> list[OutboxMessage]:
    with app.extensions["microcred"].sessions() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_retention_purges_old_mail_then_ended_awards_then_people_left_with_none(app, clock):
    t0 = datetime.now(UTC)
    pat, sam = person(app), other(app)
    people = services(app).people
    clock.now = t0 + timedelta(days=10)
    assert people.purge(retention=RULES) == Purged(False)                     # nothing is due yet
    assert len(mail_files(app)) == 5                                          # Pat 4 (a suspension notice), Sam 1

    clock.now = t0 + timedelta(days=40)                                      # sent mail is due
    before = dump(app)
    assert people.purge(dry_run=True, retention=RULES) == Purged(True, sent_mail=5, mail_files=5)
    assert dump(app) == before and len(mail_files(app)) == 5                  # a dry run changes nothing
    assert people.purge(retention=RULES) == Purged(False, sent_mail=5, mail_files=5)
    assert mail_files(app) == []
    for row in messages(app):
        assert (row.to_address, row.to_name, row.body, row.html, row.attachment) == ("", None, "", None, None)
        assert row.kind                                                        # what it was, in the row still
        assert row.subject and row.sent_at is not None and row.key             # the key keeps it sent once
    assert people.purge(retention=RULES) == Purged(False)                     # done: nothing more to do

    clock.now = t0 + timedelta(days=400)                                     # Pat's renewed (superseded) badge
    first, suspended, renewed = pat.awards
    assert people.purge(retention=RULES) == Purged(False, awards=1)
    with app.extensions["microcred"].sessions() as session:
        old = session.get(Award, first)
        assert (old.state, old.credential, old.credential_jwt, old.evidence) == ("revoked", "", None, [])
        assert session.get(Award, renewed).state == "active" and session.get(Award, renewed).credential
        assert session.get(Award, suspended).credential == pat.texts[suspended]
        assert session.scalar(select(Recipient.email).where(Recipient.id == old.recipient_id)) == PAT
    assert status_reason(app, pat.texts[first]) == "revoked"
    assert status_reason(app, pat.texts[renewed]) is None

    for award_id in (suspended, renewed):                                    # Pat's other badges end too
        services(app).status.change_status(award_id, "revoke", {"reason": "left the company"}, actor="staff:hana")
    assert people.purge(dry_run=True, retention=RULES) == Purged(True, awards=2, recipients=1)
    assert people.purge(retention=RULES) == Purged(False, awards=2, recipients=1)
    rows = dump(app)
    for trace in PAT_TRACES:
        assert trace not in rows, trace
    assert SAM in rows and status_reason(app, sam.texts[sam.awards[0]]) is None   # Sam's active badge stays
    with app.extensions["microcred"].sessions() as session:
        purges = session.scalars(select(AuditEntry.details).where(AuditEntry.action == "retention_purge")).all()
    assert purges == [{"sent_mail": 5, "awards": 0, "recipients": 0, "mail_files": 5, "sign_ins": 0},
                      {"sent_mail": 0, "awards": 1, "recipients": 0, "mail_files": 0, "sign_ins": 0},
                      {"sent_mail": 0, "awards": 2, "recipients": 1, "mail_files": 0, "sign_ins": 0}]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_purges_that_are_off_keep_everything(app, clock):
    person(app)
    clock.now = datetime.now(UTC) + timedelta(days=4000)
    before = dump(app)
    assert services(app).people.purge(retention=RetentionSettings(None, None)) == Purged(False)
    assert dump(app) == before and len(mail_files(app)) == 4


def test_the_settings_have_defaults_never_and_refuse_nonsense():
    assert load_retention({}) == RetentionSettings(90, 365)
    assert load_retention({"MICROCRED_RETENTION_SENT_MAIL_DAYS": " 7 ",
                           "MICROCRED_RETENTION_ENDED_AWARDS_DAYS": "Never"}) == RetentionSettings(7, None)
    for bad in ("0", "-3", "1.5", "a year", "36501"):
        with pytest.raises(ConfigError, match="MICROCRED_RETENTION_SENT_MAIL_DAYS"):
            load_retention({"MICROCRED_RETENTION_SENT_MAIL_DAYS": bad})
