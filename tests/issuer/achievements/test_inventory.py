"""The skills inventory service (issuer.achievements.inventory) on SQLite and PostgreSQL: people per
skill and framework from verified awards only, skills expiring in 30/90 days, role coverage.

:func:`seed_inventory` builds one small workforce (also used by the dashboard tests):

=====  ===========================================  ==========================================
who    awards                                       what counts at NOW
=====  ===========================================  ==========================================
ana    sql-basics (ends ~NOW+10 d), data-eng (~+50)  SQL (kept by data-eng until ~+50), Python
ben    sql-basics (~+10)                             SQL, expiring within 30
cy     sql-basics, revoked                           nothing
dee    lead, suspended                               nothing
eve    lead, renewed (old one superseded)            lead a team, Leadership (the renewal only)
fay    sql-basics, validity ended yesterday          nothing
gus    lead, valid only from NOW+5 d                 nothing
hal    lead (no end), sql-basics (~+10)              lead a team, Leadership, SQL (expiring)
ivy    other-sql (no end), no-skill                  SQL in the "Other" framework
=====  ===========================================  ==========================================
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask

from issuer.achievements.inventory import active_holdings, coverage, expiring, frameworks, known_skills, skills_held
from issuer.awards.issuance import AwardRequest, IssuerContext, issue_award
from issuer.awards.lifecycle import change_status, renew
from issuer.db.models import Achievement, Award
from issuer.identity import load_issuer
from tests.admin_support import console_app

ESCO, ONET, OTHER = "ESCO", "O*NET", "Other"
SQL = {"targetName": "SQL", "targetUrl": "https://esco.example/skill/sql", "targetCode": "S1.2",
       "targetFramework": ESCO}
PYTHON = {"targetName": "Python", "targetUrl": "https://esco.example/skill/python", "targetFramework": ESCO}
LEAD = {"targetName": "lead a team", "targetUrl": "https://esco.example/skill/lead", "targetFramework": ESCO}
LEADERSHIP = {"targetName": "Leadership", "targetUrl": "https://onet.example/2.B.5.d", "targetCode": "2.B.5.d",
              "targetFramework": ONET}
OTHER_SQL = {"targetName": "SQL", "targetUrl": "https://other.example/sql", "targetFramework": OTHER}

# slug, name, alignments, validity in months
ACHIEVEMENTS = [
    ("sql-basics", "SQL Basics", [SQL], 1),
    ("data-eng", "Data Engineering", [SQL, PYTHON], 3),
    ("lead", "Team Lead", [LEAD, LEADERSHIP], None),
    ("other-sql", "Other SQL", [OTHER_SQL], None),
    ("no-skill", "Welcome", [], None),
]
# who, achievement, awarded this many days before NOW
AWARDS = [
    ("ana", "sql-basics", 20), ("ana", "data-eng", 40),
    ("ben", "sql-basics", 20),
    ("cy", "sql-basics", 5),
    ("dee", "lead", 5),
    ("eve", "lead", 100),
    ("fay", "sql-basics", 20),
    ("gus", "lead", 1),
    ("hal", "lead", 300), ("hal", "sql-basics", 20),
    ("ivy", "other-sql", 3), ("ivy", "no-skill", 3),
]


def now_utc() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def seed_inventory(app: Flask, now: datetime) -> dict[tuple[str, str], str]:
    """The workforce of the module docstring; award ids by (person, achievement slug)."""
    state = app.extensions["microcred"]
    with state.sessions.begin() as session:
        issuer = load_issuer(session, state.settings)
        for slug, name, alignments, months in ACHIEVEMENTS:
            session.add(Achievement(issuer_id=issuer.id, slug=slug, name=name, description=f"{name}.",
                                    criteria_narrative="Assessed.", alignments=alignments, validity_months=months))
    ids = {}
    with state.sessions.begin() as session:
        ctx = IssuerContext.load(session, state.settings, load_issuer(session, state.settings))
        for person, slug, days in AWARDS:
            request = AwardRequest(achievement=slug, email=f"{person}@example.com", name=person.title(),
                                   awarded_at=now - timedelta(days=days))
            ids[(person, slug)] = issue_award(session, ctx, request, actor="test", now=now)[0].id
    change_status(state.sessions, state.settings, ids[("cy", "sql-basics")], "revoke", reason="error", actor="test")
    change_status(state.sessions, state.settings, ids[("dee", "lead")], "suspend", reason="check", actor="test")
    ids[("eve", "lead", "renewal")] = renew(state.sessions, state.settings, ids[("eve", "lead")], actor="test",
                                            now=now).id
    with state.sessions.begin() as session:        # dates no self-verifying issuance would sign today
        session.get(Award, ids[("fay", "sql-basics")]).valid_until = now - timedelta(days=1)
        session.get(Award, ids[("gus", "lead")]).valid_from = now + timedelta(days=5)
    return ids


def inventory(app: Flask):
    state = app.extensions["microcred"]
    session = state.sessions()
    return session, load_issuer(session, state.settings)


def counts(skills) -> dict[tuple[str, str | None], int]:
    return {(s.name, s.framework): len(s.people) for s in skills}


def test_people_per_skill_and_framework_from_verified_awards_only(tmp_path, db_url):
    app, now = console_app(tmp_path, db_url), now_utc()
    ids = seed_inventory(app, now)
    session, issuer = inventory(app)
    with session:
        held = skills_held(session, issuer, now)
        assert counts(held) == {("SQL", ESCO): 3, ("lead a team", ESCO): 2, ("Leadership", ONET): 2,
                                ("Python", ESCO): 1, ("SQL", OTHER): 1}
        assert [len(s.people) for s in held] == [3, 2, 2, 1, 1]          # most held first
        sql = next(s for s in held if (s.name, s.framework) == ("SQL", ESCO))
        assert sql.achievements == {"sql-basics", "data-eng"}
        assert sql.titles == {"sql-basics": "SQL Basics", "data-eng": "Data Engineering"}
        holdings = {h.award_id for h in active_holdings(session, issuer, now)}
        for left_out in (("cy", "sql-basics"), ("dee", "lead"), ("eve", "lead"), ("fay", "sql-basics"),
                         ("gus", "lead")):                 # revoked, suspended, superseded, expired, not yet valid
            assert ids[left_out] not in holdings, left_out
        assert ids[("eve", "lead", "renewal")] in holdings
        assert frameworks(held) == [ESCO, ONET, OTHER]
        # the same data later: gus's award has started, the sql-basics awards have all ended
        later = counts(skills_held(session, issuer, now + timedelta(days=40)))
        assert later[("lead a team", ESCO)] == 3 and later[("SQL", ESCO)] == 1       # ana, through data-eng


def test_skills_expiring_in_30_and_90_days(tmp_path, db_url):
    app, now = console_app(tmp_path, db_url), now_utc()
    seed_inventory(app, now)
    session, issuer = inventory(app)
    with session:
        soon = expiring(session, issuer, now, 30)
        assert soon.until == now + timedelta(days=30)
        # ana's SQL Basics ends too, but her Data Engineering award keeps SQL beyond 30 days
        assert [(r.recipient.email, r.skill, r.achievement.slug) for r in soon.rows] == [
            ("ben@example.com", "SQL", "sql-basics"), ("hal@example.com", "SQL", "sql-basics")]
        assert soon.per_skill() == [("SQL", ESCO, 2)]
        assert all(now < r.valid_until <= now + timedelta(days=30) for r in soon.rows)

        quarter = expiring(session, issuer, now, 90)
        rows = {(r.recipient.email, r.skill): r for r in quarter.rows}
        assert set(rows) == {("ana@example.com", "SQL"), ("ana@example.com", "Python"),
                             ("ben@example.com", "SQL"), ("hal@example.com", "SQL")}
        assert rows[("ana@example.com", "SQL")].achievement.slug == "data-eng"     # when she really loses it
        assert quarter.per_skill() == [("SQL", ESCO, 3), ("Python", ESCO, 1)]
        assert [r.valid_until for r in quarter.rows] == sorted(r.valid_until for r in quarter.rows)
        assert expiring(session, issuer, now, 1).rows == []


def test_a_renewal_keeps_the_skill_from_expiring(tmp_path, db_url):
    app, now = console_app(tmp_path, db_url), now_utc()
    ids = seed_inventory(app, now)
    state = app.extensions["microcred"]
    with state.sessions.begin() as session:        # ben gets a second, later award of the same skill
        ctx = IssuerContext.load(session, state.settings, load_issuer(session, state.settings))
        issue_award(session, ctx, AwardRequest(achievement="data-eng", email="ben@example.com", awarded_at=now),
                    actor="test", now=now)
    session, issuer = inventory(app)
    with session:
        assert [r.recipient.email for r in expiring(session, issuer, now, 30).rows] == ["hal@example.com"]
        assert ids[("ben", "sql-basics")] in {h.award_id for h in active_holdings(session, issuer, now)}


def test_role_coverage_has_all_and_missing(tmp_path, db_url):
    app, now = console_app(tmp_path, db_url), now_utc()
    seed_inventory(app, now)
    session, issuer = inventory(app)
    with session:
        result = coverage(session, issuer, [SQL["targetUrl"], PYTHON["targetUrl"]], now)
        assert [r.email for r in result.has_all] == ["ana@example.com"]
        people = {p.recipient.email: p for p in result.people}
        assert people["ben@example.com"].missing == [PYTHON["targetUrl"]]
        assert people["ivy@example.com"].missing == [SQL["targetUrl"], PYTHON["targetUrl"]]   # other framework
        assert people["cy@example.com"].has == []                                          # revoked
        lead = coverage(session, issuer, ["lead a team", "2.B.5.d", "Cobol"], now)
        assert lead.unknown_skills == ["Cobol"]
        assert lead.has_all == []
        assert {p.recipient.email for p in lead.people if p.missing == ["Cobol"]} == {"eve@example.com",
                                                                                   "hal@example.com"}


def test_known_skills_for_the_role_picker(tmp_path, db_url):
    app = console_app(tmp_path, db_url)
    seed_inventory(app, now_utc())
    session, issuer = inventory(app)
    with session:
        options = known_skills(session, issuer)
    assert [(o.framework, o.name, o.ref) for o in options] == [
        (ESCO, "lead a team", LEAD["targetUrl"]), (ESCO, "Python", PYTHON["targetUrl"]),
        (ESCO, "SQL", SQL["targetUrl"]), (ONET, "Leadership", LEADERSHIP["targetUrl"]),
        (OTHER, "SQL", OTHER_SQL["targetUrl"])]
    assert options[2].answers_to("sql") and options[2].answers_to("S1.2") and not options[2].answers_to("Python")
