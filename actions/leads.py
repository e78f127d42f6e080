"""Lead capture: the `lead_form` (name, email, company, interest, phone, consent).

The user's WhatsApp number and profile name come from the channel's metadata and
are not asked for (the profile name is offered as the name). Parsing and validation
of the values are plain functions in actions/lead_fields.py.

A message during the form is one of:
- an interruption (an FAQ or other question, "stop"): nothing is extracted, the form
  rejects, and a rule answers (data/rules/leads.yml) before the form resumes;
- a correction ("actually my email is …"), or an email/phone anywhere in the text:
  that slot is (re)filled and the form asks its current question again;
- otherwise the answer to the requested slot, validated with a clear re-prompt.
"""
from __future__ import annotations

import abc
import logging
from dataclasses import dataclass
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.language import language_of, pick
from actions.lead_fields import (NO_COMPANY, Correction, clean_company, clean_email,
                                 clean_interest, clean_name, clean_phone, emails_in, is_question,
                                 parse_correction, phones_in, regions_for, whatsapp_phone)
from actions.whatsapp_context import profile_name, whatsapp_metadata

log = logging.getLogger(__name__)

LEAD_SLOTS = ("lead_name", "lead_email", "lead_company", "lead_interest", "lead_phone",
              "lead_consent")
# Intents that, phrased as a question, interrupt the form instead of answering it.
QUESTION_INTENTS = {"faq", "bot_challenge", "out_of_scope", "nlu_fallback"}
STOP_INTENTS = {"stop"}
# Media sent during the form (/whatsapp_<type>), "that's not what I asked" (or the Not
# helpful button under an FAQ answered during the form) and "so what now?": never an
# answer; a rule replies (data/rules/leads.yml), the form asks again.
MEDIA_INTENTS = {"whatsapp_image", "whatsapp_document", "whatsapp_video", "whatsapp_audio",
                 "whatsapp_sticker"}
FEEDBACK_INTENTS = {"not_helpful", "follow_up"}
# "日本語でお願いします" / "English please" during the form: a rule confirms, the form
# asks its question again (now in that language); never an answer.
LANGUAGE_INTENTS = {"switch_language"}
FIELD_LABELS = {"lead_name": "your name", "lead_email": "your email",
                "lead_company": "your company", "lead_interest": "your interest",
                "lead_phone": "your phone number"}
# The same labels, and "no company", in each language (utter_lead_updated's {field}).
FIELD_LABELS_BY_LANGUAGE = {
    "en": FIELD_LABELS,
    "ja": {"lead_name": "お名前", "lead_email": "メールアドレス", "lead_company": "会社名",
           "lead_interest": "ご用件", "lead_phone": "電話番号"},
}
NO_COMPANY_SHOWN = {"en": "none", "ja": "なし"}


@dataclass(frozen=True)
class Turn:
    """The latest user message, as the form sees it."""

    text: str
    intent: str | None
    requested_slot: str | None
    emails: tuple[str, ...]
    phones: tuple[str, ...]
    correction: Correction | None

    @property
    def interrupts(self) -> bool:
        """A question or "stop": let the rules handle it, then resume the form."""
        if self.intent in STOP_INTENTS or self.intent in MEDIA_INTENTS | FEEDBACK_INTENTS | LANGUAGE_INTENTS:
            return True
        return self.intent in QUESTION_INTENTS and is_question(self.text)

    @property
    def carries_other_data(self) -> bool:
        """An email, a phone number or a correction: not an answer to a free-text slot."""
        return bool(self.emails or self.phones or self.correction)

    def answer_for(self, slot: str) -> str | None:
        """The text as the answer to `slot`, if that is what it is."""
        if self.interrupts:
            return None
        if self.correction:
            return self.correction.value if self.correction.slot == slot else None
        if self.requested_slot != slot or self.emails or self.phones:
            return None
        return self.text


def read_turn(tracker: Tracker) -> Turn:
    message = tracker.latest_message or {}
    entities = message.get("entities") or []

    def values(kind: str) -> tuple[str, ...]:
        return tuple(str(e.get("value")) for e in entities
                     if e.get("entity") == kind and e.get("value"))

    text = (message.get("text") or "").strip()
    regions = phone_regions(tracker)
    # Only real numbers count: "sizes 10 12 14 16" is an answer, not a phone number.
    phones = tuple(p for p in values("phone") if clean_phone(p, regions))
    emails = values("email")
    if not text.isascii():
        # Japanese has no spaces: "電話は090-1234-5678です" is one token to an English
        # tokenizer, so the entity ruler may miss what is in it; look in the text too.
        phones = phones or phones_in(text, regions)
        emails = emails or emails_in(text)
    return Turn(text=text, intent=(message.get("intent") or {}).get("name"),
                requested_slot=tracker.get_slot("requested_slot"),
                emails=emails, phones=phones, correction=parse_correction(text))


def phone_regions(tracker: Tracker) -> tuple[str, ...]:
    """Where a number typed without a country code is read: JP first in a Japanese
    conversation, then the WhatsApp number's region (JP for +81)."""
    return regions_for(whatsapp_id(tracker), language_of(tracker))


def value_before_this_message(tracker: Tracker, slot: str) -> Any:
    """The slot's value before the latest user message (extraction has already
    overwritten `tracker.slots` with this message's candidate)."""
    events = list(tracker.events)
    last_user = max((i for i, e in enumerate(events) if e.get("event") == "user"), default=len(events))
    value = None
    for event in events[:last_user]:
        if event.get("event") == "slot" and event.get("name") == slot:
            value = event.get("value")
    return value


def whatsapp_id(tracker: Tracker) -> str | None:
    """The user's contact key: from the conversation id `<phone_number_id>_<key>` (the
    contact's first-known identity, a phone or a BSUID: cloudapi.ids), else the phone of
    the channel metadata."""
    from cloudapi.ids import is_bsuid

    sender = tracker.sender_id or ""
    key = sender.split("_", 1)[1] if "_" in sender else ""
    if key.isdigit() or is_bsuid(key):
        return key
    wa_id = whatsapp_metadata(tracker).get("wa_id")
    if isinstance(wa_id, str) and wa_id.isdigit():
        return wa_id
    return None


class LeadFormValidation(FormValidationAction, abc.ABC):
    """Shared behaviour of forms that collect a person's details.

    The domain must declare the form `form_name()` with custom-mapped slots, a
    `validate_<form>` action, and the responses `utter_lead_updated` (variables
    `field`, `value`) and `utter_invalid_<slot>` for every slot validated here.
    """

    @abc.abstractmethod
    def name(self) -> str:
        """validate_<form name>"""

    @staticmethod
    def _accept(slot: str, value: Any, dispatcher: CollectingDispatcher,
                tracker: Tracker) -> dict[str, Any]:
        """A valid value; says so when it was given out of turn (a correction)."""
        if tracker.get_slot("requested_slot") != slot and slot in FIELD_LABELS:
            language = language_of(tracker)
            shown = pick(NO_COMPANY_SHOWN, language) if value == NO_COMPANY else value
            labels = FIELD_LABELS_BY_LANGUAGE.get(language) or FIELD_LABELS
            dispatcher.utter_message(response="utter_lead_updated", field=labels[slot], value=shown)
        return {slot: value}

    @staticmethod
    def _reject(slot: str, dispatcher: CollectingDispatcher) -> dict[str, Any]:
        dispatcher.utter_message(response=f"utter_invalid_{slot}")
        return {slot: None}


class ValidateLeadForm(LeadFormValidation):
    """Extracts and validates the lead_form's slots (see the module docstring)."""

    def name(self) -> str:
        return "validate_lead_form"

    # -- name ---------------------------------------------------------------------
    async def extract_lead_name(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                domain: DomainDict) -> dict[str, Any]:
        turn = read_turn(tracker)
        if turn.requested_slot == "lead_name" and not turn.interrupts and not turn.correction:
            if turn.intent == "affirm":  # "Yes, that's me": the WhatsApp profile name
                return {"lead_name": profile_name(tracker)}
            if turn.intent == "deny":
                return {"lead_name": None}
        answer = turn.answer_for("lead_name")
        return {} if answer is None else {"lead_name": answer}

    async def validate_lead_name(self, value: Any, dispatcher: CollectingDispatcher,
                                 tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        if value is None:  # declined the profile name: asked again by action_ask_lead_name
            return {"lead_name": None}
        profile = profile_name(tracker)
        if profile and value == profile:
            return self._accept("lead_name", profile.strip()[:80], dispatcher, tracker)
        name = clean_name(str(value))
        if name is None:
            return self._reject("lead_name", dispatcher)
        return self._accept("lead_name", name, dispatcher, tracker)

    # -- email --------------------------------------------------------------------
    async def extract_lead_email(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                 domain: DomainDict) -> dict[str, Any]:
        turn = read_turn(tracker)
        if turn.intent in STOP_INTENTS:
            return {}
        if turn.emails and (not turn.correction or turn.correction.slot == "lead_email"):
            return {"lead_email": turn.emails[0]}
        if turn.interrupts:
            return {}
        if turn.correction:
            return {"lead_email": turn.correction.value} if turn.correction.slot == "lead_email" else {}
        if turn.requested_slot == "lead_email" and not turn.phones:
            return {"lead_email": turn.text}
        return {}

    async def validate_lead_email(self, value: Any, dispatcher: CollectingDispatcher,
                                  tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        address = clean_email(str(value or ""))
        if address is None:
            return self._reject("lead_email", dispatcher)
        return self._accept("lead_email", address, dispatcher, tracker)

    # -- company ------------------------------------------------------------------
    async def extract_lead_company(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                   domain: DomainDict) -> dict[str, Any]:
        answer = read_turn(tracker).answer_for("lead_company")
        return {} if answer is None else {"lead_company": answer}

    async def validate_lead_company(self, value: Any, dispatcher: CollectingDispatcher,
                                    tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        company = clean_company(str(value or ""))
        if company is None:
            return self._reject("lead_company", dispatcher)
        return self._accept("lead_company", company, dispatcher, tracker)

    # -- interest -----------------------------------------------------------------
    async def extract_lead_interest(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                    domain: DomainDict) -> dict[str, Any]:
        answer = read_turn(tracker).answer_for("lead_interest")
        return {} if answer is None else {"lead_interest": answer}

    async def validate_lead_interest(self, value: Any, dispatcher: CollectingDispatcher,
                                     tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        interest = clean_interest(str(value or ""))
        if interest is None:
            return self._reject("lead_interest", dispatcher)
        return self._accept("lead_interest", interest, dispatcher, tracker)

    # -- phone: the WhatsApp number unless the user gives another ----------------
    async def extract_lead_phone(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                 domain: DomainDict) -> dict[str, Any]:
        turn = read_turn(tracker)
        if turn.intent not in STOP_INTENTS:
            if turn.phones and (not turn.correction or turn.correction.slot == "lead_phone"):
                return {"lead_phone": turn.phones[0]}
            if turn.correction and turn.correction.slot == "lead_phone":
                return {"lead_phone": turn.correction.value}
            if turn.requested_slot == "lead_phone" and not turn.interrupts and not turn.emails:
                return {"lead_phone": turn.text}
        if tracker.get_slot("lead_phone") is None:
            number = whatsapp_phone(whatsapp_id(tracker))
            if number:
                return {"lead_phone": number}
        return {}

    async def validate_lead_phone(self, value: Any, dispatcher: CollectingDispatcher,
                                  tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        wa_number = whatsapp_phone(whatsapp_id(tracker))
        if value == wa_number:  # from the channel: nothing to confirm
            return {"lead_phone": value}
        phone = clean_phone(str(value or ""), phone_regions(tracker))
        if phone is None:
            dispatcher.utter_message(response="utter_invalid_lead_phone")
            return {"lead_phone": value_before_this_message(tracker, "lead_phone") or wa_number}
        return self._accept("lead_phone", phone, dispatcher, tracker)

    # -- consent ------------------------------------------------------------------
    async def extract_lead_consent(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                   domain: DomainDict) -> dict[str, Any]:
        turn = read_turn(tracker)
        if turn.requested_slot != "lead_consent" or turn.interrupts or turn.carries_other_data:
            return {}
        if turn.intent in ("affirm", "deny"):
            return {"lead_consent": turn.intent == "affirm"}
        return {"lead_consent": None}

    async def validate_lead_consent(self, value: Any, dispatcher: CollectingDispatcher,
                                    tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        if isinstance(value, bool):
            return {"lead_consent": value}
        return self._reject("lead_consent", dispatcher)


class ActionAskLeadName(Action):
    """Asks for the name, offering the WhatsApp profile name with a "Yes, that's me" button."""

    def name(self) -> str:
        return "action_ask_lead_name"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        turn = read_turn(tracker)
        profile = profile_name(tracker)
        # Asked before and the user declined or typed something that wasn't a name.
        asked_again = turn.requested_slot == "lead_name" and not turn.interrupts
        if profile and not asked_again:
            dispatcher.utter_message(response="utter_ask_lead_name_profile", profile_name=profile)
        elif asked_again:
            dispatcher.utter_message(response="utter_ask_lead_name_again")
        else:
            dispatcher.utter_message(response="utter_ask_lead_name")
        return []


class ActionAskLeadConsent(Action):
    """Asks for consent with the details as the user gave them ("none"/"なし" for no company)."""

    def name(self) -> str:
        return "action_ask_lead_consent"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        company = tracker.get_slot("lead_company")
        shown = pick(NO_COMPANY_SHOWN, language_of(tracker)) if company == NO_COMPANY else company
        dispatcher.utter_message(response="utter_ask_lead_consent", lead_company=shown)
        return []


def _reset_lead() -> list[EventType]:
    return [SlotSet(slot, None) for slot in LEAD_SLOTS]


class ActionSubmitLead(Action):
    """Stores the completed lead in the desk (only with consent) and thanks the user."""

    def name(self) -> str:
        return "action_submit_lead"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        if tracker.get_slot("lead_consent") is not True:
            dispatcher.utter_message(response="utter_lead_not_saved")
            return _reset_lead()
        try:
            lead_id = await store_lead(tracker)
        except Exception:  # the user must get an answer; the details are in the log
            log.exception("leads: could not store the lead of %s", tracker.sender_id)
            dispatcher.utter_message(response="utter_lead_save_failed")
            return _reset_lead()
        log.info("leads: stored lead %s for %s", lead_id, tracker.sender_id)
        dispatcher.utter_message(response="utter_lead_saved")
        return _reset_lead()


async def store_lead(tracker: Tracker) -> int:
    """Save the form's slots with desk.services.leads.save_lead; returns the lead's id."""
    from actions.desk_access import desk_transaction
    from desk.models import Chat, PhoneNumber
    from desk.services.leads import save_lead

    meta = whatsapp_metadata(tracker)
    phone = tracker.get_slot("lead_phone")
    wa_id = whatsapp_id(tracker) or "".join(ch for ch in str(phone or "") if ch.isdigit())
    if not wa_id:
        raise ValueError("no WhatsApp id and no phone number to file the lead under")
    company = tracker.get_slot("lead_company")
    async with desk_transaction() as session:
        # Only link what the desk knows (e.g. `rasa shell` has no WhatsApp number or chat).
        number_id = meta.get("phone_number_id")
        if not number_id or await session.get(PhoneNumber, str(number_id)) is None:
            number_id = None
        chat_id = meta.get("desk_chat_id")
        chat_id = int(chat_id) if str(chat_id or "").isdigit() else None
        if chat_id is not None and await session.get(Chat, chat_id) is None:
            chat_id = None
        lead = await save_lead(
            session, wa_id=wa_id, phone_number_id=number_id,
            name=tracker.get_slot("lead_name"), email=tracker.get_slot("lead_email"),
            company=None if company == NO_COMPANY else company,
            interest=tracker.get_slot("lead_interest"), consent=True, phone=phone,
            profile_name=profile_name(tracker), chat_id=chat_id)
        return lead.id


class ActionStopLeadForm(Action):
    """Leaves the lead form on "stop"/"cancel"/"never mind", forgetting what was typed."""

    def name(self) -> str:
        return "action_stop_lead_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(response="utter_lead_stopped")
        return [ActiveLoop(None), SlotSet("requested_slot", None), *_reset_lead()]
