"""tasks.language: the language the send was made in (ko, en); what the worker writes
about it (its log, its failure reasons) is written in that language. NULL: Korean

Revision ID: a7c9e1b3d5f8
Revises: e9b1d3f5a7c2
Create Date: 2026-12-06 08:55:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7c9e1b3d5f8'
down_revision = 'e9b1d3f5a7c2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=8), nullable=True))


def downgrade():
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_column('language')
