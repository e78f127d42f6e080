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

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from desk.integrations import jobs
from desk.models import (Chat, ChatState, Contact, IntegrationJob, Lead, Message, Operator, PhoneNumber,
                         Role, Sender, Ticket, TicketReply, utcnow)
from desk.services import contacts, routing

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
        return f"{contacts.display_name(contact)} (user)"
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
                                  subject: str | None = None, *, adapter: str | None = None,
                                  department: str | None = None, message: str | None = None) -> Ticket:
    """Store a ticket with the chat's transcript and queue its push.

    `created_by` is the operator's email (or "bot"); `adapter` defaults to CRM_ADAPTER,
    and "none" stores the ticket without pushing it. The ticket is queued for a
    department like a chat (the one named `department` in the chat's brand, else the
    chat's, else its number's); `message` is what the customer left, if anything.
    """
    chat = await session.get(Chat, chat_id)
    if chat is None:
        raise TicketError(f"no chat {chat_id}")
    brand_id = await routing.brand_of_number(session, chat.phone_number_id)
    department_id = await _department_for(session, chat, brand_id, department)
    contact = await session.get(Contact, chat.contact_id)  # a chat made in this session has it unloaded
    messages = list((await session.execute(select(Message).where(Message.chat_id == chat_id)
                                           .order_by(Message.wa_timestamp, Message.id))).scalars())
    who = contacts.display_name(contact)
    phone = contacts.phone_of(contact)
    handle = f"+{phone}" if phone else (f"@{contact.username}" if contact.username else contact.wa_id)
    subject = " ".join((subject or f"WhatsApp chat with {who} ({handle})").split())
    if not subject:
        raise TicketError("the subject is empty")
    description = "\n".join(transcript_lines(messages, contact)) or "(no messages)"
    message = (message or "").strip() or None
    ticket = Ticket(chat_id=chat.id, contact_id=contact.id, subject=subject[:SUBJECT_MAX],
                    description=description, created_by=created_by, brand_id=brand_id,
                    phone_number_id=chat.phone_number_id, department_id=department_id, state="open",
                    message=message, updated_at=utcnow())
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


# --- tickets queued for departments: take, answer on WhatsApp, close -----------------------
# A ticket is open (in its department's queue while nobody owns it) or closed. Everyone
# sees only their brand's tickets; an operator those of their departments, an admin all.

TICKET_STATES = ("open", "closed")


async def _department_for(session: AsyncSession, chat: Chat, brand_id: int | None,
                          name: str | None) -> int | None:
    if name and brand_id is not None:
        from desk.services import departments

        found = await departments.find(session, brand_id, name)  # its name in any language
        if found is not None:
            return found.id
    if chat.department_id is not None:
        return chat.department_id
    number = await session.get(PhoneNumber, chat.phone_number_id)
    return number.department_id if number is not None else None


def ticket_visible_to(operator: Operator):
    """SQL condition: the tickets an operator may see (brand, then department)."""
    in_brand = Ticket.brand_id == operator.brand_id
    if operator.role == Role.admin:
        return in_brand
    return in_brand & Ticket.department_id.in_([d.id for d in operator.departments])


async def visible_ticket(session: AsyncSession, operator: Operator, ticket_id: int) -> Ticket | None:
    return (await session.execute(select(Ticket).where(Ticket.id == ticket_id, ticket_visible_to(operator)))
            ).scalar_one_or_none()


async def _ticket(session: AsyncSession, operator: Operator, ticket_id: int) -> Ticket:
    ticket = await visible_ticket(session, operator, ticket_id)
    if ticket is None:
        raise TicketError(f"no ticket {ticket_id}")
    return ticket


def _may_work_on(operator: Operator, ticket: Ticket) -> bool:
    if ticket.operator_id not in (None, operator.id) and operator.role != Role.admin:
        return False
    return True


async def take_ticket(session: AsyncSession, ticket_id: int, operator: Operator) -> Ticket:
    """`operator` takes an open ticket from the queue (or from a colleague, if an admin)."""
    ticket = await _ticket(session, operator, ticket_id)
    if ticket.state != "open":
        raise TicketError("this ticket is closed: reopen it first")
    if ticket.operator_id == operator.id:
        return ticket
    if ticket.operator_id is not None and operator.role != Role.admin:
        raise TicketError("someone else has this ticket")
    won = await session.execute(update(Ticket).where(
        Ticket.id == ticket.id, Ticket.state == "open",
        Ticket.operator_id.is_(None) if ticket.operator_id is None else Ticket.operator_id == ticket.operator_id)
        .values(operator_id=operator.id, updated_at=utcnow()).execution_options(synchronize_session=False))
    if won.rowcount != 1:
        raise TicketError("someone else took this ticket")
    await session.refresh(ticket)
    return ticket


async def close_ticket(session: AsyncSession, ticket_id: int, operator: Operator) -> Ticket:
    ticket = await _ticket(session, operator, ticket_id)
    if ticket.state == "closed":
        raise TicketError("this ticket is already closed")
    if not _may_work_on(operator, ticket):
        raise TicketError("only the ticket's owner or an admin can close it")
    now = utcnow()
    ticket.state, ticket.closed_at, ticket.closed_by, ticket.updated_at = "closed", now, operator.email, now
    ticket.operator_id = ticket.operator_id or operator.id
    await session.flush()
    return ticket


async def reopen_ticket(session: AsyncSession, ticket_id: int, operator: Operator) -> Ticket:
    ticket = await _ticket(session, operator, ticket_id)
    if ticket.state != "closed":
        raise TicketError("this ticket is open")
    ticket.state, ticket.closed_at, ticket.closed_by, ticket.updated_at = "open", None, None, utcnow()
    await session.flush()
    return ticket


async def reply_chat(session: AsyncSession, ticket: Ticket, operator: Operator) -> Chat:
    """The chat a ticket's answer goes through, with `operator` as its operator: the
    customer's live chat on the ticket's number (taken from the bot or the queue), or
    a new chat of this operator's (the customer's answer then reaches them, not the bot).
    Someone else's live chat with the customer is theirs: refused."""
    from desk.services import outbox, takeover

    number_id = ticket.phone_number_id
    if number_id is None:
        raise outbox.CannotSend("this ticket has no WhatsApp number to answer from")
    chats = list((await session.execute(select(Chat).where(
        Chat.phone_number_id == number_id, Chat.contact_id == ticket.contact_id)
        .order_by(Chat.id.desc()).limit(20))).scalars())
    live = next((c for c in chats if c.state != ChatState.closed), None)
    if live is not None:
        if live.state == ChatState.bot:
            return await takeover.take_over(session, live.id, operator)
        if live.state in (ChatState.waiting, ChatState.unattended):
            return await routing.pick(session, live.id, operator)
        if live.operator_id != operator.id and operator.role != Role.admin:
            name = (await session.get(Operator, live.operator_id)).name if live.operator_id else "A colleague"
            raise outbox.CannotSend(f"{name} is chatting with this customer now: answer in that chat, "
                                    "or ask them to transfer it to you")
        return live
    now = utcnow()
    last_user = max((c.last_user_message_at for c in chats if c.last_user_message_at), default=None)
    chat = Chat(phone_number_id=number_id, contact_id=ticket.contact_id, state=ChatState.open,
                department_id=ticket.department_id, operator_id=operator.id, opened_at=now, handed_off_at=now,
                assigned_at=now, last_activity_at=now, last_user_message_at=last_user)
    session.add(chat)
    await session.flush()
    await session.refresh(chat, attribute_names=["contact"])
    await takeover.audit(session, chat.id, f"{operator.name} answered ticket #{ticket.id}", by=operator)
    return chat


async def answer_ticket(session: AsyncSession, ticket_id: int, operator: Operator, *, text: str | None = None,
                        template: dict | None = None) -> TicketReply:
    """Answer the customer on WhatsApp: free text inside the 24-hour window, an approved
    template (`{"name", "language", "body_params", "header_params"}`) outside it. Both
    go through the outbox (desk.services.outbox), its checks and billing included.
    An unowned ticket is taken by whoever answers it."""
    from desk.billing import policy
    from desk.billing import templates as billing_templates
    from desk.services import outbox

    ticket = await _ticket(session, operator, ticket_id)
    if ticket.state != "open":
        raise TicketError("this ticket is closed: reopen it to answer")
    if not _may_work_on(operator, ticket):
        raise TicketError("someone else has this ticket")
    text = (text or "").strip()
    if not template and not text:
        raise outbox.CannotSend("the message is empty")
    if not template and len(text) > outbox.TEXT_LIMIT:
        raise outbox.CannotSend(f"the message is {len(text)} characters; WhatsApp allows {outbox.TEXT_LIMIT}")
    if not template and ticket.phone_number_id is not None:  # refused before anything changes
        last_user = (await session.execute(select(func.max(Chat.last_user_message_at)).where(
            Chat.phone_number_id == ticket.phone_number_id, Chat.contact_id == ticket.contact_id))).scalar_one()
        if not policy.window_open(last_user, utcnow()):
            found = await billing_templates.approved_for_number(session, ticket.phone_number_id)
            raise outbox.CannotSend(
                "the customer last wrote more than 24 hours ago: only an approved template can be sent"
                + ("" if found else " and this number has no approved template (Admin › Templates)"))
    chat = await reply_chat(session, ticket, operator)
    if template:
        number = await session.get(PhoneNumber, chat.phone_number_id)
        name, language = str(template.get("name") or ""), str(template.get("language") or "")
        prepared = billing_templates.prepare(
            await billing_templates.find(session, number.waba_id, name, language), name=name, language=language,
            body_params=template.get("body_params") or [], header_params=template.get("header_params") or [])
        msg = await outbox.send_template_message(session, chat, prepared.message, prepared.text,
                                                 sender=Sender.operator, by=operator.email)
        kind, body = "template", prepared.text
    else:
        msg = await outbox.send_operator_text(session, chat.id, operator, text)
        kind, body = "text", text
    if ticket.operator_id is None:
        ticket.operator_id = operator.id
    ticket.updated_at = utcnow()
    reply = TicketReply(ticket_id=ticket.id, message_id=msg.id, chat_id=chat.id, operator_id=operator.id,
                        kind=kind, body=body or "")
    session.add(reply)
    await session.flush()
    return reply


async def replies(session: AsyncSession, ticket_id: int) -> list[tuple[TicketReply, Message | None]]:
    rows = await session.execute(select(TicketReply, Message).outerjoin(Message, Message.id == TicketReply.message_id)
                                 .where(TicketReply.ticket_id == ticket_id).order_by(TicketReply.id))
    return [tuple(r) for r in rows.all()]
