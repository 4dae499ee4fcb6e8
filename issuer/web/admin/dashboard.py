"""Skills inventory (``/admin/skills``): what the workforce holds, what expires soon, and who
meets a role's requirements, from verified awards only (see :mod:`issuer.achievements.inventory`).

Every table on the page is a :class:`Table`; the page and its CSV download
(``/admin/skills/<table>.csv``, same query string) are built from the same one, so they agree.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime

from flask import Response, abort, current_app, render_template, request, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from issuer.achievements.inventory import (
    Coverage,
    Expiring,
    Holding,
    SkillCount,
    SkillOption,
    active_holdings,
    coverage,
    expiring,
    frameworks,
    known_skills,
    skills_held,
)
from issuer.bulk.jobs import safe_cell
from issuer.db.models import Award, Issuer
from issuer.web.admin.blueprint import bp, issuer_of, state
from issuer.web.admin.charts import bar_chart

TABLES = ("skills", "expiring-30", "expiring-90", "coverage")
WINDOWS = (30, 90)
NO_FRAMEWORK = "~none"          # the framework filter's value for skills without a framework
MAX_ASKED = 50
PAGE_ROWS = 500                 # rows shown per table on the page; the CSV has them all
CHART_BARS = 25


@dataclass(frozen=True)
class Table:
    name: str                   # as in the CSV URL: one of TABLES
    caption: str
    columns: list[str]
    kinds: list[str]            # per column: "text", "num" or "mark" (✓ / missing)
    rows: list[list[str | int]]


@dataclass(frozen=True)
class Query:
    """The page's query string, checked: ?framework=...&skill=...&skill=..."""

    framework: str              # "" = every framework
    asked: list[str]
    errors: list[str]

    @classmethod
    def parse(cls, args) -> Query:
        errors = []
        framework = args.get("framework", "").strip()[:1024]
        asked = list(dict.fromkeys(s.strip() for s in args.getlist("skill") if s.strip()))
        if any(len(s) > 1024 or "\x00" in s for s in asked):
            errors.append("A skill in the address is not valid (too long, or with a null character); "
                          "pick the skills again below.")
            asked = []
        elif len(asked) > MAX_ASKED:
            errors.append(f"Choose at most {MAX_ASKED} skills at a time ({len(asked)} were chosen).")
            asked = []
        return cls(framework, asked, errors)

    def wants(self, framework: str | None) -> bool:
        if not self.framework:
            return True
        return framework is None if self.framework == NO_FRAMEWORK else framework == self.framework


# ---------------------------------------------------------------- tables (pure)

def _when(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC")


def skills_table(skills: list[SkillCount]) -> Table:
    rows = [[s.name, s.framework or "—", len(s.people), "; ".join(sorted(s.titles.values(), key=str.casefold))]
            for s in skills]
    return Table("skills", "People per skill", ["Skill", "Framework", "People", "Achievements"],
                 ["text", "text", "num", "text"], rows)


def expiring_table(window: Expiring) -> Table:
    rows = [[r.recipient.name or "—", r.recipient.email, r.skill, r.framework or "—", r.achievement.name,
             _when(r.valid_until)] for r in window.rows]
    return Table(f"expiring-{window.days}", f"Skills people lose in the next {window.days} days, soonest first",
                 ["Person", "Email", "Skill", "Framework", "Achievement", "Valid until"], ["text"] * 6, rows)


def skill_labels(asked: list[str], options: list[SkillOption]) -> dict[str, str]:
    """A readable name per asked skill (a URL or code becomes the skill's name); the framework
    is added where two chosen skills have the same name."""
    found = {a: next((o for o in options if o.ref == a), None) or next((o for o in options if o.answers_to(a)), None)
             for a in asked}
    names = [found[a].name if found[a] else a for a in asked]
    labels = {}
    for ref, name in zip(asked, names, strict=True):
        option = found[ref]
        clash = names.count(name) > 1 and option is not None and option.framework
        labels[ref] = f"{name} ({option.framework})" if clash else name
    return labels


def coverage_table(result: Coverage, labels: dict[str, str]) -> Table:
    people = sorted(result.people, key=lambda p: (len(p.missing), p.recipient.email))
    rows = [[p.recipient.name or "—", p.recipient.email]
            + ["✓" if skill in p.has else "missing" for skill in result.skills]
            + ["yes" if not p.missing else "no", "; ".join(labels[s] for s in p.missing) or "nothing"]
            for p in people]
    return Table("coverage", "Who has which of the chosen skills (people with the most first)",
                 ["Person", "Email", *(labels[s] for s in result.skills), "Has all", "Missing"],
                 ["text", "text", *(["mark"] * len(result.skills)), "text", "text"], rows)


def group_options(options: list[SkillOption]) -> list[tuple[str | None, list[SkillOption]]]:
    """The role picker's skills by framework, in the order of ``options``."""
    groups: dict[str | None, list[SkillOption]] = {}
    for option in options:
        groups.setdefault(option.framework, []).append(option)
    return list(groups.items())


def chart_pairs(items: list[tuple[str, str | None, int]]) -> list[tuple[str, int]]:
    """(label, value) for a chart: the skill name, with its framework where names repeat."""
    names = [name for name, _, _ in items]
    return [(f"{name} ({framework})" if names.count(name) > 1 and framework else name, value)
            for name, framework, value in items[:CHART_BARS]]


# ---------------------------------------------------------------- CSV

def csv_text(table: Table) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([safe_cell(c) for c in table.columns])
    writer.writerows([safe_cell(c) for c in row] for row in table.rows)
    return buffer.getvalue()


def csv_response(table: Table, now: datetime) -> Response:
    """UTF-8 (with a byte-order mark, so spreadsheet programs read names right), as a download."""
    response = Response("\ufeff" + csv_text(table), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{table.name}-{now:%Y-%m-%d}.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response


# ---------------------------------------------------------------- data for the page

def _skills(session: Session, issuer: Issuer, now: datetime, query: Query,
            holdings: list[Holding] | None = None) -> tuple[list[SkillCount], list]:
    held = skills_held(session, issuer, now, holdings=holdings)
    return [s for s in held if query.wants(s.framework)], frameworks(held)


def build_table(name: str, session: Session, issuer: Issuer, now: datetime, query: Query) -> Table:
    if name == "skills":
        return skills_table(_skills(session, issuer, now, query)[0])
    if name.startswith("expiring-"):
        return expiring_table(expiring(session, issuer, now, int(name.split("-")[1])))
    labels = skill_labels(query.asked, known_skills(session, issuer))
    return coverage_table(coverage(session, issuer, query.asked, now), labels)


def _expiring_chart(window: Expiring):
    return bar_chart(chart_pairs(window.per_skill()), bar_class="bar-soon", chart_id=f"chart-expiring-{window.days}",
                     title=f"People losing each skill in the next {window.days} days", unit="people",
                     unit_one="person")


def dashboard_data(session: Session, issuer: Issuer, now: datetime, query: Query) -> dict:
    holdings = active_holdings(session, issuer, now)        # read once for every table of the page
    skills, all_frameworks = _skills(session, issuer, now, query, holdings)
    options = known_skills(session, issuer)
    windows = [expiring(session, issuer, now, days, holdings=holdings) for days in WINDOWS]
    data = {
        "now": now, "query": query, "frameworks": all_frameworks, "options": options,
        "option_groups": group_options(options),
        "awards": session.scalar(select(func.count()).select_from(Award).where(Award.issuer_id == issuer.id)),
        "skills": skills_table(skills),
        "skills_chart": bar_chart(chart_pairs([(s.name, s.framework, len(s.people)) for s in skills]),
                                  title="People per skill", chart_id="chart-skills", unit="people", unit_one="person"),
        "windows": [(w, expiring_table(w), _expiring_chart(w)) for w in windows],
        "coverage": None,
    }
    if query.asked:
        result = coverage(session, issuer, query.asked, now, holdings=holdings)
        labels = skill_labels(query.asked, options)
        data.update(coverage=result, labels=labels, coverage_table=coverage_table(result, labels))
    return data


# ---------------------------------------------------------------- views

def _framework_options(names: list[str | None]) -> list[tuple[str, str]]:
    return [("", "Every framework")] + [(name or NO_FRAMEWORK, name or "No framework") for name in names]


@bp.get("/skills")
def dashboard() -> str:
    query = Query.parse(request.args)
    now = state().clock()
    with state().sessions() as db:
        data = dashboard_data(db, issuer_of(db), now, query)
        issue_url = url_for("admin.award_new") if "admin.award_new" in current_app.view_functions else None
        return render_template("admin/dashboard.html", **data, issue_url=issue_url, page_rows=PAGE_ROWS,
                               framework_options=_framework_options(data["frameworks"]), no_framework=NO_FRAMEWORK)


@bp.get("/skills/<table>.csv")
def dashboard_csv(table: str) -> Response:
    if table not in TABLES:
        abort(404)
    query = Query.parse(request.args)
    if query.errors:
        abort(400, query.errors[0])
    if table == "coverage" and not query.asked:
        abort(400, "Choose at least one skill: /admin/skills/coverage.csv?skill=...")
    now = state().clock()
    with state().sessions() as db:
        return csv_response(build_table(table, db, issuer_of(db), now, query), now)
