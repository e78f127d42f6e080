"""Greeting with the name the user has on WhatsApp."""
from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.whatsapp_context import profile_name


def first_name(name: str | None) -> str | None:
    """The first word of a WhatsApp profile name, at most 40 characters."""
    first = (name or "").strip().split(" ")[0][:40]
    return first or None


class ActionGreetUser(Action):
    """Greets by WhatsApp profile name when the channel supplied one."""

    def name(self) -> str:
        return "action_greet_user"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        first = first_name(profile_name(tracker))
        if first:
            dispatcher.utter_message(response="utter_greet_name", first_name=first)
        else:
            dispatcher.utter_message(response="utter_greet")
        return []
