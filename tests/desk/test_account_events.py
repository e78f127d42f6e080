"""Meta's account webhooks through the channel's processor, on a real database: a
number's quality and limit, the account's standing, a user's marketing opt-out
refusing marketing templates (issue 12)."""
import datetime as dt

import pytest
from sqlalchemy import select

from cloudapi.payloads import AccountUpdate
from desk.billing import templates
from desk.models import Contact, PhoneNumber, WhatsAppBusinessAccount
from desk.services import account_events
from tests.clock import MID_MONTH
from tests.desk import seed

pytestmark = pytest.mark.usefixtures("mid_month_clock")  # tests/conftest.py: a fixed mid-month desk clock


@pytest.fixture
async def desk(sessions):
    async with sessions() as s, s.begin():
        number = await seed.brand_with_number(s)
        number.display_phone_number = "+1 555-000-0001"
        await seed.chat_from(s, "447700900001")
        return {"waba": number.waba_id, "number": number.id}


def update(waba, field, value):
    return AccountUpdate(waba, field, value, MID_MONTH)


async def test_a_flagged_number_keeps_its_quality_and_limit_and_warns(sessions, desk):
    async with sessions() as s, s.begin():
        assert await account_events.apply(s, update(desk["waba"], "phone_number_quality_update", {
            "display_phone_number": "15550000001", "event": "FLAGGED", "old_limit": "TIER_10K",
            "current_limit": "TIER_1K", "max_daily_conversations_per_business": "1K"}))
        assert not await account_events.apply(s, update(desk["waba"], "phone_number_quality_update", {
            "display_phone_number": "19990000000", "event": "FLAGGED"}))          # not our number
    async with sessions() as s:
        number = await s.get(PhoneNumber, desk["number"])
        assert (number.quality_event, number.messaging_limit) == ("FLAGGED", "1K")
        assert "quality as flagged" in account_events.number_warning(number)


async def test_a_restricted_account_warns_on_its_numbers(sessions, desk):
    async with sessions() as s, s.begin():
        assert await account_events.apply(s, update(desk["waba"], "account_update", {
            "phone_number": "15550000001", "event": "ACCOUNT_RESTRICTION",
            "restriction_info": [{"restriction_type": "RESTRICTED_BIZ_INITIATED_MESSAGING", "expiration": 1767000000}]}))
        assert not await account_events.apply(s, update("unknown-waba", "account_update", {"event": "X"}))
    async with sessions() as s:
        waba = await s.get(WhatsAppBusinessAccount, desk["waba"])
        assert waba.account_event == "ACCOUNT_RESTRICTION" and "restriction_info" in waba.account_event_detail
        number = await s.get(PhoneNumber, desk["number"])
        assert account_events.number_warning(number) == "Meta reports the business account as account restriction."


async def test_a_marketing_opt_out_refuses_marketing_templates_until_the_user_resumes(sessions, desk):
    async with sessions() as s, s.begin():
        await templates.register(s, waba_id=desk["waba"], name="spring_sale", language="en_US", category="MARKETING",
                                 status="APPROVED", components=[{"type": "BODY", "text": "Sale!"}])
        await templates.register(s, waba_id=desk["waba"], name="order_update", language="en_US", category="UTILITY",
                                 status="APPROVED", components=[{"type": "BODY", "text": "Shipped."}])
        stop = {"user_preferences": [{"wa_id": "447700900001", "category": "marketing_messages", "value": "stop",
                                      "detail": "User requested to stop marketing messages",
                                      "timestamp": int(MID_MONTH.timestamp())}]}
        assert await account_events.apply(s, update(desk["waba"], "user_preferences", stop))
    async with sessions() as s, s.begin():
        with pytest.raises(templates.TemplateError, match="asked to stop marketing messages on 2026-06-17"):
            await templates.send_template(s, phone_number_id=desk["number"], wa_id="447700900001",
                                          name="spring_sale", language="en_US")
        await templates.send_template(s, phone_number_id=desk["number"], wa_id="447700900001",
                                      name="order_update", language="en_US")          # utility still goes
    async with sessions() as s, s.begin():
        resume = {"user_preferences": [{**stop["user_preferences"][0], "value": "resume"}]}
        assert await account_events.apply(s, update(desk["waba"], "user_preferences", resume))
        contact = (await s.execute(select(Contact).where(Contact.wa_id == "447700900001"))).scalar_one()
        assert contact.marketing_opt_out_at is None
        await templates.send_template(s, phone_number_id=desk["number"], wa_id="447700900001",
                                      name="spring_sale", language="en_US")


async def test_an_account_webhook_goes_through_the_inbox_once(sessions, desk):
    from connectors.whatsapp.processor import InboxProcessor
    from desk.models import EventState, WebhookEvent

    async def deliver(*a, **k):
        raise AssertionError("no bot turn for an account event")

    proc = InboxProcessor(sessions, None, "token", deliver)
    body = {"object": "whatsapp_business_account", "entry": [{"id": desk["waba"], "time": 1781690000, "changes": [
        {"field": "phone_number_quality_update",
         "value": {"display_phone_number": "15550000001", "event": "UPGRADE", "current_limit": "TIER_10K"}}]}]}
    try:
        for _ in range(2):  # Meta redelivers
            for lane in await proc.accept(body):
                proc.kick(*lane)
            await proc.idle()
    finally:
        await proc.stop()
    async with sessions() as s:
        [event] = (await s.execute(select(WebhookEvent))).scalars().all()
        assert (event.kind, event.state) == ("account", EventState.done)
        assert (await s.get(PhoneNumber, desk["number"])).messaging_limit == "TIER_10K"


async def test_the_simulators_own_webhooks_reach_the_desk(sessions, desk):
    """The simulator builds these from Meta's reference (simulator/account_webhooks.py);
    parsed by the channel's parser and applied by the desk, on SQLite and PostgreSQL."""
    from cloudapi.payloads import parse_webhook
    from simulator import account_webhooks as aw
    from simulator.state import Number

    number = Number(desk["number"], "t", "+1 555-000-0001", desk["waba"])
    bodies = [aw.waba_change(desk["waba"], "phone_number_quality_update", aw.quality_update(number, {
                  "event": "DOWNGRADE", "old_limit": "TIER_10K", "current_limit": "TIER_2K",
                  "max_daily_conversations_per_business": "TIER_2K"}), MID_MONTH.timestamp()),
              aw.waba_change(desk["waba"], "account_update", aw.account_update({
                  "event": "ACCOUNT_VIOLATION", "violation_type": "SCAM"}), MID_MONTH.timestamp()),
              aw.number_change(number, "user_preferences", aw.user_preference("447700900001", "stop",
                                                                               MID_MONTH.timestamp()))]
    async with sessions() as s, s.begin():
        for body in bodies:
            [item] = parse_webhook(body)
            assert await account_events.apply(s, item)
    async with sessions() as s:
        n = await s.get(PhoneNumber, desk["number"])
        assert (n.quality_event, n.messaging_limit) == ("DOWNGRADE", "TIER_2K")
        waba = await s.get(WhatsAppBusinessAccount, desk["waba"])
        assert waba.account_event == "ACCOUNT_VIOLATION"
        assert waba.account_event_detail == {"violation_info": {"violation_type": "SCAM"}}
        contact = (await s.execute(select(Contact).where(Contact.wa_id == "447700900001"))).scalar_one()
        assert contact.marketing_opt_out_at == MID_MONTH.replace(microsecond=0)
