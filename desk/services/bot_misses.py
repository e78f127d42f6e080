"""Bot misses: what the trainer reads to improve knowledge/.

A miss is an FAQ answer the user called wrong ("that's not what I asked", the *Not
helpful* button: kind `not_helpful`) or a question the bot was not sure enough to
answer (below FAQ_CONFIDENCE_THRESHOLD: kind `unsure`). The action server records
them (actions/faq.py); `recent()` lists them newest first.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from desk.models import BotMiss

KINDS = ("not_helpful", "unsure", "fallback")  # fallback: the NLU did not understand at all
QUESTION_MAX = 4096


async def record(session: AsyncSession, *, kind: str, question: str, article: str | None = None,
                 confidence: float | None = None, offered: str | None = None,
                 phone_number_id: str | None = None, wa_id: str | None = None,
                 chat_id: int | None = None) -> BotMiss:
    """Add one miss (in the caller's transaction)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    question = " ".join(str(question or "").split())[:QUESTION_MAX]
    if not question:
        raise ValueError("a miss needs the user's question")
    miss = BotMiss(kind=kind, question=question, article=article,
                   confidence=None if confidence is None else round(float(confidence), 4),
                   offered=offered, phone_number_id=phone_number_id, wa_id=wa_id,
                   chat_id=int(chat_id) if chat_id else None)
    session.add(miss)
    await session.flush()
    return miss


async def recent(session: AsyncSession, *, kind: str | None = None, limit: int = 100) -> list[BotMiss]:
    """The newest misses first (of one kind, if given)."""
    query = select(BotMiss).order_by(BotMiss.created_at.desc(), BotMiss.id.desc()).limit(limit)
    if kind is not None:
        query = query.where(BotMiss.kind == kind)
    return list((await session.execute(query)).scalars())
