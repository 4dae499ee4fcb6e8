"""Issuing one achievement to several people from the console (/admin/awards/new/several), on a real database."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from issuer.bulk.limits import MAX_PEOPLE
from issuer.bulk.people import read_people
from issuer.db.models import Achievement, Award, OutboxMessage, Recipient
from tests.admin_support import Console, add_staff, console_app, page_text

SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
PATH = "/admin/awards/new/several"


@pytest.fixture()
def app(tmp_path, db_url):
    app = console_app(tmp_path, db_url, demo=True)
    add_staff(app, "hana", "issuer")
    return app


def achievement_id(app, slug: str = "team-leadership") -> str:
    with app.extensions["microcred"].sessions() as session:
        return session.scalar(select(Achievement.id).where(Achievement.slug == slug))


def count(app, model) -> int:
    with app.extensions["microcred"].sessions() as session:
        return session.scalar(select(func.count()).select_from(model))


def send(hr: Console, app, people: str, **fields):
    data = {"achievement": achievement_id(app), "people": people, "awarded_date": "2026-01-15", **fields}
    return hr.post(PATH, data, token_from=f"{PATH}?achievement={data['achievement']}")


def result_rows(response) -> list[tuple[str, str, str]]:
    """(line, email, result text) of each row of the result table."""
    html = response.get_data(as_text=True)
    table = html.split("<caption>Result per person</caption>", 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr[^>]*>\s*<td[^>]*>(\d+)</td><td[^>]*>([^<]*)</td><td[^>]*>[^<]*</td>\s*<td[^>]*>(.*?)</td>",
                      table, flags=re.S)
    return [(line, email, re.sub(r"<[^>]+>", "", result).strip()) for line, email, result in rows]


def test_reading_the_list_of_people():
    people, problems = read_people("alex@example.com, Alex Doe\n\n  Sam Lee <sam@example.com>\nKim Park;kim@example.com\n"
                                   "lee@example.com\tLee Chan\njust a name\na@example.com, b@example.com\n")
    assert [(p.line, p.email, p.name) for p in people] == [
        (1, "alex@example.com", "Alex Doe"), (3, "sam@example.com", "Sam Lee"), (4, "kim@example.com", "Kim Park"),
        (5, "lee@example.com", "Lee Chan")]
    assert problems == {6: "no email address on this line",
                        7: "more than one email address on this line; put each person on a line of their own"}
    many, over = read_people("\n".join(f"p{n}@example.com" for n in range(MAX_PEOPLE + 5)))
    assert len(many) == MAX_PEOPLE and list(over) == [MAX_PEOPLE + 1]


@SQLITE_ONLY
def test_one_achievement_to_several_people_each_with_a_result(app):
    hr = Console(app).login("hana")
    form = hr.get(f"{PATH}?achievement={achievement_id(app)}")
    assert form.status_code == 200 and 'name="people"' in form.get_data(as_text=True)
    assert "Issue to several people" in page_text(hr.get(f"/admin/awards/new?achievement={achievement_id(app)}"))
    before, mail_before = count(app, Award), count(app, OutboxMessage)
    done = send(hr, app, "ana@example.com, Ana Lopez\nBen Okafor <ben@example.com>\ncy@example.com\n",
                evidence_url="https://lms.example.com/workshop/7", evidence_name="Workshop")
    assert done.status_code == 200, page_text(done)
    assert "3 awards issued" in page_text(done)
    rows = result_rows(done)
    assert [(line, email) for line, email, _ in rows] == [("1", "ana@example.com"), ("2", "ben@example.com"),
                                                          ("3", "cy@example.com")]
    assert all(result.startswith("Issued: open the award") for _, _, result in rows)
    assert count(app, Award) == before + 3 and count(app, OutboxMessage) >= mail_before + 3
    with app.extensions["microcred"].sessions() as session:
        names = dict(session.execute(select(Recipient.email, Recipient.name)
                                     .where(Recipient.email.in_(["ana@example.com", "ben@example.com"]))).all())
        awards = session.scalars(select(Award).join(Recipient).where(Recipient.email == "ben@example.com")).all()
    assert names == {"ana@example.com": "Ana Lopez", "ben@example.com": "Ben Okafor"}
    assert len(awards) == 1 and awards[0].evidence[0]["id"] == "https://lms.example.com/workshop/7"
    assert awards[0].evidence[0]["name"] == "Workshop" and awards[0].awarded_at.date().isoformat() == "2026-01-15"
    again = send(hr, app, "ana@example.com, Ana Lopez\nBen Okafor <ben@example.com>\ncy@example.com\n",
                 evidence_url="https://lms.example.com/workshop/7", evidence_name="Workshop")
    assert "already had this award" in page_text(again) and count(app, Award) == before + 3


@SQLITE_ONLY
def test_a_problem_on_one_line_issues_nothing_unless_asked_to_issue_the_others(app):
    hr = Console(app).login("hana")
    before = count(app, Award)
    people = "dee@example.com, Dee\nnot-an-email@\nemma@example.com\njust a name\n=cmd@example.com, =HYPERLINK(1)\n"
    refused = send(hr, app, people)
    assert refused.status_code == 422 and count(app, Award) == before
    rows = dict((line, result) for line, _email, result in result_rows(refused))
    assert rows["1"].startswith("Not issued") and rows["3"].startswith("Not issued")
    assert "not an email address" in rows["2"] and rows["4"] == "No email address on this line."
    assert "formula" in rows["5"]
    assert "Nothing was issued" in page_text(refused)
    partly = send(hr, app, people, mode="valid-rows")
    assert partly.status_code == 200 and count(app, Award) == before + 2
    text = page_text(partly)
    assert "2 awards issued; 3 lines could not be issued" in text
    left = re.search(r'<textarea id="f-people"[^>]*>([^<]*)</textarea>', partly.get_data(as_text=True)).group(1)
    assert left.splitlines() == ["not-an-email@", "just a name", "=cmd@example.com, =HYPERLINK(1)"]


@SQLITE_ONLY
def test_bad_requests_are_refused(app):
    hr = Console(app).login("hana")
    assert send(hr, app, "  \n").status_code == 422
    unknown = hr.post(PATH, {"achievement": "no-such", "people": "a@example.com"}, token_from=PATH)
    assert unknown.status_code == 422 and "Choose one of the achievements" in page_text(unknown)
    forged = hr.client.post(PATH, data={"achievement": achievement_id(app), "people": "a@example.com"})
    assert forged.status_code in (400, 403) and count(app, Award) == 10
    future = send(hr, app, "fay@example.com", awarded_date="2999-01-01")
    assert future.status_code == 422 and "in the future" in page_text(future)
