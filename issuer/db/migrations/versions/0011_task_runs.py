"""The ticks of periodic tasks run by ``microcred serve`` itself (the in-process queue's scheduler).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06

The table is exactly :class:`issuer.db.models_staff.TaskRun`; its primary key ``(task, tick)``
is what makes each tick run once across the server's workers (:mod:`issuer.tasks.periodic`).
A new table referenced by nothing: no existing data changes, and the downgrade drops it.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0011'
down_revision: str | Sequence[str] | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('task_runs',
    sa.Column('task', sa.String(length=64), nullable=False),
    sa.Column('tick', sa.DateTime(timezone=True), nullable=False),
    sa.Column('claimed_by', sa.String(length=255), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('task', 'tick', name=op.f('pk_task_runs'))
    )


def downgrade() -> None:
    op.drop_table('task_runs')
