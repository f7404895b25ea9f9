"""Erased shoppers' A/B test exposures, kept as counts per variant

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 14:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'experiment_erased',
        sa.Column('experiment_id', sa.String(length=32), nullable=False),
        sa.Column('variant', sa.String(length=60), nullable=False),
        sa.Column('exposures', sa.Integer(), nullable=False),
        sa.Column('completions', sa.Integer(), nullable=False),
        sa.Column('conversions', sa.Integer(), nullable=False),
        sa.Column('revenue', sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column('revenue_squares', sa.Numeric(precision=24, scale=4), nullable=False),
        sa.ForeignKeyConstraint(['experiment_id'], ['experiment.id'], name=op.f('fk_experiment_erased_experiment_id_experiment'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('experiment_id', 'variant', name=op.f('pk_experiment_erased')),
    )


def downgrade() -> None:
    op.drop_table('experiment_erased')
