"""Skill frameworks as entities and a skills catalogue.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06

Creates ``skill_frameworks`` and ``skills`` (exactly :mod:`issuer.db.models_skills`; constraint
names follow 0001's convention), then turns the framework names found in achievements'
alignments (``targetFramework``, free text until now) into frameworks, one set per issuer.
Names that are obviously the same framework are merged by the documented rule of
:func:`issuer.skills.frameworks.merge_names` (the same name before " (", or every skill URL on
the same host) and the achievements' alignments are rewritten to the kept name, so awards
issued from now on all say e.g. "ESCO". Credentials already signed are never touched (they are
stored exactly as issued). Well-known frameworks (ESCO, O*NET, by their skills' host) get their
publisher and home page.

The downgrade drops the two tables; the alignments keep their merged names (the split was the
defect).
"""
from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from issuer.skills.frameworks import known_framework, merge_names, name_key, name_uses

# revision identifiers, used by Alembic.
revision: str = '0009'
down_revision: str | Sequence[str] | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_achievements = sa.table('achievements', sa.column('id', sa.String(36)), sa.column('issuer_id', sa.String(36)),
                         sa.column('alignments', sa.JSON()))


def upgrade() -> None:
    frameworks = op.create_table('skill_frameworks',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('issuer_id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('name_key', sa.String(length=255), nullable=False),
    sa.Column('publisher', sa.String(length=255), nullable=True),
    sa.Column('url', sa.String(length=1024), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['issuer_id'], ['issuers.id'], name=op.f('fk_skill_frameworks_issuer_id_issuers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_skill_frameworks')),
    sa.UniqueConstraint('issuer_id', 'name_key', name=op.f('uq_skill_frameworks_issuer_id_name_key'))
    )
    op.create_table('skills',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('framework_id', sa.String(length=36), nullable=False),
    sa.Column('url', sa.String(length=1024), nullable=False),
    sa.Column('name', sa.String(length=512), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('code', sa.String(length=255), nullable=True),
    sa.Column('search_key', sa.String(length=800), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['framework_id'], ['skill_frameworks.id'],
                            name=op.f('fk_skills_framework_id_skill_frameworks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_skills')),
    sa.UniqueConstraint('framework_id', 'url', name=op.f('uq_skills_framework_id_url'))
    )
    op.create_index('ix_skills_framework_id_search_key', 'skills', ['framework_id', 'search_key'], unique=False)
    _frameworks_from_alignments(frameworks)


def _frameworks_from_alignments(frameworks: sa.Table) -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.select(_achievements.c.id, _achievements.c.issuer_id, _achievements.c.alignments)).all()
    now = datetime.now(UTC)
    if bind.dialect.name == 'sqlite':
        now = now.replace(tzinfo=None)          # stored as UTC wall-clock text, as UTCDateTime does
    by_issuer: dict[str, list] = {}
    for _id, issuer_id, alignments in rows:
        by_issuer.setdefault(issuer_id, []).extend(alignments or [])
    renames: dict[tuple[str, str], str] = {}    # (issuer, old name) -> kept name
    for issuer_id, alignments in by_issuer.items():
        for merged in merge_names(name_uses(alignments)):
            known = known_framework(merged.home, merged.name)
            bind.execute(frameworks.insert().values(
                id=str(uuid.uuid4()), issuer_id=issuer_id, name=merged.name, name_key=name_key(merged.name),
                publisher=known[0] if known else None, url=known[1] if known else None,
                created_at=now, updated_at=now))
            renames.update({(issuer_id, member): merged.name for member in merged.members})
    for achievement_id, issuer_id, alignments in rows:
        changed = [{**a, 'targetFramework': renames[(issuer_id, a['targetFramework'])]}
                   if isinstance(a, dict) and (issuer_id, a.get('targetFramework')) in renames else a
                   for a in alignments or []]
        if changed != (alignments or []):
            bind.execute(_achievements.update().where(_achievements.c.id == achievement_id)
                         .values(alignments=changed))


def downgrade() -> None:
    op.drop_index('ix_skills_framework_id_search_key', table_name='skills')
    op.drop_table('skills')
    op.drop_table('skill_frameworks')
