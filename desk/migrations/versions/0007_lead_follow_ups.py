"""leads: the next-day follow-up (state, reason, when)

Revision ID: 0007
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('follow_up_state', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('follow_up_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('followed_up_at', sa.DateTime(timezone=True), nullable=True))
    # Leads captured before this feature existed are not followed up all at once.
    op.execute("UPDATE leads SET follow_up_state = 'skipped', "
               "follow_up_reason = 'captured before follow-ups existed'")


def downgrade() -> None:
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.drop_column('followed_up_at')
        batch_op.drop_column('follow_up_reason')
        batch_op.drop_column('follow_up_state')
