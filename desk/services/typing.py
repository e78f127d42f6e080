"""The customer sees "typing…" while an operator writes (Meta's typing indicator rides
on the mark-as-read request of the customer's latest message, and lasts until the reply
or 25 seconds). The console asks at most every TYPING_EVERY seconds per chat while the
operator types; the desk also holds back repeats of its own."""
from __future__ import annotations

import time

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from desk.billing import policy
from desk.models import Chat, ChatState, Direction, Message, utcnow

TYPING_EVERY = 20.0  # seconds: Meta shows it for up to 25


class Throttle:
    """At most one indicator per chat per `every` seconds (per desk process)."""

    def __init__(self, every: float = TYPING_EVERY, clock=time.monotonic):
        self.every, self.clock, self._last = every, clock, {}

    def allow(self, chat_id: int) -> bool:
        now = self.clock()
        if now - self._last.get(chat_id, -1e9) < self.every:
            return False
        self._last[chat_id] = now
        return True


async def latest_customer_message(session: AsyncSession, chat: Chat) -> str | None:
    """The wamid of the customer's latest message, when the chat is with a person and the
    window is open (outside it nothing reaches the customer at all)."""
    if chat.state != ChatState.open or not policy.window_open(chat.last_user_message_at, utcnow()):
        return None
    return (await session.execute(select(Message.wamid).where(
        Message.chat_id == chat.id, Message.direction == Direction.inbound, Message.wamid.is_not(None))
        .order_by(Message.wa_timestamp.desc(), Message.id.desc()).limit(1))).scalar_one_or_none()
