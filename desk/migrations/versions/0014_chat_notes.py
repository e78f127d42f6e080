"""chat_notes: operators' internal notes on a chat (never sent to WhatsApp)

Revision ID: 0014_chat_notes
Revises: 0013_bot_misses
"""
from alembic import op
import sqlalchemy as sa


revision = '0014_chat_notes'
down_revision = '0013_bot_misses'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'chat_notes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('chat_id', sa.Integer(), nullable=False),
        sa.Column('operator_id', sa.Integer(), nullable=True),
        sa.Column('author', sa.String(length=200), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['chat_id'], ['chats.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['operator_id'], ['operators.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_chat_notes_chat', 'chat_notes', ['chat_id', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_chat_notes_chat', table_name='chat_notes')
    op.drop_table('chat_notes')
