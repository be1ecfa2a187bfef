"""tasks.heartbeat_at: a running job's sign of life in the database, beside its worker's
heartbeat in Redis

Revision ID: e7f9a1b3c5d8
Revises: d1e3f5a7b9c2
Create Date: 2026-12-05 21:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e7f9a1b3c5d8'
down_revision = 'd1e3f5a7b9c2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_column('heartbeat_at')
