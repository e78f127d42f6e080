"""Handoff routing on a real database (SQLite and PostgreSQL)."""
import asyncio
import datetime as dt

import pytest

from desk.models import Chat, ChatState, OperatorStatus, PhoneNumber, WhatsAppBusinessAccount, utcnow
from desk.services import routing
from tests.desk import seed


@pytest.fixture
async def desk(sessions):
    async with sessions() as s, s.begin():
        number = await seed.brand_with_number(s)
        waba = await s.get(WhatsAppBusinessAccount, number.waba_id)
        return {"brand_id": waba.brand_id, "support_id": number.department_id}


async def test_least_busy_then_longest_idle_operator_gets_the_chat(sessions, desk):
    long_ago = utcnow() - dt.timedelta(hours=2)
    async with sessions() as s, s.begin():
        from desk.models import Department
        support = await s.get(Department, desk["support_id"])
        ana = await seed.operator(s, desk["brand_id"], "Ana", [support], last_assigned_at=utcnow())
        bo = await seed.operator(s, desk["brand_id"], "Bo", [support], last_assigned_at=long_ago)
        ids = {"ana": ana.id, "bo": bo.id}
    results = []
    for user in ("441", "442", "443"):
        async with sessions() as s, s.begin():
            chat = await seed.chat_from(s, user)
            results.append((await routing.hand_off(s, chat.id)).operator_name)
    # Bo idle longest gets the first; then Ana (0 chats vs Bo's 1); then Bo (longest idle among 1-1).
    assert results == ["Bo", "Ana", "Bo"]
    async with sessions() as s:
        assert await routing.open_chats_of(s, ids["bo"]) == 2


async def test_full_operators_leave_chats_waiting_with_a_queue_position(sessions, desk):
    async with sessions() as s, s.begin():
        from desk.models import Department
        support = await s.get(Department, desk["support_id"])
        await seed.operator(s, desk["brand_id"], "Ana", [support], max_chats=1)
    states = []
    for user in ("441", "442", "443"):
        async with sessions() as s, s.begin():
            chat = await seed.chat_from(s, user)
            states.append(await routing.hand_off(s, chat.id))
    assert [r.state for r in states] == [ChatState.open, ChatState.waiting, ChatState.waiting]
    assert [r.position for r in states[1:]] == [1, 2]


async def test_nobody_online_makes_the_chat_unattended_and_an_operator_can_pick_it(sessions, desk):
    async with sessions() as s, s.begin():
        from desk.models import Department
        support = await s.get(Department, desk["support_id"])
        ana = await seed.operator(s, desk["brand_id"], "Ana", [support], status=OperatorStatus.offline)
        chat = await seed.chat_from(s, "441")
        result = await routing.hand_off(s, chat.id)
        assert result.state == ChatState.unattended
        picked = await routing.pick(s, chat.id, ana)
        assert (picked.state, picked.operator_id) == (ChatState.open, ana.id)


async def test_two_operators_picking_the_same_chat_one_wins(sessions, desk):
    async with sessions() as s, s.begin():
        from desk.models import Department
        support = await s.get(Department, desk["support_id"])
        ops = [await seed.operator(s, desk["brand_id"], n, [support], status=OperatorStatus.away)
               for n in ("Ana", "Bo", "Cy")]
        chat = await seed.chat_from(s, "441")
        await routing.hand_off(s, chat.id)
        chat_id, op_ids = chat.id, [o.id for o in ops]

    async def pick(op_id):
        async with sessions() as s, s.begin():
            from desk.models import Operator
            return await routing.pick(s, chat_id, await s.get(Operator, op_id))

    results = await asyncio.gather(*[pick(i) for i in op_ids], return_exceptions=True)
    assert len([r for r in results if isinstance(r, Chat)]) == 1
    assert all(isinstance(r, routing.RoutingError) for r in results if not isinstance(r, Chat))


async def test_operators_only_get_chats_of_their_department(sessions, desk):
    async with sessions() as s, s.begin():
        sales = await seed.department(s, desk["brand_id"], "Sales")
        await seed.operator(s, desk["brand_id"], "Sam", [sales])
        chat = await seed.chat_from(s, "441")
        assert (await routing.hand_off(s, chat.id)).state == ChatState.unattended  # Support has nobody
        sam_result = await routing.hand_off(s, (await seed.chat_from(s, "442")).id, sales.id)
        assert sam_result.operator_name == "Sam"


async def test_transfer_to_another_department_requeues(sessions, desk):
    async with sessions() as s, s.begin():
        from desk.models import Department
        support = await s.get(Department, desk["support_id"])
        sales = await seed.department(s, desk["brand_id"], "Sales")
        await seed.operator(s, desk["brand_id"], "Ana", [support])
        sam = await seed.operator(s, desk["brand_id"], "Sam", [sales])
        chat = await seed.chat_from(s, "441")
        assert (await routing.hand_off(s, chat.id)).operator_name == "Ana"
        moved = await routing.transfer(s, chat.id, to_department_id=sales.id)
        assert (moved.state, moved.operator_name) == (ChatState.open, "Sam")
        await s.refresh(chat)
        assert (chat.operator_id, chat.department_id) == (sam.id, sales.id)


async def test_closing_twice_closes_once_and_closed_chats_cannot_be_handed_off(sessions, desk):
    async with sessions() as s, s.begin():
        chat = await seed.chat_from(s, "441")
    async def close():
        async with sessions() as s, s.begin():
            return await routing.close(s, chat.id, by="test", reason="done")
    assert sorted(await asyncio.gather(close(), close(), close())) == [False, False, True]
    async with sessions() as s, s.begin():
        with pytest.raises(routing.RoutingError, match="closed"):
            await routing.hand_off(s, chat.id)


async def test_a_new_message_after_closing_starts_a_new_chat_with_the_bot(sessions, desk):
    async with sessions() as s, s.begin():
        first = await seed.chat_from(s, "441")
        await routing.close(s, first.id, by="test", reason="done")
    async with sessions() as s, s.begin():
        second = await seed.chat_from(s, "441", "back again")
        assert second.id != first.id and second.state == ChatState.bot


async def test_waiting_chats_are_assigned_when_an_operator_comes_online(sessions, desk):
    async with sessions() as s, s.begin():
        from desk.models import Department
        support = await s.get(Department, desk["support_id"])
        ana = await seed.operator(s, desk["brand_id"], "Ana", [support], status=OperatorStatus.away)
        chat = await seed.chat_from(s, "441")
        assert (await routing.hand_off(s, chat.id)).state == ChatState.waiting
        ana.status = OperatorStatus.online
    async with sessions() as s, s.begin():
        assert await routing.assign_waiting(s) == [chat.id]
