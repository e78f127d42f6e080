"""A bilingual desk: each chat's language, each brand's languages, default language
and time zone

Revision ID: 0018_languages
Revises: 0017_account_events
"""
from alembic import op
import sqlalchemy as sa


revision = '0018_languages'
down_revision = '0017_account_events'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('chats', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=8), nullable=True))
    with op.batch_alter_table('brand_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('languages', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('default_language', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('time_zone', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('brand_settings', schema=None) as batch_op:
        batch_op.drop_column('time_zone')
        batch_op.drop_column('default_language')
        batch_op.drop_column('languages')
    with op.batch_alter_table('chats', schema=None) as batch_op:
        batch_op.drop_column('language')
