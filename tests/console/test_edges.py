"""Console rough edges (issue 11): the lone "/", failed sends in plain words and their
retry, canned-response variables, internal notes, timeouts in hours and days, phone
numbers in one format (SQLite and PostgreSQL)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from desk.models import Message, OutboxMessage
from tests.clock import MID_MONTH, clock_from
from tests.console.conftest import signed_in


@pytest.fixture(autouse=True)
def fixed_clock():
    with clock_from(MID_MONTH):
        yield


async def outbox_rows(desk, chat_id: int) -> list[OutboxMessage]:
    async with desk.sessions() as session:
        rows = await session.execute(select(OutboxMessage).join(Message, Message.id == OutboxMessage.message_id)
                                     .where(Message.chat_id == chat_id))
        return list(rows.scalars())


async def picked_by(make_console, desk, who: str = "alice", wa_id: str = "447700900001"):
    chat_id = await desk.seed_chat(wa_id)
    console = await signed_in(make_console, who)
    assert (await console.post(f"/api/chats/{chat_id}/pick")).status == 200
    return console, chat_id


@pytest.mark.parametrize("text", ["/", " / ", "/cou", "/refund-2"])
async def test_a_lone_slash_is_refused_and_nothing_is_queued(make_console, desk, text):
    alice, chat_id = await picked_by(make_console, desk)
    resp = await alice.post(f"/api/chats/{chat_id}/reply", {"text": text})
    assert resp.status == 400
    assert "canned responses" in (await resp.json())["error"]
    assert await outbox_rows(desk, chat_id) == []
    # A reply that merely starts with a slash, or mentions one, still goes.
    ok = await alice.post(f"/api/chats/{chat_id}/reply", {"text": "/ is the key next to shift"})
    assert ok.status == 201
    assert [r.request["text"]["body"] for r in await outbox_rows(desk, chat_id)] == ["/ is the key next to shift"]


async def test_phone_numbers_have_one_format_everywhere(make_console, desk):
    """Issue 11: "15550000001" (a number as stored) next to "+15550000002" (a WhatsApp id)."""
    from desk.models import PhoneNumber
    from desk.phone_display import phone_display
    from tests.console.conftest import SUPPORT_NUMBER

    async with desk.sessions() as session, session.begin():
        (await session.get(PhoneNumber, SUPPORT_NUMBER)).display_phone_number = "15550000001"  # as the demo stores it
    chat_id = await desk.seed_chat("15550000002")
    ada = await signed_in(make_console, "ada")
    detail = await (await ada.get(f"/api/chats/{chat_id}")).json()
    assert detail["contact"]["phone"] == "+1 555-000-0002"
    assert detail["number"]["display"] == "+1 555-000-0001"
    [item] = (await (await ada.get("/api/inbox/unattended")).json())["chats"]
    assert item["phone"] == "+1 555-000-0002"
    numbers = {n["id"]: n["display"] for n in await (await ada.get("/api/admin/numbers")).json()}
    assert numbers[SUPPORT_NUMBER] == "+1 555-000-0001"
    contacts = (await (await ada.get("/api/contacts")).json())["contacts"]
    assert [c["phone"] for c in contacts] == ["+1 555-000-0002"]
    assert contacts[0]["last_chat"]["number"] == "+1 555-000-0001"
    assert [phone_display(v) for v in ("447700900123", "+44 7700 900123", "", "999")] == [
        "+44 7700 900123", "+44 7700 900123", "", "+999"]
