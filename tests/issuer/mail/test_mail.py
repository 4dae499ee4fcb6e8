"""Award emails: queued with the award, sent after the commit, retried when the mail server fails.

Emails arrive on a real SMTP server (aiosmtpd on 127.0.0.1, a free port picked first); the
failing cases use a closed port and a server that refuses every message. Delivery, retry and
idempotent queueing run on SQLite and PostgreSQL.
"""
from __future__ import annotations

import email
import email.policy
import socket
import stat
from datetime import UTC, datetime, timedelta

import pytest
from aiosmtpd.controller import Controller
from click.testing import CliRunner
from sqlalchemy import select

from issuer.awards.issuance import AwardRequest, IssuerContext, issue_award
from issuer.awards.lifecycle import renew
from issuer.cli.share import mail
from issuer.db.models import Award, OutboxMessage, Recipient
from issuer.errors import ConfigError, InvalidInput, MailError
from issuer.identity import load_issuer
from issuer.mail.outbox import BACKOFF_MINUTES, deliver_pending, enqueue_award_mail, send_after_commit
from issuer.mail.service import Reminded
from issuer.mail.transport import MailConfig, SmtpTransport, clean_header
from tests.issuer.web.test_sharing import ALEX, BASE, issue_custom, issuer_documents, make_app, seed
from verifier import verify_credential
from verifier.baked import extract_baked

SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    def __init__(self, reply: str = "250 Message accepted for delivery"):
        self.reply = reply
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.connections: set[int] = set()        # one aiosmtpd session per SMTP connection

    async def handle_DATA(self, server, session, envelope):
        self.connections.add(id(session))
        if self.reply.startswith("250"):
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return self.reply

    def parsed(self) -> list[email.message.EmailMessage]:
        return [email.message_from_bytes(raw, policy=email.policy.default) for _, _, raw in self.messages]


def _start(inbox: Inbox):
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    inbox.port = port
    return controller


@pytest.fixture()
def smtp_server():
    inbox = Inbox()
    controller = _start(inbox)
    yield inbox
    controller.stop()


@pytest.fixture()
def refusing_smtp_server():
    inbox = Inbox("554 Transaction failed: no thanks")
    controller = _start(inbox)
    yield inbox
    controller.stop()


def smtp_config(app, port: int) -> MailConfig:
    return MailConfig.from_env(app.extensions["microcred"].settings, {
        "MICROCRED_SMTP_HOST": "127.0.0.1", "MICROCRED_SMTP_PORT": str(port), "MICROCRED_SMTP_STARTTLS": "false",
        "MICROCRED_MAIL_FROM": "People Team <people@example.com>"})


@pytest.fixture()
def app(db_url, tmp_path):
    app = make_app(tmp_path, db_url)
    yield app
    app.extensions["microcred"].engine.dispose()


def award_and_queue(app, request: AwardRequest, kind: str = "awarded") -> str:
    """Issue and queue the email in one transaction (the hook cli_admin.issue uses)."""
    state = app.extensions["microcred"]
    with state.sessions.begin() as session:
        issuer = load_issuer(session, state.settings)
        award, created = issue_award(session, IssuerContext.load(session, state.settings, issuer), request,
                                     actor="test")
        if created:
            enqueue_award_mail(session, state.settings, award, kind)
        return award.id


def outbox(app) -> list[OutboxMessage]:
    with app.extensions["microcred"].sessions() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def deliver(app, **kwargs):
    state = app.extensions["microcred"]
    return deliver_pending(state.sessions, state.settings, **kwargs)


@pytest.fixture()
def seeded(app):
    return seed(app)


# ------------------------------------------------------------------ delivery

def test_an_award_email_arrives_with_the_badge_name_page_link_and_baked_png(app, seeded, smtp_server):
    award_id = award_and_queue(app, AwardRequest("team-leadership", "new.hire@example.com", name="Robin Quinn"))
    assert [m.sent_at for m in outbox(app)] == [None]
    result = deliver(app, config=smtp_config(app, smtp_server.port))
    assert (result.sent, result.failed, result.waiting) == (1, 0, 0)
    [(mail_from, rcpt, _raw)] = smtp_server.messages
    assert mail_from == "people@example.com" and rcpt == ["new.hire@example.com"]
    [message] = smtp_server.parsed()
    assert message["Subject"] == "Your new badge: Team Leadership"
    assert message["To"] == "Robin Quinn <new.hire@example.com>"
    assert message["From"] == "People Team <people@example.com>"
    text = message.get_body(("plain",)).get_content()
    assert "Hello Robin Quinn," in text and "\u201cTeam Leadership\u201d" in text
    assert f"{BASE}/credentials/{award_id}" in text
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "image/png" and attachment.get_filename() == "team-leadership.png"
    png = attachment.get_content()
    with app.extensions["microcred"].sessions() as session:
        assert extract_baked(png).value == session.get(Award, award_id).credential
    assert verify_credential(png, offline=True, documents=issuer_documents(app)).verified
    [row] = outbox(app)
    assert row.sent_at is not None and row.attempts == 1 and row.attachment is None     # sent: bytes dropped
    assert deliver(app, config=smtp_config(app, smtp_server.port)).sent == 0                # never sent twice


@SQLITE_ONLY
def test_a_rolled_back_award_queues_nothing(app, seeded):
    state = app.extensions["microcred"]
    with pytest.raises(RuntimeError), state.sessions.begin() as session:
        issuer = load_issuer(session, state.settings)
        award, _ = issue_award(session, IssuerContext.load(session, state.settings, issuer),
                               AwardRequest("team-leadership", "ghost@example.com"), actor="test")
        enqueue_award_mail(session, state.settings, award)
        raise RuntimeError("something after the award failed")
    assert outbox(app) == []


def test_queueing_is_idempotent_per_award_and_kind(app, seeded):
    award_id = award_and_queue(app, AwardRequest("team-leadership", "sam@example.com"))
    state = app.extensions["microcred"]
    with state.sessions.begin() as session:
        award = session.get(Award, award_id)
        assert enqueue_award_mail(session, state.settings, award, "awarded") is None
        assert enqueue_award_mail(session, state.settings, award, "expiring") is not None
    assert [m.key for m in outbox(app)] == [f"awarded:{award_id}", f"expiring:{award_id}"]
    with pytest.raises(InvalidInput), state.sessions.begin() as session:
        enqueue_award_mail(session, state.settings, session.get(Award, award_id), "party")


def test_a_failing_mail_server_leaves_the_message_queued_and_it_is_retried_later(app, seeded, smtp_server):
    award_id = award_and_queue(app, AwardRequest("team-leadership", "sam@example.com"))
    closed = smtp_config(app, free_port())                       # nothing listens there
    t0 = datetime.now(UTC)
    result = deliver(app, config=closed, now=t0)
    assert (result.sent, result.failed, result.waiting) == (0, 1, 1)
    assert "ConnectionRefusedError" in result.errors[0]
    [row] = outbox(app)
    assert row.sent_at is None and row.attempts == 1 and "ConnectionRefusedError" in row.last_error
    assert row.next_attempt_at == t0 + timedelta(minutes=BACKOFF_MINUTES[0])
    assert row.attachment_name == "team-leadership.png" and row.award_id == award_id   # baked when sent
    with app.extensions["microcred"].sessions() as session:
        assert session.get(Award, award_id).state == "active"      # the award stands
    # not due yet: the next run leaves it alone
    assert deliver(app, config=smtp_config(app, smtp_server.port), now=t0 + timedelta(seconds=30)).sent == 0
    assert smtp_server.messages == []
    # a second failure backs off further
    deliver(app, config=closed, now=t0 + timedelta(minutes=2))
    [row] = outbox(app)
    assert row.attempts == 2 and row.next_attempt_at == t0 + timedelta(minutes=2 + BACKOFF_MINUTES[1])
    # the server is back: sent on the next due run
    result = deliver(app, config=smtp_config(app, smtp_server.port), now=t0 + timedelta(minutes=10))
    assert (result.sent, result.failed, result.waiting) == (1, 0, 0)
    assert len(smtp_server.messages) == 1
    [row] = outbox(app)
    assert row.sent_at is not None and row.attempts == 3 and row.last_error is None
    [message] = smtp_server.parsed()                               # nothing lost: the badge is attached
    [attachment] = list(message.iter_attachments())
    with app.extensions["microcred"].sessions() as session:
        assert extract_baked(attachment.get_content()).value == session.get(Award, award_id).credential


@SQLITE_ONLY
def test_a_refused_message_is_recorded_and_force_retries_it(app, seeded, refusing_smtp_server, smtp_server):
    award_and_queue(app, AwardRequest("team-leadership", "sam@example.com"))
    award_and_queue(app, AwardRequest("coaching-feedback", "sam@example.com"))
    result = deliver(app, config=smtp_config(app, refusing_smtp_server.port))
    assert result.failed == 2 and all("554" in row.last_error for row in outbox(app))
    assert len(refusing_smtp_server.connections) == 2              # a failed message drops the connection
    assert deliver(app, config=smtp_config(app, smtp_server.port)).sent == 0       # waiting for its backoff
    assert deliver(app, config=smtp_config(app, smtp_server.port), force=True).sent == 2


@SQLITE_ONLY
def test_send_after_commit_never_raises(app, seeded, monkeypatch):
    award_and_queue(app, AwardRequest("team-leadership", "sam@example.com"))
    monkeypatch.setenv("MICROCRED_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("MICROCRED_SMTP_PORT", "not-a-port")
    state = app.extensions["microcred"]
    assert send_after_commit(state.sessions, state.settings) is None
    monkeypatch.setenv("MICROCRED_SMTP_PORT", str(free_port()))
    monkeypatch.setenv("MICROCRED_SMTP_STARTTLS", "false")
    delivery = send_after_commit(state.sessions, state.settings)
    assert delivery.failed == 1 and outbox(app)[0].sent_at is None


# ------------------------------------------------------------------ header injection and content

@SQLITE_ONLY
def test_cr_and_lf_in_names_never_reach_a_header(app, seeded, smtp_server):
    evil = "Welding\r\nBcc: victim@example.com\r\n\r\nInjected body"
    issue_custom(app, name=evil, email="sam@example.com", recipient_name="Sam\r\nBcc: other@example.com")
    state = app.extensions["microcred"]
    with state.sessions.begin() as session:
        award = session.scalars(select(Award).join(Recipient).where(Recipient.email == "sam@example.com")).one()
        enqueue_award_mail(session, state.settings, award)
    assert deliver(app, config=smtp_config(app, smtp_server.port)).sent == 1
    [(_from, rcpt, raw)] = smtp_server.messages
    assert rcpt == ["sam@example.com"]
    [message] = smtp_server.parsed()
    assert message["Bcc"] is None
    assert message["Subject"] == "Your new badge: Welding Bcc: victim@example.com Injected body"
    assert "\n" not in message["To"] and "sam@example.com" in message["To"]
    headers = raw.split(b"\r\n\r\n", 1)[0]
    assert not any(line.lower().startswith(b"bcc:") for line in headers.split(b"\r\n"))


def test_clean_header_removes_control_characters():
    assert clean_header("a\r\nb\x00c\td") == "a b c d"
    assert clean_header(None) == "" and len(clean_header("x" * 1000)) == 200


@SQLITE_ONLY
def test_renewal_and_expiry_reminders(app, seeded, smtp_server):
    state = app.extensions["microcred"]
    award_id = award_and_queue(app, AwardRequest("data-driven-decisions", "sam@example.com", name="Sam"))
    new = renew(state.sessions, state.settings, award_id, actor="test")
    with state.sessions.begin() as session:
        enqueue_award_mail(session, state.settings, session.get(Award, new.id), "renewed")
    # 12-month badges: nothing expires within 30 days now, everything within 400 days
    assert state.use.mail.remind_expiring(30, send=False) == Reminded(0, None)
    queued = state.use.mail.remind_expiring(400, send=False).queued
    assert queued == 3            # the renewed award and the two demo awards (the superseded one is not active)
    assert state.use.mail.remind_expiring(400, send=False).queued == 0      # once per award
    assert deliver(app, config=smtp_config(app, smtp_server.port)).sent == 5
    assert len(smtp_server.connections) == 1                      # one connection for the whole run
    subjects = sorted(m["Subject"] for m in smtp_server.parsed())
    assert "Your badge has been renewed: Data-Driven Decision Making" in subjects
    until = new.valid_until.date().isoformat()
    assert f"Your badge expires on {until}: Data-Driven Decision Making" in subjects
    body = next(m for m in smtp_server.parsed() if m["Subject"].startswith("Your badge expires")
                and "sam@example.com" in m["To"]).get_body(("plain",)).get_content()
    assert f"valid until {until}" in body and f"{BASE}/credentials/{new.id}" in body


# ------------------------------------------------------------------ configuration and transports

@SQLITE_ONLY
def test_without_an_smtp_host_messages_are_written_to_the_instance_folder(app, seeded):
    award_id = award_and_queue(app, AwardRequest("team-leadership", "sam@example.com"))
    assert deliver(app).sent == 1
    folder = app.extensions["microcred"].settings.instance / "outbox-mail"
    [path] = list(folder.glob("*.eml"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert message["Subject"] == "Your new badge: Team Leadership"
    assert message["From"] == "Example Corp People Team <people-team@example.com>"   # the issuer's email
    assert f"{BASE}/credentials/{award_id}" in message.get_body(("plain",)).get_content()
    assert not list(folder.glob(".*.tmp"))


def test_mail_config_from_the_environment(tmp_path):
    from issuer.config import load_settings

    settings = load_settings({}, instance=tmp_path / "instance")
    config = MailConfig.from_env(settings, {})
    assert (config.host, config.port, config.starttls) == (None, 587, True)
    assert config.folder == tmp_path / "instance" / "outbox-mail"
    config = MailConfig.from_env(settings, {"MICROCRED_SMTP_HOST": "smtp.example.com", "MICROCRED_SMTP_PORT": "2525",
                                            "MICROCRED_SMTP_USER": "u", "MICROCRED_SMTP_PASSWORD": "p",
                                            "MICROCRED_SMTP_STARTTLS": "no", "MICROCRED_MAIL_FROM": "hr@example.com"})
    assert (config.host, config.port, config.user, config.password, config.starttls, config.sender) == \
        ("smtp.example.com", 2525, "u", "p", False, "hr@example.com")
    for bad in ({"MICROCRED_SMTP_PORT": "0"}, {"MICROCRED_SMTP_PORT": "x"}, {"MICROCRED_SMTP_STARTTLS": "maybe"}):
        with pytest.raises(ConfigError):
            MailConfig.from_env(settings, bad)


def test_a_password_is_never_sent_without_starttls_to_a_remote_host(monkeypatch):
    class FakeSMTP:
        def __init__(self, *args, **kwargs):
            self.calls = []

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def login(self, *args):
            raise AssertionError("must not log in")

    monkeypatch.setattr("smtplib.SMTP", FakeSMTP)
    config = MailConfig(host="smtp.example.com", port=25, user="u", password="secret", starttls=False, sender=None,
                        folder=None)
    with pytest.raises(MailError, match="without STARTTLS"):
        SmtpTransport(config).send(email.message.EmailMessage())


# ------------------------------------------------------------------ the commands

@SQLITE_ONLY
def test_mail_commands_send_pending_and_remind_expiring(app, seeded, smtp_server, monkeypatch):
    settings = app.extensions["microcred"].settings
    for name, value in {"MICROCRED_INSTANCE": str(settings.instance), "MICROCRED_KEYS": str(settings.keys_dir),
                        "MICROCRED_BASE_URL": settings.base_url, "DATABASE_URL": settings.database_url,
                        "MICROCRED_SMTP_HOST": "127.0.0.1", "MICROCRED_SMTP_PORT": str(smtp_server.port),
                        "MICROCRED_SMTP_STARTTLS": "false"}.items():
        monkeypatch.setenv(name, value)
    award_and_queue(app, AwardRequest("team-leadership", ALEX.replace("alex", "alexandra")))
    runner = CliRunner()
    result = runner.invoke(mail, ["send-pending"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "sent 1, failed 0, still queued 0"
    result = runner.invoke(mail, ["remind-expiring", "--days", "400"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "queued 2 reminder(s)"       # the demo's two 12-month awards
    assert len(smtp_server.messages) == 3
    monkeypatch.setenv("MICROCRED_SMTP_PORT", str(free_port()))
    award_and_queue(app, AwardRequest("team-leadership", "late@example.com"))
    result = runner.invoke(mail, ["send-pending"])
    assert result.exit_code == 1
    assert result.stdout.strip() == "sent 0, failed 1, still queued 1"
    assert result.stderr.startswith("warning: 1 message(s) could not be sent and will be retried")
