"""mail_templates (the built-ins as rows), tasks.template snapshot, deliveries.fields

Revision ID: a7c9e1f3b5d4
Revises: f6b8d0e2a4c3
Create Date: 2026-12-03 20:30:00

"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7c9e1f3b5d4'
down_revision = 'f6b8d0e2a4c3'
branch_labels = None
depends_on = None

# The two templates the app shipped as files, as they were: tasks made before this
# migration name them in their job and keep sending with them.
BUILTINS = [
    {
        "name": "welcome",
        "label": "환영 메일 (welcome)",
        "subject": "Mailroom에 오신 것을 환영합니다",
        "body_text": "환영합니다!\n\n{{ recipient }} 님, Mailroom에 오신 것을 환영합니다.\n"
                     "이 메일은 {{ sender_name }} 님이 보냈습니다.",
        "body_html": "<!doctype html>\n<html lang=\"ko\"><body>\n<h1>환영합니다!</h1>\n"
                     "<p>{{ recipient }} 님, Mailroom에 오신 것을 환영합니다.</p>\n"
                     "<p>이 메일은 {{ sender_name }} 님이 보냈습니다.</p>\n</body></html>",
    },
    {
        "name": "notice",
        "label": "공지 메일 (notice)",
        "subject": "[공지] Mailroom 서비스 안내",
        "body_text": "공지\n\n{{ recipient }} 님, Mailroom 서비스에 대해 알려 드립니다.\n"
                     "보낸 사람: {{ sender_name }}",
        "body_html": "<!doctype html>\n<html lang=\"ko\"><body>\n<h1>공지</h1>\n"
                     "<p>{{ recipient }} 님, Mailroom 서비스에 대해 알려 드립니다.</p>\n"
                     "<p>보낸 사람: {{ sender_name }}</p>\n</body></html>",
    },
]


def upgrade():
    templates = op.create_table(
        'mail_templates',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('owner', sa.String(length=64), nullable=True),
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('label', sa.String(length=128), nullable=True),
        sa.Column('subject', sa.String(length=255), nullable=False),
        sa.Column('body_text', sa.Text(), nullable=False),
        sa.Column('body_html', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_templates')),
        sa.UniqueConstraint('owner', 'name', name=op.f('uq_mail_templates_owner_name')),
    )
    with op.batch_alter_table('mail_templates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mail_templates_owner'), ['owner'], unique=False)
    now = datetime.now(timezone.utc)
    op.bulk_insert(templates, [{**row, "owner": None, "created_at": now, "updated_at": now}
                               for row in BUILTINS])
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('template', sa.JSON(), nullable=True))
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fields', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_column('fields')
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_column('template')
    with op.batch_alter_table('mail_templates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mail_templates_owner'))
    op.drop_table('mail_templates')
