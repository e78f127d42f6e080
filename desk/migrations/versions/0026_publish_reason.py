"""bot_models.publish_reason: why a trainer published a model that scores worse on the
held-out sets than the one in service (desk.services.bot_models.publish); and
bot_models.progress: the step a training run is at, shown live in the console

Revision ID: 0026_publish_reason
Revises: 0025_department_names
"""
from alembic import op
import sqlalchemy as sa


revision = '0026_publish_reason'
down_revision = '0025_department_names'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('bot_models') as batch:
        batch.add_column(sa.Column('publish_reason', sa.Text(), nullable=True))
        batch.add_column(sa.Column('progress', sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('bot_models') as batch:
        batch.drop_column('progress')
        batch.drop_column('publish_reason')
