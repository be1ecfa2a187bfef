"""users.session_version: revocable sessions

Revision ID: d4f6b8c0e2a1
Revises: c3e5a7b9d1f0
Create Date: 2026-11-24 00:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd4f6b8c0e2a1'
down_revision = 'c3e5a7b9d1f0'
branch_labels = None
depends_on = None


def upgrade():
    # Existing sessions carry the bare id, which no longer loads: everyone signs in again.
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), nullable=False,
                                      server_default='0'))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('session_version', server_default=None)


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_version')
