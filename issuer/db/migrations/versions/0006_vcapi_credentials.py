"""Credentials signed through the VC-API are recorded, and their status entries are allocations.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06

``vcapi_credentials`` is exactly :class:`issuer.db.models.VcapiCredential`. ``status_allocations``
gets ``vcapi_credential_id`` and its ``award_id`` becomes optional: an index belongs to an award
or to a VC-API credential, in the same table, so the primary key still makes sharing impossible.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0006'
down_revision: str | Sequence[str] | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('vcapi_credentials',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('issuer_id', sa.String(length=36), nullable=False),
    sa.Column('credential_id', sa.String(length=2048), nullable=True),
    sa.Column('signed_as', sa.String(length=255), nullable=False),
    sa.Column('types', sa.JSON(), nullable=False),
    sa.Column('credential', sa.Text(), nullable=False),
    sa.Column('token_id', sa.String(length=36), nullable=True),
    sa.Column('actor', sa.String(length=255), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('state_reason', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['issuer_id'], ['issuers.id'], name=op.f('fk_vcapi_credentials_issuer_id_issuers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vcapi_credentials'))
    )
    op.create_index(op.f('ix_vcapi_credentials_credential_id'), 'vcapi_credentials', ['credential_id'], unique=False)
    with op.batch_alter_table('status_allocations') as batch:
        batch.alter_column('award_id', existing_type=sa.String(length=36), nullable=True)
        batch.add_column(sa.Column('vcapi_credential_id', sa.String(length=36), nullable=True))
        batch.create_foreign_key(op.f('fk_status_allocations_vcapi_credential_id_vcapi_credentials'),
                                 'vcapi_credentials', ['vcapi_credential_id'], ['id'])


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM status_allocations WHERE award_id IS NULL"))
    with op.batch_alter_table('status_allocations') as batch:
        batch.drop_constraint(op.f('fk_status_allocations_vcapi_credential_id_vcapi_credentials'), type_='foreignkey')
        batch.drop_column('vcapi_credential_id')
        batch.alter_column('award_id', existing_type=sa.String(length=36), nullable=False)
    op.drop_index(op.f('ix_vcapi_credentials_credential_id'), table_name='vcapi_credentials')
    op.drop_table('vcapi_credentials')
