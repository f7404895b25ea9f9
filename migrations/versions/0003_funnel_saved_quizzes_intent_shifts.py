"""funnel counters, saved quizzes, intent shifts

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 13:45:37.806322
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('funnel_count',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('event', sa.String(length=120), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'], name=op.f('fk_funnel_count_merchant_id_merchant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_funnel_count')),
    sa.UniqueConstraint('merchant_id', 'day', 'event', name='uq_funnel_count_event')
    )
    with op.batch_alter_table('funnel_count', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_funnel_count_merchant_id'), ['merchant_id'], unique=False)

    op.create_table('quiz_session',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('subject_id', sa.String(length=32), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'], name=op.f('fk_quiz_session_merchant_id_merchant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quiz_session')),
    sa.UniqueConstraint('merchant_id', 'subject_id', name='uq_quiz_session_merchant_subject')
    )
    with op.batch_alter_table('quiz_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quiz_session_merchant_id'), ['merchant_id'], unique=False)

    op.create_table('intent_shift',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('profile_id', sa.String(length=32), nullable=False),
    sa.Column('similarity', sa.Double(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'], name=op.f('fk_intent_shift_merchant_id_merchant'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['profile_id'], ['profile.id'], name=op.f('fk_intent_shift_profile_id_profile'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_intent_shift'))
    )
    with op.batch_alter_table('intent_shift', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_intent_shift_merchant_id'), ['merchant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_intent_shift_profile_id'), ['profile_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('intent_shift', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_intent_shift_profile_id'))
        batch_op.drop_index(batch_op.f('ix_intent_shift_merchant_id'))

    op.drop_table('intent_shift')
    with op.batch_alter_table('quiz_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quiz_session_merchant_id'))

    op.drop_table('quiz_session')
    with op.batch_alter_table('funnel_count', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_funnel_count_merchant_id'))

    op.drop_table('funnel_count')
