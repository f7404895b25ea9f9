"""explainer texts written by merchants, versioned

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 16:05:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('explainer_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('version', sa.String(length=32), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('purpose_revisions', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'], name=op.f('fk_explainer_version_merchant_id_merchant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_explainer_version')),
    sa.UniqueConstraint('merchant_id', 'number', name='uq_explainer_version_number')
    )
    with op.batch_alter_table('explainer_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_explainer_version_merchant_id'), ['merchant_id'], unique=False)


def downgrade() -> None:
    op.drop_table('explainer_version')
