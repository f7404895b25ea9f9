"""a merchant's cart URL pattern; the consent notice's layers recorded with each decision

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 05:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('merchant', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cart_url_pattern', sa.String(length=2000), nullable=True))
    # Older decisions keep NULL: their receipt infers the layout from the date (quiz/privacy/receipts.py).
    with op.batch_alter_table('consent_record', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notice_layers', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('consent_record', schema=None) as batch_op:
        batch_op.drop_column('notice_layers')
    with op.batch_alter_table('merchant', schema=None) as batch_op:
        batch_op.drop_column('cart_url_pattern')
