"""Business hours per department: weekly open hours, holidays, and whether the timers
count open hours only (desk.services.business_hours); NULL: always open

Revision ID: 0023_business_hours
Revises: 0022_bot_models
"""
from alembic import op
import sqlalchemy as sa


revision = '0023_business_hours'
down_revision = '0022_bot_models'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('departments') as batch:
        batch.add_column(sa.Column('business_hours', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('departments') as batch:
        batch.drop_column('business_hours')
