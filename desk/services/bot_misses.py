"""Bot misses: what the trainer reads to improve knowledge/.

A miss is a user message the bot handled badly or was not sure of. Its kind is the
reason the trainer sees:

- `not_helpful`: an FAQ answer the user called wrong ("that's not what I asked", the
  *Not helpful* button; actions/faq.py);
- `unsure`: an FAQ question whose article the ResponseSelector was less than
  FAQ_CONFIDENCE_THRESHOLD sure of, so the bot did not answer (actions/faq.py);
- `fallback`: the NLU did not understand at all (`nlu_fallback`; two in a row hand
  the chat to a person: actions/handoff.py);
- `low_confidence`: any other message whose top intent was less than
  FAQ_CONFIDENCE_THRESHOLD sure, even though the bot went on (`unsure_intent`, noted by
  the WhatsApp channel after the turn: connectors/whatsapp/channel.py);
- `handoff`: an FAQ answer the user followed, soon after and in the same chat, by
  asking for a person (actions/faq.py over actions/misses.answer_before_person).

`recent()` lists them newest first; desk.services.trainer groups them for the console.
"""
from __future__ import annotations

import os
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from desk.models import BotMiss

KINDS = ("not_helpful", "unsure", "fallback", "low_confidence", "handoff")
QUESTION_MAX = 4096
# Measured on tests/nlu_whatsapp/ (docs/training.md, "FAQ confidence threshold"); the
# bot's FAQ answers (actions/faq.py) and the trainer's low-confidence misses share it.
DEFAULT_FAQ_CONFIDENCE_THRESHOLD = 0.6
# The intents the actions note themselves (nlu_fallback: `fallback`), and the retrieval
# intent whose article confidence actions/faq.py checks (`unsure`).
_NOTED_BY_ACTIONS = frozenset({"nlu_fallback"})
FAQ_INTENT = "faq"


# A language's own threshold, for the messages its classifiers read (by script:
# nlp.japanese.pipeline_language); environment FAQ_CONFIDENCE_THRESHOLD_<LANG> overrides
# it. Japanese: chosen on tests/nlu_whatsapp_dev_ja/ (a development set, not the held-out
# one) by English's rule, the lowest threshold at which every answer on the set was right
# (docs/training.md, "A threshold per language").
DEFAULT_FAQ_CONFIDENCE_THRESHOLDS = {"ja": 0.75}


def env_fraction(name: str, default: float) -> float:
    """A setting between 0 and 1 from the environment (a clear error otherwise)."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number between 0 and 1, got {raw!r}") from None
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be between 0 and 1, got {raw!r}")
    return value


def faq_confidence_threshold(language: str | None = None) -> float:
    """The FAQ threshold of `language`: FAQ_CONFIDENCE_THRESHOLD_<LANG> (e.g. _JA), else
    its measured default (DEFAULT_FAQ_CONFIDENCE_THRESHOLDS); a language without one
    (English) uses FAQ_CONFIDENCE_THRESHOLD (default 0.6). The bot's answers
    (actions/faq.py) and the trainer's unsure intents (the channel) use the same."""
    if language:
        name = f"FAQ_CONFIDENCE_THRESHOLD_{language.upper()}"
        if os.environ.get(name, "").strip():
            return env_fraction(name, DEFAULT_FAQ_CONFIDENCE_THRESHOLD)
        if language in DEFAULT_FAQ_CONFIDENCE_THRESHOLDS:
            return DEFAULT_FAQ_CONFIDENCE_THRESHOLDS[language]
    return env_fraction("FAQ_CONFIDENCE_THRESHOLD", DEFAULT_FAQ_CONFIDENCE_THRESHOLD)


def faq_article(parse_data: dict[str, Any]) -> tuple[str | None, float]:
    """The article the ResponseSelector picked in parse data (Rasa's `response_selector.faq`), and how sure."""
    response = ((((parse_data.get("response_selector") or {}).get(FAQ_INTENT)) or {}).get("response")) or {}
    key = response.get("intent_response_key") or ""
    article = key.split("/", 1)[1] if key.startswith(f"{FAQ_INTENT}/") else None
    return article, float(response.get("confidence") or 0.0)


def unsure_intent(parse_data: dict[str, Any] | None, threshold: float) -> tuple[str | None, float] | None:
    """A turn the bot went on with although its top intent was less than `threshold`
    sure: (the FAQ article it picked, if the intent was the FAQ's; the intent's
    confidence). None for a sure turn, a button's payload (`/intent`), and for the
    turns the actions note themselves: `nlu_fallback` (kind fallback) and an FAQ
    question whose article is below the threshold (kind unsure)."""
    if not parse_data:
        return None
    text = str(parse_data.get("text") or "").strip()
    intent = parse_data.get("intent") or {}
    name, confidence = intent.get("name"), intent.get("confidence")
    if not text or text.startswith("/") or not name or name in _NOTED_BY_ACTIONS or confidence is None:
        return None
    confidence = float(confidence)
    if confidence >= threshold:
        return None
    article = None
    if name == FAQ_INTENT:
        article, article_confidence = faq_article(parse_data)
        if article is None or article_confidence < threshold:
            return None   # the FAQ action does not answer it and notes it as `unsure`
    return article, confidence


async def note_turn(session: AsyncSession, parse_data: dict[str, Any] | None, *, threshold: float,
                    phone_number_id: str | None, wa_id: str | None = None,
                    chat_id: int | None = None) -> BotMiss | None:
    """Record a `low_confidence` miss for this turn if its intent was unsure (`unsure_intent`)."""
    unsure = unsure_intent(parse_data, threshold)
    if unsure is None:
        return None
    article, confidence = unsure
    return await record(session, kind="low_confidence", question=parse_data["text"], article=article,
                        confidence=confidence, phone_number_id=phone_number_id, wa_id=wa_id, chat_id=chat_id)


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
