"""Contract tests for username-only users (business-scoped user ids) against the simulator:
no phone number anywhere, replies with `recipient`, statuses by BSUID, 131062, system changes."""
from __future__ import annotations

from sqlalchemy import select

from cloudapi import outbound
from cloudapi.ids import conversation_id
from desk.models import Chat, Contact, Message, Sender
from desk.services import outbox
from tests.channel.conftest import PNID, USER, WABA
from tests.channel.test_contract import body_of, desk_messages

BSUID = "US.13491208655302741918"


async def _silent(item, chat_id):
    return None


async def contacts_of(h) -> list[Contact]:
    async with h.runtime.sessions() as s:
        return list((await s.execute(select(Contact).order_by(Contact.id))).scalars())


async def test_a_username_only_user_is_answered_by_recipient_and_statuses_apply(harness):
    await harness.say(BSUID, text="hi, no phone here", profile_name="Mika", username="mika")

    async def read():
        bot = await desk_messages(harness, Sender.bot)
        return bot and bot[0].status == "read"
    assert await harness.settle(until=read)
    [reply] = await harness.outbound(BSUID)
    request = body_of(reply)
    assert request["recipient"] == BSUID and "to" not in request
    assert request["text"]["body"] == "echo: hi, no phone here"
    [contact] = await contacts_of(harness)
    assert (contact.wa_id, contact.phone, contact.bsuid, contact.username) == (BSUID, None, BSUID, "mika")
    [(_, item)] = harness.turns
    assert item.contact_key == BSUID and item.wa_id is None


async def test_an_authentication_template_to_a_username_only_user_is_refused_with_a_clear_reason(harness):
    from desk.billing import templates

    harness.bot = _silent
    await harness.say(BSUID, text="send me a code")
    await harness.settle(0.3)
    await harness.control("POST", "templates", name="login_code", language="en", category="AUTHENTICATION",
                          body="Your code is {{1}}")
    async with harness.runtime.sessions() as s, s.begin():
        await templates.register(s, waba_id=WABA, name="login_code", language="en", category="AUTHENTICATION",
                                 components=templates.components_from("Your code is {{1}}"), status="APPROVED")
    await harness.output.send_custom_json(conversation_id(PNID, BSUID), outbound.template_message(
        "", "login_code", "en", body_params=["123456"]))
    [msg] = await desk_messages(harness, Sender.bot)
    assert msg.status == "failed" and "131062" in msg.error and "username" in msg.error
    assert await harness.outbound(BSUID) == []  # refused before Meta was asked


async def test_131062_from_meta_fails_a_bot_reply_once_with_a_clear_reason(harness):
    harness.bot = _silent
    await harness.say(BSUID, text="hi")
    await harness.settle(0.3)
    await harness.control("POST", "faults", code=131062, count=2)
    await harness.output.send_text_message(conversation_id(PNID, BSUID), "a reply Meta refuses")
    [msg] = await desk_messages(harness, Sender.bot)
    assert msg.status == "failed" and "131062" in msg.error and "username" in msg.error
    faults = await harness.control("GET", "faults")
    assert [f["remaining"] for f in faults["faults"][PNID]] == [1]  # one attempt: not retried


async def test_an_operator_reply_to_a_bsuid_user_goes_by_recipient_and_131062_is_final(harness):
    harness.bot = _silent
    await harness.say(BSUID, text="hi")
    await harness.settle(0.3)
    async with harness.runtime.sessions() as s, s.begin():
        chat = (await s.execute(select(Chat))).scalar_one()
        await outbox.enqueue(s, chat, Sender.operator, {"type": "text", "text": {"body": "hello Mika"}},
                             "hello Mika")
    sent = await outbox.run_once(harness.runtime.sessions, harness.runtime.graph, "contract-token")
    assert sent == 1
    [reply] = await harness.outbound(BSUID)
    assert body_of(reply)["recipient"] == BSUID and "to" not in body_of(reply)

    await harness.control("POST", "faults", code=131062, count=-1)
    async with harness.runtime.sessions() as s, s.begin():
        chat = (await s.execute(select(Chat))).scalar_one()
        await outbox.enqueue(s, chat, Sender.operator, {"type": "text", "text": {"body": "again"}}, "again")
    await outbox.run_once(harness.runtime.sessions, harness.runtime.graph, "contract-token")
    async with harness.runtime.sessions() as s:
        failed = (await s.execute(select(Message).where(Message.body == "again"))).scalar_one()
    assert failed.status == "failed" and "131062" in failed.error
    # final: nothing is due again
    assert await outbox.run_once(harness.runtime.sessions, harness.runtime.graph, "contract-token") == 0


async def test_a_change_of_number_keeps_the_chat_and_the_sender_id(harness):
    await harness.say(USER, text="first")
    await harness.settle(until=lambda: _count(harness, 1))
    new_phone = "447700900099"
    await harness.control("POST", f"users/{USER}/change", new_wa_id=new_phone)
    await harness.settle(0.3)
    [contact] = await contacts_of(harness)
    assert (contact.wa_id, contact.phone) == (USER, new_phone)
    await harness.say(new_phone, text="from my new number")
    await harness.settle(until=lambda: _count(harness, 2))
    [reply] = await harness.outbound(new_phone)
    assert body_of(reply)["to"] == new_phone  # the reply goes to the new number
    assert [item.contact_key for _, item in harness.turns] == [USER, USER]  # one Rasa conversation
    msgs = await desk_messages(harness)
    assert len({m.chat_id for m in msgs}) == 1
    assert [m.sender for m in msgs if m.type == "system"] == [Sender.system]


async def _count(h, n):
    return len(await desk_messages(h, Sender.bot)) >= n


async def test_with_user_ids_a_phone_user_is_known_by_both_and_answered_by_phone(harness):
    await harness.control("POST", "settings", user_ids=True)
    await harness.say(USER, text="hello")
    assert await harness.settle(until=lambda: _count(harness, 1))
    [contact] = await contacts_of(harness)
    assert contact.wa_id == contact.phone == USER and contact.bsuid and contact.bsuid.startswith("GB.")
    [reply] = await harness.outbound(USER)
    assert body_of(reply)["to"] == USER and "recipient" not in body_of(reply)
    [(_, item)] = harness.turns
    assert item.contact_key == USER  # the sender id stays the phone the contact was first known by
