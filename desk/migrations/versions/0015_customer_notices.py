"""brand_settings.notices: the brand's texts for what the customer is told when an
operator joins, the chat is transferred, or an operator closes it (None: the defaults)

Revision ID: 0015_notices
Revises: 0014_chat_notes
"""
from alembic import op
import sqlalchemy as sa


revision = '0015_notices'
down_revision = '0014_chat_notes'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('brand_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notices', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('brand_settings', schema=None) as batch_op:
        batch_op.drop_column('notices')
