"""tasks can be paused: pause_requested_at

Revision ID: c3e5a7b9d1f0
Revises: b7d1c0a4e8f2
Create Date: 2026-11-24 00:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c3e5a7b9d1f0'
down_revision = 'b7d1c0a4e8f2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pause_requested_at', sa.DateTime(timezone=True),
                                      nullable=True))


def downgrade():
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_column('pause_requested_at')
