"""bot_misses: answers users called wrong, and questions the bot was not sure of (for trainers)

Self-contained (a new table, no foreign keys).

Revision ID: 0013_bot_misses
Revises: 0012_reports
"""
from alembic import op
import sqlalchemy as sa


revision = '0013_bot_misses'
down_revision = '0012_reports'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'bot_misses',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('phone_number_id', sa.String(length=64), nullable=True),
        sa.Column('wa_id', sa.String(length=32), nullable=True),
        sa.Column('chat_id', sa.Integer(), nullable=True),
        sa.Column('question', sa.Text(), nullable=False),
        sa.Column('article', sa.String(length=100), nullable=True),
        sa.Column('confidence', sa.Float(), nullable=True),
        sa.Column('offered', sa.String(length=100), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_bot_misses_created', 'bot_misses', ['created_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_bot_misses_created', table_name='bot_misses')
    op.drop_table('bot_misses')
