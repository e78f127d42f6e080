"""Where a lead came from: the click-to-WhatsApp ad or post of its chat (Meta's referral)

Revision ID: 0020_lead_source
Revises: 0019_pmp
"""
from alembic import op
import sqlalchemy as sa


revision = '0020_lead_source'
down_revision = '0019_pmp'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.drop_column('source')
