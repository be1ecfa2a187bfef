"""api: personal API tokens (api_tokens), idempotency keys per token (idempotency_keys),
outgoing webhooks (webhooks) and their delivery log (webhook_deliveries)

Revision ID: b4d6f8a0c2e1
Revises: a1c3e5f7b9d2
Create Date: 2026-12-06 05:35:00

"""
from alembic import op
import sqlalchemy as sa

from app.models.types import UTCDateTime


# revision identifiers, used by Alembic.
revision = 'b4d6f8a0c2e1'
down_revision = 'a1c3e5f7b9d2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'api_tokens',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('username', sa.String(length=64), nullable=False),
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('prefix', sa.String(length=16), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('last_used_at', UTCDateTime(), nullable=True),
        sa.Column('revoked_at', UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id', name='pk_api_tokens'),
        sa.UniqueConstraint('token_hash', name='uq_api_tokens_token_hash'),
    )
    op.create_index('ix_api_tokens_username', 'api_tokens', ['username'])
    op.create_table(
        'idempotency_keys',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=255), nullable=False),
        sa.Column('request_hash', sa.String(length=64), nullable=False),
        sa.Column('status_code', sa.Integer(), nullable=True),
        sa.Column('response', sa.JSON(), nullable=True),
        sa.Column('task_id', sa.Integer(), nullable=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['token_id'], ['api_tokens.id'], ondelete='CASCADE',
                                name='fk_idempotency_keys_token_id_api_tokens'),
        sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], ondelete='SET NULL',
                                name='fk_idempotency_keys_task_id_tasks'),
        sa.PrimaryKeyConstraint('id', name='pk_idempotency_keys'),
        sa.UniqueConstraint('token_id', 'key', name='uq_idempotency_keys_token_id_key'),
    )
    op.create_index('ix_idempotency_keys_created_at', 'idempotency_keys', ['created_at'])
    op.create_table(
        'webhooks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('username', sa.String(length=64), nullable=False),
        sa.Column('url', sa.String(length=2048), nullable=False),
        sa.Column('events', sa.JSON(), nullable=False),
        sa.Column('secret', sa.String(length=128), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name='pk_webhooks'),
    )
    op.create_index('ix_webhooks_username', 'webhooks', ['username'])
    op.create_table(
        'webhook_deliveries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('webhook_id', sa.Integer(), nullable=False),
        sa.Column('event', sa.String(length=32), nullable=False),
        sa.Column('event_key', sa.String(length=128), nullable=False),
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_status_code', sa.Integer(), nullable=True),
        sa.Column('last_response', sa.Text(), nullable=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('last_attempt_at', UTCDateTime(), nullable=True),
        sa.Column('delivered_at', UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['webhook_id'], ['webhooks.id'], ondelete='CASCADE',
                                name='fk_webhook_deliveries_webhook_id_webhooks'),
        sa.PrimaryKeyConstraint('id', name='pk_webhook_deliveries'),
        sa.UniqueConstraint('webhook_id', 'event_key',
                            name='uq_webhook_deliveries_webhook_id_event_key'),
    )
    op.create_index('ix_webhook_deliveries_webhook_id', 'webhook_deliveries', ['webhook_id'])


def downgrade():
    op.drop_table('webhook_deliveries')
    op.drop_table('webhooks')
    op.drop_table('idempotency_keys')
    op.drop_table('api_tokens')
