"""The start of a conversation session: Rasa's own steps, plus its first language.

Rasa runs `action_session_start` once per session (the first message, or the first
after `session_expiration_time`), before the message's NLU; the channel's metadata of
that message (the `session_started_metadata` slot) carries the language to answer in
(`metadata.whatsapp.language`: the chat's language, else the brand's default). A
decisive message then switches it through the `language` entity as usual. One action
server call per session, none per turn.
"""
from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from desk.language import LANGUAGES

METADATA_SLOT = "session_started_metadata"


def start_language(metadata: Any, carried: str | None) -> str | None:
    """The language a session starts in: the channel's, else the one carried over."""
    block = metadata.get("whatsapp") if isinstance(metadata, dict) else None
    language = block.get("language") if isinstance(block, dict) else None
    if language in LANGUAGES:
        return language
    return carried if carried in LANGUAGES else None


class ActionSessionStart(Action):
    """Rasa's session start (slots carried over, as session_config says) with the slot
    `language` set from the channel's metadata."""

    def name(self) -> str:
        return "action_session_start"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        events: list[EventType] = [SessionStarted()]
        carry = (domain.get("session_config") or {}).get("carry_over_slots_to_new_session", True)
        if carry:
            events += [SlotSet(name, value) for name, value in tracker.slots.items()
                       if value is not None and name not in (METADATA_SLOT, "language")]
        language = start_language(tracker.get_slot(METADATA_SLOT),
                                  tracker.get_slot("language") if carry else None)
        if language is not None:
            events.append(SlotSet("language", language))
        metadata = tracker.get_slot(METADATA_SLOT)
        if metadata is not None:
            events.append(SlotSet(METADATA_SLOT, metadata))
        events.append(ActionExecuted("action_listen"))
        return events
