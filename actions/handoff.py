"""Handing a chat to a person: the bot offers the departments, the desk routes it.

Thin over desk.services.routing. When the desk has the chat, the conversation is
paused (Rasa logs the user's messages, runs no actions) and the channel stops
sending messages to the bot; when the chat is closed, the next user message starts
a new chat with the bot and the channel resumes the conversation.
"""
from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.desk_access import desk_transaction
from actions.whatsapp_context import whatsapp_metadata
from desk.models import ChatState
from desk.services import routing


def handoff_text(result: routing.HandoffResult, department: str) -> str:
    if result.state == ChatState.open:
        return f"You're now connected with {result.operator_name} from {department}. They'll reply here in a moment."
    if result.state == ChatState.waiting:
        ahead = "You're next" if result.position == 1 else f"You're number {result.position} in the queue"
        return f"{ahead} for {department}. A colleague will join this chat shortly — you can keep writing here."
    return (f"Nobody from {department} is available right now. Your chat is on our list and a colleague "
            "will reply here as soon as possible — feel free to describe your question in the meantime.")


async def hand_over(dispatcher: CollectingDispatcher, tracker: Tracker,
                    department: str | None) -> list[dict[str, Any]]:
    """Queue the chat in the named department (the number's own if none) and pause the bot."""
    meta = whatsapp_metadata(tracker)
    chat_id = meta.get("desk_chat_id")
    if not chat_id or not meta.get("phone_number_id"):
        dispatcher.utter_message(response="utter_handoff_unavailable")
        return []
    async with desk_transaction() as session:
        choices = await routing.departments_for_number(session, meta["phone_number_id"])
        choice = next((c for c in choices if c.name.lower() == str(department or "").lower()),
                      choices[0] if choices else None)
        if choice is None:
            dispatcher.utter_message(response="utter_handoff_unavailable")
            return []
        try:
            result = await routing.hand_off(session, int(chat_id), choice.id)
        except routing.RoutingError as exc:
            dispatcher.utter_message(text=f"I couldn't hand this chat over: {exc}.")
            return []
    dispatcher.utter_message(text=handoff_text(result, choice.name))
    return [SlotSet("department", choice.name), ConversationPaused()]


class ActionOfferDepartments(Action):
    """Asks which department to talk to (buttons), or hands over at once if there is one."""

    def name(self) -> str:
        return "action_offer_departments"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        meta = whatsapp_metadata(tracker)
        if not meta.get("phone_number_id"):
            dispatcher.utter_message(response="utter_handoff_unavailable")
            return []
        async with desk_transaction() as session:
            choices = await routing.departments_for_number(session, meta["phone_number_id"])
        if len(choices) <= 1:
            return await hand_over(dispatcher, tracker, choices[0].name if choices else None)
        dispatcher.utter_message(response="utter_ask_department", buttons=[
            {"title": c.name, "payload": f'/choose_department{{"department":"{c.name}"}}'} for c in choices[:10]])
        return []


class ActionHandoff(Action):
    """Hands the chat to the department the user chose (slot `department`)."""

    def name(self) -> str:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        return await hand_over(dispatcher, tracker, tracker.get_slot("department"))
