"""The organisation's LinkedIn id, which HR sets so "Add to LinkedIn" shows the company's logo.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06

Adds ``issuers.linkedin_organization_id`` (nullable: unset means LinkedIn gets the issuer's
name instead). Batch mode with ``recreate="auto"``: on SQLite this is a plain ``ALTER TABLE
ADD COLUMN`` (the issuers table, which every other table references, is never copied); the
downgrade uses SQLite's own ``ALTER TABLE DROP COLUMN`` (3.35+), like 0002.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0010'
down_revision: str | Sequence[str] | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('issuers') as batch_op:
        batch_op.add_column(sa.Column('linkedin_organization_id', sa.String(length=20), nullable=True))


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE issuers DROP COLUMN linkedin_organization_id')
    else:
        op.drop_column('issuers', 'linkedin_organization_id')
