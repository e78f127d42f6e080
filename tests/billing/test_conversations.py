"""The billing check every send goes through: windows, the free tier, credits (both databases)."""
import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from desk.billing import conversations as billing
from desk.billing import ledger
from desk.models import BilledConversation, ConversationCategory, CreditEntry
from tests.billing.helpers import (DE_USER, NA_USER, PNID_A, PNID_B, PNID_C, WABA_1, at, brand,
                                   fill_tier, user_wrote)

UI, BI = ConversationCategory.user_initiated, ConversationCategory.business_initiated
H = dt.timedelta(hours=1)


async def send(s, wa_id, now, *, template=False, pnid=PNID_A, sender="bot"):
    return await billing.authorize_send(s, phone_number_id=pnid, wa_id=wa_id, is_template=template,
                                        sender=sender, now=now)


async def count(s, model=BilledConversation):
    return (await s.execute(select(func.count(model.id)))).scalar_one()


async def test_a_reply_opens_a_free_user_initiated_conversation_and_later_messages_cost_nothing(sessions):
    t0 = at("2026-11-10T09:00:00Z")
    async with sessions() as s, s.begin():
        b = await brand(s)
        await user_wrote(s, DE_USER, t0)
        first = await send(s, DE_USER, t0 + dt.timedelta(minutes=1))
        second = await send(s, DE_USER, t0 + 5 * H, sender="operator")
    assert first.opened and not second.opened
    assert first.conversation_id == second.conversation_id
    assert (first.category, first.market, first.free_tier, first.cost) == (UI, "Germany", True, Decimal(0))
    async with sessions() as s:
        [conv] = (await s.execute(select(BilledConversation))).scalars().all()
        assert (conv.opened_at, conv.expires_at) == (t0 + dt.timedelta(minutes=1), t0 + dt.timedelta(minutes=1, hours=24))
        assert (conv.month, conv.waba_id, conv.opened_by, conv.rate_micros) == ("2026-11", WABA_1, "bot", 81_900)
        assert await ledger.balance(s, b["brand_id"]) == 0 and await count(s, CreditEntry) == 0


async def test_the_conversation_window_expires_at_exactly_24_hours(sessions):
    t0 = at("2026-11-10T09:00:00Z")
    async with sessions() as s, s.begin():
        await brand(s)
        await user_wrote(s, NA_USER, t0)
        first = await send(s, NA_USER, t0)
        await user_wrote(s, NA_USER, t0 + 23 * H)  # the user keeps the customer-service window open
        just_before = await send(s, NA_USER, t0 + 24 * H - dt.timedelta(microseconds=1))
        on_the_dot = await send(s, NA_USER, t0 + 24 * H)
    assert not just_before.opened and just_before.conversation_id == first.conversation_id
    assert on_the_dot.opened and on_the_dot.conversation_id != first.conversation_id
    assert on_the_dot.category == UI


async def test_outside_the_window_only_a_template_goes_and_it_opens_a_business_initiated_conversation(sessions):
    t0 = at("2026-11-10T09:00:00Z")
    async with sessions() as s, s.begin():
        await brand(s)
        await user_wrote(s, DE_USER, t0)
        with pytest.raises(billing.SendRefused, match="only an approved template") as refused:
            await send(s, DE_USER, t0 + 24 * H, sender="operator")
        assert refused.value.code == "outside_window"
        decision = await send(s, DE_USER, t0 + 24 * H, template=True, sender="template")
        never_wrote = await send(s, NA_USER, t0, template=True, sender="template")
    assert (decision.opened, decision.category, never_wrote.category) == (True, BI, BI)


async def test_the_1000th_conversation_is_free_and_the_1001st_is_paid_from_credits(sessions):
    now = at("2026-11-20T10:00:00Z")
    users = [f"4915112{i:06d}" for i in range(4)]
    async with sessions() as s, s.begin():
        b = await brand(s)
        await fill_tier(s, b["brand_id"], 998, at("2026-11-01T00:00:00Z"))
        for u in users:
            await user_wrote(s, u, now - H)
        d999 = await send(s, users[0], now)
        d1000 = await send(s, users[1], now)
        assert (d999.free_tier, d1000.free_tier) == (True, True)
        with pytest.raises(billing.SendRefused, match="no credit") as refused:
            await send(s, users[2], now)
        assert refused.value.code == "no_credit"
        assert "1,000 free conversations for 2026-11" in str(refused.value)
        assert "Germany (USD 0.0819)" in str(refused.value)
    async with sessions() as s, s.begin():
        assert await count(s) == 1000  # the refused send recorded nothing
        await ledger.buy_credits(s, b["brand_id"], 1, by="admin@example.com")
        d1001 = await send(s, users[2], now)
    assert (d1001.free_tier, d1001.cost, d1001.opened) == (False, Decimal("0.0819"), True)
    async with sessions() as s:
        assert await ledger.balance(s, b["brand_id"]) == Decimal("2.00") - Decimal("0.0819")
        charge = (await s.execute(select(CreditEntry).where(CreditEntry.kind == "conversation"))).scalar_one()
        assert (charge.amount_micros, charge.conversation_id) == (-81_900, d1001.conversation_id)


async def test_the_free_tier_starts_again_on_the_first_of_the_month_in_utc(sessions):
    async with sessions() as s, s.begin():
        b = await brand(s)
        await fill_tier(s, b["brand_id"], 1000, at("2026-10-01T00:00:00Z"))
        await user_wrote(s, NA_USER, at("2026-10-31T23:00:00Z"))
        await user_wrote(s, DE_USER, at("2026-10-31T23:00:00Z"))
        with pytest.raises(billing.SendRefused, match="2026-10"):
            await send(s, NA_USER, at("2026-10-31T23:59:59Z"))
        november = await send(s, DE_USER, at("2026-11-01T00:00:00Z"))
    assert november.free_tier and november.cost == 0
    async with sessions() as s:
        conv = await s.get(BilledConversation, november.conversation_id)
        assert conv.month == "2026-11"


async def test_unused_free_conversations_do_not_carry_over(sessions):
    async with sessions() as s, s.begin():
        b = await brand(s)
        await fill_tier(s, b["brand_id"], 10, at("2026-10-01T00:00:00Z"))  # October: 990 unused
        await fill_tier(s, b["brand_id"], 1000, at("2026-11-01T00:00:00Z"))
        await user_wrote(s, NA_USER, at("2026-11-15T00:00:00Z"))
        with pytest.raises(billing.SendRefused, match="no credit"):
            await send(s, NA_USER, at("2026-11-15T00:01:00Z"))


async def test_two_numbers_of_one_waba_share_the_free_tier_and_another_waba_has_its_own(sessions):
    now = at("2026-11-20T10:00:00Z")
    async with sessions() as s, s.begin():
        b = await brand(s)
        await fill_tier(s, b["brand_id"], 999, at("2026-11-01T00:00:00Z"), pnid=PNID_A)
        for pnid in (PNID_A, PNID_B, PNID_C):
            await user_wrote(s, NA_USER, now - H, pnid=pnid)
            await user_wrote(s, DE_USER, now - H, pnid=pnid)
        on_b = await send(s, NA_USER, now, pnid=PNID_B)         # the WABA's 1,000th
        assert on_b.free_tier
        with pytest.raises(billing.SendRefused, match=f"WABA {WABA_1}"):
            await send(s, DE_USER, now, pnid=PNID_A)             # its 1,001st, from the other number
        with pytest.raises(billing.SendRefused):
            await send(s, DE_USER, now, pnid=PNID_B)
        on_c = await send(s, DE_USER, now, pnid=PNID_C)         # WABA 2 counts its own
        assert on_c.free_tier
        assert await billing.tier_used(s, WABA_1, "2026-11") == 1000
        assert await billing.tier_used(s, "200000000000002", "2026-11") == 1


async def test_a_voided_conversation_gives_back_its_charge_and_its_free_tier_slot(sessions):
    now = at("2026-11-20T10:00:00Z")
    async with sessions() as s, s.begin():
        b = await brand(s)
        await fill_tier(s, b["brand_id"], 1000, at("2026-11-01T00:00:00Z"))
        await ledger.buy_credits(s, b["brand_id"], 1, by="admin")
        chat = await user_wrote(s, DE_USER, now - H)
        from desk.models import Sender
        from desk.services import conversations as chats
        decision = await send(s, DE_USER, now)
        msg = await chats.record_outbound(s, chat_id=chat.id, sender=Sender.bot, type="text", body="x",
                                          payload={})
        await decision.attach(s, msg.id)
        assert await ledger.balance(s, b["brand_id"]) == Decimal("1.9181")
        voided = await billing.message_failed(s, msg.id)
        assert voided is not None and voided.state == "void"
        assert await ledger.balance(s, b["brand_id"]) == Decimal("2.00")
        again = await send(s, DE_USER, now + H)  # the void one is not open: a new one opens
        assert again.opened and again.conversation_id != decision.conversation_id
        assert await billing.message_failed(s, 999_999) is None


async def test_a_bad_recipient_or_an_unknown_number_is_refused_clearly(sessions):
    async with sessions() as s, s.begin():
        await brand(s)
        with pytest.raises(billing.SendRefused, match="not registered") as refused:
            await send(s, NA_USER, at("2026-11-01T00:00:00Z"), pnid="999", template=True)
        assert refused.value.code == "unknown_number"
        odd = await send(s, "12", at("2026-11-01T00:00:00Z"), template=True)
        assert odd.market == "Other"  # no country to read: rated as "Other", not refused
        with pytest.raises(ValueError, match="sender"):
            await send(s, NA_USER, at("2026-11-01T00:00:00Z"), template=True, sender="someone")


async def test_check_send_says_why_without_recording_anything(sessions):
    now = at("2026-11-20T10:00:00Z")
    async with sessions() as s, s.begin():
        b = await brand(s)
        await user_wrote(s, DE_USER, now - H)
        assert await billing.check_send(s, phone_number_id=PNID_A, wa_id=DE_USER, is_template=False, now=now) is None
        assert "24 hours" in await billing.check_send(s, phone_number_id=PNID_A, wa_id=NA_USER,
                                                      is_template=False, now=now)
        await fill_tier(s, b["brand_id"], 1000, at("2026-11-01T00:00:00Z"))
        assert "no credit" in await billing.check_send(s, phone_number_id=PNID_A, wa_id=DE_USER,
                                                       is_template=False, now=now)
        assert await count(s) == 1000
