"""Greeting with the name the user has on WhatsApp, in the conversation's language."""
from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.language import language_of
from actions.whatsapp_context import profile_name
from desk.language import normalise

# Kanji, kana: a name written in Japanese is family name first ("田中 太郎").
_JAPANESE_SCRIPT = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]")
_MAX = 40


def first_name(name: str | None) -> str | None:
    """The first word of a WhatsApp profile name, at most 40 characters."""
    first = (name or "").strip().split(" ")[0][:_MAX]
    return first or None


def name_to_greet(name: str | None, language: str) -> str | None:
    """How the greeting addresses the user, from their WhatsApp profile name.

    English: the first name ("Kerry Fisher" -> "Kerry"); a name in Japanese script is
    family name first, so the whole name ("田中 太郎"). Japanese: the response adds 様
    to the family name when the name is in Japanese script and spaced ("田中 太郎",
    "田中　太郎" -> "田中"), else to the whole name ("田中太郎", "Kerry Fisher": a
    family name cannot be told apart, and a first name alone would be too familiar).
    """
    words = normalise(name or "").split()  # NFKC: the full-width space is a space
    if not words:
        return None
    japanese = bool(_JAPANESE_SCRIPT.search(words[0]))
    if language == "ja":
        chosen = words[0] if japanese and len(words) > 1 else " ".join(words)
    else:
        chosen = " ".join(words) if japanese else words[0]
    return chosen[:_MAX]


class ActionGreetUser(Action):
    """Greets by WhatsApp profile name when the channel supplied one."""

    def name(self) -> str:
        return "action_greet_user"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        name = name_to_greet(profile_name(tracker), language_of(tracker))
        if name:
            # `first_name`: the name as the response of the conversation's language uses it
            dispatcher.utter_message(response="utter_greet_name", first_name=name)
        else:
            dispatcher.utter_message(response="utter_greet")
        return []
