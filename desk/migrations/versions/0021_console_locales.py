"""A bilingual console: each operator's console language, each canned response's language
(the same shortcut may exist once per language)

Revision ID: 0021_console_locales
Revises: 0020_lead_source
"""
from alembic import op
import sqlalchemy as sa


revision = '0021_console_locales'
down_revision = '0020_lead_source'
branch_labels = None
depends_on = None

NEW_UNIQUE = 'uq_canned_responses_shortcut_language'
# The unique (brand_id, shortcut) of 0004 has no name of its own: PostgreSQL called it
# <table>_<columns>_key; SQLite's batch mode reflects it unnamed, so it is named for the copy.
PG_OLD_UNIQUE = 'canned_responses_brand_id_shortcut_key'
SQLITE_NAMES = {"uq": "uq_%(table_name)s_%(column_0_N_name)s"}
SQLITE_OLD_UNIQUE = 'uq_canned_responses_brand_id_shortcut'


def _old_unique_name() -> str:
    return PG_OLD_UNIQUE if op.get_bind().dialect.name == 'postgresql' else SQLITE_OLD_UNIQUE


def upgrade() -> None:
    with op.batch_alter_table('operators', schema=None) as batch_op:
        batch_op.add_column(sa.Column('locale', sa.String(length=8), nullable=True))
    # Every canned response so far was written for the English-only console.
    with op.batch_alter_table('canned_responses', schema=None, naming_convention=SQLITE_NAMES) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=8), nullable=False, server_default='en'))
        batch_op.drop_constraint(_old_unique_name(), type_='unique')
        batch_op.create_unique_constraint(NEW_UNIQUE, ['brand_id', 'shortcut', 'language'])


def downgrade() -> None:
    # Back to one shortcut per brand: the other languages' copies of a shortcut go.
    op.execute("DELETE FROM canned_responses WHERE language <> 'en' AND EXISTS (SELECT 1 FROM canned_responses o "
               "WHERE o.brand_id = canned_responses.brand_id AND o.shortcut = canned_responses.shortcut "
               "AND o.id <> canned_responses.id AND (o.language = 'en' OR o.id < canned_responses.id))")
    with op.batch_alter_table('canned_responses', schema=None, naming_convention=SQLITE_NAMES) as batch_op:
        batch_op.drop_constraint(NEW_UNIQUE, type_='unique')
        batch_op.create_unique_constraint(_old_unique_name(), ['brand_id', 'shortcut'])
        batch_op.drop_column('language')
    with op.batch_alter_table('operators', schema=None) as batch_op:
        batch_op.drop_column('locale')
