"""Per-message pricing wired into the send path (desk.billing.per_message), on SQLite
and PostgreSQL: a WABA set to "pmp" pays per message at the rate card's price, its
1,000 free service messages a month first; a referral opens a free entry point
window; an undelivered message is refunded; Meta's status `pricing` wins."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import insert, select

from desk.billing import conversations as billing, ledger, per_message, policy
from desk.models import CreditEntry, Message, MessageCharge, Sender
from desk.services import conversations
from tests.billing.helpers import (DE_USER, NA_USER, PNID_A, PNID_C, WABA_1, WABA_2, at, brand,
                                   register_demo_templates, user_wrote)

OCT = at("2026-10-14T09:00:00Z")     # the 2026-10-01 card: service messages are charged
SEPT = at("2026-09-14T09:00:00Z")    # before it: service messages are free


async def pmp_brand(s, credits: int = 0) -> dict:
    ids = await brand(s)
    await per_message.set_pricing_model(s, WABA_1, "pmp")
    await register_demo_templates(s)
    if credits:
        await ledger.buy_credits(s, ids["brand_id"], credits, by="admin@kumo.test", at=OCT - dt.timedelta(days=1))
    return ids


async def send(s, chat, message: dict, now: dt.datetime, sender: str = "operator") -> tuple[Message, object]:
    msg = await conversations.record_outbound(s, chat_id=chat.id, sender=Sender.operator, type=message["type"],
                                              body="x", payload=message, at=now)
    decision = await billing.authorize_send(s, phone_number_id=chat.phone_number_id, wa_id=chat.contact.wa_id,
                                            is_template=message["type"] == "template", sender=sender, now=now,
                                            message=message)
    await decision.attach(s, msg.id)
    return msg, decision


def text(body="Hello") -> dict:
    return {"type": "text", "text": {"body": body}}


def template(name: str, code: str = "en_US") -> dict:
    return {"type": "template", "template": {"name": name, "language": {"code": code}}}


async def fill_service(s, ids, count: int, now: dt.datetime) -> None:
    rows = [dict(brand_id=ids["brand_id"], waba_id=WABA_1, phone_number_id=PNID_A, wa_id=f"1999{i:07d}",
                 month=policy.month_of(now), category="service", type="free_customer_service", market="North America",
                 price_micros=0, state="charged", sent_by="bot", created_at=now) for i in range(count)]
    await s.execute(insert(MessageCharge), rows)


async def test_the_conversation_model_stays_the_default(sessions):
    async with sessions() as s, s.begin():
        await brand(s)
        chat = await user_wrote(s, DE_USER, OCT - dt.timedelta(minutes=5))
        _, decision = await send(s, chat, text(), OCT)
        assert decision.conversation_id is not None and decision.charge_id is None
        assert (await s.execute(select(MessageCharge))).scalars().all() == []


async def test_service_messages_are_free_for_the_first_1000_of_the_month_then_charged(sessions):
    async with sessions() as s, s.begin():
        ids = await pmp_brand(s, credits=5)
        chat = await user_wrote(s, DE_USER, OCT - dt.timedelta(minutes=5))
        _, first = await send(s, chat, text(), OCT)
        assert (first.cost, first.price.type) == (Decimal(0), "free_customer_service")
        await fill_service(s, ids, 999, OCT)     # 1,000 used with the first
        before = await ledger.balance_micros(s, ids["brand_id"])
        msg, paid = await send(s, chat, text("again"), OCT + dt.timedelta(minutes=1))
        assert (paid.cost, paid.price.type, paid.price.market) == (Decimal("0.055"), "regular", "Germany")
        assert await ledger.balance_micros(s, ids["brand_id"]) == before - 55_000
        charge = await s.get(MessageCharge, paid.charge_id)
        assert (charge.message_id, charge.category, charge.card) == (msg.id, "service", dt.date(2026, 10, 1))
        entry = (await s.execute(select(CreditEntry).where(CreditEntry.message_charge_id == charge.id))).scalar_one()
        assert (entry.kind, entry.amount_micros) == ("message", -55_000)


async def test_service_messages_were_free_before_the_october_card(sessions):
    async with sessions() as s, s.begin():
        ids = await pmp_brand(s)
        await fill_service(s, ids, 5000, SEPT)
        chat = await user_wrote(s, DE_USER, SEPT - dt.timedelta(minutes=5))
        _, decision = await send(s, chat, text(), SEPT)
        assert decision.cost == 0 and "until 2026-09-30" in decision.price.reason


async def test_a_template_is_priced_by_its_registered_category_and_refused_without_credit(sessions):
    async with sessions() as s, s.begin():
        ids = await pmp_brand(s)
        chat = await user_wrote(s, NA_USER, OCT - dt.timedelta(days=3))   # outside the window
        from desk.models import MessageTemplate
        marketing = (await s.execute(select(MessageTemplate).where(
            MessageTemplate.waba_id == WABA_1, MessageTemplate.category == "MARKETING"))).scalars().first()
        assert marketing is not None, "the demo templates include a marketing one"
        with pytest.raises(billing.SendRefused) as refused:
            await send(s, chat, template(marketing.name, marketing.language), OCT)
        assert refused.value.code == "no_credit" and "USD 0.025" in str(refused.value)
        assert "North America" in str(refused.value)
        reason = await billing.check_send(s, phone_number_id=PNID_A, wa_id=NA_USER, is_template=True, now=OCT,
                                          message=template(marketing.name, marketing.language))
        assert reason and "no credit" in reason
        await ledger.buy_credits(s, ids["brand_id"], 1, by="admin@kumo.test", at=OCT)
        _, decision = await send(s, chat, template(marketing.name, marketing.language), OCT)
        assert (decision.cost, decision.price.category) == (Decimal("0.025"), "marketing")


async def test_an_unknown_template_is_priced_as_marketing_never_less(sessions):
    async with sessions() as s, s.begin():
        await pmp_brand(s, credits=1)
        chat = await user_wrote(s, NA_USER, OCT - dt.timedelta(days=3))
        _, decision = await send(s, chat, template("not_registered"), OCT)
        assert decision.price.category == "marketing"


async def test_a_user_from_an_ad_gets_a_free_entry_point_window(sessions):
    async with sessions() as s, s.begin():
        await pmp_brand(s)          # no credit at all: only free messages can go
        chat, _ = await conversations.record_inbound(
            s, phone_number_id=PNID_A, wa_id=DE_USER, profile_name=None, wamid="wamid.ad.1", type="text",
            body="I saw your ad", wa_timestamp=OCT - dt.timedelta(days=2),
            payload={"referral": {"source_type": "ad", "source_id": "120", "source_url": "https://fb.me/x"}})
        await s.refresh(chat, attribute_names=["contact"])
        from desk.models import MessageTemplate
        marketing = (await s.execute(select(MessageTemplate).where(
            MessageTemplate.waba_id == WABA_1, MessageTemplate.category == "MARKETING"))).scalars().first()
        _, decision = await send(s, chat, template(marketing.name, marketing.language), OCT)
        assert (decision.cost, decision.price.type) == (Decimal(0), "free_entry_point")
        with pytest.raises(billing.SendRefused):   # 8 days on: the 7-day window is over
            await send(s, chat, template(marketing.name, marketing.language), OCT + dt.timedelta(days=6))


async def test_an_undelivered_message_is_refunded_once(sessions):
    async with sessions() as s, s.begin():
        ids = await pmp_brand(s, credits=1)
        await fill_service(s, ids, 1000, OCT)
        chat = await user_wrote(s, DE_USER, OCT - dt.timedelta(minutes=5))
        before = await ledger.balance_micros(s, ids["brand_id"])
        msg, decision = await send(s, chat, text(), OCT)
        assert await ledger.balance_micros(s, ids["brand_id"]) == before - 55_000
        await billing.message_failed(s, msg.id)
        await billing.message_failed(s, msg.id)
        assert await ledger.balance_micros(s, ids["brand_id"]) == before
        assert (await s.get(MessageCharge, decision.charge_id)).state == "refunded"
        # A refunded message no longer counts toward the month's free service messages.
        assert await per_message.service_sent(s, PNID_A, policy.month_of(OCT)) == 1000


@pytest.mark.parametrize("meta, expected_micros", [
    ({"billable": False, "pricing_model": "PMP", "type": "free_customer_service", "category": "service"}, 0),
    ({"billable": True, "pricing_model": "PMP", "type": "regular", "category": "service"}, 55_000),
    ({"billable": True, "pricing_model": "PMP", "type": "regular", "category": "utility"}, 55_000),
])
async def test_meta_s_pricing_wins(sessions, meta, expected_micros):
    async with sessions() as s, s.begin():
        ids = await pmp_brand(s, credits=1)
        await fill_service(s, ids, 1000, OCT)
        chat = await user_wrote(s, DE_USER, OCT - dt.timedelta(minutes=5))
        msg, decision = await send(s, chat, text(), OCT)
        after_send = await ledger.balance_micros(s, ids["brand_id"])
        await billing.reconcile_status(s, msg, phone_number_id=PNID_A, wa_id=DE_USER, conversation=None,
                                       pricing=meta, at=OCT + dt.timedelta(seconds=5))
        charge = await s.get(MessageCharge, decision.charge_id)
        assert charge.price_micros == expected_micros and charge.meta_type == meta["type"]
        assert await ledger.balance_micros(s, ids["brand_id"]) == after_send + 55_000 - expected_micros


async def test_meta_charging_what_we_priced_free_is_settled(sessions):
    async with sessions() as s, s.begin():
        ids = await pmp_brand(s)
        chat = await user_wrote(s, DE_USER, OCT - dt.timedelta(minutes=5))
        msg, decision = await send(s, chat, text(), OCT)      # one of the free 1,000
        await billing.reconcile_status(s, msg, phone_number_id=PNID_A, wa_id=DE_USER, conversation=None,
                                       pricing={"pricing_model": "PMP", "type": "regular", "category": "service"})
        assert await ledger.balance_micros(s, ids["brand_id"]) == -55_000   # owed: the next paid send is refused


async def test_the_pricing_model_is_validated(sessions):
    async with sessions() as s, s.begin():
        await brand(s)
        with pytest.raises(ValueError, match="conversation, pmp"):
            await per_message.set_pricing_model(s, WABA_1, "cbp")
        with pytest.raises(ValueError, match="no WhatsApp Business Account"):
            await per_message.set_pricing_model(s, "999", "pmp")
        assert (await per_message.set_pricing_model(s, WABA_1, "pmp")).pricing_model == "pmp"


async def test_the_monthly_report_counts_messages_and_what_they_cost(sessions):
    from desk.billing import report

    async with sessions() as s, s.begin():
        ids = await pmp_brand(s, credits=1)
        chat = await user_wrote(s, DE_USER, OCT - dt.timedelta(minutes=5))
        await send(s, chat, text(), OCT)                       # free (first of the month)
        await fill_service(s, ids, 999, OCT)
        await send(s, chat, text("paid"), OCT + dt.timedelta(minutes=1))
        data = await report.monthly_report(s, ids["brand_id"], "2026-10")
        germany = next(r for r in data["messages"]["by_market"] if r["market"] == "Germany")
        assert (germany["messages"], germany["free"], germany["paid"], germany["cost_usd"]) == (2, 1, 1, "0.055000")
        assert data["credits"]["spent_usd"] == "0.055000"
        assert "messages,Germany,service,2,1,1,0.055000" in report.to_csv(data)


KE_USER = "254712345678"   # Kenya: Rest of Africa, whose utility templates have volume tiers


async def fill_utility(s, ids, count: int, now: dt.datetime, *, waba_id: str = WABA_1, pnid: str = PNID_A,
                       market: str = "Rest of Africa", state: str = "charged", micros: int = 4000,
                       kind: str = "regular") -> None:
    rows = [dict(brand_id=ids["brand_id"], waba_id=waba_id, phone_number_id=pnid, wa_id=f"25470{i:07d}",
                 month=policy.month_of(now), category="utility", type=kind, market=market,
                 price_micros=micros, state=state, sent_by="template", created_at=now) for i in range(count)]
    await s.execute(insert(MessageCharge), rows)


async def test_utility_templates_get_the_brands_volume_tier_across_its_wabas(sessions):
    """Marginal bands per portfolio, market, category and month: the 100,000th charged
    utility message of Rest of Africa pays list, the 100,001st the -5% band; messages of
    the brand's other WABA count, refunded, free and other markets' ones do not."""
    from desk.models import MessageTemplate

    async with sessions() as s, s.begin():
        ids = await pmp_brand(s, credits=1)
        await per_message.set_pricing_model(s, WABA_2, "pmp")
        chat = await user_wrote(s, KE_USER, OCT - dt.timedelta(days=3))   # outside the window
        utility = (await s.execute(select(MessageTemplate).where(
            MessageTemplate.waba_id == WABA_1, MessageTemplate.category == "UTILITY"))).scalars().first()
        await fill_utility(s, ids, 60_000, OCT)
        await fill_utility(s, ids, 39_999, OCT, waba_id=WABA_2, pnid=PNID_C)
        await fill_utility(s, ids, 500, OCT, state="refunded")
        await fill_utility(s, ids, 500, OCT, micros=0, kind="free_customer_service")
        await fill_utility(s, ids, 500, OCT, market="Nigeria")
        await fill_utility(s, ids, 500, OCT - dt.timedelta(days=31))      # September's
        _, first = await send(s, chat, template(utility.name, utility.language), OCT)
        assert (first.cost, first.price.reason_key) == (Decimal("0.004"), "price.reason.template")
        _, second = await send(s, chat, template(utility.name, utility.language), OCT)
        assert (second.cost, second.price.band.discount) == (Decimal("0.0038"), "-5%")
        assert second.price.reason_key == "price.reason.template_tier"
        quote = await billing.quote_send(s, phone_number_id=PNID_A, wa_id=KE_USER, now=OCT,
                                         message=template(utility.name, utility.language))
        assert quote.json()["reason_key"] == "price.reason.template_tier"
        assert quote.json()["reason_params"] == {"category": "utility", "market": "Rest of Africa",
                                                 "discount": "-5%", "nth": "100002"}
        charge = await s.get(MessageCharge, second.charge_id)
        assert charge.price_micros == 3800 and "volume tier -5%" in charge.reason


async def test_meta_confirming_the_category_keeps_the_tier_price(sessions):
    from desk.models import MessageTemplate

    async with sessions() as s, s.begin():
        ids = await pmp_brand(s, credits=1)
        chat = await user_wrote(s, KE_USER, OCT - dt.timedelta(days=3))
        utility = (await s.execute(select(MessageTemplate).where(
            MessageTemplate.waba_id == WABA_1, MessageTemplate.category == "UTILITY"))).scalars().first()
        await fill_utility(s, ids, 100_000, OCT)
        msg, decision = await send(s, chat, template(utility.name, utility.language), OCT)
        before = await ledger.balance_micros(s, ids["brand_id"])
        await billing.reconcile_status(s, msg, phone_number_id=PNID_A, wa_id=KE_USER, conversation=None,
                                       pricing={"billable": True, "pricing_model": "PMP", "type": "regular",
                                                "category": "utility"})
        assert (await s.get(MessageCharge, decision.charge_id)).price_micros == 3800
        assert await ledger.balance_micros(s, ids["brand_id"]) == before
