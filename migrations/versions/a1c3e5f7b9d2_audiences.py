"""audiences: saved lists (mailing_lists), their members (list_members), their imports
(list_imports, import_refusals); tasks.list_id and recipients_taken_at for a send to a
list; users.recipients_per_day (an operator's quota for one account); deliveries found in
order by (task_id, status, position, id) and a task's page by (task_id, position, id)
without a sort

Revision ID: a1c3e5f7b9d2
Revises: f2a4c6e8b0d1
Create Date: 2026-12-06 02:40:00

"""
from alembic import op
import sqlalchemy as sa

from app.models.types import UTCDateTime


# revision identifiers, used by Alembic.
revision = 'a1c3e5f7b9d2'
down_revision = 'f2a4c6e8b0d1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'mailing_lists',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('owner', sa.String(length=64), nullable=False),
        sa.Column('name', sa.String(length=128), nullable=False),
        sa.Column('columns', sa.JSON(), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('owner', 'name'),
    )
    op.create_index('ix_mailing_lists_owner', 'mailing_lists', ['owner'])
    op.create_table(
        'list_members',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('list_id', sa.Integer(), nullable=False),
        sa.Column('address', sa.String(length=320), nullable=False),
        sa.Column('key', sa.String(length=320), nullable=False),
        sa.Column('fields', sa.JSON(), nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('updated_at', UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['list_id'], ['mailing_lists.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('list_id', 'key'),
    )
    op.create_index('ix_list_members_list_status', 'list_members', ['list_id', 'status', 'id'])
    op.create_table(
        'list_imports',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('list_id', sa.Integer(), nullable=False),
        sa.Column('task_id', sa.Integer(), nullable=True),
        sa.Column('filename', sa.String(length=255), nullable=False),
        sa.Column('encoding', sa.String(length=16), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=True),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('line', sa.Integer(), nullable=False),
        sa.Column('lines', sa.Integer(), nullable=False),
        sa.Column('added', sa.Integer(), nullable=False),
        sa.Column('updated', sa.Integer(), nullable=False),
        sa.Column('unchanged', sa.Integer(), nullable=False),
        sa.Column('refused', sa.Integer(), nullable=False),
        sa.Column('done', sa.Boolean(), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('finished_at', UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['list_id'], ['mailing_lists.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_list_imports_list_id', 'list_imports', ['list_id'])
    op.create_index('ix_list_imports_task_id', 'list_imports', ['task_id'])
    op.create_table(
        'import_refusals',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('import_id', sa.Integer(), nullable=False),
        sa.Column('line', sa.Integer(), nullable=False),
        sa.Column('address', sa.String(length=320), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['import_id'], ['list_imports.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_import_refusals_import_id', 'import_refusals', ['import_id'])
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('list_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('recipients_taken_at', UTCDateTime(), nullable=True))
        batch_op.create_foreign_key('fk_tasks_list_id_mailing_lists', 'mailing_lists', ['list_id'], ['id'],
                                    ondelete='SET NULL')
        batch_op.create_index('ix_tasks_list_id', ['list_id'])
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recipients_per_day', sa.Integer(), nullable=True))
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_deliveries_task_id_status')
        batch_op.drop_index('ix_deliveries_task_id')
        batch_op.create_index('ix_deliveries_task_status_position',
                              ['task_id', 'status', 'position', 'id'])
        batch_op.create_index('ix_deliveries_task_position', ['task_id', 'position', 'id'])


def downgrade():
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_deliveries_task_position')
        batch_op.drop_index('ix_deliveries_task_status_position')
        batch_op.create_index('ix_deliveries_task_id', ['task_id'])
        batch_op.create_index('ix_deliveries_task_id_status', ['task_id', 'status'])
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('recipients_per_day')
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_tasks_list_id')
        batch_op.drop_constraint('fk_tasks_list_id_mailing_lists', type_='foreignkey')
        batch_op.drop_column('recipients_taken_at')
        batch_op.drop_column('list_id')
    op.drop_table('import_refusals')
    op.drop_table('list_imports')
    op.drop_table('list_members')
    op.drop_table('mailing_lists')
