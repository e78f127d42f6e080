"""messages.reply_key: a bot reply keyed to the inbound message that caused it

A retried bot turn (the turn failed after a reply had gone out) finds its earlier
replies by this key and does not send them again.

Revision ID: 0009
Revises: 0008
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reply_key', sa.String(length=250), nullable=True))
        batch_op.create_unique_constraint('uq_messages_reply_key', ['reply_key'])


def downgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_constraint('uq_messages_reply_key', type_='unique')
        batch_op.drop_column('reply_key')
