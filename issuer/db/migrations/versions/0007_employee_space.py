"""Employees' own space: one-time sign-in links, their sessions, per-award privacy choices.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06

The tables are exactly :mod:`issuer.db.models_employee`'s (``employee_sign_in_links``,
``employee_sessions``, ``award_privacy``); no existing table changes. Constraint names follow
0001's convention.

Existing data: until now the name was shown on every badge page of a recipient who had
``recipients.show_name`` set (``microcred profile publish --show-name``); their awards get an
``award_privacy`` row with ``show_name`` true, so no public page changes with the upgrade.
Every other award keeps the defaults (no row: name hidden, listed on the profile), as before.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0007'
down_revision: str | Sequence[str] | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('employee_sign_in_links',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_employee_sign_in_links'))
    )
    op.create_index('ix_employee_sign_in_links_email_created_at', 'employee_sign_in_links', ['email', 'created_at'],
                    unique=False)
    op.create_table('employee_sessions',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_employee_sessions'))
    )
    op.create_index(op.f('ix_employee_sessions_email'), 'employee_sessions', ['email'], unique=False)
    privacy = op.create_table('award_privacy',
    sa.Column('award_id', sa.String(length=36), nullable=False),
    sa.Column('show_name', sa.Boolean(), nullable=False),
    sa.Column('on_profile', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['award_id'], ['awards.id'], name=op.f('fk_award_privacy_award_id_awards')),
    sa.PrimaryKeyConstraint('award_id', name=op.f('pk_award_privacy'))
    )
    awards = sa.table('awards', sa.column('id', sa.String), sa.column('recipient_id', sa.String))
    recipients = sa.table('recipients', sa.column('id', sa.String), sa.column('show_name', sa.Boolean))
    now = datetime.now(UTC)
    if op.get_bind().dialect.name == 'sqlite':
        now = now.replace(tzinfo=None)        # stored as UTC wall-clock text (issuer.db.types.UTCDateTime)
    named = sa.select(awards.c.id, sa.true(), sa.true(), sa.literal(now, sa.DateTime(timezone=True))) \
        .select_from(awards.join(recipients, awards.c.recipient_id == recipients.c.id)) \
        .where(recipients.c.show_name == sa.true())
    op.execute(privacy.insert().from_select(['award_id', 'show_name', 'on_profile', 'updated_at'], named))


def downgrade() -> None:
    op.drop_table('award_privacy')
    op.drop_index(op.f('ix_employee_sessions_email'), table_name='employee_sessions')
    op.drop_table('employee_sessions')
    op.drop_index('ix_employee_sign_in_links_email_created_at', table_name='employee_sign_in_links')
    op.drop_table('employee_sign_in_links')
