"""Presence follows the console's live connection; newly online operators take the
chats that waited for their department (issue 11)."""
import datetime as dt

import pytest

from desk.models import Chat, ChatState, Department, Operator, OperatorStatus, WhatsAppBusinessAccount, utcnow
from desk.services import operators, routing
from tests.desk import seed

pytestmark = pytest.mark.usefixtures("mid_month_clock")  # tests/conftest.py: a fixed mid-month desk clock


@pytest.fixture
async def desk(sessions):
    async with sessions() as s, s.begin():
        number = await seed.brand_with_number(s)
        waba = await s.get(WhatsAppBusinessAccount, number.waba_id)
        support = await s.get(Department, number.department_id)
        ana = await seed.operator(s, waba.brand_id, "Ana", [support])                  # online, no live page
        bo = await seed.operator(s, waba.brand_id, "Bo", [support], status=OperatorStatus.away)
        cy = await seed.operator(s, waba.brand_id, "Cy", [support], status=OperatorStatus.offline)
        return {"ana": ana.id, "bo": bo.id, "cy": cy.id}


async def test_an_operator_whose_console_went_away_goes_offline_after_the_grace(sessions, desk):
    now = utcnow()
    async with sessions() as s, s.begin():
        await operators.seen(s, desk["ana"], now - dt.timedelta(seconds=30))   # a beat 30 s ago: within grace
        await operators.seen(s, desk["bo"], now - dt.timedelta(seconds=90))    # closed the tab 90 s ago
        assert await operators.expire_presence(s, now) == [desk["bo"]]
    async with sessions() as s, s.begin():
        assert (await s.get(Operator, desk["bo"])).status == OperatorStatus.offline
        assert (await s.get(Operator, desk["ana"])).status == OperatorStatus.online
        # a 61-second gap for Ana: offline too; nobody without a live page ever is
        assert await operators.expire_presence(s, now + dt.timedelta(seconds=31)) == [desk["ana"]]
        assert await operators.expire_presence(s, now + dt.timedelta(days=1)) == []


async def test_a_ghost_gets_no_chat_and_the_next_one_online_takes_the_unattended_ones(sessions, desk):
    now = utcnow()
    async with sessions() as s, s.begin():
        for op in ("ana", "bo"):
            await operators.seen(s, desk[op], now - dt.timedelta(minutes=5))
        await operators.expire_presence(s, now)
        first = await seed.chat_from(s, "441")
        second = await seed.chat_from(s, "442")
        assert (await routing.hand_off(s, first.id)).state == ChatState.unattended
        assert (await routing.hand_off(s, second.id)).state == ChatState.unattended
        assert await routing.assign_waiting(s) == []                    # nobody online: nothing moves
        ids = (first.id, second.id)
    async with sessions() as s, s.begin():
        await operators.set_status(s, desk["cy"], OperatorStatus.online)
        await s.flush()
        assert await routing.assign_waiting(s) == list(ids)              # oldest first
    async with sessions() as s:
        chats = [await s.get(Chat, i) for i in ids]
        assert [(c.state, c.operator_id, c.was_unattended) for c in chats] == [
            (ChatState.open, desk["cy"], True), (ChatState.open, desk["cy"], True)]


async def test_only_departments_someone_answers_for_are_offered(sessions, desk):
    async with sessions() as s, s.begin():
        number = await seed.brand_with_number(s)
        brand_id = (await s.get(WhatsAppBusinessAccount, number.waba_id)).brand_id
        await seed.department(s, brand_id, "Empty")
        sales = await seed.department(s, brand_id, "Sales")
        await seed.operator(s, brand_id, "Dee", [sales], status=OperatorStatus.offline)
        choices = await routing.departments_for_number(s, number.id)
        assert [(c.name, c.available) for c in choices] == [("Support", True), ("Sales", False)]
        # with every member of Support gone, the number's own department is still the last resort
        for name in ("ana", "bo", "cy"):
            (await s.get(Operator, desk[name])).active = False
        await s.flush()
        assert [c.name for c in await routing.departments_for_number(s, number.id)] == ["Sales"]
