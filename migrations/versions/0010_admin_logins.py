"""admin logins kept on the server, so logout and password changes end them

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 01:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('admin_login',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('admin_user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['admin_user_id'], ['admin_user.id'], name=op.f('fk_admin_login_admin_user_id_admin_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_admin_login')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_admin_login_token_hash'))
    )
    with op.batch_alter_table('admin_login', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_admin_login_admin_user_id'), ['admin_user_id'], unique=False)


def downgrade() -> None:
    op.drop_table('admin_login')
