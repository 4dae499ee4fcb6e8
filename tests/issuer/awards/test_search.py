"""The awards search (issuer.awards.search and the AwardSearchService the console and the API share),
on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask

from issuer.awards.issuance import AwardRequest, IssuerContext, issue_award
from issuer.awards.search import AwardFilters, FilterError, parse_filters, search_awards
from issuer.cli.achievements import achievement_from_definition
from issuer.db.models import Achievement
from issuer.errors import NotFound
from issuer.identity import load_issuer
from tests.admin_support import console_app

GRADE = {"id": "urn:uuid:5f0c3c1e-0000-4000-8000-00000000a001", "name": "Grade", "resultType": "LetterGrade",
         "allowedValue": ["A", "B", "C"]}
ALIGNMENT = {"targetName": "SQL", "targetUrl": "https://example.com/skills/sql", "targetFramework": "ESCO"}


def add_achievements(app: Flask) -> dict[str, str]:
    """'sql' (valid 12 months, a letter grade) and 'teamwork' (no end date); slug -> id."""
    state = app.extensions["microcred"]
    ids = {}
    with state.sessions.begin() as session:
        issuer = load_issuer(session, state.settings)
        for slug, name, months in (("sql", "SQL fundamentals", 12), ("teamwork", "Teamwork", None)):
            definition = {"slug": slug, "name": name, "description": f"{name}, assessed.",
                          "criteria_narrative": "Passed a supervised practical.", "alignments": [ALIGNMENT],
                          "result_descriptions": [GRADE] if slug == "sql" else []}
            if months:
                definition["validity_months"] = months
            row = Achievement(issuer_id=issuer.id, **achievement_from_definition(definition))
            session.add(row)
            session.flush()
            ids[slug] = row.id
    return ids


def issue(app: Flask, email: str, achievement: str = "sql", *, name: str | None = None,
          awarded_days_ago: int = 0) -> str:
    state = app.extensions["microcred"]
    awarded = (datetime.now(UTC) - timedelta(days=awarded_days_ago)).replace(microsecond=0)
    with state.sessions.begin() as session:
        ctx = IssuerContext.load(session, state.settings, load_issuer(session, state.settings))
        award, _ = issue_award(session, ctx, AwardRequest(achievement, email, name=name, awarded_at=awarded),
                               actor="test")
        return award.id


@pytest.fixture()
def app(db_url, tmp_path):
    app = console_app(tmp_path, db_url)
    yield app
    app.extensions["microcred"].engine.dispose()


@pytest.fixture()
def people(app):
    """Six awards, oldest issued first; the sql award of Alex ends in ~15 days, Bea's in ~265."""
    ids = add_achievements(app)
    awards = {
        "alex-sql": issue(app, "alex@example.com", name="Alex Example", awarded_days_ago=350),
        "bea-sql": issue(app, "bea@example.com", name="Beatrice Quist", awarded_days_ago=100),
        "alex-team": issue(app, "alex@example.com", "teamwork"),
        "cem-team": issue(app, "cem_50%@example.org", "teamwork", name="Cem"),
        "dora-sql": issue(app, "dora@example.com", name="Dora"),
        "eli-sql": issue(app, "eli@example.com", name="Eli"),
    }
    return ids, awards


def found(app, now: datetime | None = None, page: int = 1, page_size: int = 50, **filters) -> list[str]:
    state = app.extensions["microcred"]
    with state.sessions() as session:
        result = search_awards(session, load_issuer(session, state.settings), AwardFilters(**filters),
                               now=now or datetime.now(UTC), page=page, page_size=page_size)
        return [row.award.id for row in result.rows]


def names(awards: dict, ids: list[str]) -> list[str]:
    by_id = {v: k for k, v in awards.items()}
    return [by_id[i] for i in ids]


def test_newest_first_with_recipient_and_achievement(app, people):
    _, awards = people
    state = app.extensions["microcred"]
    with state.sessions() as session:
        rows = search_awards(session, load_issuer(session, state.settings), AwardFilters(),
                             now=datetime.now(UTC)).rows
        assert [(r.recipient.email, r.achievement.slug, r.state) for r in rows[:2]] == [
            ("eli@example.com", "sql", "active"), ("dora@example.com", "sql", "active")]
    assert names(awards, found(app)) == ["eli-sql", "dora-sql", "cem-team", "alex-team", "bea-sql", "alex-sql"]


def test_achievement_by_id_or_slug(app, people):
    ids, awards = people
    assert names(awards, found(app, achievement="teamwork")) == ["cem-team", "alex-team"]
    assert names(awards, found(app, achievement=ids["teamwork"])) == ["cem-team", "alex-team"]
    assert found(app, achievement="no-such-thing") == []


def test_recipient_by_part_of_the_email_or_name_in_any_case(app, people):
    _, awards = people
    assert names(awards, found(app, recipient="ALEX@")) == ["alex-team", "alex-sql"]
    assert names(awards, found(app, recipient="quist")) == ["bea-sql"]
    assert names(awards, found(app, recipient="example.org")) == ["cem-team"]
    # LIKE wildcards are plain characters here
    assert names(awards, found(app, recipient="_50%")) == ["cem-team"]
    assert found(app, recipient="a%e") == [] and found(app, recipient="_") == [awards["cem-team"]]


def test_states(app, people):
    _, awards = people
    state = app.extensions["microcred"]
    state.use.status.change_status(awards["dora-sql"], "suspend", {"reason": "under review"}, actor="test")
    state.use.status.change_status(awards["cem-team"], "revoke", {"reason": "issued in error"}, actor="test")
    renewed = state.use.status.renew(awards["bea-sql"], actor="test").award.id
    awards["bea-renewed"] = renewed
    assert names(awards, found(app, state="suspended")) == ["dora-sql"]
    assert names(awards, found(app, state="revoked")) == ["cem-team"]
    assert names(awards, found(app, state="superseded")) == ["bea-sql"]
    assert names(awards, found(app, state="active")) == ["bea-renewed", "eli-sql", "alex-team", "alex-sql"]
    assert found(app, state="expired") == []
    # 20 days on, Alex's sql award has expired: no longer "active"
    later = datetime.now(UTC) + timedelta(days=20)
    assert names(awards, found(app, later, state="expired")) == ["alex-sql"]
    assert names(awards, found(app, later, state="active")) == ["bea-renewed", "eli-sql", "alex-team"]
    state_shown = _states(app, later)
    assert state_shown[awards["alex-sql"]] == "expired" and state_shown[awards["dora-sql"]] == "suspended"


def _states(app, now) -> dict[str, str]:
    state = app.extensions["microcred"]
    with state.sessions() as session:
        page = search_awards(session, load_issuer(session, state.settings), AwardFilters(), now=now)
        return {row.award.id: row.state for row in page.rows}


def test_expiring_within_days(app, people):
    _, awards = people
    assert names(awards, found(app, expiring_within_days=30)) == ["alex-sql"]
    assert found(app, expiring_within_days=10) == []
    assert names(awards, found(app, expiring_within_days=300)) == ["bea-sql", "alex-sql"]
    # only active awards count: suspended ones are not "expiring"
    state = app.extensions["microcred"]
    state.use.status.change_status(awards["alex-sql"], "suspend", {"reason": "x"}, actor="test")
    assert found(app, expiring_within_days=30) == []
    # filters combine
    assert names(awards, found(app, expiring_within_days=300, recipient="bea")) == ["bea-sql"]
    assert found(app, expiring_within_days=300, achievement="teamwork") == []


def test_pages(app, people):
    _, awards = people
    first, second, third = (found(app, page=n, page_size=4) for n in (1, 2, 3))
    assert names(awards, first) == ["eli-sql", "dora-sql", "cem-team", "alex-team"]
    assert names(awards, second) == ["bea-sql", "alex-sql"] and third == []
    state = app.extensions["microcred"]
    with state.sessions() as session:
        issuer = load_issuer(session, state.settings)
        now = datetime.now(UTC)
        assert search_awards(session, issuer, AwardFilters(), now=now, page_size=4).has_next
        assert not search_awards(session, issuer, AwardFilters(), now=now, page=2, page_size=4).has_next
        assert not search_awards(session, issuer, AwardFilters(), now=now, page_size=6).has_next


def test_the_api_reads_the_same_search_in_cursor_pages(app, people):
    """services.search.awards: the console's filters (and the whole email), newest first, after a cursor."""
    ids, awards = people
    search = app.extensions["microcred"].use.search

    def api(limit=50, cursor=None, **filters) -> list[str]:
        return names(awards, [a.id for a in search.awards(AwardFilters(**filters), cursor=cursor, limit=limit)])

    first = search.awards(AwardFilters(), cursor=None, limit=4)
    assert names(awards, [a.id for a in first]) == ["eli-sql", "dora-sql", "cem-team", "alex-team", "bea-sql"]
    assert first[0].recipient.email == "eli@example.com" and first[0].achievement.slug == "sql"   # loaded
    assert api(cursor=(first[3].created_at, first[3].id)) == ["bea-sql", "alex-sql"]
    assert api(email=" ALEX@example.com") == ["alex-team", "alex-sql"] and api(email="alex@") == []
    assert api(achievement=ids["teamwork"]) == found_names(app, awards, achievement="teamwork")
    assert api(expiring_within_days=30) == ["alex-sql"]
    later = datetime.now(UTC) + timedelta(days=20)
    state = app.extensions["microcred"]
    state.use.status.change_status(awards["dora-sql"], "revoke", {"reason": "wrong person"}, actor="test")
    assert api(state="revoked") == ["dora-sql"] == names(awards, found(app, later, state="revoked"))
    assert api(state="active") == ["eli-sql", "cem-team", "alex-team", "bea-sql", "alex-sql"]


def found_names(app, awards, **filters) -> list[str]:
    return names(awards, found(app, **filters))


def test_award_detail_and_recipients(app, people):
    _, awards = people
    state = app.extensions["microcred"]
    renewal = state.use.status.renew(awards["bea-sql"], actor="staff:hana").award.id
    detail = state.use.search.award_detail(awards["bea-sql"])
    assert (detail.state, detail.renewal_of, detail.award.recipient.name) == ("superseded", None, "Beatrice Quist")
    assert [(e.actor, e.action) for e in detail.trail] == [("test", "issue"), ("staff:hana", "renew")]
    assert state.use.search.award_detail(renewal).renewal_of == awards["bea-sql"]
    for unknown in ("00000000-0000-4000-8000-000000000000", "nope"):
        with pytest.raises(NotFound):
            state.use.search.award_detail(unknown)
        with pytest.raises(NotFound):
            state.use.search.recipient(unknown)
    alex = state.use.search.recipients(email="Alex@Example.com", cursor=None, limit=10)
    assert [r.email for r in alex] == ["alex@example.com"]
    shown = state.use.search.recipient(alex[0].id)
    assert names(awards, [a.id for a in shown.awards]) == ["alex-team", "alex-sql"]
    assert shown.awards[0].achievement.slug == "teamwork"
    everyone = state.use.search.recipients(email=None, cursor=None, limit=2)
    assert len(everyone) == 3          # one more than asked: there is a next page
    rest = state.use.search.recipients(email=None, cursor=(everyone[1].created_at, everyone[1].id), limit=10)
    assert len({r.id for r in everyone[:2] + rest}) == 5


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_no_awards(app):
    assert found(app) == [] and found(app, state="expired", expiring_within_days=5) == []


def test_query_parameters():
    filters, page = parse_filters({"achievement": " sql ", "recipient": "Alex", "state": "expired",
                                   "expiring": "30", "page": "2"})
    assert filters == AwardFilters("sql", "Alex", "expired", 30) and page == 2
    assert filters.query_args() == {"achievement": "sql", "recipient": "Alex", "state": "expired",
                                    "expiring": "30"}
    assert parse_filters({"state": "", "expiring": "", "recipient": "  "}) == (AwardFilters(), 1)
    for args, field in (({"state": "gone"}, "state"), ({"expiring": "-1"}, "expiring"),
                        ({"expiring": "3651"}, "expiring"), ({"expiring": "ten"}, "expiring"),
                        ({"page": "0"}, "page"), ({"recipient": "x" * 321}, "recipient"),
                        ({"achievement": "a\x00"}, "achievement")):
        with pytest.raises(FilterError) as caught:
            parse_filters(args)
        assert caught.value.field == field and caught.value.message
