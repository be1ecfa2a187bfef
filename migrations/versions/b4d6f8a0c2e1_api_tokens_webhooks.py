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
    pass


def downgrade():
    pass
