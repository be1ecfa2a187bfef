"""users.is_admin: who sees the operator view

Revision ID: f6b8d0e2a4c3
Revises: e5a7c9d1f3b2
Create Date: 2026-11-24 01:15:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f6b8d0e2a4c3'
down_revision = 'e5a7c9d1f3b2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_admin', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('is_admin', server_default=None)


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('is_admin')
