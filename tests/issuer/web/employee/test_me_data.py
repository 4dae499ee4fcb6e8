"""``GET /me/data.json`` ("Download everything about me") and the sign-in page without an identity provider.

Flask's test client against a real SQLite database with the demo awards; the person signs in by the
emailed link (read from the outbox). The download must be the signed-in person's own export, whatever
the request says, never cached, a file; signed out it sends to the sign-in page.
"""
from __future__ import annotations

import json

import pytest

from tests.issuer.employees.support import ALEX, HTML, SOFIA, EmployeeClient, award_ids, employee_app, page_text

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@pytest.fixture()
def app(db_url, tmp_path):
    app = employee_app(tmp_path, db_url)
    yield app
    app.extensions["microcred"].engine.dispose()


def test_my_badges_links_to_the_download_and_it_holds_only_my_data(app):
    ids = award_ids(app)
    alex = EmployeeClient(app).sign_in(ALEX)
    team = ids[(ALEX, "Team Leadership")]
    assert alex.post(f"/me/badges/{team}/name", {"show": "yes"}, token_from="/me/").status_code == 303
    page = alex.get("/me/")
    assert 'href="/me/data.json" download>Download everything about me</a>' in page.get_data(as_text=True)

    response = alex.get("/me/data.json?email=" + SOFIA, headers={"Accept": "application/json"})
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="my-badges-data-')
    text = response.get_data(as_text=True)
    document = json.loads(text)
    assert document["format"] == "microcred-personal-data/1" and document["email"] == ALEX
    assert {a["id"] for a in document["awards"]} == {i for (email, _), i in ids.items() if email == ALEX}
    assert SOFIA not in text and "sofia" not in text.lower()
    assert document["privacy"] == [{"award_id": team, "show_name": True, "on_profile": True,
                                    "updated_at": document["privacy"][0]["updated_at"]}]
    [session] = document["sessions"]
    assert session["active"] is True and session["ended_at"] is None
    [link] = document["sign_in_links"]
    assert link["used_at"] is not None
    [mail] = [m for m in document["messages"] if m["kind"] == "Sign-in link"]
    assert "/me/sign-in/" not in mail["body"] and mail["to_address"] == ALEX   # the link never leaves in an export
    assert mail["html"] is None and "/me/sign-in/" not in text


def test_signed_out_the_download_sends_to_the_sign_in_page(app):
    person = EmployeeClient(app)
    response = person.get("/me/data.json")
    assert response.status_code == 302 and response.headers["Location"] == "/me/sign-in"
    ended = EmployeeClient(app).sign_in(ALEX)
    ended.post("/me/sign-out", token_from="/me/")
    assert ended.get("/me/data.json").status_code == 302


def test_without_an_identity_provider_the_sign_in_page_has_no_provider_button(app):
    page = EmployeeClient(app).get("/me/sign-in", headers=HTML)
    assert page.status_code == 200 and "Email me a sign-in link" in page_text(page)
    assert "Sign in with" not in page_text(page) and "/oidc/start" not in page.get_data(as_text=True)
    assert app.test_client().get("/oidc/start?for=employee").status_code == 404
