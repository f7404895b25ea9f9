"""email double opt-in (when an address was confirmed, the link that may confirm it) and phone numbers

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 15:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('profile') as batch:
        batch.add_column(sa.Column('email_confirmed_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('email_confirm_nonce', sa.String(length=32), nullable=True))
        batch.add_column(sa.Column('phone', sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('profile') as batch:
        batch.drop_column('phone')
        batch.drop_column('email_confirm_nonce')
        batch.drop_column('email_confirmed_at')
