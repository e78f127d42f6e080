"""The bot's handoff actions against the real desk database."""
import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import ActionHandoff, ActionOfferDepartments
from desk.models import Chat, ChatState, Department, WhatsAppBusinessAccount
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
        await seed.department(s, desk["brand_id"], "Sales")
    dispatcher = CollectingDispatcher()
    assert await ActionOfferDepartments().run(dispatcher, tracker(desk["chat_id"]), {}) == []
    [msg] = dispatcher.messages
    assert msg["response"] == "utter_ask_department"
    assert [b["title"] for b in msg["buttons"]] == ["Support", "Sales"]  # the number's own first
    assert msg["buttons"][1]["payload"] == '/choose_department{"department":"Sales"}'


async def test_chosen_department_with_nobody_online_says_so(sessions, desk):
    async with sessions() as s, s.begin():
        await seed.department(s, desk["brand_id"], "Sales")
    dispatcher = CollectingDispatcher()
    events = await ActionHandoff().run(dispatcher, tracker(desk["chat_id"], {"department": "sales"}), {})
    assert events[-1]["event"] == "pause"
    assert "Nobody from Sales is available right now" in dispatcher.messages[0]["text"]
    async with sessions() as s:
        chat = await s.get(Chat, desk["chat_id"])
        assert chat.state == ChatState.unattended and chat.department_id is not None


async def test_without_whatsapp_context_the_bot_apologises(desk):
    dispatcher = CollectingDispatcher()
    t = tracker(None)
    t.latest_message["metadata"] = {}
    assert await ActionHandoff().run(dispatcher, t, {}) == []
    assert dispatcher.messages[0]["response"] == "utter_handoff_unavailable"
