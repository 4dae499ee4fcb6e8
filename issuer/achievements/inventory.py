"""The skills inventory: what the workforce holds, from active awards valid now.

One place for the answers the REST API (``/api/v1/skills``) and the console's dashboard
(``/admin/skills``) give. A skill is an achievement's alignment (``targetName`` within
``targetFramework``); a person holds it while an award of that achievement is active (not
revoked, suspended or superseded) and inside its validity period at ``now``. A held skill is
*expiring* within ``days`` when the person will no longer hold it at ``now + days`` (a later
award of the same skill keeps it). Pure functions of a session, the issuer and a time.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from issuer.db.models import Achievement, Award, Issuer, Recipient

Alignment = dict[str, Any]      # an OB Alignment object as an achievement stores it


@dataclass(frozen=True)
class Holding:
    """One active, valid award: who holds which achievement, until when."""

    award_id: str
    recipient_id: str
    achievement: Achievement
    valid_until: datetime | None
    skills: tuple[Alignment, ...] = ()  # the achievement's alignments that name a skill


@dataclass
class SkillCount:
    name: str
    framework: str | None
    target_url: str | None
    target_code: str | None
    people: set[str] = field(default_factory=set)           # recipient ids
    achievements: set[str] = field(default_factory=set)     # achievement slugs
    titles: dict[str, str] = field(default_factory=dict)    # achievement slug -> name

    def to_json(self) -> dict[str, Any]:
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
    as_of: datetime
    skills: list[str]
    unknown_skills: list[str]           # asked for but no achievement of this issuer aligns to them
    people: list[PersonCoverage]        # every recipient, by email

    @property
    def has_all(self) -> list[Recipient]:
        return [p.recipient for p in self.people if not p.missing]


def skill_key(alignment: Alignment) -> tuple[str, str | None]:
    return alignment.get("targetName") or "", alignment.get("targetFramework")


def _alignments(achievement: Achievement) -> list[Alignment]:
    return [a for a in achievement.alignments or [] if isinstance(a, dict) and a.get("targetName")]


def active_holdings(session: Session, issuer: Issuer, now: datetime) -> list[Holding]:
    """Every active award of ``issuer`` valid at ``now``.

    The achievements are read once, not once per award row (their JSON columns would be
    decoded again for every row: 1.5 s instead of 0.1 s for 5,000 awards)."""
    achievements = {a.id: a for a in session.scalars(select(Achievement).where(Achievement.issuer_id == issuer.id))}
    rows = session.execute(
        select(Award.id, Award.recipient_id, Award.valid_until, Award.achievement_id)
        .where(Award.issuer_id == issuer.id, Award.state == "active", Award.valid_from <= now,
               or_(Award.valid_until.is_(None), Award.valid_until > now)))
    skills = {key: tuple(_alignments(a)) for key, a in achievements.items()}
    return [Holding(award_id, recipient_id, achievements[achievement_id], valid_until, skills[achievement_id])
            for award_id, recipient_id, valid_until, achievement_id in rows]


def skills_held(session: Session, issuer: Issuer, now: datetime, *,
                holdings: list[Holding] | None = None) -> list[SkillCount]:
    """People per skill (and framework), most held first. ``holdings``: ``active_holdings(...,
    now)`` when the caller has them already (the dashboard reads them once for every table)."""
    found: dict[tuple[str, str | None], SkillCount] = {}
    for holding in active_holdings(session, issuer, now) if holdings is None else holdings:
        for alignment in holding.skills:
            entry = found.get(skill_key(alignment))
            if entry is None:
                entry = found[skill_key(alignment)] = SkillCount(
                    alignment["targetName"], alignment.get("targetFramework"), alignment.get("targetUrl"),
                    alignment.get("targetCode"))
            entry.people.add(holding.recipient_id)
            entry.achievements.add(holding.achievement.slug)
            entry.titles[holding.achievement.slug] = holding.achievement.name
    return sorted(found.values(), key=lambda s: (-len(s.people), s.name.casefold(), s.framework or ""))


def matches(alignment: object, asked: str) -> bool:
    """An alignment answers to its name (any case), its target URL or its code."""
    if not isinstance(alignment, dict):
        return False
    name = alignment.get("targetName")
    if isinstance(name, str) and name.casefold() == asked.casefold():
        return True
    return asked in (alignment.get("targetUrl"), alignment.get("targetCode"))


def coverage(session: Session, issuer: Issuer, asked: list[str], now: datetime, *,
             holdings: list[Holding] | None = None) -> Coverage:
    """For a role's required skills: who has each of them, who misses which (``holdings``: as
    for :func:`skills_held`)."""
    asked = list(dict.fromkeys(asked))
    answers: dict[str, set[str]] = {}          # achievement id -> the asked skills it aligns to
    for achievement in session.scalars(select(Achievement).where(Achievement.issuer_id == issuer.id)):
        answers[achievement.id] = {s for s in asked if any(matches(a, s) for a in achievement.alignments or [])}
    known = set().union(*answers.values()) if answers else set()
    held: dict[str, set[str]] = {}
    for holding in active_holdings(session, issuer, now) if holdings is None else holdings:
        if answers.get(holding.achievement.id):
            held.setdefault(holding.recipient_id, set()).update(answers[holding.achievement.id])
    recipients = session.scalars(select(Recipient).where(Recipient.issuer_id == issuer.id)
                                 .order_by(Recipient.email)).all()
    people = []
    for recipient in recipients:
        has = [s for s in asked if s in held.get(recipient.id, ())]
        people.append(PersonCoverage(recipient, has, [s for s in asked if s not in has]))
    return Coverage(now, asked, [s for s in asked if s not in known], people)


# ---------------------------------------------------------------- for the console's dashboard

@dataclass(frozen=True)
class SkillOption:
    """A skill some achievement of the issuer aligns to, as the role picker offers it."""

    ref: str                    # what :func:`coverage` is asked with: target URL, else code, else name
    name: str
    framework: str | None
    url: str | None = None
    code: str | None = None

    def answers_to(self, asked: str) -> bool:
        """As :func:`matches`: the skill's name (any case), target URL or code."""
        return matches({"targetName": self.name, "targetUrl": self.url, "targetCode": self.code}, asked)


def skill_ref(alignment: Alignment) -> str:
    """The most specific way to ask :func:`coverage` for this alignment's skill."""
    return str(alignment.get("targetUrl") or alignment.get("targetCode") or alignment["targetName"])


def known_skills(session: Session, issuer: Issuer) -> list[SkillOption]:
    """Every skill the issuer's achievements align to (held or not), by framework then name."""
    found: dict[str, SkillOption] = {}
    for achievement in session.scalars(select(Achievement).where(Achievement.issuer_id == issuer.id)):
        for alignment in _alignments(achievement):
            ref = skill_ref(alignment)
            if isinstance(ref, str) and ref not in found:
                found[ref] = SkillOption(ref, alignment["targetName"], alignment.get("targetFramework"),
                                         alignment.get("targetUrl"), alignment.get("targetCode"))
    return sorted(found.values(), key=lambda s: (s.framework is None, s.framework or "", s.name.casefold()))


def frameworks(skills: Iterable[SkillCount | SkillOption]) -> list[str | None]:
    """The distinct frameworks of ``skills``, named ones first (alphabetically), then none."""
    names = {s.framework for s in skills}
    return sorted(names, key=lambda f: (f is None, (f or "").casefold()))


@dataclass(frozen=True)
class ExpiringRow:
    """A person who holds a skill now and will not at the end of the window."""

    recipient: Recipient
    achievement: Achievement        # the award that keeps the skill longest
    skill: str
    framework: str | None
    valid_until: datetime


@dataclass(frozen=True)
class Expiring:
    days: int
    now: datetime
    rows: list[ExpiringRow]         # soonest first

    @property
    def until(self) -> datetime:
        return self.now + timedelta(days=self.days)

    def per_skill(self) -> list[tuple[str, str | None, int]]:
        """(skill, framework, people), most people first."""
        people: dict[tuple[str, str | None], set[str]] = {}
        for row in self.rows:
            people.setdefault((row.skill, row.framework), set()).add(row.recipient.id)
        return sorted(((name, fw, len(ids)) for (name, fw), ids in people.items()),
                      key=lambda item: (-item[2], item[0].casefold(), item[1] or ""))


def expiring(session: Session, issuer: Issuer, now: datetime, days: int, *,
             holdings: list[Holding] | None = None) -> Expiring:
    """Who loses which skill within ``days``: held now through awards ending by ``now + days``
    and not held then through any other award (a renewal or a second achievement).
    ``holdings``: as for :func:`skills_held` (the ones at ``now``)."""
    horizon = now + timedelta(days=days)
    kept = {(h.recipient_id, skill_key(a)) for h in active_holdings(session, issuer, horizon)
            for a in h.skills}
    ending: dict[tuple[str, tuple[str, str | None]], tuple[Holding, datetime]] = {}
    for holding in active_holdings(session, issuer, now) if holdings is None else holdings:
        if holding.valid_until is None:             # never ends (and so it is kept at the horizon too)
            continue
        for alignment in holding.skills:
            key = (holding.recipient_id, skill_key(alignment))
            if key in kept:
                continue
            earlier = ending.get(key)
            if earlier is None or holding.valid_until > earlier[1]:
                ending[key] = holding, holding.valid_until      # held until the last of its awards ends
    people = _recipients(session, {recipient_id for recipient_id, _ in ending})
    rows = [ExpiringRow(people[recipient_id], holding.achievement, name, framework, until)
            for (recipient_id, (name, framework)), (holding, until) in ending.items()]
    rows.sort(key=lambda r: (r.valid_until, r.recipient.email, r.skill.casefold(), r.framework or ""))
    return Expiring(days, now, rows)


def _recipients(session: Session, ids: set[str]) -> dict[str, Recipient]:
    found: dict[str, Recipient] = {}
    ordered = sorted(ids)
    for start in range(0, len(ordered), 500):               # stay under SQL parameter limits
        chunk = ordered[start:start + 500]
        found.update((r.id, r) for r in session.scalars(select(Recipient).where(Recipient.id.in_(chunk))))
    return found
