"""Meta's account webhooks kept where admins see them: a WABA's latest account_update,
a number's quality and messaging limit, a user's marketing opt-out (user_preferences)

Revision ID: 0017_account_events
Revises: 0016_trainer
"""
from alembic import op
import sqlalchemy as sa


revision = '0017_account_events'
down_revision = '0016_trainer'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('wabas', schema=None) as batch_op:
        batch_op.add_column(sa.Column('account_event', sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column('account_event_detail', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('account_event_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('phone_numbers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('quality_event', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('messaging_limit', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('quality_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('marketing_opt_out_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_column('marketing_opt_out_at')
    with op.batch_alter_table('phone_numbers', schema=None) as batch_op:
        batch_op.drop_column('quality_at')
        batch_op.drop_column('messaging_limit')
        batch_op.drop_column('quality_event')
    with op.batch_alter_table('wabas', schema=None) as batch_op:
        batch_op.drop_column('account_event_at')
        batch_op.drop_column('account_event_detail')
        batch_op.drop_column('account_event')
