"""the facts reports need, kept on the chat when they happen

- chats.handoff_reason: why a person was asked for (asked, human_only, misunderstood,
  lead, bot_down, takeover, transfer).
- chats.first_response_at: the first operator message after the handoff.
- chats.was_unattended: the chat waited with nobody of its department online.
- indexes for the date-range scans of the reports (chats.opened_at, leads.created_at)
  and for the survey sweep (chats.closed_at).
- csat_surveys: the satisfaction survey of a closed chat; brand_settings.csat its settings.

Revision ID: 0012_reports
Revises: 0011_bsuid
"""
from alembic import op
import sqlalchemy as sa


revision = '0012_reports'
down_revision = '0011_bsuid'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('chats', schema=None) as batch_op:
        batch_op.add_column(sa.Column('handoff_reason', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('first_response_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('was_unattended', sa.Boolean(), nullable=False, server_default='0'))
        batch_op.create_index('ix_chats_opened_at', ['opened_at'], unique=False)
        batch_op.create_index('ix_chats_closed_at', ['closed_at'], unique=False)
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.create_index('ix_leads_created_at', ['created_at'], unique=False)
    with op.batch_alter_table('brand_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('csat', sa.JSON(), nullable=True))
    op.create_table(
        'csat_surveys',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('chat_id', sa.Integer(), nullable=False),
        sa.Column('brand_id', sa.Integer(), nullable=False),
        sa.Column('phone_number_id', sa.String(length=64), nullable=False),
        sa.Column('contact_id', sa.Integer(), nullable=False),
        sa.Column('operator_id', sa.Integer(), nullable=True),
        sa.Column('department_id', sa.Integer(), nullable=True),
        sa.Column('close_kind', sa.String(length=16), nullable=False),
        sa.Column('state', sa.String(length=12), nullable=False),
        sa.Column('via', sa.String(length=10), nullable=True),
        sa.Column('skip_reason', sa.Text(), nullable=True),
        sa.Column('score', sa.Integer(), nullable=True),
        sa.Column('comment', sa.Text(), nullable=True),
        sa.Column('comment_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['chat_id'], ['chats.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['department_id'], ['departments.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['operator_id'], ['operators.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('chat_id'),
    )
    with op.batch_alter_table('csat_surveys', schema=None) as batch_op:
        batch_op.create_index('ix_csat_surveys_contact', ['phone_number_id', 'contact_id', 'comment_until'],
                              unique=False)
        batch_op.create_index('ix_csat_surveys_brand_time', ['brand_id', 'created_at'], unique=False)


def downgrade() -> None:
    op.drop_table('csat_surveys')
    with op.batch_alter_table('brand_settings', schema=None) as batch_op:
        batch_op.drop_column('csat')
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.drop_index('ix_leads_created_at')
    with op.batch_alter_table('chats', schema=None) as batch_op:
        batch_op.drop_index('ix_chats_closed_at')
        batch_op.drop_index('ix_chats_opened_at')
        batch_op.drop_column('was_unattended')
        batch_op.drop_column('first_response_at')
        batch_op.drop_column('handoff_reason')
