"""A coexistence number's past (Meta's `history` webhook, sent in phases and chunks when
a business using the WhatsApp Business app is onboarded onto the Cloud API): each past
message, the user's or the business's, is kept in the user's chat on the number with
its own WhatsApp timestamp, so that operators see what was said before. It is the past:
the customer-service window (`chats.last_user_message_at`), the chat's language, the
bot's idle rules and the unanswered counters stay as they were, and the bot does not
answer it. Redelivered chunks change nothing (one row per wamid)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from desk.models import Chat, ChatState, Direction, Message, Sender
from desk.services import contacts, conversations

SOURCE = "whatsapp_business_app_history"
# Meta's history_context.status of a business message → the desk's delivery status.
STATUSES = {"PENDING": "accepted", "SENT": "sent", "DELIVERED": "delivered", "READ": "read", "PLAYED": "read",
            "ERROR": "failed"}


async def record_past(session: AsyncSession, *, phone_number_id: str, wa_id: str | None, user_id: str | None,
                      wamid: str, type: str, body: str | None, payload: dict, wa_timestamp: dt.datetime,
                      from_business: bool, status: str | None = None) -> tuple[Chat, Message]:
    """The past message in the user's live chat on the number, else their latest one (a
    closed chat stays closed: the bot's conversation of it, maybe paused by a handoff, is
    resumed by the user's next message as after any close), else a new chat."""
    contact = await contacts.identify(session, phone=wa_id, bsuid=user_id)
    chat = (await session.execute(select(Chat).where(
        Chat.phone_number_id == phone_number_id, Chat.contact_id == contact.id)
        .order_by((Chat.state != ChatState.closed).desc(), Chat.id.desc()).limit(1))).scalar_one_or_none()
    if chat is None:
        chat = await conversations.current_chat(session, phone_number_id, contact.wa_id, contact=contact)
    existing = (await session.execute(select(Message).where(Message.wamid == wamid))).scalar_one_or_none()
    if existing is not None:  # a redelivered chunk, or a message the desk already has
        return chat, existing
    payload = {**payload, "source": SOURCE}
    if from_business:
        msg = Message(chat_id=chat.id, direction=Direction.outbound, sender=Sender.operator, wamid=wamid,
                      type=type, body=body, payload=payload, wa_timestamp=wa_timestamp,
                      status=STATUSES.get(str(status or "").upper(), "sent"), status_at=wa_timestamp,
                      created_at=wa_timestamp)
    else:
        msg = Message(chat_id=chat.id, direction=Direction.inbound, sender=Sender.user, wamid=wamid, type=type,
                      body=body, payload=payload, wa_timestamp=wa_timestamp, status="received",
                      created_at=wa_timestamp)
    session.add(msg)
    await session.flush()
    return chat, msg
