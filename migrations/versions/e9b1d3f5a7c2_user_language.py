"""users.language: the language the account chose with the navbar's switch (ko, en);
NULL: none chosen, the browser's Accept-Language decides

Revision ID: e9b1d3f5a7c2
Revises: c5e7a9b1d3f4
Create Date: 2026-12-06 06:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e9b1d3f5a7c2'
down_revision = 'c5e7a9b1d3f4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=8), nullable=True))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('language')
