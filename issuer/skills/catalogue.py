"""Frameworks and skills in the database: define, rename, import, search; alignments kept in step.

Functions of a session and the issuer (the service owns the transaction and the audit log):

    framework = create_framework(session, issuer, FrameworkFields("ESCO", "European Commission", url), now=now)
    counts = store_skills(session, framework, result.skills, now=now)     # insert or update, by URL
    hits = search(session, issuer, "sql", framework_id=None, limit=20)
    alignments = canonical_alignments(session, issuer, alignments, now=now)   # names -> frameworks

A framework's name is what credentials carry in ``targetFramework``. Every alignment an
achievement stores names an existing framework (:func:`canonical_alignments` replaces a name
that is the same framework, by :func:`issuer.skills.frameworks.same_framework`, with the
framework's name, and creates the framework for a new name when ``now`` is given); a rename
(:func:`update_framework`) rewrites the issuer's achievements, so new awards carry the new name.
Names that data stored around that function uses (the demo's achievements) are listed by
:func:`unregistered` and made frameworks by :func:`adopt_names` (the console offers it).
Search matches the case-folded name and code (``LIKE``, with ``%`` and ``_`` escaped): names
starting with the words typed come first.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from issuer.db.models import Achievement, Issuer, new_id
from issuer.db.models_skills import Skill, SkillFramework
from issuer.errors import Conflict, InvalidInput, NotFound
from issuer.skills.frameworks import MAX_NAME, known_framework, merge_names, name_key, name_uses, same_framework
from issuer.skills.readers import HTTP_URL, SkillRow

MAX_QUERY = 100
MAX_RESULTS = 50
MAX_REF = 255
INSERT_BATCH = 2_000
_SPACES = re.compile(r"\s+")


class FrameworkError(InvalidInput):
    default_code = "framework_invalid"


@dataclass(frozen=True)
class FrameworkFields:
    name: str
    publisher: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class Listed:
    framework: SkillFramework
    skills: int                 # in the catalogue
    achievements: int           # achievements aligned to it


@dataclass(frozen=True)
class StoreCounts:
    added: int
    updated: int
    unchanged: int
    kept: int                   # skills of the framework not in this file (kept: achievements may use them)


@dataclass(frozen=True)
class SkillHit:
    id: str
    name: str
    url: str
    code: str | None
    description: str | None
    framework_id: str
    framework: str

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "url": self.url, "code": self.code,
                "description": (self.description or "")[:300] or None, "framework_id": self.framework_id,
                "framework": self.framework}


# ---------------------------------------------------------------- frameworks

def check_framework(fields: FrameworkFields) -> FrameworkFields:
    """Trimmed fields, or FrameworkError (name required, at most 255 characters; URL http(s))."""
    name = _SPACES.sub(" ", fields.name or "").strip()
    if not name:
        raise FrameworkError("A framework needs a name, e.g. ESCO.", field="name")
    if len(name) > MAX_NAME:
        raise FrameworkError(f"The framework name is longer than {MAX_NAME} characters.", field="name")
    publisher = (fields.publisher or "").strip() or None
    if publisher and len(publisher) > 255:
        raise FrameworkError("The publisher is longer than 255 characters.", field="publisher")
    url = (fields.url or "").strip() or None
    if url and (len(url) > 1024 or not HTTP_URL.match(url)):
        raise FrameworkError("The framework's web address must be an http(s) URL.", field="url")
    return FrameworkFields(name, publisher, url)


def frameworks(session: Session, issuer: Issuer) -> list[SkillFramework]:
    return list(session.scalars(select(SkillFramework).where(SkillFramework.issuer_id == issuer.id)
                                .order_by(SkillFramework.name_key)))


def listing(session: Session, issuer: Issuer) -> list[Listed]:
    """Every framework with its number of skills and of achievements aligned to it."""
    counts = dict(session.execute(select(Skill.framework_id, func.count()).join(SkillFramework)
                                  .where(SkillFramework.issuer_id == issuer.id).group_by(Skill.framework_id)).all())
    used: dict[str, int] = {}
    for alignments in session.scalars(select(Achievement.alignments).where(Achievement.issuer_id == issuer.id)):
        for name in {a.get("targetFramework") for a in alignments or [] if isinstance(a, dict)}:
            if isinstance(name, str):
                used[name] = used.get(name, 0) + 1
    return [Listed(f, counts.get(f.id, 0), used.get(f.name, 0)) for f in frameworks(session, issuer)]


def find_framework(session: Session, issuer: Issuer, ref: str) -> SkillFramework:
    """A framework by id or by name (the same framework: "esco" finds "ESCO")."""
    if ref and len(ref) <= MAX_REF and "\x00" not in ref:
        found = session.get(SkillFramework, ref)
        if found is not None and found.issuer_id == issuer.id:
            return found
        for framework in frameworks(session, issuer):
            if same_framework(framework.name, ref):
                return framework
    raise NotFound(f"There is no skill framework {ref[:MAX_REF]!r}.", code="unknown_framework")


def _same_as(session: Session, issuer: Issuer, name: str, other_than: str | None = None) -> SkillFramework | None:
    return next((f for f in frameworks(session, issuer) if f.id != other_than and same_framework(f.name, name)), None)


def create_framework(session: Session, issuer: Issuer, fields: FrameworkFields, *, now: datetime) -> SkillFramework:
    fields = check_framework(fields)
    existing = _same_as(session, issuer, fields.name)
    if existing is not None:
        raise Conflict(f"The framework {existing.name!r} exists already; use it (or rename it).",
                       field="name", code="duplicate")
    framework = SkillFramework(issuer_id=issuer.id, name=fields.name, name_key=name_key(fields.name),
                               publisher=fields.publisher, url=fields.url, created_at=now, updated_at=now)
    session.add(framework)
    try:
        session.flush()
    except IntegrityError:          # created at the same moment by someone else
        raise Conflict(f"The framework {fields.name!r} exists already.", field="name", code="duplicate") from None
    return framework


def update_framework(session: Session, issuer: Issuer, framework: SkillFramework, fields: FrameworkFields, *,
                     now: datetime) -> int:
    """Change name, publisher or URL; a new name is written into the issuer's achievements.
    Returns the number of achievements rewritten."""
    fields = check_framework(fields)
    clash = _same_as(session, issuer, fields.name, other_than=framework.id)
    if clash is not None:
        raise Conflict(f"Another framework is already called {clash.name!r}.", field="name", code="duplicate")
    old, rewritten = framework.name, 0
    if fields.name != old:
        for achievement in session.scalars(select(Achievement).where(Achievement.issuer_id == issuer.id)):
            alignments = [{**a, "targetFramework": fields.name}
                          if isinstance(a, dict) and a.get("targetFramework") == old else a
                          for a in achievement.alignments or []]
            if alignments != (achievement.alignments or []):
                achievement.alignments = alignments
                achievement.updated_at = now
                rewritten += 1
    framework.name, framework.name_key = fields.name, name_key(fields.name)
    framework.publisher, framework.url, framework.updated_at = fields.publisher, fields.url, now
    session.flush()
    return rewritten


def canonical_alignments(session: Session, issuer: Issuer, alignments: Sequence[dict[str, Any]], *,
                         now: datetime | None) -> list[dict[str, Any]]:
    """``alignments`` with each ``targetFramework`` replaced by its framework's name. A name no
    framework answers to gets a new framework when ``now`` is given (API, CLI), else stays (preview)."""
    known = frameworks(session, issuer)
    result = []
    for index, alignment in enumerate(alignments):
        name = alignment.get("targetFramework")
        if isinstance(name, str) and name.strip():
            framework = next((f for f in known if same_framework(f.name, name)), None)
            if framework is None and now is not None:
                try:
                    framework = create_framework(session, issuer, FrameworkFields(name), now=now)
                except FrameworkError as exc:       # named after the skill row, not the framework form
                    raise FrameworkError(f"Skill {index + 1}: {exc}", field=f"alignments.{index}") from None
                known.append(framework)
            alignment = {**alignment, "targetFramework": framework.name if framework else name.strip()}
        result.append(alignment)
    return result


def unregistered(session: Session, issuer: Issuer) -> list[str]:
    """Framework names achievements use that no framework answers to (stored by a path that went
    around :func:`canonical_alignments`, such as the demo data), by name."""
    known = frameworks(session, issuer)
    names = set(name_uses(_all_alignments(session, issuer)))
    return sorted((n for n in names if not any(same_framework(f.name, n) for f in known)), key=name_key)


def adopt_names(session: Session, issuer: Issuer, *, now: datetime) -> list[SkillFramework]:
    """Make frameworks of the :func:`unregistered` names (merged by the rule of the 0009 migration,
    :func:`issuer.skills.frameworks.merge_names`) and write the frameworks' names into the alignments."""
    loose = set(unregistered(session, issuer))
    uses = {name: use for name, use in name_uses(_all_alignments(session, issuer)).items() if name in loose}
    created = []
    for merged in merge_names(uses):
        known = known_framework(merged.home, merged.name)
        created.append(create_framework(session, issuer, FrameworkFields(merged.name, *(known or (None, None))),
                                        now=now))
    for achievement in session.scalars(select(Achievement).where(Achievement.issuer_id == issuer.id)):
        alignments = canonical_alignments(session, issuer, achievement.alignments or [], now=None)
        if alignments != (achievement.alignments or []):
            achievement.alignments, achievement.updated_at = alignments, now
    session.flush()
    return created


def _all_alignments(session: Session, issuer: Issuer) -> list[Any]:
    return [a for alignments in session.scalars(select(Achievement.alignments)
                                                .where(Achievement.issuer_id == issuer.id))
            for a in alignments or []]


# ---------------------------------------------------------------- skills

def _search_key(name: str, code: str | None) -> str:
    return name_key(f"{name} {code or ''}")[:800]


def store_skills(session: Session, framework: SkillFramework, rows: Sequence[SkillRow], *,
                 now: datetime) -> StoreCounts:
    """Insert new skills and update changed ones, matched by URL within the framework (no duplicates)."""
    existing = {s.url: s for s in session.scalars(select(Skill).where(Skill.framework_id == framework.id))}
    updated = unchanged = 0
    urls = set()
    new: list[dict[str, Any]] = []
    for row in rows:
        urls.add(row.url)
        skill = existing.get(row.url)
        if skill is None:
            new.append({"id": new_id(), "framework_id": framework.id, "url": row.url, "name": row.name,
                        "description": row.description, "code": row.code,
                        "search_key": _search_key(row.name, row.code), "created_at": now, "updated_at": now})
        elif (skill.name, skill.description, skill.code) != (row.name, row.description, row.code):
            skill.name, skill.description, skill.code = row.name, row.description, row.code
            skill.search_key, skill.updated_at = _search_key(row.name, row.code), now
            updated += 1
        else:
            unchanged += 1
    for start in range(0, len(new), INSERT_BATCH):       # one executemany per batch, not an ORM object per skill
        session.execute(insert(Skill), new[start:start + INSERT_BATCH])
    framework.updated_at = now
    session.flush()
    return StoreCounts(len(new), updated, unchanged, len(set(existing) - urls))


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search(session: Session, issuer: Issuer, query: str, *, framework_id: str | None = None,
           limit: int = 20) -> list[SkillHit]:
    """Skills whose name or code contains every word of ``query`` (any case); those starting with
    it first, then by name. An empty query finds nothing."""
    words = name_key(query[:MAX_QUERY]).split()[:8]
    if not words:
        return []
    statement = (select(Skill, SkillFramework.name).join(SkillFramework, Skill.framework_id == SkillFramework.id)
                 .where(SkillFramework.issuer_id == issuer.id))
    for word in words:
        statement = statement.where(Skill.search_key.like(f"%{_like(word)}%", escape="\\"))
    if framework_id:
        statement = statement.where(Skill.framework_id == framework_id)
    prefix = name_key(query[:MAX_QUERY])
    starts = Skill.search_key.like(f"{_like(prefix)}%", escape="\\")
    statement = statement.order_by(starts.desc(), func.length(Skill.name), Skill.search_key)
    limit = max(1, min(limit, MAX_RESULTS))
    return [SkillHit(skill.id, skill.name, skill.url, skill.code, skill.description, skill.framework_id, fw_name)
            for skill, fw_name in session.execute(statement.limit(limit))]


def skill(session: Session, issuer: Issuer, skill_id: str) -> tuple[Skill, SkillFramework]:
    """One catalogue skill of the issuer, with its framework."""
    row = session.execute(select(Skill, SkillFramework).join(SkillFramework, Skill.framework_id == SkillFramework.id)
                          .where(Skill.id == skill_id[:36], SkillFramework.issuer_id == issuer.id)).first()
    if row is None:
        raise NotFound("There is no such skill in the catalogue.", code="unknown_skill")
    return row[0], row[1]
