"""The desk's tables. Constraints live in the database: a unique wamid is the dedupe."""
from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    JSON,
    BigInteger,
    Float,
    Boolean,
    Column,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Table,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import declarative_base, relationship
from sqlalchemy.types import TypeDecorator

Base = declarative_base()


def wall_clock() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


clock = wall_clock  # the desk's one clock; tests may run it from a fixed date (tests/clock.py)


def utcnow() -> dt.datetime:
    """Now, by the desk's clock: where an event's own time exists, use that instead."""
    return clock()


class Utc(TypeDecorator):
    """Timezone-aware UTC timestamps, on SQLite too (it stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return value


def _enum(cls: type[enum.Enum]) -> Enum:
    # Stored as plain strings (portable, readable), validated by SQLAlchemy.
    return Enum(cls, native_enum=False, length=20, validate_strings=True,
                values_callable=lambda e: [m.value for m in e])


class NumberState(str, enum.Enum):
    connected = "connected"
    disconnected = "disconnected"  # Meta rejected our token: partner access removed


class ChatState(str, enum.Enum):
    bot = "bot"                # the bot is talking
    waiting = "waiting"        # handed off, in a department queue
    unattended = "unattended"  # nobody joined in time
    open = "open"              # an operator has it
    closed = "closed"


class HandoffReason(str, enum.Enum):
    """Why a person was asked for: the reports count handoffs by it."""
    asked = "asked"                  # the user asked for a person
    human_only = "human_only"        # an FAQ topic the business answers only in person
    misunderstood = "misunderstood"  # the bot did not understand, twice in a row
    lead = "lead"                    # a sales enquiry
    bot_down = "bot_down"            # the bot could not answer (action server away)
    takeover = "takeover"            # an operator took the chat from the bot
    transfer = "transfer"            # moved to another department


class Direction(str, enum.Enum):
    inbound = "in"
    outbound = "out"


class Sender(str, enum.Enum):
    user = "user"
    bot = "bot"
    operator = "operator"
    system = "system"


class Role(str, enum.Enum):
    admin = "admin"
    operator = "operator"
    manager = "manager"  # reads the reports; changes nothing, answers no chat
    trainer = "trainer"  # improves the bot (its inbox of misses); answers no chat


class OperatorStatus(str, enum.Enum):
    online = "online"
    away = "away"
    offline = "offline"


class JobState(str, enum.Enum):
    """Outbox and integration jobs: recorded first, sent by a worker, retried."""
    pending = "pending"
    sending = "sending"
    sent = "sent"
    failed = "failed"


class EventState(str, enum.Enum):
    pending = "pending"
    processing = "processing"
    done = "done"
    failed = "failed"
    ignored = "ignored"


class Brand(Base):
    __tablename__ = "brands"
    id = Column(Integer, primary_key=True)
    name = Column(String(200), nullable=False, unique=True)
    created_at = Column(Utc(), nullable=False, default=utcnow)


class Department(Base):
    __tablename__ = "departments"
    __table_args__ = (UniqueConstraint("brand_id", "name"),)
    id = Column(Integer, primary_key=True)
    brand_id = Column(ForeignKey("brands.id", ondelete="CASCADE"), nullable=False)
    name = Column(String(200), nullable=False)
    # Weekly open hours and holidays in the brand's time zone (desk.services.business_hours);
    # NULL: always open.
    business_hours = Column(JSON)
    # The name in other languages, {language: name} (desk.services.departments.name_in):
    # what the customer sees in their chat's language; `name` in every other one.
    names = Column(JSON)


class WhatsAppBusinessAccount(Base):
    __tablename__ = "wabas"
    id = Column(String(64), primary_key=True)  # Meta's WABA id
    brand_id = Column(ForeignKey("brands.id", ondelete="CASCADE"), nullable=False)
    name = Column(String(200), nullable=False)
    # Meta's latest `account_update` webhook (desk.services.account_events): e.g.
    # ACCOUNT_RESTRICTION, ACCOUNT_VIOLATION, DISABLED_UPDATE, VERIFIED_ACCOUNT.
    account_event = Column(String(60))
    account_event_detail = Column(JSON)
    account_event_at = Column(Utc())
    # How Meta bills this account (desk.billing): "conversation" (the source document's
    # 24-hour conversations) or "pmp" (per delivered message, desk.billing.per_message).
    pricing_model = Column(String(12), nullable=False, default="conversation", server_default="conversation")


class PhoneNumber(Base):
    __tablename__ = "phone_numbers"
    id = Column(String(64), primary_key=True)  # Meta's phone_number_id
    waba_id = Column(ForeignKey("wabas.id", ondelete="CASCADE"), nullable=False)
    display_phone_number = Column(String(32), nullable=False)
    department_id = Column(ForeignKey("departments.id", ondelete="SET NULL"))
    # Per-number token; NULL means the default from WHATSAPP_ACCESS_TOKEN.
    access_token = Column(Text)
    state = Column(_enum(NumberState), nullable=False, default=NumberState.connected)
    state_reason = Column(Text)
    state_changed_at = Column(Utc())
    # Meta's latest `phone_number_quality_update` (desk.services.account_events).
    quality_event = Column(String(40))      # FLAGGED, UNFLAGGED, UPGRADE, DOWNGRADE, ...
    messaging_limit = Column(String(40))    # max_daily_conversations_per_business, else current_limit
    quality_at = Column(Utc())

    waba = relationship(WhatsAppBusinessAccount, lazy="joined")


class Contact(Base):
    """A WhatsApp user, known by phone number and/or business-scoped user id (BSUID).

    `wa_id` is the contact's key: the identity it was first known by (a phone, or a
    BSUID for a username-only user). It never changes, so Rasa's sender id made of it
    (cloudapi.ids) stays the same when the other identity becomes known or the user
    changes number; `phone` and `bsuid` are the current identities
    (desk.services.contacts)."""
    __tablename__ = "contacts"
    __table_args__ = (Index("ix_contacts_phone", "phone", unique=True),
                      Index("ix_contacts_bsuid", "bsuid", unique=True))
    id = Column(Integer, primary_key=True)
    wa_id = Column(String(160), nullable=False, unique=True)
    phone = Column(String(32))         # digits with country code, as Meta sends them
    bsuid = Column(String(160))        # e.g. US.13491208655302741918
    parent_bsuid = Column(String(160))
    username = Column(String(100))     # without the "@"
    profile_name = Column(String(200))
    # The user asked Meta to stop marketing messages (`user_preferences` webhook): no
    # marketing template goes to them until they resume (desk.billing.templates).
    marketing_opt_out_at = Column(Utc())
    # On a coexistence number: the name the business gave the user in the WhatsApp
    # Business app's contacts (`smb_app_state_sync`; cleared when removed there), and
    # the time of the change it came from (an older change does not overwrite it).
    address_book_name = Column(String(200))
    address_book_at = Column(Utc())
    created_at = Column(Utc(), nullable=False, default=utcnow)


class Chat(Base):
    __tablename__ = "chats"
    __table_args__ = (Index("ix_chats_number_contact_state", "phone_number_id", "contact_id", "state"),
                      Index("ix_chats_opened_at", "opened_at"), Index("ix_chats_closed_at", "closed_at"))
    id = Column(Integer, primary_key=True)
    phone_number_id = Column(ForeignKey("phone_numbers.id"), nullable=False)
    contact_id = Column(ForeignKey("contacts.id"), nullable=False)
    state = Column(_enum(ChatState), nullable=False, default=ChatState.bot)
    department_id = Column(ForeignKey("departments.id", ondelete="SET NULL"))
    operator_id = Column(ForeignKey("operators.id", ondelete="SET NULL"))
    opened_at = Column(Utc(), nullable=False, default=utcnow)
    handed_off_at = Column(Utc())       # the bot (or the user) asked for a person
    assigned_at = Column(Utc())         # an operator joined
    bot_idle_step = Column(Integer, nullable=False, default=0)  # bot idle rules done since the user last wrote
    last_user_message_at = Column(Utc())
    last_activity_at = Column(Utc(), nullable=False, default=utcnow)
    closed_at = Column(Utc())
    closed_by = Column(String(100))
    close_reason = Column(Text)
    # Handed back to the bot by an operator (desk.services.takeover): the channel resumes
    # Rasa's conversation before the next user message, then clears this.
    bot_resume_pending = Column(Boolean, nullable=False, default=False, server_default="0")
    # Facts for the reports (desk.services.reports), kept when they happen.
    handoff_reason = Column(_enum(HandoffReason))
    first_response_at = Column(Utc())   # the first operator message after the handoff
    was_unattended = Column(Boolean, nullable=False, default=False, server_default="0")
    # The language the customer writes in (desk.language.next_language over their
    # messages; None until they wrote text): customer notices, canned responses and
    # templates follow it.
    language = Column(String(8))

    contact = relationship(Contact, lazy="joined")


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_chat_time", "chat_id", "wa_timestamp"),)
    id = Column(Integer, primary_key=True)
    chat_id = Column(ForeignKey("chats.id", ondelete="CASCADE"), nullable=False)
    direction = Column(_enum(Direction), nullable=False)
    sender = Column(_enum(Sender), nullable=False)
    wamid = Column(String(200), unique=True)  # NULL until Meta accepted an outbound message
    type = Column(String(32), nullable=False)
    body = Column(Text)
    payload = Column(JSON)
    # WhatsApp's own timestamp: Meta does not guarantee order, so transcripts sort by it.
    wa_timestamp = Column(Utc(), nullable=False, default=utcnow)
    status = Column(String(20), nullable=False)
    status_at = Column(Utc())
    error = Column(Text)
    created_at = Column(Utc(), nullable=False, default=utcnow)
    # A stored copy of the attachment (desk.attachments.MediaStore), by content hash.
    media_sha256 = Column(String(64))
    media_mime = Column(String(100))
    media_size = Column(Integer)
    media_filename = Column(String(255))
    # A bot reply: "<wamid of the user's message>#<n>", the n-th reply of that turn, so a
    # retried turn does not send what already went out (connectors/whatsapp/channel.py).
    reply_key = Column(String(250), unique=True)


class WebhookEvent(Base):
    """One item of a webhook (a message or a status), recorded before the 200.

    `dedupe_key` is unique: Meta redelivers, and the same message id must produce
    one bot turn. Rows are processed after the acknowledgement and again after a
    restart if the process died in between.
    """

    __tablename__ = "webhook_events"
    __table_args__ = (Index("ix_webhook_events_state", "state", "id"),)
    id = Column(Integer, primary_key=True)
    dedupe_key = Column(String(250), nullable=False, unique=True)
    kind = Column(String(16), nullable=False)  # message | status
    phone_number_id = Column(String(64), nullable=False)
    wa_id = Column(String(160), nullable=False)  # the user's phone, else BSUID, as the webhook names them
    payload = Column(JSON, nullable=False)
    received_at = Column(Utc(), nullable=False, default=utcnow)
    state = Column(_enum(EventState), nullable=False, default=EventState.pending)
    attempts = Column(Integer, nullable=False, default=0)
    locked_until = Column(Utc())
    last_error = Column(Text)


class Lead(Base):
    """A sales lead captured by the bot's form (or an operator), ready for the CRM."""

    __tablename__ = "leads"
    __table_args__ = (Index("ix_leads_created_at", "created_at"),)
    id = Column(Integer, primary_key=True)
    contact_id = Column(ForeignKey("contacts.id"), nullable=False)
    chat_id = Column(ForeignKey("chats.id", ondelete="SET NULL"))
    phone_number_id = Column(ForeignKey("phone_numbers.id"))
    name = Column(String(200))
    email = Column(String(320))
    company = Column(String(200))
    interest = Column(Text)
    phone = Column(String(32))  # E.164, from WhatsApp
    consent = Column(Boolean, nullable=False, default=False)
    consent_at = Column(Utc())
    created_at = Column(Utc(), nullable=False, default=utcnow)
    crm_state = Column(String(16), nullable=False, default="pending")  # pending|pushed|failed
    crm_id = Column(String(200))
    crm_pushed_at = Column(Utc())
    # The next-day follow-up template (actions/lead_follow_ups.py): None = not yet,
    # sending | queued | refused | skipped.
    follow_up_state = Column(String(16))
    follow_up_reason = Column(Text)
    followed_up_at = Column(Utc())
    # A task for a person (desk.services.leads): with no CRM to push the lead to, it is
    # queued for the brand's sales department. None = not a task | open | done.
    task_state = Column(String(16))
    department_id = Column(ForeignKey("departments.id", ondelete="SET NULL"))
    operator_id = Column(ForeignKey("operators.id", ondelete="SET NULL"))
    task_done_at = Column(Utc())
    task_done_by = Column(String(100))
    # The click-to-WhatsApp ad or post of its chat (desk.services.referrals.source_of), if any.
    source = Column(JSON)

    contact = relationship(Contact, lazy="joined")


operator_departments = Table(
    "operator_departments", Base.metadata,
    Column("operator_id", ForeignKey("operators.id", ondelete="CASCADE"), primary_key=True),
    Column("department_id", ForeignKey("departments.id", ondelete="CASCADE"), primary_key=True),
)

chat_tags = Table(
    "chat_tags", Base.metadata,
    Column("chat_id", ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True),
)


class Operator(Base):
    __tablename__ = "operators"
    id = Column(Integer, primary_key=True)
    brand_id = Column(ForeignKey("brands.id", ondelete="CASCADE"), nullable=False)
    email = Column(String(320), nullable=False, unique=True)
    name = Column(String(200), nullable=False)
    password_hash = Column(Text, nullable=False)  # argon2id
    role = Column(_enum(Role), nullable=False, default=Role.operator)
    status = Column(_enum(OperatorStatus), nullable=False, default=OperatorStatus.offline)
    max_concurrent_chats = Column(Integer, nullable=False, default=5)
    active = Column(Boolean, nullable=False, default=True)
    last_assigned_at = Column(Utc())  # routing: longest idle first
    last_seen_at = Column(Utc())
    created_at = Column(Utc(), nullable=False, default=utcnow)
    locale = Column(String(8))  # the console's language (desk.i18n.LOCALES); None = the browser's

    departments = relationship(Department, secondary=operator_departments, lazy="selectin")


class ConsoleSession(Base):
    """A signed-in console session. Only a hash of the cookie's token is stored:
    a copy of the table does not let anyone sign in. Several console instances
    share the table, and a restart keeps everyone signed in."""

    __tablename__ = "console_sessions"
    __table_args__ = (Index("ix_console_sessions_operator", "operator_id"),)
    token_hash = Column(String(64), primary_key=True)  # sha256 hex of the cookie token
    operator_id = Column(ForeignKey("operators.id", ondelete="CASCADE"), nullable=False)
    created_at = Column(Utc(), nullable=False, default=utcnow)
    last_seen_at = Column(Utc(), nullable=False, default=utcnow)


class LoginAttempt(Base):
    """A failed console sign-in, so every console instance counts the same failures
    (see desk.web.auth.LoginThrottle). The email is stored as a SHA-256 of its
    lower-cased form: whatever an attacker (or an operator who typed a password in
    the email field) sent is not kept in clear. After a successful sign-in the
    account's failures from that address lose their email (NULL) but still count for
    the address. `LoginThrottle.prune` deletes rows once no rule counts them."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_account", "email_hash", "address", "attempted_at"),
                      Index("ix_login_attempts_address", "address", "attempted_at"),
                      Index("ix_login_attempts_at", "attempted_at"))
    id = Column(Integer, primary_key=True)
    email_hash = Column(String(64))  # sha256 hex of the lower-cased email; NULL once cleared
    address = Column(String(64), nullable=False)
    attempted_at = Column(Utc(), nullable=False, default=utcnow)


class Tag(Base):
    __tablename__ = "tags"
    __table_args__ = (UniqueConstraint("brand_id", "name"),)
    id = Column(Integer, primary_key=True)
    brand_id = Column(ForeignKey("brands.id", ondelete="CASCADE"), nullable=False)
    name = Column(String(60), nullable=False)


class CannedResponse(Base):
    __tablename__ = "canned_responses"
    # One shortcut per language: /hours in English and in Japanese (the composer offers the chat's first).
    __table_args__ = (UniqueConstraint("brand_id", "shortcut", "language", name="uq_canned_responses_shortcut_language"),)
    id = Column(Integer, primary_key=True)
    brand_id = Column(ForeignKey("brands.id", ondelete="CASCADE"), nullable=False)
    shortcut = Column(String(40), nullable=False)  # typed as /shortcut in the reply box
    title = Column(String(200), nullable=False)
    text = Column(Text, nullable=False)
    language = Column(String(8), nullable=False, default="en", server_default="en")  # desk.language.LANGUAGES


class Ticket(Base):
    """A chat turned into a helpdesk ticket (with its transcript), pushed by an adapter.

    Queued for its department like a chat (desk.services.tickets): open with no
    operator = in the department's queue; a colleague takes it, answers the customer
    on WhatsApp (`TicketReply`) and closes it."""

    __tablename__ = "tickets"
    __table_args__ = (Index("ix_tickets_brand_state", "brand_id", "state"),)
    id = Column(Integer, primary_key=True)
    chat_id = Column(ForeignKey("chats.id", ondelete="SET NULL"))
    contact_id = Column(ForeignKey("contacts.id"), nullable=False)
    subject = Column(String(255), nullable=False)
    description = Column(Text, nullable=False)
    created_by = Column(String(100))  # operator email, or "bot" for left messages
    created_at = Column(Utc(), nullable=False, default=utcnow)
    external_id = Column(String(200))
    brand_id = Column(ForeignKey("brands.id", ondelete="CASCADE"))
    phone_number_id = Column(ForeignKey("phone_numbers.id", ondelete="SET NULL"))
    department_id = Column(ForeignKey("departments.id", ondelete="SET NULL"))
    operator_id = Column(ForeignKey("operators.id", ondelete="SET NULL"))
    state = Column(String(16), nullable=False, default="open", server_default="open")  # open | closed
    message = Column(Text)  # what the customer left ("Leave a message"), or None
    updated_at = Column(Utc())
    closed_at = Column(Utc())
    closed_by = Column(String(100))

    contact = relationship(Contact, lazy="joined")


class TicketReply(Base):
    """An answer to a ticket, sent to the customer on WhatsApp through the outbox."""

    __tablename__ = "ticket_replies"
    __table_args__ = (Index("ix_ticket_replies_ticket", "ticket_id", "id"),)
    id = Column(Integer, primary_key=True)
    ticket_id = Column(ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False)
    message_id = Column(ForeignKey("messages.id", ondelete="SET NULL"))
    chat_id = Column(ForeignKey("chats.id", ondelete="SET NULL"))
    operator_id = Column(ForeignKey("operators.id", ondelete="SET NULL"))
    kind = Column(String(16), nullable=False)  # text | template
    body = Column(Text, nullable=False)
    created_at = Column(Utc(), nullable=False, default=utcnow)


class ChatNote(Base):
    """An operator's internal note on a chat: shown in the console's transcript to the
    chat's brand, never sent to WhatsApp (no outbox row, not a message)."""

    __tablename__ = "chat_notes"
    __table_args__ = (Index("ix_chat_notes_chat", "chat_id", "id"),)
    id = Column(Integer, primary_key=True)
    chat_id = Column(ForeignKey("chats.id", ondelete="CASCADE"), nullable=False)
    operator_id = Column(ForeignKey("operators.id", ondelete="SET NULL"))
    author = Column(String(200), nullable=False)  # the operator's name when written (kept if they leave)
    body = Column(Text, nullable=False)
    created_at = Column(Utc(), nullable=False, default=utcnow)


class DeskSettingsRow(Base):
    """Per-brand timeouts and bot rules, set by admins (validated in desk.services.settings)."""

    __tablename__ = "brand_settings"
    brand_id = Column(ForeignKey("brands.id", ondelete="CASCADE"), primary_key=True)
    unattended_close_minutes = Column(Integer, nullable=False, default=24 * 60)
    idle_close_minutes = Column(Integer, nullable=False, default=60)
    bot_enabled = Column(Boolean, nullable=False, default=True)
    bot_idle_rules = Column(JSON, nullable=False, default=list)
    csat = Column(JSON)  # the satisfaction survey's settings (desk.services.csat); None = off
    notices = Column(JSON)  # {key: text} over desk.services.notices.CUSTOMER_DEFAULTS ("" = not sent)
    languages = Column(JSON)  # the languages the brand speaks, e.g. ["ja", "en"]; None = all of desk.language.LANGUAGES
    default_language = Column(String(8))  # for a customer who has not written text yet; None = desk.language.DEFAULT_LANGUAGE
    time_zone = Column(String(64))  # IANA name for dates in the console and reports, e.g. "Asia/Tokyo"; None = UTC


class CsatSurvey(Base):
    """The satisfaction survey of one closed chat (desk.services.csat): at most one per
    chat (the unique chat_id makes two workers agree), sent, skipped with the reason,
    or answered with a score and perhaps a comment."""

    __tablename__ = "csat_surveys"
    __table_args__ = (Index("ix_csat_surveys_contact", "phone_number_id", "contact_id", "comment_until"),
                      Index("ix_csat_surveys_brand_time", "brand_id", "created_at"))
    id = Column(Integer, primary_key=True)
    chat_id = Column(ForeignKey("chats.id", ondelete="CASCADE"), nullable=False, unique=True)
    brand_id = Column(ForeignKey("brands.id", ondelete="CASCADE"), nullable=False)
    phone_number_id = Column(String(64), nullable=False)
    contact_id = Column(ForeignKey("contacts.id", ondelete="CASCADE"), nullable=False)
    operator_id = Column(ForeignKey("operators.id", ondelete="SET NULL"))
    department_id = Column(ForeignKey("departments.id", ondelete="SET NULL"))
    close_kind = Column(String(16), nullable=False)   # operator | unattended | idle | bot
    state = Column(String(12), nullable=False)        # sent | skipped | answered | commented
    via = Column(String(10))                          # buttons (in the window) | template
    skip_reason = Column(Text)
    score = Column(Integer)                           # 1 poor, 2 okay, 3 great
    comment = Column(Text)
    comment_until = Column(Utc())                     # a text before this is the comment
    created_at = Column(Utc(), nullable=False, default=utcnow)
    answered_at = Column(Utc())


class OutboxMessage(Base):
    """An operator's (or the desk's) WhatsApp message, recorded before it is sent.

    `id` travels to Meta as `biz_opaque_callback_data` and comes back on status
    webhooks: after a crash mid-send, a row whose status came back is known sent
    and is not sent again.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_state_due", "state", "next_attempt_at"),)
    id = Column(Integer, primary_key=True)
    message_id = Column(ForeignKey("messages.id", ondelete="CASCADE"), nullable=False, unique=True)
    phone_number_id = Column(String(64), nullable=False)
    wa_id = Column(String(160), nullable=False)  # the contact's key (Contact.wa_id)
    request = Column(JSON, nullable=False)  # the Cloud API message object
    state = Column(_enum(JobState), nullable=False, default=JobState.pending)
    attempts = Column(Integer, nullable=False, default=0)
    next_attempt_at = Column(Utc(), nullable=False, default=utcnow)
    locked_until = Column(Utc())
    last_error = Column(Text)
    created_at = Column(Utc(), nullable=False, default=utcnow)
    sent_at = Column(Utc())


class IntegrationJob(Base):
    """A push to a CRM or helpdesk (lead or ticket), retried from this outbox."""

    __tablename__ = "integration_jobs"
    __table_args__ = (Index("ix_integration_jobs_state_due", "state", "next_attempt_at"),)
    id = Column(Integer, primary_key=True)
    kind = Column(String(20), nullable=False)       # lead | ticket
    adapter = Column(String(40), nullable=False)    # zoho | webhook
    ref_id = Column(Integer, nullable=False)        # leads.id or tickets.id
    state = Column(_enum(JobState), nullable=False, default=JobState.pending)
    attempts = Column(Integer, nullable=False, default=0)
    next_attempt_at = Column(Utc(), nullable=False, default=utcnow)
    locked_until = Column(Utc())
    last_error = Column(Text)
    external_id = Column(String(200))
    created_at = Column(Utc(), nullable=False, default=utcnow)
    done_at = Column(Utc())


# --- billing: conversations, prepaid credits, templates (rules in desk/billing) -------
# Money is integer micro-USD (1 USD = 1,000,000): exact on SQLite and PostgreSQL alike;
# desk.billing converts to Decimal at its edges.

class ConversationCategory(str, enum.Enum):
    """The source document's conversation-based pricing (2022)."""
    user_initiated = "user_initiated"          # the business answers inside the 24-hour window
    business_initiated = "business_initiated"  # the business opens it with an approved template


class BillingAccount(Base):
    """One row per brand: the row a charge locks, so a brand's charges run one at a
    time (no overdraft). The balance is not stored here: it is the ledger's sum."""

    __tablename__ = "billing_accounts"
    brand_id = Column(ForeignKey("brands.id", ondelete="CASCADE"), primary_key=True)
    low_balance_micros = Column(BigInteger, nullable=False, default=10_000_000)
    lock_version = Column(BigInteger, nullable=False, default=0)
    created_at = Column(Utc(), nullable=False, default=utcnow)


class BilledConversation(Base):
    """A 24-hour WhatsApp conversation between a business number and a user."""

    __tablename__ = "wa_conversations"
    __table_args__ = (
        Index("ix_wa_conversations_pair", "phone_number_id", "wa_id", "expires_at"),
        Index("ix_wa_conversations_tier", "waba_id", "month", "billable"),
        Index("ix_wa_conversations_brand_month", "brand_id", "month"),
    )
    id = Column(Integer, primary_key=True)
    brand_id = Column(ForeignKey("brands.id"), nullable=False)
    waba_id = Column(String(64), nullable=False)
    phone_number_id = Column(String(64), nullable=False)
    wa_id = Column(String(160), nullable=False)  # the contact's key (Contact.wa_id)
    market = Column(String(64), nullable=False)
    category = Column(_enum(ConversationCategory), nullable=False)
    opened_at = Column(Utc(), nullable=False)
    expires_at = Column(Utc(), nullable=False)
    month = Column(String(7), nullable=False)       # free-tier month, "YYYY-MM" in UTC
    state = Column(String(10), nullable=False, default="open")  # open | void (never went out)
    billable = Column(Boolean, nullable=False, default=True)    # counts toward the free tier
    free_tier = Column(Boolean, nullable=False)
    rate_micros = Column(BigInteger, nullable=False)  # the market's rate for the category
    cost_micros = Column(BigInteger, nullable=False)  # what it costs the brand (0 in the free tier)
    opened_by = Column(String(20), nullable=False)    # bot | operator | system | template
    opening_message_id = Column(ForeignKey("messages.id", ondelete="SET NULL"))
    meta_conversation_id = Column(String(128), unique=True)
    meta_category = Column(String(40))
    meta_billable = Column(Boolean)
    meta_pricing_model = Column(String(10))
    reconciled_at = Column(Utc())
    note = Column(Text)


class CreditEntry(Base):
    """The append-only credit ledger (the database refuses UPDATE and DELETE)."""

    __tablename__ = "credit_ledger"
    __table_args__ = (Index("ix_credit_ledger_brand_time", "brand_id", "created_at"),)
    id = Column(Integer, primary_key=True)
    brand_id = Column(ForeignKey("brands.id"), nullable=False)
    kind = Column(String(20), nullable=False)   # purchase | conversation | reconciliation | refund | adjustment
    credits = Column(Integer)                   # purchases: credits bought
    amount_micros = Column(BigInteger, nullable=False)  # signed change of the balance
    fee_micros = Column(BigInteger, nullable=False, default=0)  # purchases: the 3% fee paid on top
    conversation_id = Column(ForeignKey("wa_conversations.id"))
    message_charge_id = Column(Integer)  # per-message pricing: the wa_message_charges row
    note = Column(Text)
    created_by = Column(String(100))
    created_at = Column(Utc(), nullable=False, default=utcnow)


class MessageCharge(Base):
    """One outbound message of a per-message-priced WABA (desk.billing.per_message):
    what it cost when sent, and what Meta's status webhook said of it."""

    __tablename__ = "wa_message_charges"
    __table_args__ = (Index("ix_wa_message_charges_number_month", "phone_number_id", "month", "category"),
                      Index("ix_wa_message_charges_brand_month", "brand_id", "month"))
    id = Column(Integer, primary_key=True)
    brand_id = Column(ForeignKey("brands.id"), nullable=False)
    waba_id = Column(String(64), nullable=False)
    phone_number_id = Column(String(64), nullable=False)
    wa_id = Column(String(160), nullable=False)
    message_id = Column(ForeignKey("messages.id", ondelete="SET NULL"), unique=True)
    month = Column(String(7), nullable=False)        # "YYYY-MM", UTC (desk.billing.policy.month_of)
    category = Column(String(40), nullable=False)    # marketing | utility | authentication | ... | service
    type = Column(String(30), nullable=False)        # regular | free_customer_service | free_entry_point
    market = Column(String(64), nullable=False)
    card = Column(Date)                               # the rate card's effective date, when one was used
    price_micros = Column(BigInteger, nullable=False)  # what the brand pays for it now
    state = Column(String(10), nullable=False, default="charged")  # charged | refunded (never delivered)
    sent_by = Column(String(20), nullable=False)     # bot | operator | system | template
    reason = Column(Text)                            # why this price, for people
    meta_type = Column(String(30))                   # the status webhook's pricing.type
    meta_category = Column(String(40))
    reconciled_at = Column(Utc())
    created_at = Column(Utc(), nullable=False, default=utcnow)


class BotModel(Base):
    """A training run of the bot's model and its outcome (desk.services.bot_models)."""

    __tablename__ = "bot_models"
    id = Column(Integer, primary_key=True)
    brand_id = Column(ForeignKey("brands.id", ondelete="SET NULL"))   # whose trainer asked
    state = Column(String(12), nullable=False)    # queued | training | trained | failed | published | retired
    note = Column(Text)
    requested_by = Column(String(320), nullable=False)
    requested_at = Column(Utc(), nullable=False, default=utcnow)
    started_at = Column(Utc())
    finished_at = Column(Utc())
    path = Column(Text)                           # the .tar.gz under BOT_MODELS_DIR
    fingerprint = Column(String(64), unique=True)  # sha256 of the file: Rasa's ETag
    size = Column(BigInteger)
    figures = Column(JSON)                        # held-out quality per language (nlp.quality --json)
    log_tail = Column(Text)
    published_at = Column(Utc())
    published_by = Column(String(320))
    publish_reason = Column(Text)                 # why, when it scored worse than the model it replaced
    progress = Column(String(200))                # while training: "2/3 training" (the step it is at)
    live_at = Column(Utc())                       # last time Rasa pulled while running it


class MessageTemplate(Base):
    """A WABA's message template, as registered with Meta (status as Meta reports it)."""

    __tablename__ = "message_templates"
    __table_args__ = (UniqueConstraint("waba_id", "name", "language"),)
    id = Column(Integer, primary_key=True)
    waba_id = Column(ForeignKey("wabas.id", ondelete="CASCADE"), nullable=False)
    name = Column(String(512), nullable=False)
    language = Column(String(15), nullable=False)
    category = Column(String(20), nullable=False)  # MARKETING | UTILITY | AUTHENTICATION
    status = Column(String(20), nullable=False)    # APPROVED | PENDING | REJECTED | PAUSED | DISABLED
    status_reason = Column(Text)
    components = Column(JSON, nullable=False)
    meta_template_id = Column(String(64))
    # Meta's quality rating (`message_template_quality_update`): GREEN | YELLOW | RED |
    # UNKNOWN; NULL until Meta rated it. RED (or a pause) warns the admins.
    quality_score = Column(String(10))
    quality_at = Column(Utc())
    created_at = Column(Utc(), nullable=False, default=utcnow)
    updated_at = Column(Utc(), nullable=False, default=utcnow)


class BotMiss(Base):
    """A bot answer the user said was wrong ("not helpful"), or a question the bot was not
    sure enough to answer: what the trainer reads to improve knowledge/ (desk.services.bot_misses)."""

    __tablename__ = "bot_misses"
    __table_args__ = (Index("ix_bot_misses_created", "created_at"), Index("ix_bot_misses_state", "state", "created_at"))
    id = Column(Integer, primary_key=True)
    kind = Column(String(16), nullable=False)          # desk.services.bot_misses.KINDS (the reason)
    phone_number_id = Column(String(64))               # the business number (no FK: self-contained)
    wa_id = Column(String(160))                        # the user (phone or BSUID: the contact key)
    chat_id = Column(Integer)                          # the desk chat, if known
    question = Column(Text, nullable=False)            # what the user asked
    article = Column(String(100))                      # the article answered (not_helpful) or best guess
    confidence = Column(Float)                         # the ResponseSelector's confidence in it
    offered = Column(String(100))                      # the runner-up article offered instead, if any
    created_at = Column(Utc(), nullable=False, default=utcnow)
    # The trainer's inbox (desk.services.trainer): open until resolved.
    state = Column(String(16), nullable=False, default="open", server_default="open")  # open|variant|out_of_scope
    resolution = Column(String(100))                   # the article it became a question of
    resolved_by = Column(String(320))
    resolved_at = Column(Utc())
