"""Auto-close timers and bot idle rules (SQLite and PostgreSQL), with a moved clock."""
import asyncio
import datetime as dt

import pytest
from sqlalchemy import func, select

from desk.models import (Chat, ChatState, Department, Message, OperatorStatus, OutboxMessage,
                         Sender, WhatsAppBusinessAccount, utcnow)
from desk.services import conversations, routing, settings, timers
from tests.desk import seed


@pytest.fixture
async def brand(sessions):
    async with sessions() as s, s.begin():
        number = await seed.brand_with_number(s)
        brand_id = (await s.get(WhatsAppBusinessAccount, number.waba_id)).brand_id
        await settings.update(s, brand_id, unattended_close_minutes=30, idle_close_minutes=60,
                              bot_idle_rules=[{"after_minutes": 10, "action": "nudge", "text": "Still there?"},
                                              {"after_minutes": 5, "action": "close", "text": "Bye for now."}])
        return {"id": brand_id, "dept": number.department_id}


async def state_of(sessions, chat_id):
    async with sessions() as s:
        return (await s.get(Chat, chat_id)).state


@pytest.mark.parametrize("minutes,ok", [(14, False), (15, True), (44640, True), (44641, False)])
def test_unattended_bounds(minutes, ok):
    if ok:
        settings.validate_timeouts(unattended_close_minutes=minutes)
    else:
        with pytest.raises(settings.SettingsError, match="15 minutes to 1 month"):
            settings.validate_timeouts(unattended_close_minutes=minutes)


@pytest.mark.parametrize("minutes,ok", [(0, False), (1, True), (1440, True), (1441, False)])
def test_idle_bounds(minutes, ok):
    if ok:
        settings.validate_timeouts(idle_close_minutes=minutes)
    else:
        with pytest.raises(settings.SettingsError, match="24 hours"):
            settings.validate_timeouts(idle_close_minutes=minutes)


async def test_unattended_chat_closes_after_the_set_time_not_before(sessions, brand):
    async with sessions() as s, s.begin():
        chat = await seed.chat_from(s, "441")
        assert (await routing.hand_off(s, chat.id)).state == ChatState.unattended
        handed = (await s.get(Chat, chat.id)).handed_off_at
    async with sessions() as s, s.begin():
        await timers.run_once(s, now=handed + dt.timedelta(minutes=29))
    assert await state_of(sessions, chat.id) == ChatState.unattended
    async with sessions() as s, s.begin():
        report = await timers.run_once(s, now=handed + dt.timedelta(minutes=30))
    assert report.closed_unattended == 1 and await state_of(sessions, chat.id) == ChatState.closed


async def test_idle_timer_is_reset_by_a_message_from_either_side(sessions, brand):
    async with sessions() as s, s.begin():
        ana = await seed.operator(s, brand["id"], "Ana", [await s.get(Department, brand["dept"])])
        chat = await seed.chat_from(s, "441")
        await routing.hand_off(s, chat.id)
        start = (await s.get(Chat, chat.id)).last_activity_at
    async with sessions() as s, s.begin():  # the operator answers 50 minutes later
        c = await s.get(Chat, chat.id)
        c.last_activity_at = start + dt.timedelta(minutes=50)
    async with sessions() as s, s.begin():
        await timers.run_once(s, now=start + dt.timedelta(minutes=70))
    assert await state_of(sessions, chat.id) == ChatState.open
    async with sessions() as s, s.begin():
        report = await timers.run_once(s, now=start + dt.timedelta(minutes=111))
    assert report.closed_idle == 1 and await state_of(sessions, chat.id) == ChatState.closed


async def test_two_workers_close_a_due_chat_once(sessions, brand):
    async with sessions() as s, s.begin():
        chat = await seed.chat_from(s, "441")
        await routing.hand_off(s, chat.id)
    later = utcnow() + dt.timedelta(hours=1)

    async def worker():
        async with sessions() as s, s.begin():
            return (await timers.run_once(s, now=later)).closed_unattended
    assert sorted(await asyncio.gather(worker(), worker())) == [0, 1]


async def test_bot_idle_rules_nudge_then_close_and_a_user_message_starts_over(sessions, brand):
    t0 = utcnow().replace(microsecond=0)
    async with sessions() as s, s.begin():
        chat = await seed.chat_from(s, "441", at=t0)

    async def tick(minutes):
        async with sessions() as s, s.begin():
            assert (await timers.run_once(s, now=t0 + dt.timedelta(minutes=minutes))).bot_nudges == 0
            return await timers.run_bot_idle_rules(s, now=t0 + dt.timedelta(minutes=minutes))

    assert (await tick(9)).bot_nudges == 0
    assert (await tick(10)).bot_nudges == 1
    assert (await tick(11)).bot_nudges == 0  # once per step
    async with sessions() as s, s.begin():  # the user answers: rules start over
        await seed.chat_from(s, "441", "yes, still here", at=t0 + dt.timedelta(minutes=12))
    assert (await tick(21)).bot_nudges == 0
    assert (await tick(22)).bot_nudges == 1
    report = await tick(27)
    assert report.closed_by_bot_rules == 1 and await state_of(sessions, chat.id) == ChatState.closed
    async with sessions() as s:
        bot_texts = [m.body for m in await conversations.transcript(s, chat.id) if m.sender == Sender.bot]
        assert bot_texts == ["Still there?", "Still there?", "Bye for now."]
        assert (await s.execute(select(func.count(OutboxMessage.id)))).scalar_one() == 3


async def test_bot_idle_rules_wait_while_the_users_own_message_is_still_queued(sessions, brand):
    """A user whose message is recorded but not yet answered (a burst, a slow bot) is
    waiting for us: no "are you still there?" until the message has been processed."""
    from desk.models import EventState, WebhookEvent
    from desk.services import inbox

    t0 = utcnow().replace(microsecond=0)
    async with sessions() as s, s.begin():
        chat = await seed.chat_from(s, "442", at=t0)
        assert await inbox.record(s, [{"dedupe_key": "wamid.442.queued", "kind": "message",
                                       "phone_number_id": seed.PNID, "wa_id": "442", "payload": {}}]) == 1
        event_id = (await s.execute(select(WebhookEvent.id).where(
            WebhookEvent.dedupe_key == "wamid.442.queued"))).scalar_one()

    async def nudges(minutes):
        async with sessions() as s, s.begin():
            return (await timers.run_bot_idle_rules(s, now=t0 + dt.timedelta(minutes=minutes))).bot_nudges

    assert await nudges(30) == 0  # pending
    async with sessions() as s, s.begin():
        (await s.get(WebhookEvent, event_id)).state = EventState.processing
    assert await nudges(31) == 0  # being answered
    async with sessions() as s, s.begin():
        await inbox.finish(s, event_id, EventState.done)
    assert await nudges(32) == 1  # answered, and the user has said nothing since
    async with sessions() as s:
        assert (await s.get(Chat, chat.id)).bot_idle_step == 1
