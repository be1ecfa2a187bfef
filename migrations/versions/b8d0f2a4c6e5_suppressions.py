"""suppressions: per sending account, the addresses that unsubscribed or were added by hand

Revision ID: b8d0f2a4c6e5
Revises: a7c9e1f3b5d4
Create Date: 2026-12-04 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b8d0f2a4c6e5'
down_revision = 'a7c9e1f3b5d4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'suppressions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('owner', sa.String(length=64), nullable=False),
        sa.Column('address', sa.String(length=320), nullable=False),
        sa.Column('source', sa.String(length=16), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_suppressions')),
        sa.UniqueConstraint('owner', 'address', name=op.f('uq_suppressions_owner_address')),
    )


def downgrade():
    op.drop_table('suppressions')
