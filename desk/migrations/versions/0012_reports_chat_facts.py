"""the facts reports need, kept on the chat when they happen

- chats.handoff_reason: why a person was asked for (asked, human_only, misunderstood,
  lead, bot_down, takeover, transfer).
- chats.first_response_at: the first operator message after the handoff.
- chats.was_unattended: the chat waited with nobody of its department online.
- indexes for the date-range scans of the reports (chats.opened_at, leads.created_at).

Revision ID: 0012_reports
Revises: 0010_lists
"""
from alembic import op
import sqlalchemy as sa


revision = '0012_reports'
down_revision = '0010_lists'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('chats', schema=None) as batch_op:
        batch_op.add_column(sa.Column('handoff_reason', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('first_response_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('was_unattended', sa.Boolean(), nullable=False, server_default='0'))
        batch_op.create_index('ix_chats_opened_at', ['opened_at'], unique=False)
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.create_index('ix_leads_created_at', ['created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.drop_index('ix_leads_created_at')
    with op.batch_alter_table('chats', schema=None) as batch_op:
        batch_op.drop_index('ix_chats_opened_at')
        batch_op.drop_column('was_unattended')
        batch_op.drop_column('first_response_at')
        batch_op.drop_column('handoff_reason')
