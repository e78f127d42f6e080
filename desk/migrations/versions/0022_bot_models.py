"""The bot's models: training runs from the trainers' knowledge, their figures, the
published one, the one Rasa runs (live)

Revision ID: 0022_bot_models
Revises: 0021_console_locales
"""
from alembic import op
import sqlalchemy as sa


revision = '0022_bot_models'
down_revision = '0021_console_locales'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'bot_models',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('brand_id', sa.Integer(), sa.ForeignKey('brands.id', ondelete='SET NULL'), nullable=True),
        sa.Column('state', sa.String(length=12), nullable=False),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('requested_by', sa.String(length=320), nullable=False),
        sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('path', sa.Text(), nullable=True),
        sa.Column('fingerprint', sa.String(length=64), nullable=True, unique=True),
        sa.Column('size', sa.BigInteger(), nullable=True),
        sa.Column('figures', sa.JSON(), nullable=True),
        sa.Column('log_tail', sa.Text(), nullable=True),
        sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('published_by', sa.String(length=320), nullable=True),
        sa.Column('live_at', sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_table('bot_models')
