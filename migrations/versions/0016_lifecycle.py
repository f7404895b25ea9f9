"""Lifecycle: predictive scores per profile, journeys and their send log

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 05:15:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'profile_score',
        sa.Column('profile_id', sa.String(length=32), nullable=False),
        sa.Column('merchant_id', sa.Integer(), nullable=False),
        sa.Column('basis', sa.String(length=16), nullable=False),
        sa.Column('model_version', sa.String(length=32), nullable=False),
        sa.Column('scored_on', sa.Date(), nullable=False),
        sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('propensity_90d', sa.Float(), nullable=True),
        sa.Column('churn_risk', sa.Float(), nullable=True),
        sa.Column('churn_band', sa.String(length=8), nullable=True),
        sa.Column('expected_orders_90d', sa.Float(), nullable=True),
        sa.Column('expected_spend_12m', sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column('orders', sa.Integer(), nullable=False),
        sa.Column('days_since_last', sa.Integer(), nullable=True),
        sa.Column('net_spend', sa.Numeric(precision=12, scale=2), nullable=True),
        sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'], name=op.f('fk_profile_score_merchant_id_merchant'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['profile_id'], ['profile.id'], name=op.f('fk_profile_score_profile_id_profile'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('profile_id', name=op.f('pk_profile_score')),
    )
    op.create_index(op.f('ix_profile_score_merchant_id'), 'profile_score', ['merchant_id'], unique=False)
    op.create_table(
        'journey',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('merchant_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('channel', sa.String(length=8), nullable=False),
        sa.Column('delay_hours', sa.Integer(), nullable=False),
        sa.Column('threshold', sa.Float(), nullable=True),
        sa.Column('texts', sa.JSON(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'], name=op.f('fk_journey_merchant_id_merchant'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_journey')),
        sa.UniqueConstraint('merchant_id', 'kind', name='uq_journey_merchant_kind'),
    )
    op.create_table(
        'lifecycle_setting',
        sa.Column('merchant_id', sa.Integer(), nullable=False),
        sa.Column('weekly_cap', sa.Integer(), nullable=False),
        sa.Column('quiet_start', sa.Integer(), nullable=False),
        sa.Column('quiet_end', sa.Integer(), nullable=False),
        sa.Column('repeat_days', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'], name=op.f('fk_lifecycle_setting_merchant_id_merchant'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('merchant_id', name=op.f('pk_lifecycle_setting')),
    )
    op.create_table(
        'journey_send',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('merchant_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('profile_id', sa.String(length=32), nullable=False),
        sa.Column('trigger_key', sa.String(length=64), nullable=False),
        sa.Column('channel', sa.String(length=8), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('reason', sa.String(length=200), nullable=False),
        sa.Column('products', sa.JSON(), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'], name=op.f('fk_journey_send_merchant_id_merchant'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['profile_id'], ['profile.id'], name=op.f('fk_journey_send_profile_id_profile'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_journey_send')),
        sa.UniqueConstraint('merchant_id', 'kind', 'profile_id', 'trigger_key', name='uq_journey_send_trigger'),
    )
    op.create_index(op.f('ix_journey_send_merchant_id'), 'journey_send', ['merchant_id'], unique=False)
    op.create_index('ix_journey_send_profile_decided', 'journey_send', ['profile_id', 'decided_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_journey_send_profile_decided', table_name='journey_send')
    op.drop_index(op.f('ix_journey_send_merchant_id'), table_name='journey_send')
    op.drop_table('journey_send')
    op.drop_table('lifecycle_setting')
    op.drop_table('journey')
    op.drop_index(op.f('ix_profile_score_merchant_id'), table_name='profile_score')
    op.drop_table('profile_score')
