"""The demo installation's data: Example Corp's People Team, five workplace skills, six employees.

Five achievements aligned to ESCO skills and O*NET skills (each with a rubric of three levels,
criteria and a validity period) and ten awards of them to six sample employees. Pure data:
:meth:`issuer.setup_service.SetupService.seed_demo` turns it into an issuer, achievements and
awards (through the one issuing pipeline).
"""
from __future__ import annotations

from typing import Any

ISSUER = {
    "name": "Example Corp People Team",
    "url": "https://www.example.com/people",
    "email": "people-team@example.com",
    "description": "Example Corp's People Team recognises skills employees have shown in assessed, "
                   "real work. Every badge names the assessment behind it.",
}

ESCO = "ESCO (European Skills, Competences, Qualifications and Occupations)"
ONET = "O*NET Content Model (Skills)"


def esco(code: str, name: str) -> dict[str, str]:
    """An alignment to an ESCO skill concept (its persistent URI)."""
    return {"targetName": name, "targetUrl": f"http://data.europa.eu/esco/skill/{code}", "targetCode": code,
            "targetFramework": ESCO, "targetType": "ceasn:Competency"}


def onet(code: str, name: str) -> dict[str, str]:
    """An alignment to an O*NET skill descriptor (Content Model element id)."""
    return {"targetName": name, "targetUrl": f"https://www.onetonline.org/find/descriptor/result/{code}",
            "targetCode": code, "targetFramework": ONET, "targetType": "ceasn:Competency"}


ACHIEVEMENTS: list[dict[str, Any]] = [
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


def rubric(url: str) -> dict[str, Any]:
    """The achievement's one result description: a rubric of the three :data:`LEVELS`."""
    return {
        "id": f"{url}#rubric", "name": "Assessed proficiency", "resultType": "RubricCriterionLevel",
        "allowedValue": [name for _, name, _ in LEVELS], "requiredLevel": f"{url}#level-proficient",
        "rubricCriterionLevel": [{"id": f"{url}#level-{key}", "type": ["RubricCriterionLevel"], "name": name,
                                  "description": text, "level": str(rank), "points": str(rank)}
                                 for rank, (key, name, text) in enumerate(LEVELS, start=1)],
    }
