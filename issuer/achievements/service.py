"""The achievements use case: define, change, preview and list achievements, and the skills they align to.

    achievements = services.achievements
    achievement = achievements.create(definition, actor="api:token-1")     # checked, dry-run, audited
    achievements.replace("sql", definition, actor="staff:hana")            # the slug stays
    credential = achievements.preview(definition)                           # the unsigned credential
    held = achievements.skills_held()                                       # people per skill, now

The REST API (``/api/v1/achievements``, ``/api/v1/skills``), the console (``/admin/achievements``,
``/admin/skills``) and ``microcred achievements`` call these methods and render what they return.
Definitions are JSON-like dicts checked by the one rule set (:mod:`issuer.achievements.rules`);
the service owns the transaction and writes the one audit entry of a create
(``create_achievement``) or an edit (``edit_achievement``). Every alignment's ``targetFramework``
names one of the issuer's skill frameworks (:func:`issuer.skills.catalogue.canonical_alignments`:
"esco" or "ESCO (European …)" is stored as the framework's name "ESCO"; a new name creates the
framework on create and replace, not on preview). The skills answers come from
:mod:`issuer.achievements.inventory` at the runtime's clock.

Errors: :class:`~issuer.achievements.rules.AchievementError` (invalid input) for a broken rule or a
failed dry run, :class:`~issuer.errors.Conflict` (``duplicate``) for a slug already taken,
:class:`~issuer.errors.NotFound` (``unknown_achievement``) for an unknown id or slug,
:class:`~issuer.errors.NotReady` before ``microcred init``. Objects returned are loaded and
detached (the session factory does not expire on commit).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from issuer.achievements.inventory import (
    Coverage,
    Expiring,
    SkillCount,
    SkillOption,
    active_holdings,
    coverage,
    expiring,
    known_skills,
    skills_held,
)
from issuer.achievements.rules import achievement_fields, create_achievement, dry_run, update_achievement
from issuer.awards.credentials import achievement_document
from issuer.db.models import Achievement, AuditEntry, Award, Issuer, new_id
from issuer.db.models_skills import SkillFramework
from issuer.errors import NotFound
from issuer.identity import profile
from issuer.runtime import Runtime
from issuer.skills.catalogue import canonical_alignments, frameworks

MAX_REF = 100


@dataclass(frozen=True)
class Listed:
    """An achievement with the number of awards ever made of it (the console's list)."""

    achievement: Achievement
    awards: int


@dataclass(frozen=True)
class SkillsHeld:
    as_of: datetime
    skills: list[SkillCount]            # most held first


@dataclass(frozen=True)
class SkillsOverview:
    """Everything the console's skills dashboard shows, read at one moment."""

    as_of: datetime
    held: list[SkillCount]              # every skill held (the page filters by framework)
    options: list[SkillOption]          # every skill an achievement aligns to (the role picker)
    windows: list[Expiring]             # who loses which skill, per window asked for
    awards: int                         # awards ever made (an empty instance explains itself)
    coverage: Coverage | None           # for the skills asked for, if any


def _find(session: Session, issuer: Issuer, ref: str) -> Achievement:
    found = None
    if len(ref) <= MAX_REF and "\x00" not in ref:
        found = session.scalars(select(Achievement).where(
            Achievement.issuer_id == issuer.id, or_(Achievement.slug == ref, Achievement.id == ref))).one_or_none()
    if found is None:
        raise NotFound(f"There is no achievement {ref[:MAX_REF]!r}.", code="unknown_achievement")
    return found


class AchievementService:
    """Achievements (define, change, preview, list) and the skills they align to (skills held, coverage)."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    # ------------------------------------------------------------ reading

    def all(self) -> list[Achievement]:
        """Every achievement of the issuer, by slug."""
        with self.runtime.reading() as session:
            issuer = self.runtime.load_issuer(session)
            return list(session.scalars(select(Achievement).where(Achievement.issuer_id == issuer.id)
                                        .order_by(Achievement.slug)))

    def listing(self) -> list[Listed]:
        """Every achievement by name, with its number of awards."""
        with self.runtime.reading() as session:
            issuer = self.runtime.load_issuer(session)
            counts = {achievement_id: count for achievement_id, count in session.execute(
                select(Award.achievement_id, func.count()).where(Award.issuer_id == issuer.id)
                .group_by(Award.achievement_id))}
            rows = session.scalars(select(Achievement).where(Achievement.issuer_id == issuer.id)
                                   .order_by(Achievement.name))
            return [Listed(achievement, counts.get(achievement.id, 0)) for achievement in rows]

    def get(self, ref: str) -> Achievement:
        """One achievement by id or slug."""
        with self.runtime.reading() as session:
            return _find(session, self.runtime.load_issuer(session), ref)

    def document(self, ref: str) -> dict[str, Any]:
        """The achievement (id or slug) as credentials embed it (its creator: the issuer's Profile)."""
        with self.runtime.reading() as session:
            issuer = self.runtime.load_issuer(session)
            settings = self.runtime.settings
            return achievement_document(settings, _find(session, issuer, ref), profile(issuer, settings))

    def frameworks(self) -> list[SkillFramework]:
        """The issuer's skill frameworks, by name (the console's form offers them)."""
        with self.runtime.reading() as session:
            return frameworks(session, self.runtime.load_issuer(session))

    # ------------------------------------------------------------ changing

    def create(self, definition: Mapping[str, Any], *, actor: str) -> Achievement:
        """Check ``definition``, dry-run it, store it and audit it."""
        fields = achievement_fields(dict(definition))
        now = self.runtime.now()
        with self.runtime.transaction() as session:
            issuer = self.runtime.load_issuer(session)
            fields["alignments"] = canonical_alignments(session, issuer, fields["alignments"], now=now)
            achievement = create_achievement(session, self.runtime.settings, issuer, fields, now=now)
            self._audit(session, "create_achievement", achievement, actor, now)
        return achievement

    def replace(self, ref: str, definition: Mapping[str, Any], *, actor: str) -> Achievement:
        """Replace the definition of the achievement ``ref`` (id or slug; the slug stays): awards
        issued from now on carry the new one, those issued keep what they were signed with."""
        now = self.runtime.now()
        with self.runtime.transaction() as session:
            issuer = self.runtime.load_issuer(session)
            achievement = _find(session, issuer, ref)
            fields = achievement_fields(dict(definition), slug=achievement.slug)
            fields["alignments"] = canonical_alignments(session, issuer, fields["alignments"], now=now)
            update_achievement(session, self.runtime.settings, issuer, achievement, fields, now=now)
            self._audit(session, "edit_achievement", achievement, actor, now)
        return achievement

    def preview(self, definition: Mapping[str, Any], *, ref: str | None = None) -> dict[str, Any]:
        """The (unsigned) credential the definition would be awarded in, checked as issuance would
        check it; nothing is stored. ``ref``: the achievement being edited (its slug stays)."""
        with self.runtime.reading() as session:
            issuer = self.runtime.load_issuer(session)
            existing = _find(session, issuer, ref) if ref is not None else None
            fields = achievement_fields(dict(definition), slug=existing.slug if existing else None)
            fields["alignments"] = canonical_alignments(session, issuer, fields["alignments"], now=None)
            now = self.runtime.now()
            probe = Achievement(id=existing.id if existing else new_id(), issuer_id=issuer.id,
                                created_at=existing.created_at if existing else now, updated_at=now, **fields)
            return dry_run(self.runtime.settings, issuer, probe, now)

    def _audit(self, session: Session, action: str, achievement: Achievement, actor: str, now: datetime) -> None:
        session.add(AuditEntry(actor=actor, at=now, action=action, award_id=None,
                               details={"achievement": achievement.id, "slug": achievement.slug}))

    # ------------------------------------------------------------ skills

    def skills_held(self) -> SkillsHeld:
        """People per skill from active awards valid now, most held first."""
        now = self.runtime.now()
        with self.runtime.reading() as session:
            return SkillsHeld(now, skills_held(session, self.runtime.load_issuer(session), now))

    def coverage(self, asked: Sequence[str]) -> Coverage:
        """Who has each of the ``asked`` skills (name, target URL or code) now, who misses which."""
        now = self.runtime.now()
        with self.runtime.reading() as session:
            return coverage(session, self.runtime.load_issuer(session), list(asked), now)

    def overview(self, asked: Sequence[str] = (), windows: Sequence[int] = ()) -> SkillsOverview:
        """The skills dashboard: skills held, the skills known, who loses which skill within each of
        ``windows`` days and, when skills are ``asked``, who has them. Active awards are read once."""
        now = self.runtime.now()
        with self.runtime.reading() as session:
            issuer = self.runtime.load_issuer(session)
            holdings = active_holdings(session, issuer, now)
            awards = session.scalar(select(func.count()).select_from(Award).where(Award.issuer_id == issuer.id))
            return SkillsOverview(
                as_of=now, held=skills_held(session, issuer, now, holdings=holdings),
                options=known_skills(session, issuer),
                windows=[expiring(session, issuer, now, days, holdings=holdings) for days in windows],
                awards=awards or 0,
                coverage=coverage(session, issuer, list(asked), now, holdings=holdings) if asked else None)
