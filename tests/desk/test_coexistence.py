"""A coexistence number's onboarding webhooks on a real database (issue 12), built by
the simulator as Meta documents them (simulator/account_webhooks.py), parsed by the
channel's parser and applied by the desk:

- `history`: the WhatsApp Business app's past messages, in the transcript with their
  own times; no window, no bot turn, no language switch; redelivery changes nothing;
  a malformed chunk is skipped and the rest kept.
- `smb_app_state_sync`: the app's contacts, added, edited and removed: the name stays
  on the contact (and reaches the console's contact JSON).
- `message_template_quality_update`: the template's quality in the registry; RED warns.
"""
import dataclasses
import datetime as dt
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from cloudapi.payloads import parse_webhook
from desk.billing import template_sync, templates
from desk.models import Chat, Contact, EventState, Message, MessageTemplate, WebhookEvent
from desk.services import account_events, conversations
from desk.web.views import contact_json, message_json, template_json
from simulator import account_webhooks as aw
from simulator.state import Number
from tests.clock import MID_MONTH
from tests.desk import seed

pytestmark = pytest.mark.usefixtures("mid_month_clock")  # tests/conftest.py: a fixed mid-month desk clock

KNOWN, NEW = "447700900001", "447700900002"
BUSINESS = "15550000001"


@pytest.fixture
async def desk(sessions):
    async with sessions() as s, s.begin():
        number = await seed.brand_with_number(s)
        number.display_phone_number = "+1 555-000-0001"
        # The known user last wrote three days ago: their window is closed.
        chat = await seed.chat_from(s, KNOWN, "hello there", at=MID_MONTH - dt.timedelta(days=3))
        return SimpleNamespace(waba=number.waba_id, number=number.id, chat=chat.id,
                               sim_number=Number(number.id, "t", "+1 555-000-0001", number.waba_id))


async def run_inbox(sessions, *bodies):
    """Each body through the channel's inbox and processor; no bot turn may happen."""
    from connectors.whatsapp.processor import InboxProcessor

    async def deliver(*a, **k):
        raise AssertionError("no bot turn for a coexistence webhook")

    proc = InboxProcessor(sessions, None, "token", deliver)
    try:
        for body in bodies:
            for lane in await proc.accept(body):
                proc.kick(*lane)
            await proc.idle()
    finally:
        await proc.stop()


def at(delta: dt.timedelta) -> int:
    return int((MID_MONTH + delta).timestamp())


async def test_history_is_the_past_in_the_transcript_without_window_bot_or_language(sessions, desk):
    # Phase 0 is the day before onboarding: a user message one hour ago must still not open the window.
    body = aw.number_change(desk.sim_number, "history", aw.history(BUSINESS, {"phase": 0, "chunk_order": 1,
                                                                               "progress": 40, "threads": [
        {"wa_id": KNOWN, "messages": [
            {"text": "大阪に発送できますか？", "timestamp": at(-dt.timedelta(hours=1)), "id": "wamid.P1"},
            {"text": "はい、できます。", "timestamp": at(-dt.timedelta(minutes=50)), "from_business": True,
             "status": "READ", "id": "wamid.P2"}]},
        {"wa_id": NEW, "messages": [{"media": True, "timestamp": at(-dt.timedelta(hours=5)), "id": "wamid.P3"}]}]}))
    # A second chunk of the same phase, malformed (a message with no timestamp): skipped, logged.
    broken = aw.history(BUSINESS, {"chunk_order": 2, "threads": [{"wa_id": NEW, "messages": [
        {"text": "lost", "timestamp": at(-dt.timedelta(hours=4)), "id": "wamid.P4"}]}]})["history"][0]
    del broken["threads"][0]["messages"][0]["timestamp"]
    body["entry"][0]["changes"][0]["value"]["history"].append(broken)
    await run_inbox(sessions, body, body)  # Meta redelivers the whole webhook
    async with sessions() as s:
        events = (await s.execute(select(WebhookEvent))).scalars().all()
        assert sorted(e.dedupe_key for e in events) == ["wamid.P1", "wamid.P2", "wamid.P3"]
        assert {e.state for e in events} == {EventState.done}
        chat = await s.get(Chat, desk.chat)
        assert chat.last_user_message_at == MID_MONTH - dt.timedelta(days=3)   # the window stays closed
        assert chat.language == "en" and chat.bot_idle_step == 0
        shown = [message_json(m) for m in await conversations.transcript(s, desk.chat)]
        assert [(m["direction"], m["sender"], m["body"], m["status"], m.get("past", False)) for m in shown] == [
            ("in", "user", "hello there", "received", False),
            ("in", "user", "大阪に発送できますか？", "received", True),
            ("out", "operator", "はい、できます。", "read", True)]
        assert [m["at"] for m in shown[1:]] == ["2026-06-17T09:00:00+00:00", "2026-06-17T09:10:00+00:00"]
        new = (await s.execute(select(Chat).join(Contact).where(Contact.wa_id == NEW))).scalar_one()
        assert new.last_user_message_at is None and new.language is None
        [photo] = await conversations.transcript(s, new.id)
        assert (photo.type, photo.body, photo.wa_timestamp) == ("media_placeholder", None,
                                                               MID_MONTH - dt.timedelta(hours=5))
        assert (await s.execute(select(func.count(Message.id)).where(Message.wamid == "wamid.P4"))).scalar_one() == 0


async def test_declined_history_records_nothing(sessions, desk):
    await run_inbox(sessions, aw.number_change(desk.sim_number, "history", aw.history(BUSINESS, {"declined": True})))
    async with sessions() as s:
        assert (await s.execute(select(func.count(WebhookEvent.id)))).scalar_one() == 0
        assert (await s.execute(select(func.count(Message.id)))).scalar_one() == 1


def state_sync(desk, *contacts, now=MID_MONTH):
    [item] = parse_webhook(aw.number_change(desk.sim_number, "smb_app_state_sync",
                                            aw.state_sync({"contacts": list(contacts)}, now.timestamp())))
    return item


async def test_the_app_s_contacts_name_the_desk_s_contacts_until_removed(sessions, desk):
    later = MID_MONTH + dt.timedelta(minutes=5)
    async with sessions() as s, s.begin():
        assert await account_events.apply(s, state_sync(desk, {"phone_number": KNOWN, "full_name": "Kerry Fisher"},
                                                        {"phone_number": NEW, "full_name": "Mika Sato"}))
    async with sessions() as s, s.begin():
        known = (await s.execute(select(Contact).where(Contact.wa_id == KNOWN))).scalar_one()
        assert contact_json(known)["address_book_name"] == "Kerry Fisher"
        assert known.profile_name == "User 001"               # WhatsApp's own profile name is kept
        new = (await s.execute(select(Contact).where(Contact.phone == NEW))).scalar_one()
        assert new.address_book_name == "Mika Sato"           # known before they ever write
        # Edited in the app, then an older change arrives late: the newer name stays.
        assert await account_events.apply(s, state_sync(desk, {"phone_number": KNOWN, "full_name": "Kerry F. (VIP)"},
                                                        now=later))
        assert not await account_events.apply(s, state_sync(desk, {"phone_number": KNOWN, "action": "remove"}))
    async with sessions() as s, s.begin():
        known = (await s.execute(select(Contact).where(Contact.wa_id == KNOWN))).scalar_one()
        assert known.address_book_name == "Kerry F. (VIP)"
        assert await account_events.apply(s, state_sync(desk, {"phone_number": KNOWN, "action": "remove"},
                                                        now=later + dt.timedelta(seconds=1)))
        # Removing someone the desk does not know changes nothing; nor does another WABA's number.
        assert not await account_events.apply(s, state_sync(desk, {"phone_number": "447700900099", "action": "remove"}))
        other = dataclasses.replace(state_sync(desk, {"phone_number": KNOWN, "full_name": "X"}), waba_id="other")
        assert not await account_events.apply(s, other)
    async with sessions() as s:
        known = (await s.execute(select(Contact).where(Contact.wa_id == KNOWN))).scalar_one()
        assert known.address_book_name is None and contact_json(known)["address_book_name"] is None
        assert (await s.execute(select(func.count(Contact.id)))).scalar_one() == 2


async def test_a_contacts_sync_goes_through_the_inbox_once(sessions, desk):
    body = aw.number_change(desk.sim_number, "smb_app_state_sync",
                            aw.state_sync({"contacts": [{"phone_number": KNOWN, "full_name": "Kerry Fisher"}]},
                                          MID_MONTH.timestamp()))
    await run_inbox(sessions, body, body)
    async with sessions() as s:
        [event] = (await s.execute(select(WebhookEvent))).scalars().all()
        assert (event.kind, event.state) == ("account", EventState.done)
        assert (await s.execute(select(Contact.address_book_name).where(Contact.wa_id == KNOWN))).scalar_one() \
            == "Kerry Fisher"


async def test_meta_s_quality_rating_reaches_the_registry_and_red_warns(sessions, desk):
    async with sessions() as s, s.begin():
        t = await templates.register(s, waba_id=desk.waba, name="spring_sale", language="en_US", category="MARKETING",
                                     status="APPROVED", components=[{"type": "BODY", "text": "Sale!"}])
        t.meta_template_id = "7001"
        brand_id = (await seed.brand_with_number(s)).waba.brand_id
    sim_template = SimpleNamespace(id="7001", name="spring_sale", language="en_US")

    def rating(new, previous="GREEN", when=MID_MONTH):
        [item] = parse_webhook(aw.waba_change(desk.waba, "message_template_quality_update", aw.template_quality(
            sim_template, {"new_quality_score": new, "previous_quality_score": previous}), when.timestamp()))
        return item

    async with sessions() as s, s.begin():
        assert await template_sync.apply_status_event(s, rating("YELLOW", "UNKNOWN"))
        t = (await s.execute(select(MessageTemplate))).scalar_one()
        assert (t.quality_score, templates.attention(t), template_json(t)["quality"]) == ("YELLOW", None, "YELLOW")
        assert await templates.attention_count(s, brand_id) == 0
        assert await template_sync.apply_status_event(s, rating("RED", "YELLOW", MID_MONTH + dt.timedelta(hours=1)))
        assert not await template_sync.apply_status_event(s, rating("GREEN", "UNKNOWN", MID_MONTH))  # older: kept
    async with sessions() as s:
        t = (await s.execute(select(MessageTemplate))).scalar_one()
        assert (t.quality_score, t.status, template_json(t)["attention"]) == ("RED", "APPROVED", "red")
        assert await templates.attention_count(s, brand_id) == 1


async def test_history_of_a_user_whose_chat_was_closed_joins_that_chat_and_opens_none(sessions, desk):
    from desk.models import ChatState
    from desk.services import routing

    async with sessions() as s, s.begin():
        assert await routing.close(s, desk.chat, by="test", reason="done")
    await run_inbox(sessions, aw.number_change(desk.sim_number, "history", aw.history(BUSINESS, {"threads": [
        {"wa_id": KNOWN, "messages": [{"text": "earlier", "timestamp": at(-dt.timedelta(days=30)), "id": "wamid.C1"}]}]})))
    async with sessions() as s:
        [chat] = (await s.execute(select(Chat))).scalars().all()
        assert (chat.id, chat.state) == (desk.chat, ChatState.closed)
        assert [m.body for m in await conversations.transcript(s, chat.id)] == ["earlier", "hello there"]
