"""A department's name per language ({language: name}; desk.services.departments): the
bot's department buttons and handoff texts use the chat's language; NULL: the one name

Revision ID: 0025_department_names
Revises: 0024_address_book
"""
from alembic import op
import sqlalchemy as sa


revision = '0025_department_names'
down_revision = '0024_address_book'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('departments') as batch:
        batch.add_column(sa.Column('names', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('departments') as batch:
        batch.drop_column('names')
