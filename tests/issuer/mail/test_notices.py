"""Notices of a revocation or suspension, and multipart delivery on a real SMTP server.

A revocation or suspension queues its notice in the same transaction as the change (exactly
once: its key), and the notice and the award email reach an aiosmtpd server on 127.0.0.1 as
multipart/alternative (text and HTML), the award email with its badge attached. Migration 0008
gives messages queued before it their kind, and they are still sent, as text only.
"""
from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import select

from issuer.access.tokens import create_token
from issuer.awards.issuance import AwardRequest
from issuer.awards.lifecycle import AWARDS, change_record_status, change_status
from issuer.config import load_settings
from issuer.db import migrate as migrate_module
from issuer.db.engine import make_engine, session_factory
from issuer.db.migrate import migrate
from issuer.db.models import Award, OutboxMessage
from issuer.mail.outbox import deliver_pending, enqueue_sign_in, enqueue_status_notice
from issuer.mail.transport import MailConfig
from tests.issuer.mail.test_mail import (  # noqa: F401  (fixtures)
    app,
    award_and_queue,
    deliver,
    outbox,
    seeded,
    smtp_config,
    smtp_server,
)
from tests.issuer.web.test_sharing import BASE
from verifier.baked import extract_baked

SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def notices(app) -> list[tuple[str | None, str | None]]:  # noqa: F811
    return [(m.kind, m.key) for m in outbox(app) if m.kind in ("revoked", "suspended", "reinstated")]


def test_revoking_queues_one_notice_that_arrives_as_text_and_html(app, seeded, smtp_server):  # noqa: F811
    state = app.extensions["microcred"]
    award_id = award_and_queue(app, AwardRequest("team-leadership", "sam@example.com", name="Sam Reyes"))
    change = change_status(state.sessions, state.settings, award_id, "revoke", reason="Issued to the wrong team",
                           actor="test")
    assert change.changed
    again = change_status(state.sessions, state.settings, award_id, "revoke", reason="twice", actor="test")
    assert not again.changed
    assert notices(app) == [("revoked", f"revoked:{award_id}")]
    with state.sessions.begin() as session:          # asked again directly: the key refuses a second one
        award = session.get(Award, award_id)
        assert enqueue_status_notice(session, state.settings, award, "revoke", reason="x") is None
    result = deliver(app, config=smtp_config(app, smtp_server.port))
    assert (result.sent, result.failed) == (2, 0)            # the award email and the notice
    notice = next(m for m in smtp_server.parsed() if m["Subject"] == "Your badge has been withdrawn: Team Leadership")
    assert notice.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in notice.iter_parts()] == ["text/plain", "text/html"]
    assert list(notice.iter_attachments()) == []             # a withdrawn badge is not sent again
    text = notice.get_body(("plain",)).get_content()
    html = notice.get_body(("html",)).get_content()
    assert "Hello Sam Reyes," in text and "The reason given: Issued to the wrong team" in text
    assert "Issued to the wrong team" in html and f'href="{BASE}/me/"' in html
    assert "mailto:people-team@example.com" in html and "people-team@example.com" in text
    with state.sessions() as session:
        row = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "revoked")).one()
        assert row.sent_at is not None and row.award_id == award_id


def test_the_award_email_arrives_as_text_and_html_with_the_badge_attached(app, seeded, smtp_server):  # noqa: F811
    award_id = award_and_queue(app, AwardRequest("team-leadership", "new.hire@example.com", name="Robin Quinn"))
    assert deliver(app, config=smtp_config(app, smtp_server.port)).sent == 1
    [message] = smtp_server.parsed()
    assert message.get_content_type() == "multipart/mixed"
    alternative, attachment = message.get_payload()
    assert [p.get_content_type() for p in alternative.get_payload()] == ["text/plain", "text/html"]
    html = message.get_body(("html",)).get_content()
    assert f'href="{BASE}/credentials/{award_id}"' in html and f'href="{BASE}/me/"' in html
    assert "<strong>“Team Leadership”</strong>" in html
    assert attachment.get_content_type() == "image/png" and attachment.get_filename() == "team-leadership.png"
    with app.extensions["microcred"].sessions() as session:
        assert extract_baked(attachment.get_content()).value == session.get(Award, award_id).credential


@SQLITE_ONLY
def test_each_suspension_and_each_lifted_hold_has_its_notice(app, seeded):  # noqa: F811
    state = app.extensions["microcred"]
    award_id = award_and_queue(app, AwardRequest("team-leadership", "sam@example.com"))
    for action in ("suspend", "suspend", "unsuspend", "unsuspend", "suspend"):
        change_status(state.sessions, state.settings, award_id, action, reason="Checking records", actor="test")
    assert notices(app) == [("suspended", f"suspended:{award_id}"), ("reinstated", f"reinstated:{award_id}"),
                            ("suspended", f"suspended:{award_id}:2")]
    change_status(state.sessions, state.settings, award_id, "revoke", reason="Confirmed", actor="test")
    assert len(notices(app)) == 4 and notices(app)[-1] == ("revoked", f"revoked:{award_id}")


@SQLITE_ONLY
def test_a_status_change_that_rolls_back_queues_no_notice(app, seeded):  # noqa: F811
    state = app.extensions["microcred"]
    award_id = award_and_queue(app, AwardRequest("team-leadership", "sam@example.com"))
    with pytest.raises(RuntimeError), state.sessions.begin() as session:
        change_record_status(session, state.settings, AWARDS, award_id, "revoke", {"reason": "oops"}, actor="test")
        raise RuntimeError("the transaction fails after the change")
    assert notices(app) == []
    with state.sessions() as session:
        assert session.get(Award, award_id).state == "active"


def test_messages_queued_before_0008_get_their_kind_and_are_sent_as_text(db_url, tmp_path, smtp_server):  # noqa: F811
    engine = make_engine(db_url)
    try:
        with engine.begin() as connection, migrate_module._config(connection) as config:
            command.upgrade(config, "0007")
        with engine.begin() as connection:
            for n, key in enumerate(("awarded:a1", "renewed:a2", "expiring:a3", "party:a4", None)):
                connection.execute(sa.text(
                    "INSERT INTO outbox_messages (key, to_address, subject, body, created_at, attempts, "
                    "next_attempt_at) VALUES (:key, :to, :subject, :body, :at, 0, :at)"),
                    {"key": key, "to": f"person{n}@example.com", "subject": f"Old subject {n}",
                     "body": f"Old body {n}\n", "at": datetime(2026, 12, 1, 9, tzinfo=UTC)})
        migrate(engine)
        factory = session_factory(engine)
        with factory() as session:
            rows = list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
            assert [r.kind for r in rows] == ["awarded", "renewed", "expiring", None, None]
            assert all(r.html is None for r in rows)
        settings = load_settings({}, instance=tmp_path / "instance", keys_dir=tmp_path / "keys",
                                 database_url=db_url, base_url=BASE)
        config = MailConfig.from_env(settings, {"MICROCRED_SMTP_HOST": "127.0.0.1",
                                                "MICROCRED_SMTP_PORT": str(smtp_server.port),
                                                "MICROCRED_SMTP_STARTTLS": "false",
                                                "MICROCRED_MAIL_FROM": "hr@example.com"})
        assert deliver_pending(factory, settings, config=config).sent == 5
        parsed = [email.message_from_bytes(raw, policy=email.policy.default) for _, _, raw in smtp_server.messages]
        assert [m.get_content_type() for m in parsed] == ["text/plain"] * 5
        assert [m.get_content().replace("\r\n", "\n") for m in parsed] == [f"Old body {n}\n" for n in range(5)]
        with engine.begin() as connection, migrate_module._config(connection) as config:
            command.downgrade(config, "0007")
        assert {c["name"] for c in sa.inspect(engine).get_columns("outbox_messages")}.isdisjoint({"kind", "html"})
        with engine.connect() as connection:
            assert connection.execute(sa.text("SELECT count(*) FROM outbox_messages")).scalar() == 5
    finally:
        engine.dispose()


@SQLITE_ONLY
def test_suspending_through_the_rest_api_sends_the_notice_after_the_response(app, seeded, smtp_server,  # noqa: F811
                                                                             monkeypatch):
    for name, value in {"MICROCRED_SMTP_HOST": "127.0.0.1", "MICROCRED_SMTP_PORT": str(smtp_server.port),
                        "MICROCRED_SMTP_STARTTLS": "false"}.items():
        monkeypatch.setenv(name, value)
    award_id = award_and_queue(app, AwardRequest("team-leadership", "sam@example.com"))
    with app.extensions["microcred"].sessions.begin() as session:
        token = create_token(session, scope="issue", name="LMS")[1]
    headers = {"Authorization": f"Bearer {token}"}
    response = app.test_client().post(f"/api/v1/awards/{award_id}/suspend", json={"reason": "Checking records"},
                                      headers=headers)
    assert response.status_code == 200 and response.get_json()["changed"] is True
    response.close()                                  # the response is done: what was queued is sent
    subjects = [m["Subject"] for m in smtp_server.parsed()]
    assert subjects == ["Your new badge: Team Leadership", "Your badge is on hold: Team Leadership"]
    repeated = app.test_client().post(f"/api/v1/awards/{award_id}/suspend", json={"reason": "again"},
                                      headers=headers)
    assert repeated.get_json()["changed"] is False
    repeated.close()
    assert len(smtp_server.messages) == 2 and all(m.sent_at for m in outbox(app))


@SQLITE_ONLY
def test_a_status_change_asked_not_to_notify_queues_nothing(app, seeded):  # noqa: F811
    state = app.extensions["microcred"]
    award_id = award_and_queue(app, AwardRequest("team-leadership", "sam@example.com"))
    with state.sessions.begin() as session:
        change = change_record_status(session, state.settings, AWARDS, award_id, "revoke", {"reason": "erased"},
                                      actor="test", notify=False)
    assert change.changed and notices(app) == []


def test_the_sign_in_link_arrives_as_text_and_html(app, seeded, smtp_server):  # noqa: F811
    state = app.extensions["microcred"]
    link = f"{BASE}/me/sign-in/Zx8kQ2mN4pL7vR1t"
    with state.sessions.begin() as session:
        row = enqueue_sign_in(session, state.settings, to_address="robin.quinn@example.com", link=link,
                              minutes=15, now=datetime.now(UTC), key="sign_in:token-1")
    assert row.kind == "sign_in" and row.award_id is None
    assert deliver(app, config=smtp_config(app, smtp_server.port)).sent == 1
    [message] = smtp_server.parsed()
    assert message["Subject"] == "Your sign-in link for Example Corp People Team"
    assert message["To"] == "robin.quinn@example.com"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert link in message.get_body(("plain",)).get_content()
    assert f'href="{link}"' in message.get_body(("html",)).get_content()
    assert list(message.iter_attachments()) == []
