"""tasks.charged / charged_at: the quota charges a task when it really sends;
users.display_name: the name mail is signed with, not the login name

Revision ID: d1e3f5a7b9c2
Revises: c9e1a3b5d7f6
Create Date: 2026-12-05 20:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd1e3f5a7b9c2'
down_revision = 'c9e1a3b5d7f6'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('charged', sa.Integer(), nullable=False,
                                      server_default='0'))
        batch_op.add_column(sa.Column('charged_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.alter_column('charged', server_default=None)
    # What the old rule charged: every task but a reservation that has not fired yet, when
    # it was made.
    op.execute("UPDATE tasks SET charged = recipient_count, charged_at = created_at "
               "WHERE status <> 'reserved'")
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('display_name', sa.String(length=128), nullable=True))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('display_name')
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_column('charged_at')
        batch_op.drop_column('charged')
