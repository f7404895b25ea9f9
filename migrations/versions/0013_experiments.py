"""A/B tests: experiments and their exposures

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 03:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'experiment',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('merchant_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('metric', sa.String(length=32), nullable=False),
        sa.Column('variants', sa.JSON(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('winner', sa.String(length=60), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('stopped_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'], name=op.f('fk_experiment_merchant_id_merchant'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_experiment')),
    )
    op.create_index(op.f('ix_experiment_merchant_id'), 'experiment', ['merchant_id'], unique=False)
    op.create_table(
        'experiment_exposure',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('experiment_id', sa.String(length=32), nullable=False),
        sa.Column('merchant_id', sa.Integer(), nullable=False),
        sa.Column('subject_id', sa.String(length=32), nullable=False),
        sa.Column('variant', sa.String(length=60), nullable=False),
        sa.Column('exposed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['experiment_id'], ['experiment.id'], name=op.f('fk_experiment_exposure_experiment_id_experiment'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'], name=op.f('fk_experiment_exposure_merchant_id_merchant'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_experiment_exposure')),
        sa.UniqueConstraint('experiment_id', 'subject_id', name='uq_exposure_experiment_subject'),
    )
    op.create_index(op.f('ix_experiment_exposure_experiment_id'), 'experiment_exposure', ['experiment_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_experiment_exposure_experiment_id'), table_name='experiment_exposure')
    op.drop_table('experiment_exposure')
    op.drop_index(op.f('ix_experiment_merchant_id'), table_name='experiment')
    op.drop_table('experiment')
