"""The skills use case: frameworks (define, rename), catalogue import from a framework's CSV, search.

    skills = services.skills
    framework = skills.create_framework(FrameworkFields("ESCO", "European Commission", url), actor="staff:hana")
    report = skills.import_csv(data, framework="ESCO", actor="cli:hana")          # all or nothing
    report = skills.import_csv(data, framework="ESCO", actor="cli", skip_bad_rows=True)
    hits = skills.search("sql", framework_id=None)                                # search as you type

The console (``/admin/frameworks``), the JSON search endpoint (``/admin/skills/search``) and
``microcred skills import`` call these and render what they return. An import names its framework
by id or name; a name no framework answers to creates it (with the publisher and URL given, or,
for ESCO and O*NET files, the known ones). By default a file with a bad row imports nothing and
every bad row is listed (:class:`ImportRefused`, invalid input: 422, exit 2); with
``skip_bad_rows`` the good rows are imported and the bad ones listed in the report. Importing the
same file again updates skills by URL and never duplicates them. Each change writes one audit
entry (``create_framework``, ``edit_framework``, ``import_skills``).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from issuer.db.models import AuditEntry
from issuer.db.models_skills import Skill, SkillFramework
from issuer.errors import InvalidInput, NotFound
from issuer.runtime import Runtime
from issuer.skills.catalogue import (
    FrameworkFields,
    Listed,
    SkillHit,
    StoreCounts,
    adopt_names,
    create_framework,
    find_framework,
    listing,
    search,
    skill,
    store_skills,
    unregistered,
    update_framework,
)
from issuer.skills.catalogue import frameworks as all_frameworks
from issuer.skills.frameworks import KNOWN, same_framework
from issuer.skills.readers import CsvFormat, RowProblem, read_skills


class ImportRefused(InvalidInput):
    """A skills file with bad rows, imported all-or-nothing: nothing was stored.
    ``details["problems"]``: ``{"line", "reason"}`` per bad row listed."""

    default_code = "skills_rows_invalid"


@dataclass(frozen=True)
class ImportReport:
    framework: SkillFramework
    format: CsvFormat
    rows: int
    counts: StoreCounts
    problems: list[RowProblem]          # bad rows skipped (only with skip_bad_rows)
    bad_rows: int
    created: bool                       # the framework was made by this import

    def summary(self) -> str:
        c = self.counts
        text = (f"{self.framework.name}: {c.added} skills added, {c.updated} updated, {c.unchanged} unchanged "
                f"(from {self.format.label}, {self.rows} rows)")
        if c.kept:
            text += f"; {c.kept} earlier skills not in this file were kept"
        if self.bad_rows:
            text += f"; {self.bad_rows} bad rows skipped"
        return text + "."


class SkillService:
    """Skill frameworks, their catalogues and the search HR picks skills with."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    # ------------------------------------------------------------ reading

    def frameworks(self) -> list[SkillFramework]:
        with self.runtime.reading() as session:
            return all_frameworks(session, self.runtime.load_issuer(session))

    def listing(self) -> list[Listed]:
        with self.runtime.reading() as session:
            return listing(session, self.runtime.load_issuer(session))

    def framework(self, ref: str) -> SkillFramework:
        with self.runtime.reading() as session:
            return find_framework(session, self.runtime.load_issuer(session), ref)

    def search(self, query: str, *, framework_id: str | None = None, limit: int = 20) -> list[SkillHit]:
        with self.runtime.reading() as session:
            return search(session, self.runtime.load_issuer(session), query, framework_id=framework_id, limit=limit)

    def unregistered(self) -> list[str]:
        """Framework names achievements use that are not frameworks yet (e.g. the demo's)."""
        with self.runtime.reading() as session:
            return unregistered(session, self.runtime.load_issuer(session))

    def skill(self, skill_id: str) -> tuple[Skill, SkillFramework]:
        with self.runtime.reading() as session:
            return skill(session, self.runtime.load_issuer(session), skill_id)

    # ------------------------------------------------------------ changing

    def create_framework(self, fields: FrameworkFields, *, actor: str) -> SkillFramework:
        now = self.runtime.now()
        with self.runtime.transaction() as session:
            framework = create_framework(session, self.runtime.load_issuer(session), fields, now=now)
            self._audit(session, "create_framework", framework, actor, now)
        return framework

    def adopt_names(self, *, actor: str) -> list[SkillFramework]:
        """Make frameworks of the :meth:`unregistered` names; one ``create_framework`` entry each."""
        now = self.runtime.now()
        with self.runtime.transaction() as session:
            created = adopt_names(session, self.runtime.load_issuer(session), now=now)
            for framework in created:
                self._audit(session, "create_framework", framework, actor, now, adopted=True)
        return created

    def update_framework(self, ref: str, fields: FrameworkFields, *, actor: str) -> SkillFramework:
        now = self.runtime.now()
        with self.runtime.transaction() as session:
            issuer = self.runtime.load_issuer(session)
            framework = find_framework(session, issuer, ref)
            old = framework.name
            rewritten = update_framework(session, issuer, framework, fields, now=now)
            self._audit(session, "edit_framework", framework, actor, now, renamed_from=old if old != framework.name
                        else None, achievements_rewritten=rewritten)
        return framework

    def import_csv(self, data: bytes, *, framework: str, actor: str, skip_bad_rows: bool = False,
                   publisher: str | None = None, url: str | None = None) -> ImportReport:
        """Read ``data`` (see :mod:`issuer.skills.readers`) into the framework ``framework`` (id or name)."""
        result = read_skills(data)
        if result.bad_rows and not skip_bad_rows:
            raise ImportRefused(
                f"Nothing was imported: {result.bad_rows} row{'s' if result.bad_rows != 1 else ''} of the file "
                f"{'have' if result.bad_rows != 1 else 'has'} a problem (first: {result.problems[0]}). Fix them, "
                "or import the good rows and skip the bad ones.",
                details={"problems": [{"line": p.line, "reason": p.reason} for p in result.problems]})
        now = self.runtime.now()
        with self.runtime.transaction() as session:
            issuer = self.runtime.load_issuer(session)
            target, created = self._target(session, issuer, framework, result.format, publisher, url, now)
            counts = store_skills(session, target, result.skills, now=now)
            self._audit(session, "import_skills", target, actor, now, format=result.format.value, rows=result.rows,
                        added=counts.added, updated=counts.updated, bad_rows=result.bad_rows)
        return ImportReport(target, result.format, result.rows, counts, result.problems, result.bad_rows, created)

    def _target(self, session: Session, issuer: Any, ref: str, fmt: CsvFormat, publisher: str | None,
                url: str | None, now: datetime) -> tuple[SkillFramework, bool]:
        ref = (ref or "").strip()
        if not ref:
            raise InvalidInput("Name the framework the skills belong to (pick one or type a new name).",
                               field="framework")
        try:
            return find_framework(session, issuer, ref), False
        except NotFound:
            pass
        known = KNOWN.get(fmt.value)
        if known is not None and same_framework(known[0], ref) and not (publisher or url):
            publisher, url = known[1], known[2]
        return create_framework(session, issuer, FrameworkFields(ref, publisher, url), now=now), True

    def _audit(self, session: Session, action: str, framework: SkillFramework, actor: str, now: datetime,
               **details: Any) -> None:
        session.add(AuditEntry(actor=actor, at=now, action=action, award_id=None,
                               details={"framework": framework.id, "name": framework.name,
                                        **{k: v for k, v in details.items() if v is not None}}))
