"""Outcomes admin: the ranking settings an A/B test's winner leaves for every shopper

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 05:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('merchant') as batch:
        batch.add_column(sa.Column('ranking_settings', sa.JSON(), nullable=False, server_default='{}'))


def downgrade() -> None:
    with op.batch_alter_table('merchant') as batch:
        batch.drop_column('ranking_settings')
