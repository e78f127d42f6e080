"""The bot's handoff outside a department's business hours (actions/handoff.py over
desk.services.business_hours), against the real desk database. The time is the user's
message's own (metadata.whatsapp.timestamp), so nothing depends on today's."""
import datetime as dt

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import ActionHandoff, ActionOfferDepartments
from desk.models import Chat, ChatState, Department, WhatsAppBusinessAccount
from desk.services import business_hours, settings
from tests.desk import seed

UTC = dt.timezone.utc
HOURS = {"always_open": False,
         "week": {d: [{"from": "09:00", "to": "18:00"}] for d in ("mon", "tue", "wed", "thu", "fri")},
         "holidays": [{"date": "2026-12-14", "name": "Company holiday"}]}


def tokyo(y, m, d, h=0, mi=0):
    return dt.datetime(y, m, d, h, mi, tzinfo=UTC) - dt.timedelta(hours=9)


def tracker(chat_id, at: dt.datetime | None, *, language=None, department=None, intent="human_handoff",
            event_time: dt.datetime | None = None):
    meta = {"desk_chat_id": chat_id, "phone_number_id": seed.PNID, "wa_id": "441"}
    if at is not None:
        meta["timestamp"] = int(at.timestamp())
    events = [{"event": "user", "text": "talk to a person", "timestamp": event_time.timestamp(),
               "parse_data": {"intent": {"name": intent}}}] if event_time else []
    return Tracker(sender_id=f"{seed.PNID}_441", slots={"language": language, "department": department},
                   events=events, paused=False, followup_action=None, active_loop={},
                   latest_action_name="action_listen",
                   latest_message={"text": "talk to a person", "intent": {"name": intent}, "entities": [],
                                   "metadata": {"whatsapp": meta}})


@pytest.fixture
async def desk(sessions, database_url, monkeypatch):
    monkeypatch.setenv("DESK_DATABASE_URL", database_url)
    async with sessions() as s, s.begin():
        number = await seed.brand_with_number(s)
        brand_id = (await s.get(WhatsAppBusinessAccount, number.waba_id)).brand_id
        await settings.update(s, brand_id, time_zone="Asia/Tokyo")
        support = await s.get(Department, number.department_id)
        await seed.operator(s, brand_id, "Ana", [support])  # online: inside hours she gets the chat
        await business_hours.set_schedule(s, brand_id, support.id, HOURS)
        chat = await seed.chat_from(s, "441")
        return {"brand_id": brand_id, "support": support, "chat_id": chat.id}


async def state_of(sessions, chat_id):
    async with sessions() as s:
        return (await s.get(Chat, chat_id)).state


async def test_outside_hours_the_user_hears_when_the_team_is_back_and_may_leave_a_message(sessions, desk):
    dispatcher = CollectingDispatcher()
    friday_evening = tokyo(2026, 12, 11, 19, 30)
    events = await ActionOfferDepartments().run(dispatcher, tracker(desk["chat_id"], friday_evening), {})
    assert events == [{"event": "slot", "timestamp": None, "name": "department", "value": "Support"}]
    [msg] = dispatcher.messages
    # Monday is a holiday: back on Tuesday.
    assert msg["text"].startswith("Support is closed right now. Our team is back Tuesday 9:00 (JST)."), msg
    assert [b["payload"] for b in msg["buttons"]] == ["/leave_message"]  # no "wait": nobody would come
    assert await state_of(sessions, desk["chat_id"]) == ChatState.bot  # not queued


async def test_in_japanese(sessions, desk):
    dispatcher = CollectingDispatcher()
    await ActionHandoff().run(dispatcher, tracker(desk["chat_id"], tokyo(2026, 12, 9, 7), language="ja",
                                                  department="Support"), {})
    [msg] = dispatcher.messages
    assert msg["text"].startswith("ただいまSupportは営業時間外です。担当者は本日 9:00から対応いたします。"), msg
    assert [b["title"] for b in msg["buttons"]] == ["メッセージを残す"]


async def test_in_japanese_the_department_is_named_in_japanese(sessions, desk):
    async with sessions() as s, s.begin():
        (await s.get(Department, desk["support"].id)).names = {"ja": "サポート"}
    for language, start in (("ja", "ただいまサポートは営業時間外です。"), ("en", "Support is closed right now.")):
        dispatcher = CollectingDispatcher()
        events = await ActionHandoff().run(dispatcher, tracker(desk["chat_id"], tokyo(2026, 12, 9, 7),
                                                               language=language, department="サポート"), {})
        assert dispatcher.messages[0]["text"].startswith(start), dispatcher.messages
        assert events[-1]["value"] == ("サポート" if language == "ja" else "Support")


async def test_waiting_anyway_outside_hours_is_not_queued(sessions, desk):
    dispatcher = CollectingDispatcher()
    await ActionHandoff().run(dispatcher, tracker(desk["chat_id"], tokyo(2026, 12, 12, 12), department="Support",
                                                  intent="wait_for_agent"), {})
    assert "Our team is back Tuesday 9:00 (JST)" in dispatcher.messages[0]["text"]
    assert await state_of(sessions, desk["chat_id"]) == ChatState.bot


async def test_inside_hours_nothing_changes(sessions, desk):
    dispatcher = CollectingDispatcher()
    events = await ActionHandoff().run(dispatcher, tracker(desk["chat_id"], tokyo(2026, 12, 10, 11),
                                                           department="Support"), {})
    assert events[-1]["event"] == "pause"
    assert dispatcher.messages[0]["text"].startswith("You're now connected with Ana from Support")
    assert await state_of(sessions, desk["chat_id"]) == ChatState.open


async def test_without_whatsapp_time_the_user_event_time_counts(sessions, desk):
    dispatcher = CollectingDispatcher()
    await ActionHandoff().run(dispatcher, tracker(desk["chat_id"], None, department="Support",
                                                  event_time=tokyo(2026, 12, 13, 10)), {})
    assert "back Tuesday 9:00 (JST)" in dispatcher.messages[0]["text"]


async def test_a_department_that_never_opens_still_takes_messages(sessions, desk):
    async with sessions() as s, s.begin():
        await business_hours.set_schedule(s, desk["brand_id"], desk["support"].id, {"always_open": False})
    dispatcher = CollectingDispatcher()
    await ActionHandoff().run(dispatcher, tracker(desk["chat_id"], tokyo(2026, 12, 10, 11), department="Support"),
                              {})
    [msg] = dispatcher.messages
    assert msg["text"].startswith("Support is not taking chats at the moment.")
    assert [b["payload"] for b in msg["buttons"]] == ["/leave_message"]
