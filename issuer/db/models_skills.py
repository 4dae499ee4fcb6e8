"""Skill frameworks and the skills catalogue (:mod:`issuer.skills`).

A :class:`SkillFramework` is an entity (name, publisher, URL) of one issuer; its ``name_key``
(the name case-folded, spaces collapsed: :func:`issuer.skills.frameworks.name_key`) is unique
per issuer, so "ESCO" and "esco " cannot both exist. Achievements' alignments name their
framework by its ``name`` in ``targetFramework`` (the Open Badges Alignment shape, signed as
is); the skills service keeps the two in step (a rename rewrites the achievements).

A :class:`Skill` is one entry of a framework's catalogue, imported from its published CSV
(ESCO, O*NET, a company's own list): ``url`` is its stable identifier (ESCO ``conceptUri``,
an O*NET element URL, the company's URL) and unique within the framework, so importing the
same file again updates the skills instead of adding duplicates. ``search_key`` is the
case-folded name and code the search-as-you-type box matches.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from issuer.db.base import Base, new_id, utcnow


class SkillFramework(Base):
    __tablename__ = "skill_frameworks"
    __table_args__ = (UniqueConstraint("issuer_id", "name_key"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    issuer_id: Mapped[str] = mapped_column(ForeignKey("issuers.id"))
    name: Mapped[str] = mapped_column(String(255))             # as signed in targetFramework
    name_key: Mapped[str] = mapped_column(String(255))         # name case-folded, spaces collapsed
    publisher: Mapped[str | None] = mapped_column(String(255))
    url: Mapped[str | None] = mapped_column(String(1024))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Skill(Base):
    __tablename__ = "skills"
    __table_args__ = (UniqueConstraint("framework_id", "url"),
                      Index("ix_skills_framework_id_search_key", "framework_id", "search_key"))

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    framework_id: Mapped[str] = mapped_column(ForeignKey("skill_frameworks.id"))
    url: Mapped[str] = mapped_column(String(1024))             # targetUrl: ESCO conceptUri, O*NET element URL, ...
    name: Mapped[str] = mapped_column(String(512))             # targetName
    description: Mapped[str | None] = mapped_column(Text)      # targetDescription
    code: Mapped[str | None] = mapped_column(String(255))      # targetCode: O*NET element id, a company code
    search_key: Mapped[str] = mapped_column(String(800))       # name and code, case-folded
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
