"""Credits: purchases, the append-only ledger, derived balances, the low-balance warning."""
import logging
from decimal import Decimal

import pytest
from sqlalchemy import delete, update
from sqlalchemy.exc import DBAPIError

from desk.billing import conversations as billing
from desk.billing import ledger
from desk.models import CreditEntry
from tests.billing.helpers import DE_USER, PNID_A, at, brand, fill_tier, user_wrote


async def test_buying_credits_records_value_and_fee_and_the_balance_is_the_ledgers_sum(sessions):
    async with sessions() as s, s.begin():
        b = await brand(s)
        p1 = await ledger.buy_credits(s, b["brand_id"], 2, by="admin@example.com", note="first")
        p2 = await ledger.buy_credits(s, b["brand_id"], 5, by="admin@example.com")
    assert (p1.value, p1.fee, p1.total, p1.balance) == (Decimal("4.00"), Decimal("0.12"), Decimal("4.12"),
                                                        Decimal("4.00"))
    assert (p2.total, p2.balance) == (Decimal("10.30"), Decimal("14.00"))
    async with sessions() as s:
        rows = await ledger.entries(s, b["brand_id"])
        assert [(r.kind, r.credits, r.amount_micros, r.fee_micros, r.created_by) for r in rows] == [
            ("purchase", 2, 4_000_000, 120_000, "admin@example.com"),
            ("purchase", 5, 10_000_000, 300_000, "admin@example.com")]
        status = await ledger.status(s, b["brand_id"])
        assert (status.balance, status.credits) == (Decimal("14.00"), Decimal("7.0000"))


@pytest.mark.parametrize("credits,match", [(0, "between 1 and"), (-3, "between 1 and"), (2.5, "whole number")])
async def test_a_bad_purchase_is_refused_and_records_nothing(sessions, credits, match):
    async with sessions() as s, s.begin():
        b = await brand(s)
        with pytest.raises(ledger.LedgerError, match=match):
            await ledger.buy_credits(s, b["brand_id"], credits, by="admin")
        with pytest.raises(ledger.LedgerError, match="no brand"):
            await ledger.buy_credits(s, 9999, 1, by="admin")
        with pytest.raises(ledger.LedgerError, match="who bought"):
            await ledger.buy_credits(s, b["brand_id"], 1, by=" ")
        assert await ledger.entries(s, b["brand_id"]) == []


@pytest.mark.parametrize("statement", ["update", "delete"])
async def test_the_database_refuses_to_change_or_remove_ledger_rows(sessions, statement):
    async with sessions() as s, s.begin():
        b = await brand(s)
        await ledger.buy_credits(s, b["brand_id"], 1, by="admin")
    with pytest.raises(DBAPIError, match="append-only"):
        async with sessions() as s, s.begin():
            if statement == "update":
                await s.execute(update(CreditEntry).values(amount_micros=999_000_000))
            else:
                await s.execute(delete(CreditEntry))
    async with sessions() as s:
        assert await ledger.balance(s, b["brand_id"]) == Decimal("2.00")


async def test_admins_are_warned_of_a_low_balance_before_sends_are_refused(sessions, caplog):
    now = at("2026-11-20T10:00:00Z")
    async with sessions() as s, s.begin():
        b = await brand(s)
        assert (await ledger.status(s, b["brand_id"])).warning.startswith("no credit left")
        await ledger.buy_credits(s, b["brand_id"], 6, by="admin")        # USD 12.00
        assert (await ledger.status(s, b["brand_id"])).warning is None  # above the default USD 10.00
        await ledger.set_low_balance_threshold(s, b["brand_id"], Decimal("11.95"))
        await fill_tier(s, b["brand_id"], 1000, at("2026-11-01T00:00:00Z"))
        await user_wrote(s, DE_USER, now)
        with caplog.at_level(logging.WARNING, logger="desk.billing"):
            await billing.authorize_send(s, phone_number_id=PNID_A, wa_id=DE_USER, is_template=False,
                                         sender="bot", now=now)  # 12.00 - 0.0819 < 11.95
        status = await ledger.status(s, b["brand_id"])
    assert status.low_balance and status.balance == Decimal("11.9181")
    assert "low balance: USD 11.9181 is below the warning level of USD 11.95" in status.warning
    assert any("low balance" in r.getMessage() for r in caplog.records)


async def test_adjustments_need_a_reason_and_a_real_amount(sessions):
    async with sessions() as s, s.begin():
        b = await brand(s)
        with pytest.raises(ledger.LedgerError, match="note"):
            await ledger.adjust(s, b["brand_id"], Decimal("1"), by="admin", note="")
        with pytest.raises(ledger.LedgerError, match="not an amount"):
            await ledger.adjust(s, b["brand_id"], "abc", by="admin", note="x")
        with pytest.raises(ledger.LedgerError, match="changes nothing"):
            await ledger.adjust(s, b["brand_id"], Decimal("0"), by="admin", note="x")
        with pytest.raises(ledger.LedgerError, match="negative"):
            await ledger.set_low_balance_threshold(s, b["brand_id"], Decimal("-1"))
        await ledger.adjust(s, b["brand_id"], Decimal("-0.5"), by="admin", note="goodwill reversal")
        assert await ledger.balance(s, b["brand_id"]) == Decimal("-0.5")
