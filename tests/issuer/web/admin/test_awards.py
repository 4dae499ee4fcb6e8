"""The console's awards pages: issue one, the filtered list, one award's shown, its actions and audit trail.

Flask test client against SQLite and PostgreSQL; the issued credentials are checked with the
real verifier, offline, against what the issuer publishes.
"""
from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from sqlalchemy import func, select

from issuer.awards.status_lists import allocated_index, bit, get_list
from issuer.db.models import AuditEntry, Award, OutboxMessage
from issuer.identity import load_issuer
from tests.admin_support import Clock, Console, add_staff, browser_login, console_app, live_console, page_text
from tests.browser_fixtures import artifacts_dir, browser, page  # noqa: F401  (fixtures; browser: one per module)
from tests.issuer.awards.test_search import GRADE, add_achievements, issue
from tests.issuer.web.test_sharing import issuer_documents
from verifier import verify_credential

SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
AWARD_PAGE = re.compile(r"/admin/awards/([0-9a-f-]{36})$")


@pytest.fixture()
def clock() -> Clock:
    return Clock()


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


def count(app, model=Award) -> int:
    with app.extensions["microcred"].sessions() as session:
        return session.scalar(select(func.count()).select_from(model))


def stored(app, award_id: str) -> Award:
    with app.extensions["microcred"].sessions() as session:
        award = session.get(Award, award_id)
        session.expunge(award)
        return award


def form(app, **fields) -> dict:
    """A filled-in issue form for 'sql' (grade B, evidence URL and narrative, the email box ticked)."""
    return {"achievement": app.achievement_ids["sql"], "email": "alex@example.com", "name": "Alex Example",
            "employee_id": "E-1001", "did": "", "evidence_url": "https://wiki.example.com/projects/42",
            "evidence_name": "Project report", "evidence_narrative": "Rewrote the reporting queries.",
            f"result:{GRADE['id']}": "B", "awarded_at": "2026-11-20", "notify": "yes", **fields}


def submit(hr: Console, app, **fields):
    return hr.post("/admin/awards/new", form(app, **fields), token_from="/admin/awards/new")


def award_id_of(response) -> str:
    assert response.status_code == 303, page_text(response)[:600]
    match = AWARD_PAGE.search(response.headers["Location"])
    assert match, response.headers["Location"]
    return match.group(1)


def credential_of(app, award_id: str) -> dict:
    return json.loads(stored(app, award_id).credential)


def verify(app, award_id: str):
    return verify_credential(credential_of(app, award_id), offline=True, documents=issuer_documents(app))


# ---------------------------------------------------------------- issue one

def test_the_issue_form_shows_the_chosen_achievements_results(app, hr, clock):
    clock.now = datetime(2026, 11, 26, 12, tzinfo=UTC)
    first = hr.get("/admin/awards/new")
    assert first.status_code == 200 and "SQL fundamentals" in page_text(first) and "Continue" in page_text(first)
    second = hr.get("/admin/awards/new?achievement=sql")
    text = page_text(second)
    assert second.status_code == 200 and "Achievement: SQL fundamentals" in text
    html = second.get_data(as_text=True)
    assert f'name="result:{GRADE["id"]}"' in html and '<option value="B">B</option>' in html
    assert re.search(r'name="awarded_at" type="date" value="2026-11-26"', html)      # today by the app's clock
    assert 'name="notify" value="yes" checked' in html
    assert hr.get("/admin/awards/new?achievement=nope").status_code == 422


def test_issue_one_award_with_evidence_and_a_result(app, hr):
    response = submit(hr, app)
    award_id = award_id_of(response)
    shown = hr.get(f"/admin/awards/{award_id}")
    html = shown.get_data(as_text=True)
    public = f"https://hr.example.com/credentials/{award_id}"
    assert "Award issued." in page_text(shown)
    assert f'<a href="{public}">Open the signed credential' in html          # the flash links the public page
    assert page_text(shown).count("Award issued.") == 1
    assert "Grade B" in page_text(shown) and "Project report" in page_text(shown)
    award = stored(app, award_id)
    assert award.evidence == [{"id": "https://wiki.example.com/projects/42", "narrative":
                               "Rewrote the reporting queries.", "name": "Project report"}]
    assert award.results == [{"resultDescription": GRADE["id"], "value": "B"}]
    assert award.awarded_at == datetime(2026, 11, 20, tzinfo=UTC)
    report = verify(app, award_id)
    assert report.verified, report.to_dict()
    subject = credential_of(app, award_id)["credentialSubject"]
    assert subject["result"][0]["value"] == "B" and subject["identifier"]
    with app.extensions["microcred"].sessions() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.award_id == award_id)).all()
        assert [(e.actor, e.action) for e in entries] == [("staff:hana", "issue")]
        assert session.scalar(select(func.count()).select_from(OutboxMessage)
                              .where(OutboxMessage.award_id == award_id)) == 1      # the award email
    assert public in html and "/verify?url=" in html


@SQLITE_ONLY
def test_no_email_unless_the_box_is_ticked(app, hr):
    data = form(app)
    data.pop("notify")
    award_id = award_id_of(hr.post("/admin/awards/new", data, token_from="/admin/awards/new"))
    assert count(app, OutboxMessage) == 0 and verify(app, award_id).verified


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"email": "not-an-email"}, "email", "'not-an-email' is not an email address."),
    ({"email": ""}, "email", "'email' must not be empty."),
    ({"achievement": "00000000-0000-4000-8000-000000000000"}, "achievement", "There is no achievement"),
    ({f"result:{GRADE['id']}": "", "result:urn:uuid:unknown": "A"}, "results",
     "The result refers to 'urn:uuid:unknown', which is not one of the result descriptions of 'sql'"),
    ({f"result:{GRADE['id']}": "Z"}, "results", "'value' 'Z' is not one of the values of Grade (A, B, C)."),
    ({"evidence_url": "javascript:alert(1)"}, "evidence", "'id' 'javascript:alert(1)' is not an http(s) URL."),
    ({"did": "not a did"}, "did", "'did' 'not a did' is not a DID (did:method:identifier)."),
    ({"awarded_at": "2999-12-24"}, "awarded_at", "'awarded_at' '2999-12-24' is in the future."),
])
@SQLITE_ONLY
def test_bad_input_is_shown_by_its_field_and_nothing_is_issued(app, hr, clock, fields, field, message):
    refused(app, hr, clock, fields, field, message)


def test_refusals_made_during_issuance(app, hr, clock):
    """Checked against the database (both kinds): the email and the achievement's result descriptions."""
    refused(app, hr, clock, {"email": "alex@"}, "email", "'alex@' is not an email address.")
    refused(app, hr, clock, {"result:urn:uuid:unknown": "A"}, "results",
            "The result refers to 'urn:uuid:unknown', which is not one of the result descriptions of 'sql'")


def refused(app, hr, clock, fields, field, message):
    clock.now = datetime(2026, 11, 26, 12, tzinfo=UTC)
    response = submit(hr, app, **fields)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    errors = [unescape(e) for e in re.findall(r'<p class="field-error"[^>]*>([^<]*)</p>', html)]
    assert any(message in e for e in errors), errors
    if field in ("email", "did", "awarded_at"):
        assert f'<p class="field-error" id="e-{field}">' in html
    assert count(app) == 0 and count(app, OutboxMessage) == 0
    if field != "achievement":        # what was typed stays in the form
        assert 'value="Alex Example"' in html


def test_the_same_form_twice_issues_once(app, hr):
    first = award_id_of(submit(hr, app))
    second = submit(hr, app)
    assert award_id_of(second) == first
    assert "This award was already issued; nothing new was issued." in page_text(hr.get(f"/admin/awards/{first}"))
    assert count(app) == 1 and count(app, OutboxMessage) == 1


# ---------------------------------------------------------------- the list

def rows_of(response) -> list[str]:
    """The award ids linked from the results table, in order."""
    return re.findall(r'href="/admin/awards/([0-9a-f-]{36})"', response.get_data(as_text=True))


def test_filters_each_narrow_the_list(app, hr, clock):
    alex_sql = issue(app, "alex@example.com", name="Alex Example", awarded_days_ago=350)   # ends in ~15 days
    bea_sql = issue(app, "bea@example.com", name="Beatrice Quist", awarded_days_ago=100)
    alex_team = issue(app, "alex@example.com", "teamwork", name="Alex Example")
    cem_team = issue(app, "cem@example.org", "teamwork", name="Cem")
    everything = hr.get("/admin/awards")
    assert everything.status_code == 200 and rows_of(everything) == [cem_team, alex_team, bea_sql, alex_sql]
    assert "Beatrice Quist" in page_text(everything) and "bea@example.com" in page_text(everything)
    assert rows_of(hr.get(f"/admin/awards?achievement={app.achievement_ids['teamwork']}")) == [cem_team, alex_team]
    assert rows_of(hr.get("/admin/awards?achievement=sql")) == [bea_sql, alex_sql]
    assert rows_of(hr.get("/admin/awards?recipient=ALEX")) == [alex_team, alex_sql]
    assert rows_of(hr.get("/admin/awards?recipient=quist")) == [bea_sql]
    assert rows_of(hr.get("/admin/awards?expiring=30")) == [alex_sql]
    assert rows_of(hr.get("/admin/awards?expiring=30&recipient=bea")) == []
    assert rows_of(hr.get("/admin/awards?state=active&achievement=sql")) == [bea_sql, alex_sql]
    # the app's clock: 20 days on, Alex's sql award has expired and nothing expires within 30 days
    clock.now = datetime.now(UTC) + timedelta(days=20)
    assert rows_of(hr.get("/admin/awards?state=expired")) == [alex_sql]
    assert rows_of(hr.get("/admin/awards?expiring=30")) == []
    assert rows_of(hr.get("/admin/awards?state=active&achievement=sql")) == [bea_sql]
    assert '<span class="state state-expired">expired</span>' in hr.get("/admin/awards?state=expired").get_data(
        as_text=True)


@SQLITE_ONLY
def test_the_filter_form_keeps_its_values_and_refuses_bad_ones(app, hr):
    issue(app, "alex@example.com")
    shown = hr.get("/admin/awards?recipient=alex&state=active&expiring=30&achievement=sql").get_data(as_text=True)
    assert 'value="alex"' in shown and '<option value="active" selected>' in shown and 'value="30"' in shown
    assert f'<option value="{app.achievement_ids["sql"]}" selected>' in shown
    bad = hr.get("/admin/awards?expiring=soon")
    assert bad.status_code == 400 and rows_of(bad) == []
    assert "Expiring within: a whole number of days from 0 to 3650." in page_text(bad)
    assert hr.get("/admin/awards?state=lost").status_code == 400


@SQLITE_ONLY
def test_empty_states(app, hr):
    assert "No awards yet." in page_text(hr.get("/admin/awards"))
    issue(app, "alex@example.com")
    text = page_text(hr.get("/admin/awards?recipient=nobody"))
    assert "No awards match these filters." in text and "Show all awards" in text
    assert "There are no more awards." in page_text(hr.get("/admin/awards?page=2"))


@SQLITE_ONLY
def test_pages_of_fifty(app, hr):
    ids = [issue(app, f"person{n:02}@example.com", "teamwork") for n in range(51)]
    first = hr.get("/admin/awards")
    assert rows_of(first) == ids[::-1][:50]
    assert 'href="/admin/awards?page=2" rel="next"' in first.get_data(as_text=True)
    second = hr.get("/admin/awards?page=2")
    assert rows_of(second) == [ids[0]] and 'rel="prev"' in second.get_data(as_text=True)
    filtered = hr.get("/admin/awards?achievement=teamwork").get_data(as_text=True)
    assert "/admin/awards?page=2&amp;achievement=teamwork" in filtered


# ---------------------------------------------------------------- one award: actions and audit trail

def act(hr: Console, award_id: str, action: str, reason: str | None = None):
    data = {} if reason is None else {"reason": reason}
    response = hr.post(f"/admin/awards/{award_id}/{action}", data, token_from=f"/admin/awards/{award_id}")
    assert response.status_code == 303, page_text(response)[:500]
    return response


def revocation_bit(app, award_id: str) -> bool:
    state = app.extensions["microcred"]
    with state.sessions() as session:
        status_list = get_list(session, load_issuer(session, state.settings), "revocation")
        return bit(status_list, allocated_index(session, status_list, award_id))


def test_revoke_needs_a_reason(app, hr):
    award_id = issue(app, "alex@example.com")
    response = act(hr, award_id, "revoke", "   ")
    assert response.headers["Location"].endswith(f"/admin/awards/{award_id}")
    shown = hr.get(f"/admin/awards/{award_id}")
    assert "A reason is required (it is kept in the audit log)." in page_text(shown)
    assert 'notice-bad' in shown.get_data(as_text=True)
    assert stored(app, award_id).state == "active" and not revocation_bit(app, award_id)
    act(hr, award_id, "revoke")                       # no field at all
    assert stored(app, award_id).state == "active"


def test_revoke_with_a_reason(app, hr):
    award_id = issue(app, "alex@example.com")
    assert verify(app, award_id).verified
    act(hr, award_id, "revoke", "Issued to the wrong person")
    award = stored(app, award_id)
    assert (award.state, award.state_reason) == ("revoked", "Issued to the wrong person")
    assert revocation_bit(app, award_id)
    report = verify(app, award_id)
    assert not report.verified and report.check("status").reason == "revoked"
    shown = hr.get(f"/admin/awards/{award_id}")
    text = page_text(shown)
    assert "Award revoked." in text and "Reason: Issued to the wrong person" in text
    trail = shown.get_data(as_text=True).split('id="audit-trail"', 1)[1]
    rows = re.findall(r"<tr>\s*<td>([^<]+)</td>\s*<td>([^<]+)</td>\s*<td>([^<]+)</td>\s*<td class=\"reason\">\s*([^<]*)",
                      trail)
    assert [(who, action, details.strip()) for _, who, action, details in rows][-1] == \
        ("staff:hana", "revoke", "Issued to the wrong person")
    assert [action for _, _, action, _ in rows] == ["issue", "revoke"]
    assert "Change this award" not in text and f"/admin/awards/{award_id}/" not in shown.get_data(as_text=True)
    act(hr, award_id, "revoke", "again")
    assert "The award was already revoked; nothing changed." in page_text(hr.get(f"/admin/awards/{award_id}"))


def test_suspend_and_unsuspend(app, hr):
    award_id = issue(app, "alex@example.com")
    act(hr, award_id, "suspend", "Under investigation")
    assert stored(app, award_id).state == "suspended"
    assert verify(app, award_id).check("status").reason == "suspended"
    shown = page_text(hr.get(f"/admin/awards/{award_id}"))
    assert "Award suspended." in shown and "Unsuspend" in shown and "Reason for suspending" not in shown
    assert "Renew" not in shown
    act(hr, award_id, "renew")                        # refused by the lifecycle rules: shown, nothing changes
    assert "An award that is suspended cannot be renewed." in page_text(hr.get(f"/admin/awards/{award_id}"))
    assert count(app) == 1
    act(hr, award_id, "unsuspend", "Cleared")
    assert (stored(app, award_id).state, stored(app, award_id).state_reason) == ("active", "Cleared")
    assert verify(app, award_id).verified
    act(hr, award_id, "unsuspend", "twice")
    assert "The award was already active; nothing changed." in page_text(hr.get(f"/admin/awards/{award_id}"))
    with app.extensions["microcred"].sessions() as session:
        trail = session.scalars(select(AuditEntry).where(AuditEntry.award_id == award_id)
                                .order_by(AuditEntry.id)).all()
        assert [(e.actor, e.action, e.details.get("reason")) for e in trail] == [
            ("test", "issue", None), ("staff:hana", "suspend", "Under investigation"),
            ("staff:hana", "unsuspend", "Cleared")]


def test_renew_links_the_old_award_to_the_new(app, hr):
    old = issue(app, "alex@example.com", name="Alex Example", awarded_days_ago=350)
    new = award_id_of(act(hr, old, "renew"))
    assert new != old and count(app) == 2
    assert stored(app, old).state == "superseded" and stored(app, old).superseded_by == new
    assert verify(app, new).verified
    new_page = hr.get(f"/admin/awards/{new}")
    assert "Renewed: this is the new award." in page_text(new_page)
    assert f'href="/admin/awards/{old}"' in new_page.get_data(as_text=True)
    old_page = hr.get(f"/admin/awards/{old}").get_data(as_text=True)
    assert f'id="superseded-by" href="/admin/awards/{new}"' in old_page
    assert f'/admin/awards/{old}/renew' not in old_page
    assert '<span class="state state-superseded">superseded</span>' in old_page
    with app.extensions["microcred"].sessions() as session:
        renewal = session.scalars(select(AuditEntry).where(AuditEntry.award_id == old,
                                                           AuditEntry.action == "renew")).one()
        assert renewal.actor == "staff:hana" and renewal.details == {"new_award": new}


def test_unknown_awards_are_404(app, hr):
    for path in ("/admin/awards/00000000-0000-4000-8000-000000000000", "/admin/awards/not-an-id"):
        assert hr.get(path).status_code == 404
    missing = hr.post("/admin/awards/00000000-0000-4000-8000-000000000000/revoke", {"reason": "x"})
    assert missing.status_code == 404
    assert hr.post(f"/admin/awards/{issue(app, 'a@example.com')}/delete", {"reason": "x"}).status_code in (404, 405)


@SQLITE_ONLY
def test_signed_out_and_forged_posts_change_nothing(app, hr):
    award_id = issue(app, "alex@example.com")
    stranger = app.test_client()
    assert stranger.get(f"/admin/awards/{award_id}").status_code == 302
    assert stranger.post(f"/admin/awards/{award_id}/revoke", data={"reason": "x"}).status_code in (400, 401)
    assert hr.client.post(f"/admin/awards/{award_id}/revoke", data={"reason": "x"}).status_code == 400
    assert hr.client.post("/admin/awards/new", data=form(app)).status_code == 400
    assert stored(app, award_id).state == "active" and count(app) == 1


# ---------------------------------------------------------------- in a real browser

@SQLITE_ONLY
def test_issue_and_revoke_in_a_browser(tmp_path, db_url, page, artifacts_dir):
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import expect

    def factory(base_url: str):
        app = console_app(tmp_path, db_url, base_url=base_url)
        add_achievements(app)
        return app

    page.set_viewport_size({"width": 1280, "height": 900})
    problems: list[str] = []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))
    with live_console(factory) as (app, base_url):
        add_staff(app, "hana", "issuer")
        browser_login(page, base_url, "hana")
        page.get_by_role("link", name="Issue", exact=True).click()
        page.get_by_label("Achievement").select_option(label="SQL fundamentals")
        page.get_by_role("button", name="Continue").click()
        page.get_by_role("textbox", name="Email", exact=True).fill("alex@example.com")
        page.get_by_label("Name", exact=True).fill("Alex Example")
        page.get_by_label("Employee ID").fill("E-1001")
        page.get_by_label("Evidence URL").fill("https://wiki.example.com/projects/42")
        page.get_by_label("Evidence narrative").fill("Rewrote the reporting queries; they run 40× faster.")
        page.get_by_label("Grade").select_option("B")
        page.get_by_label("Send the award email to the recipient").uncheck()
        page.screenshot(path=str(artifacts_dir / "admin-award-new.png"), full_page=True)
        page.get_by_role("button", name="Issue the award").click()

        page.wait_for_url(re.compile(r".*/admin/awards/[0-9a-f-]{36}$"))
        award_url = page.url
        expect(page.locator(".notice-ok")).to_contain_text("Award issued.")
        expect(page.get_by_role("heading", level=1)).to_have_text("SQL fundamentals for Alex Example")
        expect(page.locator(".award-facts").last).to_contain_text("Grade")
        page.screenshot(path=str(artifacts_dir / "admin-award-issued.png"), full_page=True)

        page.get_by_role("link", name="Open the signed credential's public page").click()
        page.wait_for_url(re.compile(r".*/credentials/[0-9a-f-]{36}$"))
        assert page.url.rsplit("/", 1)[1] == award_url.rsplit("/", 1)[1]
        expect(page.locator("#verdict h2")).to_contain_text("Verified")
        page.screenshot(path=str(artifacts_dir / "admin-award-public.png"), full_page=True)

        page.go_back()
        page.wait_for_url(award_url)
        page.get_by_label("Reason for revoking").fill("Issued to the wrong person")
        page.get_by_role("button", name="Revoke", exact=True).click()
        page.wait_for_url(award_url)
        expect(page.locator(".notice-ok")).to_have_text("Award revoked.")
        expect(page.locator("#award-state .state")).to_have_text("revoked")
        last = page.locator("#audit-trail tbody tr").last
        expect(last).to_contain_text("staff:hana")
        expect(last).to_contain_text("revoke")
        expect(last).to_contain_text("Issued to the wrong person")
        expect(page.locator("#audit-trail tbody tr")).to_have_count(2)
        page.screenshot(path=str(artifacts_dir / "admin-award-revoked.png"), full_page=True)
        violations = [(v["id"], v["impact"]) for v in Axe().run(page).response["violations"]
                      if v["impact"] in ("serious", "critical")]
        assert violations == []

        page.goto(f"{base_url}/admin/awards?state=revoked")
        expect(page.locator("#awards tbody tr")).to_have_count(1)
        expect(page.locator("#awards tbody tr")).to_contain_text("Alex Example")
        page.screenshot(path=str(artifacts_dir / "admin-award-list.png"), full_page=True)
    assert problems == []
