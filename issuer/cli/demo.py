"""``microcred demo``: a ready-to-browse issuer with a small workplace skills framework.

:func:`seed_demo` sets up the issuer for the configured base URL if there is none yet
(what ``microcred init`` does: Example Corp's People Team, an Ed25519 key, revocation
and suspension lists), five
achievements aligned to ESCO skills and O*NET skills (each with a rubric, criteria and a
validity period), and issues them to six sample employees. It is idempotent: running it
again finds everything in place and adds nothing.
"""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass

import click
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from issuer.awards.credentials import achievement_url, credential_url
from issuer.awards.issuance import AwardRequest, IssuerContext, issue_award, load_issuer
from issuer.config import Settings, load_settings
from issuer.db.engine import session_factory
from issuer.db.models import Achievement, Issuer, new_id
from issuer.mail.outbox import send_after_commit
from issuer.setup import init_instance

ISSUER = {
    "name": "Example Corp People Team",
    "url": "https://www.example.com/people",
    "email": "people-team@example.com",
    "description": "Example Corp's People Team recognises skills employees have shown in assessed, "
                   "real work. Every badge names the assessment behind it.",
}

ESCO = "ESCO (European Skills, Competences, Qualifications and Occupations)"
ONET = "O*NET Content Model (Skills)"


def esco(code: str, name: str) -> dict:
    """An alignment to an ESCO skill concept (its persistent URI)."""
    return {"targetName": name, "targetUrl": f"http://data.europa.eu/esco/skill/{code}", "targetCode": code,
            "targetFramework": ESCO, "targetType": "ceasn:Competency"}


def onet(code: str, name: str) -> dict:
    """An alignment to an O*NET skill descriptor (Content Model element id)."""
    return {"targetName": name, "targetUrl": f"https://www.onetonline.org/find/descriptor/result/{code}",
            "targetCode": code, "targetFramework": ONET, "targetType": "ceasn:Competency"}


ACHIEVEMENTS = [
    {
        "slug": "team-leadership",
        "name": "Team Leadership",
        "description": "Leads a team to a shared goal: sets direction, delegates, and keeps people motivated "
                       "and informed.",
        "criteria": "Led a team of at least three people through a project of three months or more, and was "
                    "rated at least Proficient in a 360-degree review by the team and the sponsor.",
        "alignments": [esco("1f1d2ff8-c4c1-45cc-9812-6a7ee84a73cb", "lead a team"),
                       esco("22c2af9e-ba0d-4cee-abb6-b6dbef006cd5", "motivate employees"),
                       onet("2.B.5.d", "Management of Personnel Resources")],
        "tags": ["leadership", "people management"],
        "months": 24,
    },
    {
        "slug": "coaching-feedback",
        "name": "Coaching and Feedback",
        "description": "Helps colleagues grow through regular, specific and actionable feedback and coaching "
                       "conversations.",
        "criteria": "Coached at least two colleagues over six months with documented development goals, and "
                    "passed the observed feedback-conversation assessment.",
        "alignments": [esco("0cc9c234-f817-4f4c-908a-4d28fe3b0f4a", "coach employees"),
                       esco("08e2ff26-88ff-47b5-9d37-d19ace01b075", "manage feedback"),
                       onet("2.B.1.e", "Instructing")],
        "tags": ["coaching", "feedback"],
        "months": 24,
    },
    {
        "slug": "collaborative-problem-solving",
        "name": "Collaborative Problem Solving",
        "description": "Works with colleagues across teams to analyse a problem, weigh options and deliver a "
                       "solution that holds.",
        "criteria": "Presented a cross-team problem analysis (root cause, options, decision) to a review "
                    "panel, and the chosen solution was in use three months later.",
        "alignments": [esco("03b9b491-fc9b-4868-914a-bf7cd47b5041", "create solutions to problems"),
                       esco("082967d4-b94c-4305-aa13-35a6aa8c5c7c", "cooperate with colleagues"),
                       onet("2.B.2.i", "Complex Problem Solving")],
        "tags": ["problem solving", "collaboration"],
        "months": 36,
    },
    {
        "slug": "conflict-resolution",
        "name": "Conflict Resolution",
        "description": "Recognises conflict early and resolves it fairly, keeping working relationships intact.",
        "criteria": "Completed the two-day mediation workshop and handled a role-played escalation scenario to "
                    "the assessor's standard.",
        "alignments": [esco("0ee94af1-b445-4973-9c3f-459fab250342", "apply conflict management"),
                       esco("c08c428e-858e-4e99-bcbd-3597ff31778a", "work with broad variety of personalities"),
                       onet("2.B.1.d", "Negotiation")],
        "tags": ["communication", "mediation"],
        "months": 24,
    },
    {
        "slug": "data-driven-decisions",
        "name": "Data-Driven Decision Making",
        "description": "Frames business questions, analyses the data behind them and explains the decision "
                       "it supports.",
        "criteria": "Submitted a decision memo backed by an analysis of real business data; the memo was "
                    "reviewed by the analytics guild against the published rubric.",
        "alignments": [esco("be20d05c-f6b4-4580-9fcf-f00f4baab562", "make data-driven decisions"),
                       esco("1973c966-f236-40c9-b2d4-5d71a89019be", "use spreadsheets software"),
                       onet("2.B.4.e", "Judgment and Decision Making")],
        "tags": ["data", "decision making"],
        "months": 12,
    },
]

LEVELS = [
    ("developing", "Developing", "Shows the skill with guidance; not yet consistent."),
    ("proficient", "Proficient", "Shows the skill independently and consistently in everyday work."),
    ("advanced", "Advanced", "Shows the skill in demanding situations and helps others develop it."),
]

EMPLOYEES = [
    ("Alex Morgan", "alex.morgan@example.com", "EC-10231"),
    ("Priya Natarajan", "priya.natarajan@example.com", "EC-10417"),
    ("Tomás Ferreira", "tomas.ferreira@example.com", "EC-10522"),
    ("Mei Lin Chen", "meilin.chen@example.com", "EC-10688"),
    ("Jordan Okafor", "jordan.okafor@example.com", "EC-10745"),
    ("Sofia Lindqvist", "sofia.lindqvist@example.com", "EC-10903"),
]

# (employee index, achievement slug, level, evidence narrative or None)
AWARDS = [
    (0, "team-leadership", "advanced", "360-degree review, spring cycle: led the payroll migration team (6)."),
    (0, "coaching-feedback", "proficient", None),
    (1, "data-driven-decisions", "advanced", "Decision memo: regional staffing model, reviewed by the "
                                             "analytics guild."),
    (1, "collaborative-problem-solving", "proficient", None),
    (2, "conflict-resolution", "proficient", "Mediation workshop and assessed escalation scenario."),
    (3, "coaching-feedback", "advanced", "Coached two new team leads through their first six months."),
    (3, "team-leadership", "proficient", None),
    (4, "collaborative-problem-solving", "advanced", "Root-cause analysis of onboarding delays; fix still "
                                                     "in use."),
    (5, "data-driven-decisions", "proficient", None),
    (5, "conflict-resolution", "advanced", None),
]


@dataclass(frozen=True)
class DemoAward:
    award_id: str
    url: str
    recipient: str
    achievement: str
    created: bool


@dataclass(frozen=True)
class DemoResult:
    issuer_did: str
    issuer_created: bool
    achievements_created: int
    awards: tuple[DemoAward, ...]

    @property
    def awards_created(self) -> int:
        return sum(1 for award in self.awards if award.created)


def _rubric(url: str) -> dict:
    return {
        "id": f"{url}#rubric", "name": "Assessed proficiency", "resultType": "RubricCriterionLevel",
        "allowedValue": [name for _, name, _ in LEVELS], "requiredLevel": f"{url}#level-proficient",
        "rubricCriterionLevel": [{"id": f"{url}#level-{key}", "type": ["RubricCriterionLevel"], "name": name,
                                  "description": text, "level": str(rank), "points": str(rank)}
                                 for rank, (key, name, text) in enumerate(LEVELS, start=1)],
    }


def ensure_achievements(session: Session, settings: Settings, issuer: Issuer) -> tuple[dict, int]:
    """The demo achievements by slug (existing ones are left as they are); (by slug, created)."""
    existing = {a.slug: a for a in session.scalars(select(Achievement).where(Achievement.issuer_id == issuer.id))}
    created = 0
    for spec in ACHIEVEMENTS:
        if spec["slug"] in existing:
            continue
        row = Achievement(id=new_id(), issuer_id=issuer.id, slug=spec["slug"], name=spec["name"],
                          description=spec["description"], criteria_narrative=spec["criteria"],
                          achievement_type="Competency", alignments=spec["alignments"], tags=spec["tags"],
                          validity_months=spec["months"], version="1.0")
        row.result_descriptions = [_rubric(achievement_url(settings, row))]
        session.add(row)
        existing[row.slug] = row
        created += 1
    session.flush()
    return existing, created


def _request(settings: Settings, achievement: Achievement, employee: tuple, level: str,
             evidence: str | None) -> AwardRequest:
    name, email, employee_id = employee
    rubric = achievement.result_descriptions[0]["id"]
    result = {"resultDescription": rubric, "achievedLevel": f"{achievement_url(settings, achievement)}#level-{level}",
              "value": level.capitalize()}
    proof = ({"name": "Assessment record", "narrative": evidence, "genre": "Assessment"},) if evidence else ()
    return AwardRequest(achievement=achievement.slug, email=email, name=name, employee_id=employee_id,
                        evidence=proof, results=(result,))


def seed_demo(sessions: sessionmaker[Session], settings: Settings, *, actor: str = "demo",
              notify: bool = False) -> DemoResult:
    """Set up the demo issuer, achievements and awards (one transaction); idempotent.

    ``notify``: queue an award email for each new award (the ``demo`` command does).
    """
    _issuer, issuer_created = init_instance(settings, **ISSUER)   # what 'microcred init' does
    with sessions() as session, session.begin():
        issuer = load_issuer(session, settings)
        achievements, achievements_created = ensure_achievements(session, settings, issuer)
        ctx = IssuerContext.load(session, settings, issuer)
        awards = []
        for employee_index, slug, level, evidence in AWARDS:
            employee = EMPLOYEES[employee_index]
            request = _request(settings, achievements[slug], employee, level, evidence)
            award, created = issue_award(session, ctx, request, actor=actor, jwt=True,
                                         notify="awarded" if notify else None)
            awards.append(DemoAward(award.id, credential_url(settings, award.id), employee[0],
                                    achievements[slug].name, created))
        return DemoResult(issuer.did, issuer_created, achievements_created, tuple(awards))


DEMO_ADMIN = "hr-admin"
DEMO_PASSWORD_FILE = "demo-admin-password"  # noqa: S105 - a file name


def ensure_demo_admin(sessions: sessionmaker[Session], settings: Settings) -> tuple[str, str | None]:
    """A console account for trying the demo: (user name, password or None when unknown).

    Created only while no staff account exists, with a random password kept (0600) in
    ``<instance>/demo-admin-password`` so the demo can print it again. An installation that
    already has accounts gets none.
    """
    from issuer.access.staff import create_user
    from issuer.db.models_staff import StaffUser

    path = settings.instance / DEMO_PASSWORD_FILE
    with sessions.begin() as session:
        if session.scalars(select(StaffUser.id).limit(1)).first() is None:
            password = secrets.token_urlsafe(12)
            create_user(session, DEMO_ADMIN, password, "admin", name="Demo HR admin")
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(password + "\n")
            return DEMO_ADMIN, password
        if session.scalars(select(StaffUser.id).where(StaffUser.username == DEMO_ADMIN)).first() and path.is_file():
            return DEMO_ADMIN, path.read_text(encoding="utf-8").strip()
    return DEMO_ADMIN, None


@click.command("demo")
def demo() -> None:
    """Set up a demo issuer with a skills framework and sample awards (safe to run again)."""
    from issuer.cli.serve import clean_errors
    from issuer.web.app import open_database
    from issuer.web.public import did_document_location

    with clean_errors():
        settings = load_settings()
        engine = open_database(settings)
        try:
            sessions = session_factory(engine)
            result = seed_demo(sessions, settings, notify=True)
            delivery = send_after_commit(sessions, settings)
            admin, password = ensure_demo_admin(sessions, settings)
        finally:
            engine.dispose()
    state = "created" if result.issuer_created else "already set up"
    click.echo(f"issuer: {result.issuer_did} ({state})")
    click.echo(f"DID document: {did_document_location(settings)}")
    click.echo(f"achievements: {len(ACHIEVEMENTS)} ({result.achievements_created} new)")
    click.echo(f"awards: {len(result.awards)} ({result.awards_created} new)")
    for award in result.awards:
        click.echo(f"  {award.url}  {award.achievement}: {award.recipient}")
    if delivery is not None and delivery.sent:
        where = "instance/outbox-mail/" if not os.environ.get("MICROCRED_SMTP_HOST") else "the SMTP server"
        click.echo(f"award emails: {delivery.sent} sent to {where}")
    if password:
        click.echo(f"HR console: {settings.url('/admin/')}  user {admin}, password {password} "
                   f"(kept in {settings.instance / DEMO_PASSWORD_FILE})")
    hint = " --allow-http-host HOST" if settings.base_url.startswith("http:") else ""
    click.echo(f"Serve them with 'microcred serve'; check one with 'microcred verify URL{hint}'.")
