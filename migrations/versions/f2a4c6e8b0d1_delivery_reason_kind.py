"""deliveries.reason_kind: why a refused recipient was refused — ``not_built`` when its
message could not be made (a template error, a render limit), so it is never blamed on the
receiving server nor resent with the same template

Revision ID: f2a4c6e8b0d1
Revises: e7f9a1b3c5d8
Create Date: 2026-12-05 23:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f2a4c6e8b0d1'
down_revision = 'e7f9a1b3c5d8'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reason_kind', sa.String(length=16), nullable=True))


def downgrade():
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_column('reason_kind')
