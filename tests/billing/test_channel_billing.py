"""The bot's replies through the real channel and the simulator: the same billing check,
a refusal recorded instead of a crash, and Meta's statuses reconciled."""
import logging

import pytest
from sqlalchemy import select

from cloudapi import outbound
from cloudapi.ids import conversation_id
from desk.billing import ledger, templates
from desk.models import BilledConversation, Message, Sender, WhatsAppBusinessAccount, utcnow
from tests.billing.helpers import fill_tier
from tests.channel.conftest import PNID, USER, WABA  # USER is a UK number: 0.0388 user-initiated


pytestmark = pytest.mark.usefixtures("mid_month_clock")  # tests/conftest.py: a fixed mid-month desk clock


async def _bot_messages(harness):
    async with harness.runtime.sessions() as s:
        return (await s.execute(select(Message).where(Message.sender == Sender.bot)
                                .order_by(Message.id))).scalars().all()


async def _brand_id(harness):
    async with harness.runtime.sessions() as s:
        return (await s.get(WhatsAppBusinessAccount, WABA)).brand_id


async def _use_the_free_tier(harness):
    month_start = utcnow().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    async with harness.runtime.sessions() as s, s.begin():
        await fill_tier(s, await _brand_id(harness), 1000, month_start, waba_id=WABA, pnid=PNID)


async def test_a_bot_reply_without_free_tier_or_credit_is_recorded_as_refused_and_not_sent(harness, monkeypatch):
    # The warning is watched on the channel's logger object itself, not through logging's
    # handlers: another test's logging set-up in this worker (Rasa's, Sanic's) can leave
    # records short of any handler a test adds.
    channel_log = logging.getLogger("connectors.whatsapp.channel")
    warned = []
    monkeypatch.setattr(channel_log, "warning", lambda msg, *args, **kw: warned.append(msg % args))
    await _use_the_free_tier(harness)
    await harness.say(text="hello")

    async def refused():
        return any(m.status == "failed" for m in await _bot_messages(harness))
    assert await harness.settle(until=refused)
    [msg] = await _bot_messages(harness)
    assert msg.body == "echo: hello" and msg.error.startswith("not sent: no credit")
    assert await harness.outbound() == []  # nothing reached Meta
    assert any("bot reply to" in w and "no credit" in w for w in warned), warned


async def test_a_paid_bot_reply_is_charged_once_and_metas_statuses_are_reconciled(harness):
    await _use_the_free_tier(harness)
    async with harness.runtime.sessions() as s, s.begin():
        await ledger.buy_credits(s, await _brand_id(harness), 1, by="admin")
    await harness.say(text="one")
    await harness.say(text="two")

    async def reconciled():
        async with harness.runtime.sessions() as s:
            convs = (await s.execute(select(BilledConversation).where(
                BilledConversation.wa_id == USER))).scalars().all()
        return len(convs) == 1 and convs[0].meta_conversation_id and convs[0].meta_billable is not None
    assert await harness.settle(until=reconciled)
    sent = [m for m in await harness.outbound()]
    assert len(sent) == 2
    async with harness.runtime.sessions() as s:
        conv = (await s.execute(select(BilledConversation).where(BilledConversation.wa_id == USER))).scalar_one()
        assert (conv.market, conv.category.value, conv.meta_category) == ("United Kingdom", "user_initiated", "service")
        assert conv.meta_conversation_id == sent[0]["conversation"]["id"] == sent[1]["conversation"]["id"]
        assert await ledger.balance(s, conv.brand_id) == ledger.Decimal("2.00") - ledger.Decimal("0.0388")


async def test_the_bot_may_send_only_approved_templates_with_the_right_parameters(harness):
    async with harness.runtime.sessions() as s, s.begin():
        await templates.register(s, waba_id=WABA, name="order_update", language="en_US", category="UTILITY",
                                 components=templates.components_from("Your order is {{1}}."), status="APPROVED")
        await templates.register(s, waba_id=WABA, name="spring_sale", language="en_US", category="MARKETING",
                                 components=templates.components_from("Sale!"), status="PENDING")
    await harness.control("POST", "templates", name="order_update", language="en_US", category="UTILITY",
                          status="APPROVED", waba_id=WABA, body="Your order is {{1}}.")
    to = conversation_id(PNID, USER)
    await harness.output.send_custom_json(to, outbound.template_message(USER, "spring_sale", "en_US"))
    await harness.output.send_custom_json(to, outbound.template_message(USER, "order_update", "en_US"))
    await harness.output.send_custom_json(to, outbound.template_message(USER, "order_update", "en_US", ["shipped"]))
    errors = [m.error for m in await _bot_messages(harness)]
    assert "pending, not approved" in errors[0] and "needs 1 body parameter" in errors[1] and errors[2] is None
    assert [m["request"]["template"]["name"] for m in await harness.outbound()] == ["order_update"]
