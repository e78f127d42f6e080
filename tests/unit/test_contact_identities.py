"""Contacts known by phone and/or BSUID: found, learnt, merged; Rasa's sender id stays."""
import pytest
from sqlalchemy import select

from cloudapi.ids import conversation_id
from connectors.whatsapp.processor import InboxProcessor
from desk.models import Chat, ChatState, Contact, Lead, Message, Sender
from desk.services import contacts, numbers
from tests.unit.test_payloads import BSUID, envelope
from tests.unit.test_processor import graph_api  # noqa: F401  (fixture)

PHONE = "16315551234"


@pytest.fixture
async def processor(sessions, graph_api):  # noqa: F811
    async with sessions() as s, s.begin():
        await numbers.ensure_number(s, phone_number_id="111", waba_id="W1")
    delivered = []

    async def deliver(item, chat_id, opens_chat, retry=False):
        delivered.append((item.wamid, conversation_id(item.phone_number_id, item.contact_key), chat_id))

    proc = InboxProcessor(sessions, graph_api[0], "default-token", deliver, mark_read=False)
    proc.delivered = delivered
    yield proc
    await proc.stop()


def text(wamid, *, phone=None, user_id=None, username=None, body="hi", ts=1700000000):
    msg = {"id": wamid, "timestamp": str(ts), "type": "text", "text": {"body": body}}
    contact = {"profile": {"name": "Mika", **({"username": username} if username else {})}}
    if phone:
        msg["from"] = contact["wa_id"] = phone
    if user_id:
        msg["from_user_id"] = contact["user_id"] = user_id
    return envelope({"contacts": [contact], "messages": [msg]})


def system(wamid, kind, *, phone=None, user_id=None, new_phone=None, new_user_id=None, ts=1700000500):
    sysobj = {"body": f"User Mika {kind}", "type": kind}
    if new_phone:
        sysobj["wa_id"] = new_phone
    if new_user_id:
        sysobj["user_id"] = new_user_id
    msg = {"id": wamid, "timestamp": str(ts), "type": "system", "system": sysobj}
    if phone:
        msg["from"] = phone
    if user_id:
        msg["from_user_id"] = user_id
    return envelope({"messages": [msg]})


async def run(processor, *bodies):
    for body in bodies:
        for lane in await processor.accept(body):
            processor.kick(*lane)
        await processor.idle()


async def all_contacts(sessions):
    async with sessions() as s:
        return list((await s.execute(select(Contact).order_by(Contact.id))).scalars())


async def test_a_username_only_user_is_a_contact_without_a_phone(processor, sessions):
    await run(processor, text("wamid.1", user_id=BSUID, username="mika"))
    [c] = await all_contacts(sessions)
    assert (c.wa_id, c.phone, c.bsuid, c.username) == (BSUID, None, BSUID, "mika")
    assert [d[1] for d in processor.delivered] == [f"111_{BSUID}"]
    assert contacts.display_name(c) == "Mika"
    c.profile_name = None
    assert contacts.display_name(c) == "@mika"


@pytest.mark.parametrize("first,then", [
    ({"phone": PHONE}, {"phone": PHONE, "user_id": BSUID}),
    ({"user_id": BSUID}, {"phone": PHONE, "user_id": BSUID}),
    ({"phone": PHONE, "user_id": BSUID}, {"user_id": BSUID}),
])
async def test_the_sender_id_is_the_first_known_identity_and_stays(processor, sessions, first, then):
    await run(processor, text("wamid.1", **first), text("wamid.2", ts=1700000001, **then),
              text("wamid.3", ts=1700000002, **first))
    [c] = await all_contacts(sessions)
    key = first.get("phone") or first.get("user_id")
    assert (c.wa_id, c.phone, c.bsuid) == (key, PHONE, BSUID)
    assert {d[1] for d in processor.delivered} == {f"111_{key}"}
    assert len({d[2] for d in processor.delivered}) == 1  # one chat


async def test_two_contacts_that_turn_out_to_be_one_person_are_merged_without_losing_chats(processor, sessions):
    await run(processor, text("wamid.p", phone=PHONE, body="by phone"),
              text("wamid.b", user_id=BSUID, body="by username", ts=1700000001))
    first, second = await all_contacts(sessions)
    async with sessions() as s, s.begin():
        chats = list((await s.execute(select(Chat).order_by(Chat.id))).scalars())
        assert len(chats) == 2
        s.add(Lead(contact_id=second.id, phone_number_id="111", name="Mika"))
    await run(processor, text("wamid.both", phone=PHONE, user_id=BSUID, body="both", ts=1700000002))
    [c] = await all_contacts(sessions)
    assert (c.id, c.wa_id, c.phone, c.bsuid) == (first.id, PHONE, PHONE, BSUID)
    async with sessions() as s:
        chats = list((await s.execute(select(Chat).order_by(Chat.id))).scalars())
        assert {ch.contact_id for ch in chats} == {c.id} and len(chats) == 2
        assert [ch.state for ch in chats] == [ChatState.bot, ChatState.closed]  # one live chat per number
        bodies = [m.body for m in (await s.execute(select(Message).order_by(Message.id))).scalars()]
        assert bodies == ["by phone", "by username", "both"]
        assert (await s.execute(select(Lead.contact_id))).scalar_one() == c.id
    # the merged user's next message goes to the kept contact's conversation
    assert processor.delivered[-1][1] == f"111_{PHONE}"


async def test_user_changed_number_keeps_the_contact_its_chats_and_sender_id(processor, sessions):
    await run(processor, text("wamid.1", phone=PHONE, user_id=BSUID))
    await run(processor, system("wamid.sys", "user_changed_number", phone=PHONE, user_id=BSUID,
                                new_phone="12195555358"))
    [c] = await all_contacts(sessions)
    assert (c.wa_id, c.phone) == (PHONE, "12195555358")
    assert len(processor.delivered) == 1  # no bot turn for a system message
    await run(processor, text("wamid.2", phone="12195555358", user_id="US.777", ts=1700000600))
    [c] = await all_contacts(sessions)
    assert (c.wa_id, c.phone, c.bsuid) == (PHONE, "12195555358", "US.777")
    assert processor.delivered[-1][1] == f"111_{PHONE}"
    async with sessions() as s:
        msgs = list((await s.execute(select(Message).order_by(Message.wa_timestamp))).scalars())
        assert [(m.sender, m.type) for m in msgs] == [
            (Sender.user, "text"), (Sender.system, "system"), (Sender.user, "text")]
        assert len({m.chat_id for m in msgs}) == 1


async def test_user_changed_user_id_gives_the_contact_its_new_bsuid(processor, sessions):
    await run(processor, text("wamid.1", user_id=BSUID, username="mika"))
    await run(processor, system("wamid.sys", "user_changed_user_id", user_id=BSUID, new_user_id="US.888"))
    await run(processor, text("wamid.2", user_id="US.888", ts=1700000600))
    [c] = await all_contacts(sessions)
    assert (c.wa_id, c.bsuid, c.phone) == (BSUID, "US.888", None)
    assert {d[1] for d in processor.delivered} == {f"111_{BSUID}"}
    async with sessions() as s:
        line = (await s.execute(select(Message).where(Message.type == "system"))).scalar_one()
        assert line.sender == Sender.system and "user_changed_user_id" in line.body


async def test_a_system_message_of_an_unknown_user_opens_no_chat(processor, sessions):
    await run(processor, system("wamid.sys", "user_changed_number", phone=PHONE, new_phone="12195555358"))
    async with sessions() as s:
        assert (await s.execute(select(Chat))).first() is None
        assert (await s.execute(select(Contact))).first() is None


async def test_a_late_message_from_the_old_number_stays_with_the_contact(processor, sessions):
    await run(processor, text("wamid.1", phone=PHONE))
    await run(processor, system("wamid.sys", "user_changed_number", phone=PHONE, new_phone="12195555358"))
    await run(processor, text("wamid.late", phone=PHONE, ts=1700000100))  # sent before the change
    [c] = await all_contacts(sessions)
    assert (c.wa_id, c.phone) == (PHONE, "12195555358")  # the old number does not come back
    assert {d[1] for d in processor.delivered} == {f"111_{PHONE}"}


def test_a_bsuid_users_market_is_the_country_it_starts_with():
    from desk.billing.markets import market_for

    assert market_for("US.13491208655302741918") == "North America"
    assert market_for("BR.1502576394655843") == "Brazil"
    assert market_for("16315551234") == "North America"


async def test_a_change_to_a_number_another_contact_has_merges_them(processor, sessions):
    await run(processor, text("wamid.a", phone=PHONE, body="old number"),
              text("wamid.b", phone="12195555358", body="new number first", ts=1700000001))
    first, second = await all_contacts(sessions)
    await run(processor, system("wamid.sys", "user_changed_number", phone=PHONE, new_phone="12195555358"))
    [c] = await all_contacts(sessions)
    assert (c.id, c.wa_id, c.phone) == (first.id, PHONE, "12195555358")
    async with sessions() as s:
        assert {ch.contact_id for ch in (await s.execute(select(Chat))).scalars()} == {first.id}
        assert len((await s.execute(select(Message).where(Message.sender == Sender.user))).all()) == 2


def status(wamid, *, phone=None, user_id=None, username=None, state="delivered", ts=1700000100):
    item = {"id": wamid, "status": state, "timestamp": str(ts)}
    contact = {"profile": {"name": "Mika", **({"username": username} if username else {})}}
    if phone:
        item["recipient_id"] = contact["wa_id"] = phone
    if user_id:
        item["recipient_user_id"] = contact["user_id"] = user_id
    return envelope({"statuses": [item], "contacts": [contact]})


async def reply_in_chat(sessions, wamid):
    from desk.services import conversations

    async with sessions() as s, s.begin():
        chat = (await s.execute(select(Chat))).scalar_one()
        msg = await conversations.record_outbound(s, chat_id=chat.id, sender=Sender.bot, type="text",
                                                  body="hello", payload={})
        msg.wamid = wamid


async def test_a_status_naming_phone_and_bsuid_teaches_the_contact_its_bsuid_and_username(processor, sessions):
    await run(processor, text("wamid.1", phone=PHONE))
    await reply_in_chat(sessions, "wamid.out")
    await run(processor, status("wamid.out", phone=PHONE, user_id=BSUID, username="mika"))
    [c] = await all_contacts(sessions)
    assert (c.wa_id, c.phone, c.bsuid, c.username) == (PHONE, PHONE, BSUID, "mika")
    async with sessions() as s:
        assert (await s.execute(select(Message.status).where(Message.wamid == "wamid.out"))).scalar_one() == "delivered"


async def test_a_late_status_does_not_overwrite_a_changed_number(processor, sessions):
    await run(processor, text("wamid.1", phone=PHONE, user_id=BSUID))
    await reply_in_chat(sessions, "wamid.out")
    await run(processor, system("wamid.sys", "user_changed_number", phone=PHONE, user_id=BSUID,
                                new_phone="12195555358", new_user_id="US.777"))
    await run(processor, status("wamid.out", phone=PHONE, user_id=BSUID, state="read"))
    [c] = await all_contacts(sessions)
    assert (c.wa_id, c.phone, c.bsuid) == (PHONE, "12195555358", "US.777")


def test_crm_records_of_a_username_only_contact_carry_no_made_up_phone():
    from desk.integrations.webhook import _contact
    from desk.integrations.zoho import lead_record

    contact = Contact(wa_id=BSUID, bsuid=BSUID, username="mika")
    record = lead_record(Lead(name=None, phone=None), contact)
    assert record["Last_Name"] == "WhatsApp @mika" and "Phone" not in record
    assert _contact(contact) == {"wa_id": BSUID, "phone": None, "bsuid": BSUID, "username": "mika",
                                 "profile_name": None}
    phone_contact = Contact(wa_id=PHONE, phone=PHONE)
    assert lead_record(Lead(name="Kerry Fisher", phone=None), phone_contact)["Phone"] == f"+{PHONE}"
