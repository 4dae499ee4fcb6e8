"""The award page shows each email about the award and where it stands: queued, sent, failed (with the
reason, attempts and next try) or given up.

Console (Flask test client, signed in) on a real SQLite or PostgreSQL database; the emails go to
real SMTP servers on 127.0.0.1 (aiosmtpd): one that accepts and one that refuses every message.
The mail settings come from the environment, as in production. The page is also shown in
Chromium at phone and desktop widths (axe: no serious or critical violations).
"""
from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from issuer.awards.lifecycle import change_status
from issuer.db.models import OutboxMessage
from issuer.mail.outbox import MAX_ATTEMPTS
from tests.admin_support import Clock, Console, add_staff, browser_login, console_app, live_console, page_text
from tests.browser_fixtures import artifacts_dir, browser, page  # noqa: F401  (fixtures)
from tests.issuer.awards.test_search import add_achievements
from tests.issuer.mail.test_mail import Inbox, _start
from tests.issuer.web.admin.test_awards import award_id_of, submit

SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@pytest.fixture()
def clock() -> Clock:
    return Clock()          # the real time until a test sets it


@pytest.fixture()
def app(db_url, tmp_path, clock):
    app = console_app(tmp_path, db_url, clock=clock)
    app.achievement_ids = add_achievements(app)
    add_staff(app, "hana", "issuer")
    yield app
    app.extensions["microcred"].engine.dispose()


@pytest.fixture()
def hr(app) -> Console:
    return Console(app).login("hana")


@pytest.fixture()
def mail_server(monkeypatch):
    """Start SMTP servers on demand: ``mail_server("554 ...")``; the environment points at the last one."""
    controllers = []

    def start(reply: str = "250 Message accepted for delivery") -> Inbox:
        inbox = Inbox(reply)
        controllers.append(_start(inbox))
        monkeypatch.setenv("MICROCRED_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("MICROCRED_SMTP_PORT", str(inbox.port))
        monkeypatch.setenv("MICROCRED_SMTP_STARTTLS", "false")
        return inbox

    yield start
    for controller in controllers:
        controller.stop()


def emails_table(response) -> list[dict[str, str]]:
    """The rows of the award page's email table: its state, and the visible text of its two cells."""
    table = response.get_data(as_text=True).split('id="award-emails"', 1)[1].split("</table>", 1)[0]
    rows = []
    for state, row in re.findall(r'<tr[^>]*data-state="([^"]+)"[^>]*>(.*?)</tr>', table, flags=re.S):
        cells = [visible(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)]
        rows.append({"state": state, "email": cells[0], "delivery": cells[1]})
    return rows


def visible(fragment: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment))).strip()


def deliver(app, **kwargs):
    return app.extensions["microcred"].use.mail.deliver_pending(**kwargs)


def test_a_refusing_mail_server_shows_failed_with_the_reason_then_sent(app, hr, clock, mail_server):
    refusing = mail_server("554 Transaction failed: no thanks")
    award_id = award_id_of(submit(hr, app))                 # the award email is queued with the award
    deliver(app)                                            # nothing if the response already tried it
    with app.extensions["microcred"].sessions() as session:
        row = session.scalars(select(OutboxMessage).where(OutboxMessage.award_id == award_id)).one()
        assert (row.attempts, row.sent_at, row.kind) == (1, None, "awarded") and "554" in row.last_error
        retry_at, queued_at = row.next_attempt_at, row.created_at
    assert refusing.messages == [] and len(refusing.connections) == 1
    page = hr.get(f"/admin/awards/{award_id}")
    assert page.status_code == 200
    [email] = emails_table(page)
    assert email["state"] == "failed"
    assert email["email"] == f"Badge awarded to alex@example.com queued {queued_at:%Y-%m-%d %H:%M} UTC"
    assert email["delivery"].startswith("failed The mail server refused the message.")
    assert "SMTPDataError: (554, b'Transaction failed: no thanks')" in email["delivery"]
    assert f"1 of {MAX_ATTEMPTS} attempts; next attempt {retry_at:%Y-%m-%d %H:%M} UTC" in email["delivery"]

    accepting = mail_server()                               # the server is fixed: sent once the retry is due
    assert deliver(app).sent == 0 and accepting.messages == []
    clock.now = retry_at + timedelta(seconds=1)
    assert deliver(app).sent == 1 and len(accepting.messages) == 1
    [email] = emails_table(hr.get(f"/admin/awards/{award_id}"))
    assert email["state"] == "sent" and email["delivery"] == f"sent {clock.now:%Y-%m-%d %H:%M} UTC"
    assert email["email"].startswith("Badge awarded to alex@example.com queued ")


def test_a_notice_is_queued_then_given_up_after_every_attempt_failed(app, hr, clock, mail_server):
    state = app.extensions["microcred"]
    award_id = award_id_of(submit(hr, app, notify="no"))
    change_status(state.sessions, state.settings, award_id, "suspend", reason="Checking records", actor="test")
    [email] = emails_table(hr.get(f"/admin/awards/{award_id}"))
    assert email["state"] == "queued" and email["email"].startswith("Suspension notice to alex@example.com queued ")
    assert email["delivery"] == "queued waiting for the next delivery run"
    mail_server("554 Transaction failed: no thanks")
    for _ in range(MAX_ATTEMPTS):
        deliver(app, force=True)
    [email] = emails_table(hr.get(f"/admin/awards/{award_id}"))
    assert email["state"] == "given up"
    assert f"{MAX_ATTEMPTS} of {MAX_ATTEMPTS} attempts; no more automatic attempts" in email["delivery"]
    assert "microcred mail send-pending --force" in email["delivery"]


@SQLITE_ONLY
def test_revoking_in_the_console_emails_the_notice_once(app, hr, mail_server):
    inbox = mail_server()
    award_id = award_id_of(submit(hr, app, notify="no"))
    for reason in ("Issued to the wrong person", "again"):
        response = hr.post(f"/admin/awards/{award_id}/revoke", {"reason": reason},
                           token_from=f"/admin/awards/{award_id}")
        assert response.status_code == 303
        response.close()                                    # the delivery runs once the response is done
    deliver(app)
    assert [m["Subject"] for m in inbox.parsed()] == ["Your badge has been withdrawn: SQL fundamentals"]
    shown = hr.get(f"/admin/awards/{award_id}")
    [email] = emails_table(shown)
    assert email["state"] == "sent" and email["email"].startswith("Revocation notice to alex@example.com")
    assert "The recipient is emailed a notice" not in page_text(shown)      # no actions left on a revoked award


@SQLITE_ONLY
def test_an_award_without_emails_says_so(app, hr):
    award_id = award_id_of(submit(hr, app, notify="no"))
    shown = hr.get(f"/admin/awards/{award_id}")
    assert emails_table(shown) == [] and "No emails about this award." in page_text(shown)
    assert "The recipient is emailed a notice with this reason." in page_text(shown)


@SQLITE_ONLY
@pytest.mark.parametrize("width", [390, 1280])
def test_the_award_page_with_its_emails_in_a_browser(tmp_path, db_url, page, artifacts_dir, width,  # noqa: F811
                                                     monkeypatch):
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import expect

    inbox = Inbox("554 Transaction failed: no thanks")
    controller = _start(inbox)
    monkeypatch.setenv("MICROCRED_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("MICROCRED_SMTP_PORT", str(inbox.port))
    monkeypatch.setenv("MICROCRED_SMTP_STARTTLS", "false")

    def factory(base_url: str):
        app = console_app(tmp_path, db_url, base_url=base_url)
        add_achievements(app)
        return app

    page.set_viewport_size({"width": width, "height": 900})
    try:
        with live_console(factory) as (app, base_url):
            add_staff(app, "hana", "issuer")
            browser_login(page, base_url, "hana")
            page.goto(f"{base_url}/admin/awards/new?achievement=sql")
            page.get_by_role("textbox", name="Email", exact=True).fill("alex@example.com")
            page.get_by_label("Name", exact=True).fill("Alex Example")
            page.get_by_role("button", name="Issue the award").click()
            page.wait_for_url(re.compile(r".*/admin/awards/[0-9a-f-]{36}$"))
            app.extensions["microcred"].use.mail.deliver_pending()
            page.get_by_label("Reason for suspending").fill("Checking the assessment records")
            page.get_by_role("button", name="Suspend", exact=True).click()
            page.wait_for_url(re.compile(r".*/admin/awards/[0-9a-f-]{36}$"))
            page.reload()
            rows = page.locator("#award-emails tbody tr")
            expect(rows).to_have_count(2)
            expect(rows.first).to_contain_text("Badge awarded")
            expect(rows.first).to_contain_text("The mail server refused the message.")
            expect(rows.last).to_contain_text("Suspension notice")
            page.screenshot(path=str(artifacts_dir / f"admin-award-emails-{width}.png"), full_page=True)
            violations = [(v["id"], v["impact"]) for v in Axe().run(page).response["violations"]
                          if v["impact"] in ("serious", "critical")]
            assert violations == []
            assert page.evaluate("document.documentElement.scrollWidth") <= width
    finally:
        controller.stop()
