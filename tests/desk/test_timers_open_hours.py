"""The unattended and idle timers counting only a department's open hours, when the
admin chooses that (desk.services.timers over desk.services.business_hours). The
desk's clock runs from a fixed Friday evening (tests/clock.py)."""
import datetime as dt

import pytest

from desk.models import Chat, ChatState, WhatsAppBusinessAccount
from desk.services import business_hours, routing, settings, timers
from tests.clock import clock_from
from tests.desk import seed

UTC = dt.timezone.utc


def tokyo(y, m, d, h=0, mi=0):
    return dt.datetime(y, m, d, h, mi, tzinfo=UTC) - dt.timedelta(hours=9)


FRIDAY_1750 = tokyo(2026, 12, 11, 17, 50)
HOURS = {"always_open": False,
         "week": {d: [{"from": "09:00", "to": "18:00"}] for d in ("mon", "tue", "wed", "thu", "fri")}}


@pytest.fixture
async def brand(sessions):
    async with sessions() as s, s.begin():
        number = await seed.brand_with_number(s)
        brand_id = (await s.get(WhatsAppBusinessAccount, number.waba_id)).brand_id
        await settings.update(s, brand_id, unattended_close_minutes=30, idle_close_minutes=30,
                              time_zone="Asia/Tokyo")
        return {"id": brand_id, "dept": number.department_id}


async def state_of(sessions, chat_id):
    async with sessions() as s:
        return (await s.get(Chat, chat_id)).state


async def queued_chat(sessions, brand, wa_id, *, count_open_hours_only):
    async with sessions() as s, s.begin():
        await business_hours.set_schedule(s, brand["id"], brand["dept"],
                                          {**HOURS, "count_open_hours_only": count_open_hours_only})
        with clock_from(FRIDAY_1750):
            chat = await seed.chat_from(s, wa_id, at=FRIDAY_1750)
            await routing.hand_off(s, chat.id)
        return chat.id


async def test_an_unattended_chat_waits_over_the_weekend_when_only_open_hours_count(sessions, brand):
    chat_id = await queued_chat(sessions, brand, "441", count_open_hours_only=True)
    async with sessions() as s, s.begin():
        report = await timers.run_once(s, now=tokyo(2026, 12, 14, 9, 19))  # 10 + 19 open minutes
    assert report.closed_unattended == 0 and await state_of(sessions, chat_id) == ChatState.unattended
    async with sessions() as s, s.begin():
        report = await timers.run_once(s, now=tokyo(2026, 12, 14, 9, 21))  # 30+ open minutes (the clock moved a little)
    assert report.closed_unattended == 1 and await state_of(sessions, chat_id) == ChatState.closed


async def test_by_default_the_wall_clock_counts(sessions, brand):
    chat_id = await queued_chat(sessions, brand, "442", count_open_hours_only=False)
    async with sessions() as s, s.begin():
        report = await timers.run_once(s, now=FRIDAY_1750 + dt.timedelta(minutes=31))
    assert report.closed_unattended == 1 and await state_of(sessions, chat_id) == ChatState.closed


async def test_an_idle_chat_counts_open_hours_only(sessions, brand):
    async with sessions() as s, s.begin():
        await business_hours.set_schedule(s, brand["id"], brand["dept"], {**HOURS, "count_open_hours_only": True})
        ana = await seed.operator(s, brand["id"], "Ana", [await s.get(__import__("desk.models").models.Department,
                                                                      brand["dept"])])
        with clock_from(FRIDAY_1750):
            chat = await seed.chat_from(s, "443", at=FRIDAY_1750)
            assert (await routing.hand_off(s, chat.id)).operator_name == ana.name
    async with sessions() as s, s.begin():
        assert (await timers.run_once(s, now=tokyo(2026, 12, 13, 23))).closed_idle == 0  # Sunday night
    assert await state_of(sessions, chat.id) == ChatState.open
    async with sessions() as s, s.begin():
        assert (await timers.run_once(s, now=tokyo(2026, 12, 14, 9, 21))).closed_idle == 1
    assert await state_of(sessions, chat.id) == ChatState.closed
