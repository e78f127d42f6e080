"""The bot's handoff actions against the real desk database."""
import pytest
from sqlalchemy import select
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.faq import ActionAnswerFaq
from actions.handoff import (ActionHandoff, ActionLeaveMessage, ActionNluFallback, ActionOfferDepartments,
                             ValidateLeaveMessageForm)
from desk.models import OperatorStatus, Chat, ChatState, Department, Ticket, WhatsAppBusinessAccount
from tests.desk import seed


def tracker(chat_id, slots=None):
    return Tracker(sender_id=f"{seed.PNID}_441", slots=slots or {}, events=[], paused=False,
                   followup_action=None, active_loop={}, latest_action_name="action_listen",
                   latest_message={"text": "talk to a person", "intent": {"name": "human_handoff"},
                                   "entities": [], "metadata": {"whatsapp": {
                                       "desk_chat_id": chat_id, "phone_number_id": seed.PNID, "wa_id": "441"}}})


@pytest.fixture
async def desk(sessions, database_url, monkeypatch):
    monkeypatch.setenv("DESK_DATABASE_URL", database_url)
    async with sessions() as s, s.begin():
        number = await seed.brand_with_number(s)
        brand_id = (await s.get(WhatsAppBusinessAccount, number.waba_id)).brand_id
        support = await s.get(Department, number.department_id)
        chat = await seed.chat_from(s, "441")
        return {"brand_id": brand_id, "support": support, "chat_id": chat.id}


async def test_one_department_hands_over_at_once_and_pauses(sessions, desk):
    async with sessions() as s, s.begin():
        await seed.operator(s, desk["brand_id"], "Ana", [await s.get(Department, desk["support"].id)])
    dispatcher = CollectingDispatcher()
    events = await ActionOfferDepartments().run(dispatcher, tracker(desk["chat_id"]), {})
    assert [e["event"] for e in events] == ["slot", "pause"]
    assert dispatcher.messages[0]["text"].startswith("You're now connected with Ana from Support")
    async with sessions() as s:
        assert (await s.get(Chat, desk["chat_id"])).state == ChatState.open


async def test_several_departments_are_offered_as_buttons(sessions, desk):
    async with sessions() as s, s.begin():
        sales = await seed.department(s, desk["brand_id"], "Sales")
        await seed.department(s, desk["brand_id"], "Nobody here")  # no member: not offered
        await seed.operator(s, desk["brand_id"], "Ana", [await s.get(Department, desk["support"].id), sales],
                            status=OperatorStatus.offline)
    dispatcher = CollectingDispatcher()
    assert await ActionOfferDepartments().run(dispatcher, tracker(desk["chat_id"]), {}) == []
    [msg] = dispatcher.messages
    assert msg["response"] == "utter_ask_department"
    assert [b["title"] for b in msg["buttons"]] == ["Support", "Sales"]  # the number's own first
    assert msg["buttons"][1]["payload"] == '/choose_department{"department":"Sales"}'


async def test_chosen_department_with_nobody_online_offers_a_message_or_the_queue(sessions, desk):
    async with sessions() as s, s.begin():
        sales = await seed.department(s, desk["brand_id"], "Sales")
        await seed.operator(s, desk["brand_id"], "Bo", [sales], status=OperatorStatus.offline)
    dispatcher = CollectingDispatcher()
    events = await ActionHandoff().run(dispatcher, tracker(desk["chat_id"], {"department": "sales"}), {})
    assert events == [{"event": "slot", "timestamp": None, "name": "department", "value": "Sales"}]
    [msg] = dispatcher.messages
    assert msg["response"] == "utter_nobody_available" and msg["department"] == "Sales"
    assert [b["payload"] for b in msg["buttons"]] == ["/leave_message", '/wait_for_agent{"department":"Sales"}']
    async with sessions() as s:
        assert (await s.get(Chat, desk["chat_id"])).state == ChatState.bot  # not queued yet


async def test_waiting_anyway_queues_the_chat_as_unattended(sessions, desk):
    t = tracker(desk["chat_id"], {"department": "Support"})
    t.latest_message["intent"] = {"name": "wait_for_agent"}
    dispatcher = CollectingDispatcher()
    events = await ActionHandoff().run(dispatcher, t, {})
    assert events[-1]["event"] == "pause"
    assert "on the list for Support" in dispatcher.messages[0]["text"]
    async with sessions() as s:
        chat = await s.get(Chat, desk["chat_id"])
        assert chat.state == ChatState.unattended and chat.department_id == desk["support"].id


async def test_a_typed_department_name_is_understood(sessions, desk):
    async with sessions() as s, s.begin():
        sales = await seed.department(s, desk["brand_id"], "Sales")
        await seed.operator(s, desk["brand_id"], "Bo", [sales])
    t = tracker(desk["chat_id"])
    t.latest_message["text"] = "put me through to sales please"
    dispatcher = CollectingDispatcher()
    events = await ActionHandoff().run(dispatcher, t, {})
    assert events[-1]["event"] == "pause"
    assert dispatcher.messages[0]["text"].startswith("You're now connected with Bo from Sales")


async def test_a_handoff_in_the_middle_of_a_form_leaves_the_form(sessions, desk):
    async with sessions() as s, s.begin():
        await seed.operator(s, desk["brand_id"], "Ana", [await s.get(Department, desk["support"].id)])
    t = tracker(desk["chat_id"])
    t.active_loop = {"name": "lead_form"}
    events = await ActionOfferDepartments().run(CollectingDispatcher(), t, {})
    assert [e["event"] for e in events] == ["active_loop", "slot", "slot", "pause"]
    assert events[0]["name"] is None


def fallback_tracker(chat_id, intents):
    t = tracker(chat_id)
    t.events = [{"event": "user", "text": "x", "parse_data": {"intent": {"name": name}}} for name in intents]
    return t


async def test_the_first_misunderstanding_asks_to_rephrase(sessions, desk):
    dispatcher = CollectingDispatcher()
    events = await ActionNluFallback().run(dispatcher, fallback_tracker(desk["chat_id"],
                                                                        ["nlu_fallback", "greet", "nlu_fallback"]), {})
    assert events == [] and [m["response"] for m in dispatcher.messages] == ["utter_default"]


async def test_the_second_misunderstanding_in_a_row_offers_a_person(sessions, desk):
    async with sessions() as s, s.begin():
        await seed.operator(s, desk["brand_id"], "Ana", [await s.get(Department, desk["support"].id)])
    dispatcher = CollectingDispatcher()
    events = await ActionNluFallback().run(dispatcher, fallback_tracker(desk["chat_id"],
                                                                        ["greet", "nlu_fallback", "nlu_fallback"]), {})
    assert dispatcher.messages[0]["response"] == "utter_fallback_handoff"
    assert events[-1]["event"] == "pause"
    async with sessions() as s:
        assert (await s.get(Chat, desk["chat_id"])).state == ChatState.open


async def test_a_human_only_faq_is_answered_then_handed_over(sessions, desk):
    async with sessions() as s, s.begin():
        await seed.operator(s, desk["brand_id"], "Ana", [await s.get(Department, desk["support"].id)])
    t = tracker(desk["chat_id"])
    t.latest_message["response_selector"] = {"faq": {"response": {"intent_response_key": "faq/double_charged",
                                                                   "confidence": 0.95}}}
    dispatcher = CollectingDispatcher()
    events = await ActionAnswerFaq().run(dispatcher, t, {})
    assert dispatcher.messages[0]["response"] == "utter_faq/double_charged"
    assert events[-1]["event"] == "pause"


async def test_an_ordinary_faq_is_only_answered(sessions, desk):
    t = tracker(desk["chat_id"])
    t.latest_message["response_selector"] = {"faq": {"response": {"intent_response_key": "faq/shipping_time",
                                                                   "confidence": 0.95}}}
    dispatcher = CollectingDispatcher()
    events = await ActionAnswerFaq().run(dispatcher, t, {})
    assert [(e["name"], e["value"]) for e in events] == [("last_article", "shipping_time"), ("faq_next_best", None)]
    assert [m["response"] for m in dispatcher.messages] == ["utter_faq/shipping_time"]
    async with sessions() as s:
        assert (await s.get(Chat, desk["chat_id"])).state == ChatState.bot


async def test_a_left_message_becomes_a_ticket_with_the_transcript(sessions, desk):
    async with sessions() as s, s.begin():
        await seed.chat_from(s, "441", "my parcel arrived damaged, order 1234")
    t = tracker(desk["chat_id"], {"ticket_message": "my parcel arrived damaged, order 1234",
                                  "department": "Support"})
    dispatcher = CollectingDispatcher()
    events = await ActionLeaveMessage().run(dispatcher, t, {})
    assert events == [{"event": "slot", "timestamp": None, "name": "ticket_message", "value": None}]
    [msg] = dispatcher.messages
    assert msg["response"] == "utter_ticket_created"
    async with sessions() as s:
        ticket = await s.get(Ticket, msg["ticket_id"])
        assert ticket.chat_id == desk["chat_id"] and ticket.created_by == "bot"
        assert ticket.subject.startswith("[Support] +441: my parcel arrived damaged")
        assert "my parcel arrived damaged, order 1234" in ticket.description


def test_a_too_short_message_is_asked_again():
    dispatcher = CollectingDispatcher()
    assert ValidateLeaveMessageForm().validate_ticket_message(" ok ", dispatcher, tracker(1), {}) == \
        {"ticket_message": None}
    assert dispatcher.messages[0]["response"] == "utter_invalid_ticket_message"
    assert ValidateLeaveMessageForm().validate_ticket_message("  where is   my order? ", dispatcher,
                                                              tracker(1), {}) == {"ticket_message": "where is my order?"}


async def test_without_whatsapp_context_the_bot_apologises(desk):
    dispatcher = CollectingDispatcher()
    t = tracker(None)
    t.latest_message["metadata"] = {}
    assert await ActionHandoff().run(dispatcher, t, {}) == []
    assert dispatcher.messages[0]["response"] == "utter_handoff_unavailable"


# -- in Japanese (slot language ja) -----------------------------------------------------

async def test_in_japanese_nobody_available_offers_japanese_buttons_with_the_same_payloads(sessions, desk):
    async with sessions() as s, s.begin():
        sales = await seed.department(s, desk["brand_id"], "営業")
        await seed.operator(s, desk["brand_id"], "Bo", [sales], status=OperatorStatus.offline)
    dispatcher = CollectingDispatcher()
    await ActionHandoff().run(dispatcher, tracker(desk["chat_id"], {"department": "営業", "language": "ja"}), {})
    [msg] = dispatcher.messages
    assert msg["response"] == "utter_nobody_available" and msg["department"] == "営業"
    assert msg["buttons"] == [{"title": "メッセージを残す", "payload": "/leave_message"},
                              {"title": "担当者を待つ", "payload": '/wait_for_agent{"department":"営業"}'}]


async def test_in_japanese_the_customer_is_told_who_joined_and_the_queue(sessions, desk):
    async with sessions() as s, s.begin():
        await seed.operator(s, desk["brand_id"], "佐藤", [await s.get(Department, desk["support"].id)])
    dispatcher = CollectingDispatcher()
    await ActionOfferDepartments().run(dispatcher, tracker(desk["chat_id"], {"language": "ja"}), {})
    assert dispatcher.messages[0]["text"] == "Supportの佐藤におつなぎしました。まもなくこちらでお返事いたします。"


async def test_in_japanese_a_left_message_without_a_department_goes_to_our_team_in_japanese(sessions, desk):
    t = tracker(desk["chat_id"], {"ticket_message": "注文番号12345の配送先を変えたいです", "language": "ja"})
    dispatcher = CollectingDispatcher()
    await ActionLeaveMessage().run(dispatcher, t, {})
    [msg] = dispatcher.messages
    assert msg["response"] == "utter_ticket_created" and msg["department"] == "担当窓口"


# -- a department's name per language (desk.services.departments) ---------------------

async def _named_departments(sessions, desk):
    async with sessions() as s, s.begin():
        support = await s.get(Department, desk["support"].id)
        support.names = {"ja": "サポート"}
        sales = await seed.department(s, desk["brand_id"], "Sales", {"ja": "営業"})
        await seed.operator(s, desk["brand_id"], "佐藤", [support, sales], status=OperatorStatus.offline)
        return sales


async def test_the_department_buttons_are_in_the_chat_s_language(sessions, desk):
    await _named_departments(sessions, desk)
    for language, titles in (("ja", ["サポート", "営業"]), ("en", ["Support", "Sales"])):
        dispatcher = CollectingDispatcher()
        await ActionOfferDepartments().run(dispatcher, tracker(desk["chat_id"], {"language": language}), {})
        [msg] = dispatcher.messages
        assert [b["title"] for b in msg["buttons"]] == titles
        assert [b["payload"] for b in msg["buttons"]] == [
            '/choose_department{"department":"%s"}' % t for t in titles]


async def test_a_japanese_name_tapped_or_typed_hands_over_to_its_department_in_japanese(sessions, desk):
    sales = await _named_departments(sessions, desk)
    t = tracker(desk["chat_id"], {"department": "営業", "language": "ja"})
    t.latest_message["intent"] = {"name": "wait_for_agent"}
    dispatcher = CollectingDispatcher()
    events = await ActionHandoff().run(dispatcher, t, {})
    assert events[-1]["event"] == "pause"
    assert dispatcher.messages[0]["text"].startswith("営業の対応リストにお客様のチャットを追加しました。")
    async with sessions() as s:
        assert (await s.get(Chat, desk["chat_id"])).department_id == sales.id

    # typed, in a chat in English: the English name is said, whichever name was typed
    async with sessions() as s, s.begin():
        other = await seed.chat_from(s, "442")
    t = tracker(other.id, {"language": "en"})
    t.latest_message["text"] = "営業の人と話したい"
    t.latest_message["intent"] = {"name": "wait_for_agent"}
    dispatcher = CollectingDispatcher()
    await ActionHandoff().run(dispatcher, t, {})
    assert "on the list for Sales" in dispatcher.messages[0]["text"]


async def test_nobody_available_names_the_department_in_japanese(sessions, desk):
    await _named_departments(sessions, desk)
    dispatcher = CollectingDispatcher()
    events = await ActionHandoff().run(dispatcher, tracker(desk["chat_id"], {"department": "Support",
                                                                             "language": "ja"}), {})
    assert events == [{"event": "slot", "timestamp": None, "name": "department", "value": "サポート"}]
    [msg] = dispatcher.messages
    assert msg["department"] == "サポート"
    assert msg["buttons"][1]["payload"] == '/wait_for_agent{"department":"サポート"}'


async def test_a_message_left_for_a_japanese_name_is_a_ticket_of_that_department(sessions, desk):
    sales = await _named_departments(sessions, desk)
    t = tracker(desk["chat_id"], {"ticket_message": "見積もりをお願いします", "department": "営業", "language": "ja"})
    dispatcher = CollectingDispatcher()
    await ActionLeaveMessage().run(dispatcher, t, {})
    assert dispatcher.messages[0]["department"] == "営業"
    async with sessions() as s:
        [ticket] = (await s.execute(select(Ticket))).scalars().all()
        assert ticket.department_id == sales.id
