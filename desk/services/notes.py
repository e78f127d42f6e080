"""Internal notes on a chat: what operators tell each other about a customer.

A note is a `chat_notes` row, never a message: it has no outbox row and no path to
WhatsApp. The console shows it in the transcript, to the operators and admins who
see the chat (desk.services.routing.visible_to: the chat's brand, then department).
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from desk.models import ChatNote, Operator, utcnow

NOTE_MAX = 4000


class NoteError(ValueError):
    """A note the desk refuses; the message says why."""


async def add(session: AsyncSession, chat_id: int, operator: Operator, text) -> ChatNote:
    """The operator's note on the chat (the caller has checked they see the chat)."""
    body = str(text or "").strip() if isinstance(text, (str, type(None))) else None
    if body is None:
        raise NoteError("a note is text")
    if not body:
        raise NoteError("the note is empty")
    if len(body) > NOTE_MAX:
        raise NoteError(f"a note has at most {NOTE_MAX} characters (this one has {len(body)})")
    note = ChatNote(chat_id=chat_id, operator_id=operator.id, author=operator.name, body=body, created_at=utcnow())
    session.add(note)
    await session.flush()
    return note


async def of_chat(session: AsyncSession, chat_id: int) -> list[ChatNote]:
    return list((await session.execute(select(ChatNote).where(ChatNote.chat_id == chat_id)
                                       .order_by(ChatNote.created_at, ChatNote.id))).scalars())
