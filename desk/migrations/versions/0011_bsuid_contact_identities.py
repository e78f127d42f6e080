"""contacts known by phone and/or business-scoped user id (BSUID), and a username

- contacts.wa_id stays the contact's key: the identity it was first known by (a phone
  number, or a BSUID for a username-only user). Rasa's sender id is made of it, so it
  never changes; it is widened to hold a BSUID (up to 128 characters after the
  country code).
- contacts.phone: the user's current phone number (existing contacts: their wa_id),
  unique; None for a user known only by BSUID.
- contacts.bsuid (unique), contacts.parent_bsuid, contacts.username.
- webhook_events.wa_id, outbox.wa_id, wa_conversations.wa_id hold the same keys and
  are widened alike.

Revision ID: 0011_bsuid
Revises: 0010_lists
"""
from alembic import op
import sqlalchemy as sa


revision = '0011_bsuid'
down_revision = '0010_lists'
branch_labels = None
depends_on = None

KEY_TABLES = ('webhook_events', 'outbox', 'wa_conversations')


def upgrade() -> None:
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.alter_column('wa_id', existing_type=sa.String(length=32), type_=sa.String(length=160),
                              existing_nullable=False)
        batch_op.add_column(sa.Column('phone', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('bsuid', sa.String(length=160), nullable=True))
        batch_op.add_column(sa.Column('parent_bsuid', sa.String(length=160), nullable=True))
        batch_op.add_column(sa.Column('username', sa.String(length=100), nullable=True))
        batch_op.create_index('ix_contacts_phone', ['phone'], unique=True)
        batch_op.create_index('ix_contacts_bsuid', ['bsuid'], unique=True)
    op.execute("UPDATE contacts SET phone = wa_id")
    for table in KEY_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('wa_id', existing_type=sa.String(length=32), type_=sa.String(length=160),
                                  existing_nullable=False)


def downgrade() -> None:
    # The old schema knows users by phone only: on PostgreSQL a key longer than 32
    # characters (a BSUID-only contact) makes this fail rather than be cut short.
    for table in KEY_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('wa_id', existing_type=sa.String(length=160), type_=sa.String(length=32),
                                  existing_nullable=False)
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_index('ix_contacts_bsuid')
        batch_op.drop_index('ix_contacts_phone')
        batch_op.drop_column('username')
        batch_op.drop_column('parent_bsuid')
        batch_op.drop_column('bsuid')
        batch_op.drop_column('phone')
        batch_op.alter_column('wa_id', existing_type=sa.String(length=160), type_=sa.String(length=32),
                              existing_nullable=False)
