"""The skills inventory: what the workforce holds, from active awards valid now.

One place for the answers the REST API (``/api/v1/skills``) and the console's dashboard
give. A skill is an achievement's alignment (``targetName`` within ``targetFramework``); a
person holds it while an award of that achievement is active (not revoked, suspended or
superseded) and inside its validity period at ``now``. Pure functions of a session, the
issuer and a time.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from .db.models import Achievement, Award, Issuer, Recipient


@dataclass(frozen=True)
class Holding:
    """One active, valid award: who holds which achievement, until when."""

    award_id: str
    recipient_id: str
    achievement: Achievement
    valid_until: datetime | None


@dataclass
class SkillCount:
    name: str
    framework: str | None
    target_url: str | None
    target_code: str | None
    people: set[str] = field(default_factory=set)           # recipient ids
    achievements: set[str] = field(default_factory=set)     # achievement slugs

    def to_json(self) -> dict:
        return {"name": self.name, "framework": self.framework, "target_url": self.target_url,
                "target_code": self.target_code, "people": len(self.people),
                "achievements": sorted(self.achievements)}


@dataclass(frozen=True)
class PersonCoverage:
    recipient: Recipient
    has: list[str]
    missing: list[str]


@dataclass(frozen=True)
class Coverage:
    skills: list[str]
    unknown_skills: list[str]           # asked for but no achievement of this issuer aligns to them
    people: list[PersonCoverage]        # every recipient, by email

    @property
    def has_all(self) -> list[Recipient]:
        return [p.recipient for p in self.people if not p.missing]


def skill_key(alignment: dict) -> tuple[str, str | None]:
    return alignment.get("targetName") or "", alignment.get("targetFramework")


def _alignments(achievement: Achievement) -> list[dict]:
    return [a for a in achievement.alignments or [] if isinstance(a, dict) and a.get("targetName")]


def active_holdings(session: Session, issuer: Issuer, now: datetime) -> list[Holding]:
    """Every active award of ``issuer`` valid at ``now``."""
    rows = session.execute(
        select(Award.id, Award.recipient_id, Award.valid_until, Achievement)
        .join(Achievement, Award.achievement_id == Achievement.id)
        .where(Award.issuer_id == issuer.id, Award.state == "active", Award.valid_from <= now,
               or_(Award.valid_until.is_(None), Award.valid_until > now)))
    return [Holding(award_id, recipient_id, achievement, valid_until)
            for award_id, recipient_id, valid_until, achievement in rows]


def skills_held(session: Session, issuer: Issuer, now: datetime) -> list[SkillCount]:
    """People per skill (and framework), most held first."""
    found: dict[tuple[str, str | None], SkillCount] = {}
    for holding in active_holdings(session, issuer, now):
        for alignment in _alignments(holding.achievement):
            entry = found.get(skill_key(alignment))
            if entry is None:
                entry = found[skill_key(alignment)] = SkillCount(
                    alignment["targetName"], alignment.get("targetFramework"), alignment.get("targetUrl"),
                    alignment.get("targetCode"))
            entry.people.add(holding.recipient_id)
            entry.achievements.add(holding.achievement.slug)
    return sorted(found.values(), key=lambda s: (-len(s.people), s.name.casefold(), s.framework or ""))


def matches(alignment: dict, asked: str) -> bool:
    """An alignment answers to its name (any case), its target URL or its code."""
    if not isinstance(alignment, dict):
        return False
    name = alignment.get("targetName")
    if isinstance(name, str) and name.casefold() == asked.casefold():
        return True
    return asked in (alignment.get("targetUrl"), alignment.get("targetCode"))


def coverage(session: Session, issuer: Issuer, asked: list[str], now: datetime) -> Coverage:
    """For a role's required skills: who has each of them, who misses which."""
    asked = list(dict.fromkeys(asked))
    held: dict[str, set[str]] = {}
    for holding in active_holdings(session, issuer, now):
        for skill in asked:
            if any(matches(a, skill) for a in holding.achievement.alignments or []):
                held.setdefault(holding.recipient_id, set()).add(skill)
    known: set[str] = set()
    for achievement in session.scalars(select(Achievement).where(Achievement.issuer_id == issuer.id)):
        known.update(s for s in asked if any(matches(a, s) for a in achievement.alignments or []))
    recipients = session.scalars(select(Recipient).where(Recipient.issuer_id == issuer.id)
                                 .order_by(Recipient.email)).all()
    people = []
    for recipient in recipients:
        has = [s for s in asked if s in held.get(recipient.id, ())]
        people.append(PersonCoverage(recipient, has, [s for s in asked if s not in has]))
    return Coverage(asked, [s for s in asked if s not in known], people)
