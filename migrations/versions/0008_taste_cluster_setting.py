"""merchant setting: how many taste clusters (none: chosen by silhouette)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 16:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('merchant') as batch:
        batch.add_column(sa.Column('taste_clusters', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('merchant') as batch:
        batch.drop_column('taste_clusters')
