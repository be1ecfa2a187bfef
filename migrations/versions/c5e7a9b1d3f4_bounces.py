"""bounces: what came back to our mail (bounces, one row per failed address, with the raw
message capped and what was concluded) and tasks.bounced_count; the suppression list's
sources gain bounce and complaint (a String column: no change of schema)

Revision ID: c5e7a9b1d3f4
Revises: b4d6f8a0c2e1
Create Date: 2026-12-06 06:15:00

"""
from alembic import op
import sqlalchemy as sa

from app.models.types import UTCDateTime


# revision identifiers, used by Alembic.
revision = 'c5e7a9b1d3f4'
down_revision = 'b4d6f8a0c2e1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tasks') as batch:
        batch.add_column(sa.Column('bounced_count', sa.Integer(), server_default='0',
                                   nullable=False))
    op.create_table(
        'bounces',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('owner', sa.String(length=64), nullable=True),
        sa.Column('task_id', sa.Integer(), nullable=True),
        sa.Column('delivery_id', sa.Integer(), nullable=True),
        sa.Column('address', sa.String(length=320), nullable=True),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('via', sa.String(length=32), nullable=False),
        sa.Column('diagnostic', sa.Text(), nullable=True),
        sa.Column('conclusion', sa.Text(), nullable=False),
        sa.Column('effect', sa.String(length=32), nullable=False),
        sa.Column('raw', sa.Text(), nullable=False),
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.Column('received_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['task_id'], ['tasks.id'],
                                name=op.f('fk_bounces_task_id_tasks'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['delivery_id'], ['deliveries.id'],
                                name=op.f('fk_bounces_delivery_id_deliveries'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_bounces')),
        sa.UniqueConstraint('digest', name=op.f('uq_bounces_digest')),
    )
    op.create_index('ix_bounces_owner_received', 'bounces', ['owner', 'received_at'])
    op.create_index('ix_bounces_owner_address_kind', 'bounces',
                    ['owner', 'address', 'kind', 'received_at'])


def downgrade():
    op.drop_index('ix_bounces_owner_address_kind', table_name='bounces')
    op.drop_index('ix_bounces_owner_received', table_name='bounces')
    op.drop_table('bounces')
    with op.batch_alter_table('tasks') as batch:
        batch.drop_column('bounced_count')
