"""the job kept in the database; deliveries with a status (pending, sending, delivered,
refused, unknown) written when the task is made

Revision ID: b7d1c0a4e8f2
Revises: 68ded92dcb17
Create Date: 2026-11-23 23:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7d1c0a4e8f2'
down_revision = '68ded92dcb17'
branch_labels = None
depends_on = None


def upgrade():
    # reviewed by hand: existing rows keep their meaning (ok → delivered, not ok → refused)
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unknown_count', sa.Integer(), nullable=False,
                                      server_default='0'))
        batch_op.add_column(sa.Column('job_func', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('job_args', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('job_queue', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('job_timeout', sa.Integer(), nullable=True))
        batch_op.create_index('ix_tasks_status', ['status'], unique=False)
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.alter_column('unknown_count', server_default=None)

    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('position', sa.Integer(), nullable=False,
                                      server_default='0'))
        batch_op.add_column(sa.Column('status', sa.String(length=16), nullable=False,
                                      server_default='pending'))
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True))
    deliveries = sa.table('deliveries', sa.column('ok', sa.Boolean()),
                          sa.column('status', sa.String()))
    op.execute(deliveries.update().where(deliveries.c.ok == sa.true())
               .values(status='delivered'))
    op.execute(deliveries.update().where(deliveries.c.ok == sa.false())
               .values(status='refused'))
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.alter_column('position', server_default=None)
        batch_op.alter_column('status', server_default=None)
        batch_op.drop_column('ok')
        batch_op.create_index('ix_deliveries_task_id_status', ['task_id', 'status'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ok', sa.Boolean(), nullable=False,
                                      server_default=sa.true()))
    deliveries = sa.table('deliveries', sa.column('ok', sa.Boolean()),
                          sa.column('status', sa.String()))
    op.execute(deliveries.update().where(deliveries.c.status != 'delivered')
               .values(ok=False))
    op.execute(deliveries.delete().where(deliveries.c.status.in_(('pending', 'sending'))))
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.alter_column('ok', server_default=None)
        batch_op.drop_index('ix_deliveries_task_id_status')
        batch_op.drop_column('updated_at')
        batch_op.drop_column('status')
        batch_op.drop_column('position')

    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_tasks_status')
        batch_op.drop_column('job_timeout')
        batch_op.drop_column('job_queue')
        batch_op.drop_column('job_args')
        batch_op.drop_column('job_func')
        batch_op.drop_column('unknown_count')
