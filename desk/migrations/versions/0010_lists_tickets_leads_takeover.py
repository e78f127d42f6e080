"""tickets queued for departments (state, owner, replies), leads as tasks, hand back to the bot

- tickets: brand, number, department, operator, state, the customer's message, when
  updated and closed; existing tickets get their brand, number and department from
  their chat (open, in the department's queue).
- ticket_replies: answers sent to the customer on WhatsApp.
- leads: a task for a person (state, department, operator, done).
- chats.bot_resume_pending: an operator handed the chat back to the bot.

Revision ID: 0010_lists
Revises: 0009
"""
from alembic import op
import sqlalchemy as sa


revision = '0010_lists'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('chats', schema=None) as batch_op:
        batch_op.add_column(sa.Column('bot_resume_pending', sa.Boolean(), nullable=False, server_default='0'))
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('brand_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('phone_number_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('department_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('operator_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('state', sa.String(length=16), nullable=False, server_default='open'))
        batch_op.add_column(sa.Column('message', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('closed_by', sa.String(length=100), nullable=True))
        batch_op.create_foreign_key('fk_tickets_brand', 'brands', ['brand_id'], ['id'], ondelete='CASCADE')
        batch_op.create_foreign_key('fk_tickets_number', 'phone_numbers', ['phone_number_id'], ['id'],
                                    ondelete='SET NULL')
        batch_op.create_foreign_key('fk_tickets_department', 'departments', ['department_id'], ['id'],
                                    ondelete='SET NULL')
        batch_op.create_foreign_key('fk_tickets_operator', 'operators', ['operator_id'], ['id'],
                                    ondelete='SET NULL')
        batch_op.create_index('ix_tickets_brand_state', ['brand_id', 'state'], unique=False)
    # Tickets made before this revision: brand, number and department from their chat.
    op.execute("UPDATE tickets SET phone_number_id = (SELECT c.phone_number_id FROM chats c "
               "WHERE c.id = tickets.chat_id)")
    op.execute("UPDATE tickets SET brand_id = (SELECT w.brand_id FROM phone_numbers p "
               "JOIN wabas w ON w.id = p.waba_id WHERE p.id = tickets.phone_number_id)")
    op.execute("UPDATE tickets SET department_id = COALESCE((SELECT c.department_id FROM chats c "
               "WHERE c.id = tickets.chat_id), (SELECT p.department_id FROM phone_numbers p "
               "WHERE p.id = tickets.phone_number_id))")
    op.create_table(
        'ticket_replies',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('ticket_id', sa.Integer(), nullable=False),
        sa.Column('message_id', sa.Integer(), nullable=True),
        sa.Column('chat_id', sa.Integer(), nullable=True),
        sa.Column('operator_id', sa.Integer(), nullable=True),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['message_id'], ['messages.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['chat_id'], ['chats.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['operator_id'], ['operators.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_ticket_replies_ticket', 'ticket_replies', ['ticket_id', 'id'], unique=False)
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('task_state', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('department_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('operator_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('task_done_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('task_done_by', sa.String(length=100), nullable=True))
        batch_op.create_foreign_key('fk_leads_department', 'departments', ['department_id'], ['id'],
                                    ondelete='SET NULL')
        batch_op.create_foreign_key('fk_leads_operator', 'operators', ['operator_id'], ['id'],
                                    ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.drop_constraint('fk_leads_operator', type_='foreignkey')
        batch_op.drop_constraint('fk_leads_department', type_='foreignkey')
        for name in ('task_done_by', 'task_done_at', 'operator_id', 'department_id', 'task_state'):
            batch_op.drop_column(name)
    op.drop_index('ix_ticket_replies_ticket', table_name='ticket_replies')
    op.drop_table('ticket_replies')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_brand_state')
        for fk in ('fk_tickets_operator', 'fk_tickets_department', 'fk_tickets_number', 'fk_tickets_brand'):
            batch_op.drop_constraint(fk, type_='foreignkey')
        for name in ('closed_by', 'closed_at', 'updated_at', 'message', 'state', 'operator_id',
                     'department_id', 'phone_number_id', 'brand_id'):
            batch_op.drop_column(name)
    with op.batch_alter_table('chats', schema=None) as batch_op:
        batch_op.drop_column('bot_resume_pending')
