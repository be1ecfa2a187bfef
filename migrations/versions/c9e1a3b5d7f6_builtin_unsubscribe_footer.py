"""the built-in templates end with the recipient's unsubscribe link

Revision ID: c9e1a3b5d7f6
Revises: b8d0f2a4c6e5
Create Date: 2026-12-03 21:00:00

"""
from alembic import op
import sqlalchemy as sa

from app.models.template import BUILTINS


# revision identifiers, used by Alembic.
revision = 'c9e1a3b5d7f6'
down_revision = 'b8d0f2a4c6e5'
branch_labels = None
depends_on = None

templates = sa.table('mail_templates', sa.column('owner', sa.String), sa.column('name', sa.String),
                     sa.column('body_text', sa.Text), sa.column('body_html', sa.Text))


def upgrade():
    for row in BUILTINS:
        op.execute(templates.update()
                   .where(templates.c.owner.is_(None), templates.c.name == row['name'])
                   .values(body_text=row['body_text'], body_html=row['body_html']))


def downgrade():
    pass  # the footer stays: the link is what the providers ask for
