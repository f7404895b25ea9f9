"""new_products journey: when each product was added to the catalog, when a journey was switched on

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 14:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Products already stored were added at some unknown time no later than their last change:
    # they take that (the new_products journey only looks at products added after it was switched on).
    with op.batch_alter_table("product", schema=None) as batch_op:
        batch_op.add_column(sa.Column("created_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(sa.text("UPDATE product SET created_at = updated_at"))
    with op.batch_alter_table("product", schema=None) as batch_op:
        batch_op.alter_column("created_at", existing_type=sa.DateTime(timezone=True), nullable=False)
        batch_op.create_index("ix_product_merchant_created", ["merchant_id", "created_at"], unique=False)
    with op.batch_alter_table("journey", schema=None) as batch_op:
        batch_op.add_column(sa.Column("enabled_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(sa.text("UPDATE journey SET enabled_at = updated_at WHERE enabled"))


def downgrade() -> None:
    with op.batch_alter_table("journey", schema=None) as batch_op:
        batch_op.drop_column("enabled_at")
    with op.batch_alter_table("product", schema=None) as batch_op:
        batch_op.drop_index("ix_product_merchant_created")
        batch_op.drop_column("created_at")
