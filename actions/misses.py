"""Notes for the trainer: the turns the bot missed (desk table bot_misses, read in the
console's trainer inbox: desk.services.trainer). Never fails the user's turn."""
from __future__ import annotations

import logging

from rasa_sdk import Tracker

from actions.desk_access import desk_transaction
from actions.whatsapp_context import whatsapp_metadata
from desk.services import bot_misses

log = logging.getLogger(__name__)


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
