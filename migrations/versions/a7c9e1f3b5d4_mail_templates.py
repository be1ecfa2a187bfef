"""mail_templates (the built-ins as rows), tasks.template snapshot, deliveries.fields

Revision ID: a7c9e1f3b5d4
Revises: f6b8d0e2a4c3
Create Date: 2026-12-03 20:30:00

"""
from alembic import op
import sqlalchemy as sa

# The built-ins (the two templates the app shipped as files): tasks made before this
# migration name them in their job and keep sending with them.
from app.models.template import builtin_rows


# revision identifiers, used by Alembic.
revision = 'a7c9e1f3b5d4'
down_revision = 'f6b8d0e2a4c3'
branch_labels = None
depends_on = None

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
    op.bulk_insert(templates, builtin_rows())
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
