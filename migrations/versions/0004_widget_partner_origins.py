"""widget: partner origins per merchant, origin of a consent, hidden fields of a profile

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 15:05:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('merchant') as batch:
        batch.add_column(sa.Column('partner_origins', sa.JSON(), server_default='[]', nullable=False))
    with op.batch_alter_table('consent_record') as batch:
        batch.add_column(sa.Column('origin', sa.String(length=300), nullable=True))
    with op.batch_alter_table('profile') as batch:
        batch.add_column(sa.Column('hidden_fields', sa.JSON(), server_default='{}', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('profile') as batch:
        batch.drop_column('hidden_fields')
    with op.batch_alter_table('consent_record') as batch:
        batch.drop_column('origin')
    with op.batch_alter_table('merchant') as batch:
        batch.drop_column('partner_origins')
