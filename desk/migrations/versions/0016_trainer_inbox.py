"""the trainer's inbox: a bot miss is open until a trainer resolves it (a question
variant of an article, or out of scope); the user's key widened for BSUIDs

Revision ID: 0016_trainer
Revises: 0015_notices
"""
from alembic import op
import sqlalchemy as sa


revision = '0016_trainer'
down_revision = '0015_notices'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('bot_misses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('state', sa.String(length=16), nullable=False, server_default='open'))
        batch_op.add_column(sa.Column('resolution', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('resolved_by', sa.String(length=320), nullable=True))
        batch_op.add_column(sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.alter_column('wa_id', existing_type=sa.String(length=32), type_=sa.String(length=160))
        batch_op.create_index('ix_bot_misses_state', ['state', 'created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('bot_misses', schema=None) as batch_op:
        batch_op.drop_index('ix_bot_misses_state')
        batch_op.alter_column('wa_id', existing_type=sa.String(length=160), type_=sa.String(length=32))
        batch_op.drop_column('resolved_at')
        batch_op.drop_column('resolved_by')
        batch_op.drop_column('resolution')
        batch_op.drop_column('state')
