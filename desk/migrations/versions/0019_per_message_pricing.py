"""Per-message pricing per WABA: wabas.pricing_model, one charge row per message
(wa_message_charges), ledger entries that name their message charge

Revision ID: 0019_pmp
Revises: 0018_languages
"""
from alembic import op
import sqlalchemy as sa


revision = '0019_pmp'
down_revision = '0018_languages'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('wabas', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pricing_model', sa.String(length=12), nullable=False,
                                      server_default='conversation'))
    op.create_table(
        'wa_message_charges',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('brand_id', sa.Integer(), sa.ForeignKey('brands.id'), nullable=False),
        sa.Column('waba_id', sa.String(length=64), nullable=False),
        sa.Column('phone_number_id', sa.String(length=64), nullable=False),
        sa.Column('wa_id', sa.String(length=160), nullable=False),
        sa.Column('message_id', sa.Integer(), sa.ForeignKey('messages.id', ondelete='SET NULL'), unique=True),
        sa.Column('month', sa.String(length=7), nullable=False),
        sa.Column('category', sa.String(length=40), nullable=False),
        sa.Column('type', sa.String(length=30), nullable=False),
        sa.Column('market', sa.String(length=64), nullable=False),
        sa.Column('card', sa.Date(), nullable=True),
        sa.Column('price_micros', sa.BigInteger(), nullable=False),
        sa.Column('state', sa.String(length=10), nullable=False),
        sa.Column('sent_by', sa.String(length=20), nullable=False),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('meta_type', sa.String(length=30), nullable=True),
        sa.Column('meta_category', sa.String(length=40), nullable=True),
        sa.Column('reconciled_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index('ix_wa_message_charges_number_month', 'wa_message_charges',
                    ['phone_number_id', 'month', 'category'])
    op.create_index('ix_wa_message_charges_brand_month', 'wa_message_charges', ['brand_id', 'month'])
    with op.batch_alter_table('credit_ledger', schema=None) as batch_op:
        batch_op.add_column(sa.Column('message_charge_id', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('credit_ledger', schema=None) as batch_op:
        batch_op.drop_column('message_charge_id')
    op.drop_index('ix_wa_message_charges_brand_month', table_name='wa_message_charges')
    op.drop_index('ix_wa_message_charges_number_month', table_name='wa_message_charges')
    op.drop_table('wa_message_charges')
    with op.batch_alter_table('wabas', schema=None) as batch_op:
        batch_op.drop_column('pricing_model')
