"""Mail as multipart HTML and text, with each message's kind for the delivery state HR sees.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06

Adds ``outbox_messages.kind`` and ``outbox_messages.html`` (both nullable) and an index on
``outbox_messages.award_id`` (the award page lists an award's emails). Messages queued before
keep ``html`` NULL and are sent as text only, as they were written; their kind is read from
their idempotency key, which has always started with it (``awarded:<award id>``,
``renewed:...``, ``expiring:...``); a key that names no known kind leaves ``kind`` NULL (shown
as "Email"). The outbox table is referenced by no other table, so batch mode may copy it on
SQLite.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0008'
down_revision: str | Sequence[str] | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS_BEFORE = ('awarded', 'renewed', 'expiring')      # the kinds the outbox knew before this revision


def upgrade() -> None:
    with op.batch_alter_table('outbox_messages') as batch:
        batch.add_column(sa.Column('kind', sa.String(length=32), nullable=True))
        batch.add_column(sa.Column('html', sa.Text(), nullable=True))
        batch.create_index(batch.f('ix_outbox_messages_award_id'), ['award_id'], unique=False)
    outbox = sa.table('outbox_messages', sa.column('key', sa.String), sa.column('kind', sa.String))
    for kind in KINDS_BEFORE:
        op.execute(outbox.update().where(outbox.c.key.like(f'{kind}:%')).values(kind=kind))


def downgrade() -> None:
    with op.batch_alter_table('outbox_messages') as batch:
        batch.drop_index(batch.f('ix_outbox_messages_award_id'))
        batch.drop_column('html')
        batch.drop_column('kind')
