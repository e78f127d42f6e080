"""billing: conversations, the append-only credit ledger, brand accounts, templates

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 12:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

APPEND_ONLY = "credit_ledger is append-only: record a correcting entry instead"


def upgrade() -> None:
    op.create_table('billing_accounts',
    sa.Column('brand_id', sa.Integer(), nullable=False),
    sa.Column('low_balance_micros', sa.BigInteger(), nullable=False),
    sa.Column('lock_version', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('brand_id')
    )
    op.create_table('wa_conversations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('brand_id', sa.Integer(), nullable=False),
    sa.Column('waba_id', sa.String(length=64), nullable=False),
    sa.Column('phone_number_id', sa.String(length=64), nullable=False),
    sa.Column('wa_id', sa.String(length=32), nullable=False),
    sa.Column('market', sa.String(length=64), nullable=False),
    sa.Column('category', sa.Enum('user_initiated', 'business_initiated', name='conversationcategory',
                                  native_enum=False, length=20), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('billable', sa.Boolean(), nullable=False),
    sa.Column('free_tier', sa.Boolean(), nullable=False),
    sa.Column('rate_micros', sa.BigInteger(), nullable=False),
    sa.Column('cost_micros', sa.BigInteger(), nullable=False),
    sa.Column('opened_by', sa.String(length=20), nullable=False),
    sa.Column('opening_message_id', sa.Integer(), nullable=True),
    sa.Column('meta_conversation_id', sa.String(length=128), nullable=True),
    sa.Column('meta_category', sa.String(length=40), nullable=True),
    sa.Column('meta_billable', sa.Boolean(), nullable=True),
    sa.Column('meta_pricing_model', sa.String(length=10), nullable=True),
    sa.Column('reconciled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], ),
    sa.ForeignKeyConstraint(['opening_message_id'], ['messages.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('meta_conversation_id')
    )
    with op.batch_alter_table('wa_conversations', schema=None) as batch_op:
        batch_op.create_index('ix_wa_conversations_pair', ['phone_number_id', 'wa_id', 'expires_at'], unique=False)
        batch_op.create_index('ix_wa_conversations_tier', ['waba_id', 'month', 'billable'], unique=False)
        batch_op.create_index('ix_wa_conversations_brand_month', ['brand_id', 'month'], unique=False)

    op.create_table('credit_ledger',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('brand_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('credits', sa.Integer(), nullable=True),
    sa.Column('amount_micros', sa.BigInteger(), nullable=False),
    sa.Column('fee_micros', sa.BigInteger(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_by', sa.String(length=100), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], ),
    sa.ForeignKeyConstraint(['conversation_id'], ['wa_conversations.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('credit_ledger', schema=None) as batch_op:
        batch_op.create_index('ix_credit_ledger_brand_time', ['brand_id', 'created_at'], unique=False)

    op.create_table('message_templates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('waba_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=512), nullable=False),
    sa.Column('language', sa.String(length=15), nullable=False),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('status_reason', sa.Text(), nullable=True),
    sa.Column('components', sa.JSON(), nullable=False),
    sa.Column('meta_template_id', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['waba_id'], ['wabas.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('waba_id', 'name', 'language')
    )

    # The ledger is append-only in the database itself, not only by convention.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
            CREATE FUNCTION credit_ledger_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION '{APPEND_ONLY}';
            END;
            $$ LANGUAGE plpgsql""")
        op.execute("CREATE TRIGGER credit_ledger_no_update BEFORE UPDATE OR DELETE ON credit_ledger "
                   "FOR EACH ROW EXECUTE FUNCTION credit_ledger_append_only()")
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER credit_ledger_no_{verb.lower()} BEFORE {verb} ON credit_ledger "
                       f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS credit_ledger_no_update ON credit_ledger")
        op.execute("DROP FUNCTION IF EXISTS credit_ledger_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS credit_ledger_no_update")
        op.execute("DROP TRIGGER IF EXISTS credit_ledger_no_delete")
    op.drop_table('message_templates')
    with op.batch_alter_table('credit_ledger', schema=None) as batch_op:
        batch_op.drop_index('ix_credit_ledger_brand_time')
    op.drop_table('credit_ledger')
    with op.batch_alter_table('wa_conversations', schema=None) as batch_op:
        batch_op.drop_index('ix_wa_conversations_brand_month')
        batch_op.drop_index('ix_wa_conversations_tier')
        batch_op.drop_index('ix_wa_conversations_pair')
    op.drop_table('wa_conversations')
    op.drop_table('billing_accounts')
