"""Notes for the trainer: the turns the bot missed (desk table bot_misses, read in the
console's trainer inbox: desk.services.trainer). Never fails the user's turn."""
from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Tracker

from actions.desk_access import desk_transaction
from actions.whatsapp_context import whatsapp_metadata
from desk.services import bot_misses

log = logging.getLogger(__name__)

# The FAQ articles that mean "let me talk to a person".
PERSON_ARTICLES = frozenset({"speak_to_human"})
# "Soon after" an answer: asking for a person within this many seconds of it.
PERSON_AFTER_ANSWER_SECONDS = 300


def _chat_of(event: dict[str, Any]) -> Any:
    return (((event.get("metadata") or {}).get("whatsapp")) or {}).get("desk_chat_id")


def answer_before_person(events: list[dict[str, Any]], answered: str | None,
                         window: float = PERSON_AFTER_ANSWER_SECONDS) -> dict[str, Any] | None:
    """The FAQ question the bot answered right before the user's latest message (which
    asks for a person), as parse data with its `text`: when the user message before the
    latest was an FAQ question answered with article `answered` (the slot last_article),
    the bot's answer came at most `window` seconds before the latest message, and both
    messages are of the same desk chat. Else None (the request is not about an answer)."""
    if not answered or answered in PERSON_ARTICLES:
        return None
    users = [i for i, e in enumerate(events) if e.get("event") == "user"]
    if len(users) < 2:
        return None
    latest, before = events[users[-1]], events[users[-2]]
    parse = before.get("parse_data") or {}
    if ((parse.get("intent") or {}).get("name")) != bot_misses.FAQ_INTENT:
        return None
    article, _ = bot_misses.faq_article(parse)
    if article != answered:
        return None
    answers = [e for e in events[users[-2] + 1:users[-1]] if e.get("event") == "bot"]
    if not answers:
        return None
    answered_at, asked_at = answers[-1].get("timestamp"), latest.get("timestamp")
    if answered_at is None or asked_at is None or float(asked_at) - float(answered_at) > window:
        return None
    if _chat_of(latest) != _chat_of(before):
        return None
    return {**parse, "text": before.get("text")}


async def record_miss(tracker: Tracker, kind: str, question: str | None, article: str | None,
                      confidence: float | None, offered: str | None = None) -> None:
    """Note the miss for the trainer (desk table bot_misses); never fails the turn."""
    meta = whatsapp_metadata(tracker)
    if not meta.get("phone_number_id") or not (question or "").strip():
        return  # not a WhatsApp chat (e.g. rasa shell): no desk to record in
    try:
        async with desk_transaction() as session:
            await bot_misses.record(session, kind=kind, question=question, article=article,
                                    confidence=confidence, offered=offered,
                                    phone_number_id=meta.get("phone_number_id"), wa_id=meta.get("wa_id"),
                                    chat_id=meta.get("desk_chat_id"))
    except Exception:  # the user's reply matters more than the trainer's note
        log.warning("bot miss (%s) of %s not recorded", kind, tracker.sender_id, exc_info=True)
