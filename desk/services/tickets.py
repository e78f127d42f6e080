"""Helpdesk tickets made from chats, and pushes of leads and tickets to the CRM/helpdesk.

A ticket keeps the chat's transcript in WhatsApp-timestamp order (Meta does not
guarantee delivery order), one line per message:

    [2026-11-24 10:00 UTC] Kerry (user): my order has not arrived
    [2026-11-24 10:01 UTC] Bot (bot): Let me find a person for you.
    [2026-11-24 10:03 UTC] Aiko (operator): Hello Kerry, ...

The push itself is an `IntegrationJob` in the same transaction, sent by the worker
(desk.integrations.jobs); the adapter defaults to `CRM_ADAPTER` (none: no push).
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from desk.integrations import jobs
from desk.models import Chat, Contact, IntegrationJob, Lead, Message, Sender, Ticket

SUBJECT_MAX = 255


class TicketError(ValueError):
    """The ticket or push cannot be made; the message says why."""


def _default_adapter() -> str:
    # Only the name: a ticket is stored even if the adapter's settings are incomplete
    # (the worker refuses to start and says what is missing; the job waits).
    from desk.integrations.config import adapter_from_env

    return adapter_from_env()


def _who(msg: Message, contact: Contact) -> str:
    if msg.sender == Sender.user:
        return f"{contact.profile_name or '+' + contact.wa_id} (user)"
    if msg.sender == Sender.operator:
        name = (msg.payload or {}).get("operator_name") if isinstance(msg.payload, dict) else None
        return f"{name or 'Operator'} (operator)"
    if msg.sender == Sender.bot:
        return "Bot (bot)"
    return "System (system)"


def _text(msg: Message) -> str:
    text = (msg.body or "").strip()
    if msg.media_filename or (not text and msg.type not in ("text", None)):
        attachment = f"[{msg.type}{': ' + msg.media_filename if msg.media_filename else ''}]"
        text = f"{attachment} {text}".strip()
    return "\n    ".join(text.splitlines()) if text else "(empty)"


def transcript_lines(messages: list[Message], contact: Contact) -> list[str]:
    """One line per message, sorted by WhatsApp timestamp then arrival."""
    ordered = sorted(messages, key=lambda m: (m.wa_timestamp, m.id or 0))
    return [f"[{m.wa_timestamp:%Y-%m-%d %H:%M} UTC] {_who(m, contact)}: {_text(m)}" for m in ordered]


async def create_ticket_from_chat(session: AsyncSession, chat_id: int, created_by: str,
                                  subject: str | None = None, *, adapter: str | None = None) -> Ticket:
    """Store a ticket with the chat's transcript and queue its push.

    `created_by` is the operator's email (or "bot"); `adapter` defaults to CRM_ADAPTER,
    and "none" stores the ticket without pushing it.
    """
    chat = await session.get(Chat, chat_id)
    if chat is None:
        raise TicketError(f"no chat {chat_id}")
    contact = chat.contact
    messages = list((await session.execute(select(Message).where(Message.chat_id == chat_id)
                                           .order_by(Message.wa_timestamp, Message.id))).scalars())
    who = contact.profile_name or f"+{contact.wa_id}"
    subject = " ".join((subject or f"WhatsApp chat with {who} (+{contact.wa_id})").split())
    if not subject:
        raise TicketError("the subject is empty")
    description = "\n".join(transcript_lines(messages, contact)) or "(no messages)"
    ticket = Ticket(chat_id=chat.id, contact_id=contact.id, subject=subject[:SUBJECT_MAX],
                    description=description, created_by=created_by)
    session.add(ticket)
    await session.flush()
    adapter = adapter or _default_adapter()
    if adapter != "none":
        await jobs.enqueue(session, "ticket", ticket.id, adapter)
    return ticket


async def enqueue_lead_push(session: AsyncSession, lead_id: int, adapter: str | None = None) -> IntegrationJob | None:
    """Queue the push of a lead to the CRM (once: a second click returns the same job).

    Returns None when the adapter is "none". A lead whose last push failed gets a new job.
    """
    lead = await session.get(Lead, lead_id)
    if lead is None:
        raise TicketError(f"no lead {lead_id}")
    adapter = adapter or _default_adapter()
    if adapter == "none":
        return None
    job = await jobs.enqueue(session, "lead", lead.id, adapter)
    if job.state != "sent" and lead.crm_state != "pushed":
        lead.crm_state = "pending"
    return job
