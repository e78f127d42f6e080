"""Messages the business sent from the WhatsApp Business app on a coexistence number
(Meta's `smb_message_echoes`): kept in the user's chat as the business's own messages,
so that operators see the whole conversation. They are not the user writing: the
customer-service window, the bot's idle rules and the unanswered counters stay as
they were, and the bot does not answer them."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from desk.models import Chat, Direction, Message, Sender
from desk.services import contacts, conversations

SOURCE = "whatsapp_business_app"


async def record_echo(session: AsyncSession, *, phone_number_id: str, wa_id: str | None, user_id: str | None,
                      wamid: str, type: str, body: str | None, payload: dict,
                      wa_timestamp: dt.datetime) -> tuple[Chat, Message]:
    """The echo in the user's live chat on the number (a new chat with the bot if none)."""
    contact = await contacts.identify(session, phone=wa_id, bsuid=user_id)
    chat = await conversations.current_chat(session, phone_number_id, contact.wa_id, contact=contact)
    existing = (await session.execute(select(Message).where(Message.wamid == wamid))).scalar_one_or_none()
    if existing is not None:  # Meta redelivered it
        return chat, existing
    msg = Message(chat_id=chat.id, direction=Direction.outbound, sender=Sender.operator, wamid=wamid, type=type,
                  body=body, payload={**payload, "source": SOURCE}, wa_timestamp=wa_timestamp, status="sent",
                  status_at=wa_timestamp, created_at=wa_timestamp)
    session.add(msg)
    chat.last_activity_at = max(chat.last_activity_at or wa_timestamp, wa_timestamp)
    await session.flush()
    return chat, msg
