"""Employees' own space: one-time sign-in links, their sessions, per-award privacy choices.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06

The tables are exactly :class:`issuer.db.models_employee.EmployeeSignInLink` and
:class:`~issuer.db.models_employee.EmployeeSession`; ``awards.show_name`` (default false) and
``awards.on_profile`` (default true) are :class:`issuer.db.models.Award`'s columns. As in 0002,
the server defaults are the literals ``'0'``/``'1'`` so that SQLite's batch mode adds the columns
with ``ALTER TABLE ADD COLUMN`` and never copies the awards table (which other tables reference),
and the downgrade drops them with SQLite's own ``ALTER TABLE DROP COLUMN`` (SQLite 3.35+).

Existing data: until now the name was shown on every badge page of a recipient who had
``recipients.show_name`` set (``microcred profile publish --show-name``); their awards get
``show_name`` true, so no public page changes with the upgrade. Every award stays listed on its
recipient's profile, as before.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0007'
down_revision: str | Sequence[str] | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('awards') as batch_op:
        batch_op.add_column(sa.Column('show_name', sa.Boolean(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('on_profile', sa.Boolean(), server_default='1', nullable=False))
    awards = sa.table('awards', sa.column('recipient_id', sa.String), sa.column('show_name', sa.Boolean))
    recipients = sa.table('recipients', sa.column('id', sa.String), sa.column('show_name', sa.Boolean))
    named = sa.select(recipients.c.id).where(recipients.c.show_name == sa.true())
    op.execute(awards.update().where(awards.c.recipient_id.in_(named)).values(show_name=True))
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


def downgrade() -> None:
    op.drop_index(op.f('ix_employee_sessions_email'), table_name='employee_sessions')
    op.drop_table('employee_sessions')
    op.drop_index('ix_employee_sign_in_links_email_created_at', table_name='employee_sign_in_links')
    op.drop_table('employee_sign_in_links')
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE awards DROP COLUMN on_profile')
        op.execute('ALTER TABLE awards DROP COLUMN show_name')
    else:
        op.drop_column('awards', 'on_profile')
        op.drop_column('awards', 'show_name')
