"""admin users and catalog imports

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 12:24:09.977679
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('admin_user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('password_hash', sa.String(length=300), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'], name=op.f('fk_admin_user_merchant_id_merchant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_admin_user')),
    sa.UniqueConstraint('email', name=op.f('uq_admin_user_email'))
    )
    with op.batch_alter_table('admin_user', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_admin_user_merchant_id'), ['merchant_id'], unique=False)

    op.create_table('catalog_import',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=300), nullable=False),
    sa.Column('format', sa.String(length=32), nullable=False),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('processed', sa.Integer(), nullable=False),
    sa.Column('failed', sa.Integer(), nullable=False),
    sa.Column('errors', sa.JSON(), nullable=False),
    sa.Column('summary', sa.JSON(), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('worker', sa.String(length=300), nullable=False),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'], name=op.f('fk_catalog_import_merchant_id_merchant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalog_import'))
    )
    with op.batch_alter_table('catalog_import', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_catalog_import_merchant_id'), ['merchant_id'], unique=False)

    with op.batch_alter_table('merchant', schema=None) as batch_op:
        batch_op.add_column(sa.Column('column_mapping', sa.JSON(), server_default='{}', nullable=False))

    # Every quiz stored before this revision was the generated default (merchants could not edit).
    with op.batch_alter_table('quiz_definition', schema=None) as batch_op:
        batch_op.add_column(sa.Column('origin', sa.String(length=16), server_default='default', nullable=False))
    with op.batch_alter_table('quiz_definition', schema=None) as batch_op:
        batch_op.alter_column('origin', server_default='merchant')



def downgrade() -> None:
    with op.batch_alter_table('quiz_definition', schema=None) as batch_op:
        batch_op.drop_column('origin')

    with op.batch_alter_table('merchant', schema=None) as batch_op:
        batch_op.drop_column('column_mapping')

    with op.batch_alter_table('catalog_import', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_catalog_import_merchant_id'))

    op.drop_table('catalog_import')
    with op.batch_alter_table('admin_user', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_admin_user_merchant_id'))

    op.drop_table('admin_user')
