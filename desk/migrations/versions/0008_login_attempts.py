"""login_attempts: failed console sign-ins, shared by every console instance

Revision ID: 0008
Revises: 0007
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('login_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email_hash', sa.String(length=64), nullable=True),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('attempted_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.create_index('ix_login_attempts_account', ['email_hash', 'address', 'attempted_at'], unique=False)
        batch_op.create_index('ix_login_attempts_address', ['address', 'attempted_at'], unique=False)
        batch_op.create_index('ix_login_attempts_at', ['attempted_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_login_attempts_at')
        batch_op.drop_index('ix_login_attempts_address')
        batch_op.drop_index('ix_login_attempts_account')
    op.drop_table('login_attempts')
