"""Skills inventory (``/admin/skills``): what the workforce holds, what expires soon, and who
meets a role's requirements, from verified awards only (see :mod:`issuer.achievements.inventory`).

The data is one :meth:`~issuer.achievements.service.AchievementService.overview` (read at one
moment, active awards read once). Every table on the page is a :class:`Table`, a pure function
of it; the page and its CSV download (``/admin/skills/<table>.csv``, same query string) are built
from the same one, so they agree.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime

from flask import Response, abort, current_app, render_template, request, url_for

from issuer.achievements.inventory import Coverage, Expiring, SkillCount, SkillOption, frameworks
from issuer.achievements.service import SkillsOverview
from issuer.bulk.jobs import safe_cell
from issuer.web.admin.blueprint import bp, state
from issuer.web.admin.charts import responsive_chart

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

def _skills(overview: SkillsOverview, query: Query) -> list[SkillCount]:
    return [s for s in overview.held if query.wants(s.framework)]


def build_table(name: str, overview: SkillsOverview, query: Query) -> Table:
    """The table ``name`` of an overview read with the query's skills and the table's window."""
    if name == "skills":
        return skills_table(_skills(overview, query))
    if name.startswith("expiring-"):
        return expiring_table(overview.windows[0])
    assert overview.coverage is not None  # noqa: S101 - asked for (the view refuses a coverage without skills)
    return coverage_table(overview.coverage, skill_labels(query.asked, overview.options))


def _expiring_chart(window: Expiring):
    return responsive_chart(chart_pairs(window.per_skill()), bar_class="bar-soon",
                            chart_id=f"chart-expiring-{window.days}",
                            title=f"People losing each skill in the next {window.days} days", unit="people",
                            unit_one="person")


def dashboard_data(overview: SkillsOverview, query: Query) -> dict:
    skills, options = _skills(overview, query), overview.options
    data = {
        "now": overview.as_of, "query": query, "frameworks": frameworks(overview.held), "options": options,
        "option_groups": group_options(options), "awards": overview.awards,
        "skills": skills_table(skills),
        "skills_chart": responsive_chart(chart_pairs([(s.name, s.framework, len(s.people)) for s in skills]),
                                         title="People per skill", chart_id="chart-skills", unit="people",
                                         unit_one="person"),
        "windows": [(w, expiring_table(w), _expiring_chart(w)) for w in overview.windows],
        "coverage": None,
    }
    if overview.coverage is not None:
        labels = skill_labels(query.asked, options)
        data.update(coverage=overview.coverage, labels=labels, coverage_table=coverage_table(overview.coverage, labels))
    return data


# ---------------------------------------------------------------- views

def _framework_options(names: list[str | None]) -> list[tuple[str, str]]:
    return [("", "Every framework")] + [(name or NO_FRAMEWORK, name or "No framework") for name in names]


@bp.get("/skills")
def dashboard() -> str:
    query = Query.parse(request.args)
    data = dashboard_data(state().use.achievements.overview(query.asked, WINDOWS), query)
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
    windows = (int(table.split("-")[1]),) if table.startswith("expiring-") else ()
    overview = state().use.achievements.overview(query.asked if table == "coverage" else (), windows)
    return csv_response(build_table(table, overview, query), overview.as_of)
