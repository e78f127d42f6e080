"""Handing a chat to a person: the bot offers the departments, the desk routes it.

Thin over desk.services.routing and desk.services.tickets. When the desk has the
chat, the conversation is paused (Rasa logs the user's messages, runs no actions)
and the channel stops sending messages to the bot; when the chat is closed, the
next user message starts a new chat with the bot and the channel resumes the
conversation.

Three ways in: the user asks (the `speak_to_human` FAQ article is human-only), a
topic the business marks human-only (knowledge/faq/*.yml), or two failed
understandings in a row (ActionNluFallback). When nobody of the department is
online or away, the bot says so and offers to leave a message, which becomes a
helpdesk ticket with the chat's transcript, or to wait in the queue anyway.
Outside the department's business hours (desk.services.business_hours, at the time
the user's message was sent) the bot says when the team is back and offers only to
leave a message: the chat is not queued.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, ConversationPaused, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.desk_access import desk_transaction
from actions.language import language_of, pick
from actions.misses import record_miss
from actions.whatsapp_context import message_time, whatsapp_metadata
from desk.models import ChatState, HandoffReason, utcnow
from desk.services import business_hours, notices, routing, tickets
from knowledge import articles_by_id

log = logging.getLogger(__name__)

# Two misunderstandings in a row and the bot offers a person.
FALLBACKS_BEFORE_HANDOFF = 2
TICKET_MESSAGE_MIN_CHARS = 3


# Intents of the handoff dialogue itself: the reason lies in the message before them.
_HANDOFF_STEPS = {"choose_department", "wait_for_agent", "affirm", "deny", "department"}


def _article_of(parse_data: dict) -> str | None:
    selector = ((parse_data.get("response_selector") or {}).get("faq") or {})
    key = ((selector.get("response") or {}).get("intent_response_key")) or ""
    return key.split("/", 1)[1] if key.startswith("faq/") else None


def handoff_reason(events: list[dict], active_loop: str | None = None) -> HandoffReason:
    """Why this handoff happens, from the conversation: the reports count by it.

    The latest user message that is not a step of the handoff dialogue decides: a
    misunderstanding, the speak-to-a-person article, a human-only topic, or a sales
    enquiry (the lead form).
    """
    if active_loop == "lead_form":
        return HandoffReason.lead
    for event in reversed(events):
        if event.get("event") != "user":
            continue
        parse = event.get("parse_data") or {}
        intent = (parse.get("intent") or {}).get("name")
        if intent in _HANDOFF_STEPS:
            continue
        if intent == "nlu_fallback":
            return HandoffReason.misunderstood
        if intent == "sales_inquiry":
            return HandoffReason.lead
        article = _article_of(parse) if intent == "faq" else None
        if article and article != "speak_to_human":
            known = articles_by_id().get(article)
            if known is not None and known.human_only:
                return HandoffReason.human_only
        return HandoffReason.asked
    return HandoffReason.asked


HANDOFF_TEXTS = {
    "en": {"open": "You're now connected with {operator} from {department}. They'll reply here in a moment.",
           "next": "You're next for {department}. A colleague will join this chat shortly — you can keep writing here.",
           "queued": "You're number {position} in the queue for {department}. A colleague will join this chat "
                     "shortly — you can keep writing here.",
           "listed": "Your chat is on the list for {department}. A colleague will reply here as soon as someone "
                     "is back — feel free to describe your question in the meantime.",
           "refused": "I couldn't hand this chat over: {reason}."},
    "ja": {"open": "{department}の{operator}におつなぎしました。まもなくこちらでお返事いたします。",
           "next": "{department}で次にご案内いたします。まもなく担当者がこのチャットに参加しますので、このままメッセージをお送りいただけます。",
           "queued": "{department}の待ち順は{position}番目です。まもなく担当者がこのチャットに参加しますので、このままメッセージをお送りいただけます。",
           "listed": "{department}の対応リストにお客様のチャットを追加しました。担当者が戻りしだいこちらでお返事いたしますので、"
                     "それまでにご質問の内容をお送りいただいても構いません。",
           "refused": "申し訳ございません、ただいま担当者にお引き継ぎできませんでした。少し時間をおいてから、もう一度お試しください。"},
}
# The buttons under "nobody available", and the department's name when none is known.
LEAVE_MESSAGE = notices.DEFAULTS[notices.LEAVE_MESSAGE_BUTTON]
WAIT = {"en": "Wait for a colleague", "ja": "担当者を待つ"}
OUR_TEAM = {"en": "our team", "ja": "担当窓口"}


def handoff_text(result: routing.HandoffResult, department: str, language: str = "en") -> str:
    texts = HANDOFF_TEXTS.get(language) or HANDOFF_TEXTS["en"]
    if result.state == ChatState.open:
        return texts["open"].format(operator=result.operator_name, department=department)
    if result.state == ChatState.waiting:
        key = "next" if result.position == 1 else "queued"
        return texts[key].format(department=department, position=result.position)
    return texts["listed"].format(department=department)


def _payload(intent: str, **entities: str) -> str:
    return f"/{intent}{json.dumps(entities, ensure_ascii=False, separators=(',', ':'))}"


def _chosen(choices: list[routing.DepartmentChoice], wanted: str | None,
            text: str | None) -> routing.DepartmentChoice | None:
    """The department named by the slot, else one named in the user's words, else the number's own.

    A department's name in any language counts ("Support", "サポート"): the buttons carry
    the name in the chat's language, and a user may type either."""
    if wanted:
        named = [c for c in choices if c.matches(wanted)]
        if named:
            return named[0]
    words = (text or "").casefold()
    named = [c for c in choices if any(n.casefold() in words
                                       for n in (c.name, *c.names.values()) if n)]
    if len(named) == 1:
        return named[0]
    return choices[0] if choices else None


def _message_time(tracker: Tracker, chat_id) -> dt.datetime:
    """The time of the message that asked for a person: WhatsApp's timestamp, else Rasa's user
    event (actions.whatsapp_context.message_time). Only a tracker with neither (a message typed
    into `rasa shell`, a hand-made tracker) has none; then the desk's clock stands in, logged."""
    at = message_time(tracker)
    if at is None:
        at = utcnow()
        log.warning("handoff: chat %s: the message has no timestamp; business hours are checked at %s "
                    "(the desk's clock)", chat_id, at.isoformat())
    return at


def _leave_loop(tracker: Tracker) -> list[dict[str, Any]]:
    """A form interrupted by the handoff must not be waiting when the bot resumes."""
    if (tracker.active_loop or {}).get("name"):
        return [ActiveLoop(None), SlotSet("requested_slot", None)]
    return []


async def hand_over(dispatcher: CollectingDispatcher, tracker: Tracker,
                    department: str | None, *, queue_anyway: bool = False) -> list[dict[str, Any]]:
    """Queue the chat in the chosen department and pause the bot.

    Outside the department's business hours, say when it is back and offer to leave
    a message (even after "Wait for a colleague": nobody would come). With nobody of
    that department online or away, offer to leave a message instead, unless the user
    already chose to wait (`queue_anyway`).
    """
    meta = whatsapp_metadata(tracker)
    language = language_of(tracker)
    chat_id = meta.get("desk_chat_id")
    if not chat_id or not meta.get("phone_number_id"):
        dispatcher.utter_message(response="utter_handoff_unavailable")
        return []
    async with desk_transaction() as session:
        choices = await routing.departments_for_number(session, meta["phone_number_id"])
        choice = _chosen(choices, department, (tracker.latest_message or {}).get("text"))
        if choice is None:
            dispatcher.utter_message(response="utter_handoff_unavailable")
            return []
        shown = choice.name_in(language)  # what the customer sees: the name in the chat's language
        closed = await business_hours.closed_for_handoff(session, choice.id, _message_time(tracker, chat_id))
        if closed is not None:
            dispatcher.utter_message(text=closed.text(language), buttons=closed.buttons(language))
            return [SlotSet("department", shown)]
        if not choice.available and not queue_anyway:
            dispatcher.utter_message(response="utter_nobody_available", department=shown, buttons=[
                {"title": pick(LEAVE_MESSAGE, language), "payload": business_hours.LEAVE_MESSAGE_PAYLOAD},
                {"title": pick(WAIT, language), "payload": _payload("wait_for_agent", department=shown)}])
            return [SlotSet("department", shown)]
        try:
            reason = handoff_reason(tracker.events, (tracker.active_loop or {}).get("name"))
            result = await routing.hand_off(session, int(chat_id), choice.id, reason=reason)
        except routing.RoutingError as exc:
            log.warning("handoff: chat %s could not be handed over: %s", chat_id, exc)
            dispatcher.utter_message(text=pick(HANDOFF_TEXTS, language)["refused"].format(reason=exc))
            return []
    dispatcher.utter_message(text=handoff_text(result, shown, language))
    return [*_leave_loop(tracker), SlotSet("department", shown), ConversationPaused()]


def _buttons(choices: list[routing.DepartmentChoice], language: str) -> list[dict[str, str]]:
    """A button per department (at most 10), titled and named in the chat's language."""
    return [{"title": c.name_in(language), "payload": _payload("choose_department", department=c.name_in(language))}
            for c in choices[:10]]


async def department_buttons(tracker: Tracker) -> list[dict[str, str]]:
    """A button per department of the user's number (its own first), at most 10; [] without a desk chat."""
    meta = whatsapp_metadata(tracker)
    if not meta.get("phone_number_id"):
        return []
    async with desk_transaction() as session:
        choices = await routing.departments_for_number(session, meta["phone_number_id"])
    return _buttons(choices, language_of(tracker))


async def offer_departments(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict[str, Any]]:
    """Buttons with the brand's departments, or the handoff itself when there is only one."""
    meta = whatsapp_metadata(tracker)
    if not meta.get("phone_number_id"):
        dispatcher.utter_message(response="utter_handoff_unavailable")
        return []
    async with desk_transaction() as session:
        choices = await routing.departments_for_number(session, meta["phone_number_id"])
    if len(choices) <= 1:
        return await hand_over(dispatcher, tracker, choices[0].name if choices else None)
    # WhatsApp shows at most 10 choices (a list message); the channel picks the form.
    dispatcher.utter_message(response="utter_ask_department", buttons=_buttons(choices, language_of(tracker)))
    return []


class ActionOfferDepartments(Action):
    """Asks which department to talk to (buttons), or hands over at once if there is one."""

    def name(self) -> str:
        return "action_offer_departments"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        return await offer_departments(dispatcher, tracker)


class ActionHandoff(Action):
    """Hands the chat to the department the user chose (slot `department`).

    After "Wait for a colleague" (intent wait_for_agent) the chat is queued even
    though nobody is online: operators see it under "unattended".
    """

    def name(self) -> str:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        return await hand_over(dispatcher, tracker, tracker.get_slot("department"),
                               queue_anyway=intent == "wait_for_agent")


def consecutive_fallbacks(tracker: Tracker) -> int:
    """How many of the latest user messages in a row the NLU did not understand."""
    count = 0
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        if ((event.get("parse_data") or {}).get("intent") or {}).get("name") != "nlu_fallback":
            break
        count += 1
    return count


class ActionNluFallback(Action):
    """Asks to rephrase; after the second misunderstanding in a row, offers a person."""

    def name(self) -> str:
        return "action_nlu_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        latest = tracker.latest_message or {}
        intents = latest.get("intent_ranking") or []
        guess = next((i for i in intents if i.get("name") not in (None, "nlu_fallback")), None)
        await record_miss(tracker, "fallback", latest.get("text"), None,
                          guess.get("confidence") if guess else None)
        if consecutive_fallbacks(tracker) < FALLBACKS_BEFORE_HANDOFF:
            dispatcher.utter_message(response="utter_default")
            return []
        dispatcher.utter_message(response="utter_fallback_handoff")
        return await offer_departments(dispatcher, tracker)


class ValidateLeaveMessageForm(FormValidationAction):
    def name(self) -> str:
        return "validate_leave_message_form"

    def validate_ticket_message(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                domain: dict[str, Any]) -> dict[str, Any]:
        text = " ".join(str(value or "").split())
        if len(text) < TICKET_MESSAGE_MIN_CHARS or text.startswith("/"):
            dispatcher.utter_message(response="utter_invalid_ticket_message")
            return {"ticket_message": None}
        return {"ticket_message": text}


class ActionLeaveMessage(Action):
    """Turns the user's message (and the chat so far) into a helpdesk ticket."""

    def name(self) -> str:
        return "action_leave_message"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        meta = whatsapp_metadata(tracker)
        chat_id = meta.get("desk_chat_id")
        message = tracker.get_slot("ticket_message") or ""
        department = tracker.get_slot("department") or pick(OUR_TEAM, language_of(tracker))
        reset = [SlotSet("ticket_message", None)]
        if not chat_id:
            dispatcher.utter_message(response="utter_ticket_failed")
            return reset
        who = meta.get("profile_name") or (f"+{meta['wa_id']}" if meta.get("wa_id") else (
            f"@{meta['username']}" if meta.get("username") else "a WhatsApp user"))
        subject = f"[{department}] {who}: {message}"
        try:
            async with desk_transaction() as session:
                ticket = await tickets.create_ticket_from_chat(session, int(chat_id), "bot", subject[:200],
                                                               department=tracker.get_slot("department"),
                                                               message=message)
        except tickets.TicketError:
            dispatcher.utter_message(response="utter_ticket_failed")
            return reset
        dispatcher.utter_message(response="utter_ticket_created", ticket_id=ticket.id, department=department)
        return reset


class ActionStopLeaveMessage(Action):
    """"Stop" while the bot waits for the message: nothing is stored."""

    def name(self) -> str:
        return "action_stop_leave_message"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        dispatcher.utter_message(response="utter_ticket_not_left")
        return [ActiveLoop(None), SlotSet("requested_slot", None), SlotSet("ticket_message", None)]
