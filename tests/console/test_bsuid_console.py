"""A username-only user (business-scoped user id, no phone) in the console: shown as
@username, searchable, answerable; the reply goes by `recipient`."""
from __future__ import annotations

from sqlalchemy import select

from desk.models import Message, OutboxMessage
from desk.services import conversations, routing
from tests.console.conftest import SUPPORT_NUMBER, signed_in

BSUID = "US.13491208655302741918"


async def seed_username_only_chat(desk, name=None) -> int:
    from desk.models import utcnow

    async with desk.sessions() as session, session.begin():
        chat, _ = await conversations.record_inbound(
            session, phone_number_id=SUPPORT_NUMBER, wa_id=None, user_id=BSUID, username="mika",
            profile_name=name, wamid="wamid.bsuid1", type="text", body="I want a person",
            payload={"text": {"body": "I want a person"}}, wa_timestamp=utcnow().replace(microsecond=0))
        await routing.hand_off(session, chat.id)
        return chat.id


async def test_a_username_only_contact_is_shown_by_username_and_answered_by_recipient(make_console, desk):
    chat_id = await seed_username_only_chat(desk)
    alice = await signed_in(make_console, "alice")
    [item] = (await (await alice.get("/api/inbox/unattended")).json())["chats"]
    assert (item["phone"], item["username"], item["handle"], item["wa_id"]) == ("", "mika", "@mika", BSUID)
    detail = await (await alice.get(f"/api/chats/{chat_id}")).json()
    assert detail["contact"]["handle"] == "@mika" and detail["contact"]["phone"] == ""
    assert (await alice.post(f"/api/chats/{chat_id}/pick")).status == 200
    resp = await alice.post(f"/api/chats/{chat_id}/reply", {"text": "hello Mika"})
    assert resp.status == 201, await resp.text()
    async with desk.sessions() as session:
        row = (await session.execute(select(OutboxMessage).join(Message, Message.id == OutboxMessage.message_id)
                                     .where(Message.chat_id == chat_id))).scalar_one()
    assert row.request["recipient"] == BSUID and "to" not in row.request
    contacts = await (await alice.get("/api/contacts", params={"q": "@mika"})).json()
    assert [c["handle"] for c in contacts["contacts"]] == ["@mika"]


async def test_a_change_of_user_id_is_a_system_line_in_the_transcript(make_console, desk):
    from desk.models import utcnow

    chat_id = await seed_username_only_chat(desk, name="Mika")
    async with desk.sessions() as session, session.begin():
        await conversations.record_system_change(
            session, phone_number_id=SUPPORT_NUMBER, wa_id=None, user_id=BSUID,
            system_type="user_changed_user_id", new_wa_id=None, new_user_id="US.99", wamid="wamid.sys",
            body="User Mika changed their business-scoped user ID", payload={},
            wa_timestamp=utcnow().replace(microsecond=0))
    alice = await signed_in(make_console, "alice")
    messages = (await (await alice.get(f"/api/chats/{chat_id}/messages")).json())["messages"]
    assert [(m["sender"], m["body"]) for m in messages][-1] == (
        "system", "User Mika changed their business-scoped user ID")
    [item] = (await (await alice.get("/api/inbox/unattended")).json())["chats"]
    assert item["bsuid"] == "US.99" and item["wa_id"] == BSUID and item["name"] == "Mika"
