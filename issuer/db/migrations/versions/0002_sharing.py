"""Sharing: opt-in public profiles for recipients, and the mail outbox.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03

Adds ``recipients.public_profile_slug`` (unique index, nullable) and ``recipients.show_name``
(not null, default false) and the ``outbox_messages`` table. Batch mode with the default
``recreate="auto"``: on SQLite the new columns and the unique index are plain ``ALTER TABLE ADD
COLUMN`` / ``CREATE UNIQUE INDEX`` statements, so the recipients table (which awards reference)
is never copied: a copy would have to drop the table, which SQLite's foreign key enforcement
refuses while awards exist. For that, ``show_name``'s server default is the literal ``'0'``
(false on both backends; an expression such as ``sa.false()`` would make batch mode copy the
table), and the downgrade drops the columns with SQLite's own ``ALTER TABLE DROP COLUMN``
(SQLite 3.35+). Constraint names follow 0001's convention.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0002'
down_revision: str | Sequence[str] | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('recipients') as batch_op:
        batch_op.add_column(sa.Column('public_profile_slug', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('show_name', sa.Boolean(), server_default='0', nullable=False))
        batch_op.create_index(batch_op.f('ix_recipients_public_profile_slug'), ['public_profile_slug'], unique=True)
    op.create_table('outbox_messages',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('key', sa.String(length=128), nullable=True),
    sa.Column('award_id', sa.String(length=36), nullable=True),
    sa.Column('to_address', sa.String(length=320), nullable=False),
    sa.Column('to_name', sa.String(length=255), nullable=True),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('attachment_name', sa.String(length=255), nullable=True),
    sa.Column('attachment', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['award_id'], ['awards.id'], name=op.f('fk_outbox_messages_award_id_awards')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_messages')),
    sa.UniqueConstraint('key', name=op.f('uq_outbox_messages_key'))
    )


def downgrade() -> None:
    op.drop_table('outbox_messages')
    op.drop_index(op.f('ix_recipients_public_profile_slug'), table_name='recipients')
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE recipients DROP COLUMN show_name')
        op.execute('ALTER TABLE recipients DROP COLUMN public_profile_slug')
    else:
        op.drop_column('recipients', 'show_name')
        op.drop_column('recipients', 'public_profile_slug')
