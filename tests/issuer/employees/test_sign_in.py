"""Signing in by emailed one-time link: the service against a real database (SQLite and PostgreSQL).

The clock is the app's injected one, moved by hand; the emails are read from the outbox.
"""
from __future__ import annotations

import email
import email.policy
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from issuer.db.models import Issuer, Recipient
from issuer.db.models_employee import EmployeeSession, EmployeeSignInLink
from issuer.employees.access import LINK_MINUTES, MAX_LINKS_PER_HOUR, SESSION_HOURS, token_hash
from issuer.errors import InvalidInput
from tests.issuer.employees.support import (  # noqa: F401 - app, clock, employees: shared fixtures
    ALEX,
    NOW,
    SOFIA,
    app,
    clock,
    employees,
    link_in,
    sign_in_mails,
)


def rows(app, model) -> list:
    with app.extensions["microcred"].sessions() as session:
        return list(session.scalars(select(model)))


def new_token(app, employees, email: str = ALEX) -> str:
    employees.request_sign_in(email)
    return link_in(sign_in_mails(app, email)[-1])[1]


def test_a_link_is_mailed_to_an_address_with_badges_and_stored_only_as_a_hash(app, employees):
    employees.request_sign_in("  Alex.Morgan@EXAMPLE.com ")        # normalised like award addresses
    [mail] = sign_in_mails(app)
    assert (mail.to_address, mail.to_name, mail.award_id) == (ALEX, "Alex Morgan", None)
    url, token = link_in(mail)
    assert url == f"https://hr.example.com/me/sign-in/{token}" and len(token) >= 43    # 32 random bytes
    assert "works once, for 15 minutes" in mail.body and "Hello Alex Morgan" in mail.body
    assert "credential" not in mail.body.lower() and "did:" not in mail.body
    # the mail templates' sign-in email: the same link in its HTML part, a plain subject and kind
    assert mail.kind == "sign_in" and mail.subject == "Your sign-in link for Example Corp People Team"
    assert f'href="{url}"' in mail.html and "works once, for 15 minutes" in mail.html
    assert "credential" not in mail.html.lower() and "did:" not in mail.html
    [link] = rows(app, EmployeeSignInLink)
    assert link.token_hash == token_hash(token) and token not in (link.token_hash, link.email)
    assert (link.email, link.created_at, link.expires_at, link.used_at) == (ALEX, NOW, NOW + timedelta(minutes=15),
                                                                         None)
    assert token not in mail.key                                    # the outbox key holds the hash, not the token


def test_an_address_without_badges_gets_the_same_outcome_and_nothing_is_stored_or_sent(app, employees):
    assert employees.request_sign_in("nobody@example.com") is None
    assert employees.request_sign_in(ALEX) is None                  # the same return for both
    assert [m.to_address for m in sign_in_mails(app)] == [ALEX]
    assert [link.email for link in rows(app, EmployeeSignInLink)] == [ALEX]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_malformed_address_is_refused_in_plain_words(employees):
    for bad in ("", "alex", "alex@", "@example.com", "alex@localhost", "a b@example.com", "x" * 320 + "@example.com"):
        with pytest.raises(InvalidInput, match="Enter the email address your badges were sent to"):
            employees.request_sign_in(bad)


def test_a_link_signs_in_once(app, employees):
    token = new_token(app, employees)
    assert employees.link_works(token)
    assert employees.link_works(token)                               # looking does not use it (mail scanners)
    cookie = employees.sign_in(token)
    assert cookie is not None and cookie != token
    me = employees.signed_in(cookie)
    assert (me.email, me.name) == (ALEX, "Alex Morgan")
    assert employees.sign_in(token) is None                          # used
    assert not employees.link_works(token)
    [link] = rows(app, EmployeeSignInLink)
    assert link.used_at == NOW
    [session] = rows(app, EmployeeSession)
    assert session.token_hash == token_hash(cookie) and session.email == ALEX


def test_a_link_expires_after_15_minutes_by_the_injected_clock(app, employees, clock):
    early, late = new_token(app, employees), new_token(app, employees)
    clock.now = NOW + timedelta(minutes=LINK_MINUTES) - timedelta(seconds=1)
    assert employees.sign_in(early) is not None
    clock.now = NOW + timedelta(minutes=LINK_MINUTES)
    assert not employees.link_works(late)
    assert employees.sign_in(late) is None


def test_a_link_is_bound_to_the_address_it_was_sent_to(app, employees):
    alex, sofia = new_token(app, employees, ALEX), new_token(app, employees, SOFIA)
    assert employees.signed_in(employees.sign_in(sofia)).email == SOFIA
    assert employees.signed_in(employees.sign_in(alex)).email == ALEX


def test_unknown_tokens_sign_nobody_in(app, employees):
    real = new_token(app, employees)
    for token in ("", "x", "a" * 43, real[:-1], real + "A", "a" * 5000, "../../etc/passwd", "' OR 1=1 --", None):
        assert not employees.link_works(token or "")
        assert employees.sign_in(token or "") is None
        assert employees.signed_in(token) is None
    assert rows(app, EmployeeSession) == []
    assert employees.sign_in(real) is not None                       # the real one was not burnt by the tries


def test_links_per_address_are_capped_per_hour_in_the_database(app, employees, clock):
    for _ in range(MAX_LINKS_PER_HOUR + 2):
        employees.request_sign_in(ALEX)
    assert len(sign_in_mails(app, ALEX)) == MAX_LINKS_PER_HOUR      # the rest: same answer, nothing sent
    employees.request_sign_in(SOFIA)
    assert len(sign_in_mails(app, SOFIA)) == 1                       # per address
    clock.now = NOW + timedelta(hours=1, seconds=1)
    employees.request_sign_in(ALEX)
    assert len(sign_in_mails(app, ALEX)) == MAX_LINKS_PER_HOUR + 1


def test_a_session_expires_and_signing_out_ends_it(app, employees, clock):
    first = employees.sign_in(new_token(app, employees))
    second = employees.sign_in(new_token(app, employees))
    clock.now = NOW + timedelta(hours=SESSION_HOURS) - timedelta(seconds=1)
    assert employees.signed_in(first) is not None
    employees.sign_out(first)
    assert employees.signed_in(first) is None                        # ended for good
    assert employees.signed_in(second) is not None                   # the other device stays signed in
    clock.now = NOW + timedelta(hours=SESSION_HOURS)
    assert employees.signed_in(second) is None                       # expired
    employees.sign_out(None)                                         # nothing to end: no error
    employees.sign_out("unknown")


def test_sign_in_mail_is_sent_through_the_outbox_and_its_link_then_leaves_the_database(app, employees, tmp_path,
                                                                                       clock):
    employees.request_sign_in(ALEX)
    url, token = link_in(sign_in_mails(app)[0])
    delivery = employees.deliver_mail()
    assert delivery is not None and delivery.sent == 1
    [row] = sign_in_mails(app)
    assert row.sent_at == NOW and row.body.startswith("(This email held a one-time")
    assert token not in row.body and row.html is None                                # neither part keeps it
    [written] = list((tmp_path / "instance" / "outbox-mail").glob("*.eml"))          # the person got it:
    message = email.message_from_bytes(written.read_bytes(), policy=email.policy.default)
    assert message.get_content_type() == "multipart/alternative"
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None and html is not None
    assert f"/me/sign-in/{token}" in text.get_content() and f'href="{url}"' in html.get_content()
    assert employees.sign_in(token) is not None                                      # and it still works
    # a link never sent (the mail server down) leaves the database once it has expired
    employees.request_sign_in(SOFIA)
    clock.now = NOW + timedelta(minutes=LINK_MINUTES - 1)
    assert employees.forget_sent_links() == 0
    clock.now = NOW + timedelta(minutes=LINK_MINUTES)
    assert employees.forget_sent_links() == 1
    [unsent] = sign_in_mails(app, SOFIA)
    assert unsent.sent_at is None and "/me/sign-in/" not in unsent.body and unsent.html is None
    assert employees.forget_sent_links() == 0


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_message_is_header_safe(app, employees):
    with app.extensions["microcred"].sessions.begin() as session:
        session.execute(update(Issuer).values(name="Example Corp\r\nBcc: evil@example.com"))
        session.execute(update(Recipient).where(Recipient.email == ALEX).values(name="Alex\nMorgan"))
    employees.request_sign_in(ALEX)
    [mail] = sign_in_mails(app)
    assert mail.subject == "Your sign-in link for Example Corp Bcc: evil@example.com"
    assert mail.body.startswith("Hello Alex Morgan,\n")
    assert "If you did not ask to sign in, ignore this email" in mail.body
