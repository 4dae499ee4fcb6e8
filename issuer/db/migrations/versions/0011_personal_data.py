"""Personal data: erasure markers on recipients and awards.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06

Adds ``recipients.erased_at`` and ``awards.erased_at`` (nullable timestamps, set by
:mod:`issuer.personal_data` when a person's data is erased or an ended award's retention
runs out). Batch mode with the default ``recreate="auto"``: on SQLite a nullable column
without a server default is a plain ``ALTER TABLE ADD COLUMN``, so neither table (both are
referenced by foreign keys) is copied; existing rows get NULL (not erased). The downgrade
drops the columns with SQLite's own ``ALTER TABLE DROP COLUMN`` (SQLite 3.35+), as 0002 does.
Retention settings live in the environment (:class:`issuer.config.RetentionSettings`), not here.
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

TABLES = ('recipients', 'awards')


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column('erased_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    for table in reversed(TABLES):
        if op.get_bind().dialect.name == 'sqlite':
            op.execute(f'ALTER TABLE {table} DROP COLUMN erased_at')
        else:
            op.drop_column(table, 'erased_at')
