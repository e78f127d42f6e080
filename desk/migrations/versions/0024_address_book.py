"""Coexistence: the name a contact has in the WhatsApp Business app's address book
(`smb_app_state_sync`), and a template's quality as Meta rates it
(`message_template_quality_update`)

Revision ID: 0024_address_book
Revises: 0023_business_hours
"""
from alembic import op
import sqlalchemy as sa


revision = '0024_address_book'
down_revision = '0023_business_hours'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('contacts') as batch:
        batch.add_column(sa.Column('address_book_name', sa.String(length=200), nullable=True))
        batch.add_column(sa.Column('address_book_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('message_templates') as batch:
        batch.add_column(sa.Column('quality_score', sa.String(length=10), nullable=True))
        batch.add_column(sa.Column('quality_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('message_templates') as batch:
        batch.drop_column('quality_at')
        batch.drop_column('quality_score')
    with op.batch_alter_table('contacts') as batch:
        batch.drop_column('address_book_at')
        batch.drop_column('address_book_name')
