"""The lead form's actions with a CollectingDispatcher: exact events and responses."""
from __future__ import annotations

import pytest
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.greeting import ActionGreetUser
from actions.leads import ActionAskLeadName, ActionStopLeadForm, ValidateLeadForm
from tests.bot.conftest import WHATSAPP, entity, responses

EMAIL_TEXT = "kerry@acme.co.uk"


async def validate(tracker, domain):
    dispatcher = CollectingDispatcher()
    events = await ValidateLeadForm().run(dispatcher, tracker, domain)
    return events, dispatcher


# -- the greeting ---------------------------------------------------------------------

@pytest.mark.parametrize("whatsapp, response, first_name", [
    (WHATSAPP, "utter_greet_name", "Kerry"),
    ({**WHATSAPP, "profile_name": "  "}, "utter_greet", None),
    (None, "utter_greet", None),
])
async def test_greeting_uses_the_whatsapp_first_name(make_tracker, domain, whatsapp, response,
                                                      first_name):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("hi", "greet", whatsapp=whatsapp, active_loop=None)
    assert await ActionGreetUser().run(dispatcher, tracker, domain) == []
    [message] = dispatcher.messages
    assert message["response"] == response and message.get("first_name") == first_name


# -- asking for the name --------------------------------------------------------------

async def test_the_profile_name_is_offered_with_a_button(make_tracker, domain):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("I'd like a quote", "sales_inquiry", requested_slot=None)
    assert await ActionAskLeadName().run(dispatcher, tracker, domain) == []
    [message] = dispatcher.messages
    assert message["response"] == "utter_ask_lead_name_profile"
    assert message["profile_name"] == "Kerry Fisher"
    [button] = domain["responses"]["utter_ask_lead_name_profile"][0]["buttons"]
    assert button == {"title": "Yes, that's me", "payload": "/affirm"}


@pytest.mark.parametrize("text, intent, whatsapp, expected", [
    ("I'd like a quote", "sales_inquiry", None, "utter_ask_lead_name"),  # e.g. rasa shell
    ("no", "deny", WHATSAPP, "utter_ask_lead_name_again"),
])
async def test_the_name_is_asked_plainly_without_or_after_declining_the_profile_name(
        make_tracker, domain, text, intent, whatsapp, expected):
    dispatcher = CollectingDispatcher()
    requested = "lead_name" if intent == "deny" else None
    tracker = make_tracker(text, intent, whatsapp=whatsapp, requested_slot=requested)
    await ActionAskLeadName().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == [expected]


async def test_after_an_faq_the_profile_name_is_offered_again(make_tracker, domain):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("how long does shipping take?", "faq", requested_slot="lead_name")
    await ActionAskLeadName().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_ask_lead_name_profile"]


# -- the validation action -------------------------------------------------------------

async def test_the_phone_comes_from_whatsapp_at_activation(make_tracker, domain):
    tracker = make_tracker("I'd like a quote", "sales_inquiry", slots={"lead_phone": None})
    events, dispatcher = await validate(tracker, domain)
    assert events == [SlotSet("lead_phone", "+447700900123")]
    assert dispatcher.messages == []


async def test_yes_thats_me_takes_the_profile_name(make_tracker, domain):
    tracker = make_tracker("/affirm", "affirm", requested_slot="lead_name")
    events, dispatcher = await validate(tracker, domain)
    assert events == [SlotSet("lead_name", "Kerry Fisher")]
    assert dispatcher.messages == []


async def test_declining_the_profile_name_asks_again(make_tracker, domain):
    tracker = make_tracker("no", "deny", requested_slot="lead_name")
    events, dispatcher = await validate(tracker, domain)
    assert events == [SlotSet("lead_name", None)]
    assert dispatcher.messages == []


@pytest.mark.parametrize("text, intent, slot, value", [
    ("my name is Tom Baker", "inform", "lead_name", "Tom Baker"),
    ("Acme Ltd", "inform", "lead_company", "Acme Ltd"),
    ("none", "inform", "lead_company", "none"),
    ("Bulk order", "faq", "lead_interest", "Bulk order"),  # not a question: an answer
    ("200 branded mugs for our office", "inform", "lead_interest", "200 branded mugs for our office"),
])
async def test_free_text_answers_fill_the_requested_slot(make_tracker, domain, text, intent, slot, value):
    tracker = make_tracker(text, intent, requested_slot=slot)
    events, dispatcher = await validate(tracker, domain)
    assert events == [SlotSet(slot, value)]
    assert dispatcher.messages == []


async def test_an_email_is_taken_from_the_entity_ruler(make_tracker, domain):
    text = f"it's {EMAIL_TEXT}"
    tracker = make_tracker(text, "inform", entities=[entity(text, EMAIL_TEXT, "email")],
                           requested_slot="lead_email")
    events, dispatcher = await validate(tracker, domain)
    assert events == [SlotSet("lead_email", EMAIL_TEXT)]
    assert dispatcher.messages == []


@pytest.mark.parametrize("text, slot, response", [
    ("kerry at acme", "lead_email", "utter_invalid_lead_email"),
    ("yes", "lead_company", "utter_invalid_lead_company"),
    ("I would like a quote", "lead_name", "utter_invalid_lead_name"),
    ("ok", "lead_interest", "utter_invalid_lead_interest"),
    ("maybe later", "lead_consent", "utter_invalid_lead_consent"),
])
async def test_invalid_answers_are_re_prompted(make_tracker, domain, text, slot, response):
    tracker = make_tracker(text, "inform", requested_slot=slot)
    events, dispatcher = await validate(tracker, domain)
    assert events == [SlotSet(slot, None)]
    assert responses(dispatcher) == [response]


async def test_a_correction_updates_another_field_and_says_so(make_tracker, domain):
    text = "actually my email is kerry.fisher@acme.com"
    tracker = make_tracker(text, "inform", entities=[entity(text, "kerry.fisher@acme.com", "email")],
                           slots={"lead_name": "Kerry Fisher", "lead_email": EMAIL_TEXT},
                           requested_slot="lead_company")
    events, dispatcher = await validate(tracker, domain)
    assert events == [SlotSet("lead_email", "kerry.fisher@acme.com")]
    assert dispatcher.messages == [{
        "text": None, "buttons": [], "elements": [], "custom": {}, "template": "utter_lead_updated",
        "response": "utter_lead_updated", "image": None, "attachment": None,
        "field": "your email", "value": "kerry.fisher@acme.com"}]


async def test_a_name_correction_without_an_entity(make_tracker, domain):
    tracker = make_tracker("sorry, my name is Thomas Baker", "inform",
                           slots={"lead_name": "Tom"}, requested_slot="lead_email")
    events, dispatcher = await validate(tracker, domain)
    assert events == [SlotSet("lead_name", "Thomas Baker")]
    assert responses(dispatcher) == ["utter_lead_updated"]


async def test_another_phone_number_replaces_the_whatsapp_one(make_tracker, domain):
    text = "please call me on 020 7946 0958"
    tracker = make_tracker(text, "inform", entities=[entity(text, "020 7946 0958", "phone")],
                           requested_slot="lead_company")
    events, dispatcher = await validate(tracker, domain)
    assert events == [SlotSet("lead_phone", "+442079460958")]
    assert dispatcher.messages[0]["field"] == "your phone number"


async def test_an_invalid_other_phone_keeps_the_whatsapp_number(make_tracker, domain):
    text = "my number is 12 3456"
    tracker = make_tracker(text, "inform", entities=[entity(text, "12 3456", "phone")],
                           requested_slot="lead_company")
    events, dispatcher = await validate(tracker, domain)
    assert events == [SlotSet("lead_phone", "+447700900123")]
    assert responses(dispatcher) == ["utter_invalid_lead_phone"]


async def test_an_invalid_other_phone_keeps_a_number_given_before(make_tracker, domain):
    text = "actually my number is 12 3456"
    tracker = make_tracker(text, "inform", entities=[entity(text, "12 3456", "phone")],
                           requested_slot="lead_company")
    tracker.events.insert(0, {"event": "slot", "name": "lead_phone", "value": "+442079460958"})
    events, _ = await validate(tracker, domain)
    assert events == [SlotSet("lead_phone", "+442079460958")]


async def test_a_number_that_is_no_phone_number_is_an_ordinary_answer(make_tracker, domain):
    text = "mugs in sizes 250 330 450 ml"
    tracker = make_tracker(text, "inform", entities=[entity(text, "250 330 450", "phone")],
                           requested_slot="lead_interest")
    events, dispatcher = await validate(tracker, domain)
    assert events == [SlotSet("lead_interest", text)]
    assert dispatcher.messages == []


@pytest.mark.parametrize("text, intent, slot", [
    ("how long does shipping take?", "faq", "lead_email"),
    ("what do you do with my data", "faq", "lead_consent"),
    ("are you a bot?", "bot_challenge", "lead_company"),
    ("stop", "stop", "lead_name"),
    ("never mind", "stop", "lead_interest"),
])
async def test_questions_and_stop_fill_nothing_so_the_form_rejects(make_tracker, domain, text,
                                                                   intent, slot):
    tracker = make_tracker(text, intent, requested_slot=slot)
    events, dispatcher = await validate(tracker, domain)
    assert events == [] and dispatcher.messages == []


@pytest.mark.parametrize("intent, value", [("affirm", True), ("deny", False)])
async def test_consent_is_yes_or_no(make_tracker, domain, intent, value):
    tracker = make_tracker("/" + intent, intent, requested_slot="lead_consent")
    events, _ = await validate(tracker, domain)
    assert events == [SlotSet("lead_consent", value)]


# -- stopping ------------------------------------------------------------------------

async def test_stop_leaves_the_form_and_forgets_the_answers(make_tracker, domain):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("stop", "stop", slots={"lead_name": "Kerry Fisher"},
                           requested_slot="lead_email")
    events = await ActionStopLeadForm().run(dispatcher, tracker, domain)
    assert events == [ActiveLoop(None), SlotSet("requested_slot", None),
                      SlotSet("lead_name", None), SlotSet("lead_email", None),
                      SlotSet("lead_company", None), SlotSet("lead_interest", None),
                      SlotSet("lead_phone", None), SlotSet("lead_consent", None)]
    assert responses(dispatcher) == ["utter_lead_stopped"]
