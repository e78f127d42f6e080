"""Meta's status webhooks (conversation and pricing objects) against the local record:
a mismatch is logged and Meta's figure wins."""
import datetime as dt
import logging
from decimal import Decimal

from sqlalchemy import select

from cloudapi.payloads import parse_webhook
from desk.billing import conversations as billing
from desk.billing import ledger
from desk.models import ConversationCategory, CreditEntry, Sender
from desk.services import conversations as chats
from tests.billing.helpers import DE_USER, PNID_A, at, brand, fill_tier, user_wrote

NOW = at("2026-11-20T10:00:00Z")
BI = ConversationCategory.business_initiated


async def _sent(s, *, paid: bool, wamid="wamid.out.1"):
    """A bot reply that opened a conversation (paid once the tier is used), sent."""
    b = await brand(s)
    if paid:
        await fill_tier(s, b["brand_id"], 1000, at("2026-11-01T00:00:00Z"))
        await ledger.buy_credits(s, b["brand_id"], 1, by="admin")
    chat = await user_wrote(s, DE_USER, NOW - dt.timedelta(minutes=5))
    decision = await billing.authorize_send(s, phone_number_id=PNID_A, wa_id=DE_USER, is_template=False,
                                            sender="bot", now=NOW)
    msg = await chats.record_outbound(s, chat_id=chat.id, sender=Sender.bot, type="text", body="x", payload={},
                                     at=NOW)
    await decision.attach(s, msg.id)
    await chats.mark_sent(s, msg.id, wamid)
    return b, msg, decision


async def _reconcile(s, msg, conversation, pricing):
    return await billing.reconcile_status(s, msg, phone_number_id=PNID_A, wa_id=DE_USER,
                                          conversation=conversation, pricing=pricing, at=NOW)


async def test_matching_figures_store_metas_id_and_change_nothing(sessions, caplog):
    async with sessions() as s, s.begin():
        b, msg, decision = await _sent(s, paid=True)
        expiry = int((NOW + dt.timedelta(hours=24, seconds=3)).timestamp())
        with caplog.at_level(logging.WARNING, logger="desk.billing"):
            conv = await _reconcile(s, msg, {"id": "meta-c-1", "expiration_timestamp": str(expiry),
                                             "origin": {"type": "user_initiated"}},
                                    {"billable": True, "pricing_model": "CBP", "category": "user_initiated"})
            # `delivered` carries the same objects again
            await _reconcile(s, msg, {"id": "meta-c-1", "origin": {"type": "service"}},
                             {"billable": True, "pricing_model": "CBP", "category": "service"})
        assert (conv.id, conv.meta_conversation_id, conv.meta_billable) == (decision.conversation_id, "meta-c-1", True)
        assert conv.expires_at == dt.datetime.fromtimestamp(expiry, dt.timezone.utc)  # Meta's expiry
        assert await ledger.balance(s, b["brand_id"]) == Decimal("2.00") - Decimal("0.0819")
    assert not [r for r in caplog.records if "differs" in r.getMessage()]


async def test_a_different_category_is_logged_and_metas_figure_is_charged(sessions, caplog):
    async with sessions() as s, s.begin():
        b, msg, decision = await _sent(s, paid=True)
        with caplog.at_level(logging.WARNING, logger="desk.billing"):
            conv = await _reconcile(s, msg, {"id": "meta-c-2", "origin": {"type": "business_initiated"}},
                                    {"billable": True, "pricing_model": "CBP", "category": "business_initiated"})
        assert (conv.category, conv.cost_micros, conv.meta_category) == (BI, 136_500, "business_initiated")
        assert await ledger.balance(s, b["brand_id"]) == Decimal("2.00") - Decimal("0.1365")
        [fix] = (await s.execute(select(CreditEntry).where(CreditEntry.kind == "reconciliation"))).scalars().all()
        assert fix.amount_micros == -(136_500 - 81_900) and fix.created_by == "meta"
    [warning] = [r.getMessage() for r in caplog.records if "differs" in r.getMessage()]
    assert "category user_initiated → business_initiated" in warning and "Meta's figures win" in warning


async def test_a_conversation_meta_does_not_bill_is_refunded(sessions):
    async with sessions() as s, s.begin():
        b, msg, _ = await _sent(s, paid=True)
        conv = await _reconcile(s, msg, {"id": "meta-c-3", "origin": {"type": "referral_conversion"}},
                                {"billable": False, "pricing_model": "CBP", "category": "referral_conversion"})
        assert (conv.billable, conv.cost_micros, conv.meta_billable) == (False, 0, False)
        assert await ledger.balance(s, b["brand_id"]) == Decimal("2.00")
        assert await billing.tier_used(s, conv.waba_id, "2026-11") == 1000  # not counted either


async def test_a_conversation_meta_opened_that_the_desk_did_not_is_recorded_as_meta_reports_it(sessions, caplog):
    async with sessions() as s, s.begin():
        b, msg, decision = await _sent(s, paid=True)
        await _reconcile(s, msg, {"id": "meta-c-4", "origin": {"type": "service"}}, None)
        # A template inside the open window: Meta (per-category pricing) opened a second conversation.
        tpl = await chats.record_outbound(s, chat_id=msg.chat_id, sender=Sender.system, type="template",
                                          body="t", payload={}, at=NOW + dt.timedelta(minutes=1))
        await chats.mark_sent(s, tpl.id, "wamid.out.2")
        with caplog.at_level(logging.WARNING, logger="desk.billing"):
            extra = await _reconcile(s, tpl, {"id": "meta-c-5", "origin": {"type": "marketing"}},
                                     {"billable": True, "pricing_model": "CBP", "category": "marketing"})
        assert extra.id != decision.conversation_id
        assert (extra.meta_conversation_id, extra.category, extra.cost_micros, extra.opened_by) == (
            "meta-c-5", BI, 136_500, "meta")
        assert await ledger.balance(s, b["brand_id"]) == Decimal("2.00") - Decimal("0.0819") - Decimal("0.1365")
    assert any("did not open" in r.getMessage() for r in caplog.records)


async def test_per_message_pricing_is_not_mixed_into_conversation_billing(sessions):
    async with sessions() as s, s.begin():
        b, msg, _ = await _sent(s, paid=True)
        assert await _reconcile(s, msg, None, {"billable": False, "pricing_model": "PMP",
                                               "category": "service", "type": "free_customer_service"}) is None
        assert await ledger.balance(s, b["brand_id"]) == Decimal("2.00") - Decimal("0.0819")


def test_status_payloads_keep_the_conversation_and_pricing_objects():
    [item] = parse_webhook({"object": "whatsapp_business_account", "entry": [{"changes": [{
        "field": "messages", "value": {"metadata": {"phone_number_id": PNID_A}, "statuses": [{
            "id": "wamid.x", "status": "sent", "timestamp": "1790000000", "recipient_id": DE_USER,
            "conversation": {"id": "c1", "origin": {"type": "service"}, "expiration_timestamp": "1790086400"},
            "pricing": {"billable": True, "pricing_model": "CBP", "category": "service"}}]}}]}]})
    assert item.conversation["id"] == "c1" and item.pricing["pricing_model"] == "CBP"
