"""tasks.resent_from: a resend is linked to the task it repeats

Revision ID: e5a7c9d1f3b2
Revises: d4f6b8c0e2a1
Create Date: 2026-11-24 01:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e5a7c9d1f3b2'
down_revision = 'd4f6b8c0e2a1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('resent_from', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_tasks_resent_from_tasks'), 'tasks',
                                    ['resent_from'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_tasks_resent_from_tasks'), type_='foreignkey')
        batch_op.drop_column('resent_from')
