"""Telling the customer as people take part: an operator joined, the chat was
transferred, an operator closed it (texts: desk.services.notices, per brand and
language).

Sent through the outbox like any desk notice, and only inside the 24-hour window
(`outbox.send_system_text`): a notice never opens a paid conversation. The text is in
the chat's language (`chats.language`, else the brand's default language). The moment
the bot hands over and someone is free at once, the bot says who joined itself
(actions/handoff.handoff_text), so that path sends nothing here.
"""
from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from desk.models import Brand, Chat, Department, Message, Operator
from desk.services import departments, notices, outbox, settings
from desk.services.routing import brand_of_number


async def tell(session: AsyncSession, chat: Chat, key: str) -> Message | None:
    """Send the brand's notice `key` for this chat now (None: turned off or no window)."""
    brand_id = await brand_of_number(session, chat.phone_number_id)
    cfg = await settings.get(session, brand_id)
    language = cfg.language_of(chat)
    texts = cfg.notices.get(key) or notices.CUSTOMER_DEFAULTS[key]
    template = settings.localized(texts, language, cfg.default_language)
    if not template:
        return None
    operator = await session.get(Operator, chat.operator_id) if chat.operator_id else None
    department = await session.get(Department, chat.department_id) if chat.department_id else None
    brand = await session.get(Brand, brand_id)
    text = template.format(operator=operator.name if operator else notices.word("operator", language),
                           department=departments.name_in(department, language) if department
                           else notices.word("department", language),
                           brand=brand.name if brand else notices.word("brand", language))
    return await outbox.send_system_text(session, chat, text)


async def joined(session: AsyncSession, chat_ids) -> None:
    """An operator took each of these chats from the queue."""
    for chat_id in chat_ids:
        chat = await session.get(Chat, chat_id)
        if chat is not None:
            await tell(session, chat, notices.OPERATOR_JOINED)
