"""outcomes: shopper events, orders and their lines, order ids already tracked, hiding what was bought

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 02:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('merchant', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hide_bought_days', sa.Integer(), server_default='90', nullable=False))
        batch_op.add_column(sa.Column('rebuy_categories', sa.JSON(), server_default='[]', nullable=False))

    op.create_table('shopper_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('profile_id', sa.String(length=32), nullable=False),
    sa.Column('type', sa.String(length=32), nullable=False),
    sa.Column('product_id', sa.String(length=200), nullable=True),
    sa.Column('order_id', sa.String(length=200), nullable=True),
    sa.Column('value', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('items', sa.JSON(), nullable=True),
    sa.Column('channel', sa.String(length=16), nullable=True),
    sa.Column('quiz_version', sa.Integer(), nullable=True),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'], name=op.f('fk_shopper_event_merchant_id_merchant'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['profile_id'], ['profile.id'], name=op.f('fk_shopper_event_profile_id_profile'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shopper_event'))
    )
    with op.batch_alter_table('shopper_event', schema=None) as batch_op:
        batch_op.create_index('ix_shopper_event_merchant_occurred', ['merchant_id', 'occurred_at'], unique=False)
        batch_op.create_index('ix_shopper_event_profile_occurred', ['profile_id', 'occurred_at'], unique=False)

    op.create_table('tracked_order',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.String(length=200), nullable=False),
    sa.Column('seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'], name=op.f('fk_tracked_order_merchant_id_merchant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tracked_order')),
    sa.UniqueConstraint('merchant_id', 'order_id', name='uq_tracked_order_merchant_order')
    )
    with op.batch_alter_table('tracked_order', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tracked_order_seen_at'), ['seen_at'], unique=False)

    op.create_table('shop_order',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.String(length=200), nullable=False),
    sa.Column('placed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('total', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('profile_id', sa.String(length=32), nullable=True),
    sa.Column('linked_by', sa.String(length=16), nullable=True),
    sa.Column('ref_product_id', sa.String(length=200), nullable=True),
    sa.Column('ref_channel', sa.String(length=16), nullable=True),
    sa.Column('ref_quiz_version', sa.Integer(), nullable=True),
    sa.Column('ref_shown_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'], name=op.f('fk_shop_order_merchant_id_merchant'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['profile_id'], ['profile.id'], name=op.f('fk_shop_order_profile_id_profile'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shop_order')),
    sa.UniqueConstraint('merchant_id', 'order_id', name='uq_shop_order_merchant_order')
    )
    with op.batch_alter_table('shop_order', schema=None) as batch_op:
        batch_op.create_index('ix_shop_order_merchant_placed', ['merchant_id', 'placed_at'], unique=False)
        batch_op.create_index('ix_shop_order_profile_placed', ['profile_id', 'placed_at'], unique=False)

    op.create_table('shop_order_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_pk', sa.Integer(), nullable=False),
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.String(length=200), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('price', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'], name=op.f('fk_shop_order_line_merchant_id_merchant'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['order_pk'], ['shop_order.id'], name=op.f('fk_shop_order_line_order_pk_shop_order'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shop_order_line'))
    )
    with op.batch_alter_table('shop_order_line', schema=None) as batch_op:
        batch_op.create_index('ix_shop_order_line_merchant_product', ['merchant_id', 'product_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_shop_order_line_order_pk'), ['order_pk'], unique=False)


def downgrade() -> None:
    op.drop_table('shop_order_line')
    op.drop_table('shop_order')
    op.drop_table('tracked_order')
    op.drop_table('shopper_event')
    with op.batch_alter_table('merchant', schema=None) as batch_op:
        batch_op.drop_column('rebuy_categories')
        batch_op.drop_column('hide_bought_days')
