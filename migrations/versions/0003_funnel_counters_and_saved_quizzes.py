"""funnel counters and saved quizzes

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 13:42:44.276148
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



def downgrade() -> None:
    with op.batch_alter_table('quiz_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quiz_session_merchant_id'))

    op.drop_table('quiz_session')
    with op.batch_alter_table('funnel_count', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_funnel_count_merchant_id'))

    op.drop_table('funnel_count')
