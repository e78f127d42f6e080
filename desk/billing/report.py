"""The monthly billing report of a brand: conversations by market and category,
free and paid, and the credits bought and spent (CSV or JSON).

Amounts are exact decimals, written as strings in JSON (a float would round them).
"""
from __future__ import annotations

import csv
import io
from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from desk.billing import ledger, policy
from desk.models import BilledConversation, Brand, CreditEntry, MessageCharge

CSV_COLUMNS = ("section", "market", "category", "conversations", "free", "paid", "amount_usd")


async def monthly_report(session: AsyncSession, brand_id: int, month: str) -> dict:
    start, end = policy.month_bounds(month)
    brand = await session.get(Brand, brand_id)
    if brand is None:
        raise ValueError(f"no brand {brand_id}")
    convs = (await session.execute(select(BilledConversation).where(
        BilledConversation.brand_id == brand_id, BilledConversation.month == month,
        BilledConversation.state == "open"))).scalars().all()
    groups: dict[tuple[str, str], dict] = defaultdict(lambda: {"conversations": 0, "free": 0, "paid": 0,
                                                               "not_billable": 0, "cost": 0})
    for c in convs:
        g = groups[(c.market, c.category.value)]
        g["conversations"] += 1
        if not c.billable:
            g["not_billable"] += 1
        elif c.free_tier:
            g["free"] += 1
        else:
            g["paid"] += 1
        g["cost"] += c.cost_micros
    by_market = [{"market": m, "category": cat, "conversations": g["conversations"], "free": g["free"],
                  "paid": g["paid"], "not_billable": g["not_billable"],
                  "cost_usd": str(policy.from_micros(g["cost"]))}
                 for (m, cat), g in sorted(groups.items())]

    charges = (await session.execute(select(MessageCharge).where(
        MessageCharge.brand_id == brand_id, MessageCharge.month == month,
        MessageCharge.state == "charged"))).scalars().all()
    per_message: dict[tuple[str, str], dict] = defaultdict(lambda: {"messages": 0, "free": 0, "paid": 0, "cost": 0})
    for c in charges:
        g = per_message[(c.market, c.category)]
        g["messages"] += 1
        g["paid" if c.price_micros else "free"] += 1
        g["cost"] += c.price_micros

    entries = await ledger.entries(session, brand_id, since=start, until=end)
    opening = (await session.execute(select(CreditEntry.amount_micros).where(
        CreditEntry.brand_id == brand_id, CreditEntry.created_at < start))).scalars().all()
    sums: dict[str, int] = defaultdict(int)
    credits_bought = fees = 0
    for e in entries:
        sums[e.kind] += e.amount_micros
        if e.kind == "purchase":
            credits_bought += e.credits or 0
            fees += e.fee_micros
    opening_micros = sum(opening)
    closing_micros = opening_micros + sum(e.amount_micros for e in entries)
    money = lambda micros: str(policy.from_micros(micros))  # noqa: E731
    return {
        "brand": brand.name, "brand_id": brand.id, "month": month, "time_zone": "UTC",
        "conversations": {
            "total": sum(g["conversations"] for g in groups.values()),
            "free": sum(g["free"] for g in groups.values()),
            "paid": sum(g["paid"] for g in groups.values()),
            "not_billable": sum(g["not_billable"] for g in groups.values()),
            "cost_usd": money(sum(g["cost"] for g in groups.values())),
            "by_market": by_market,
        },
        # WABAs on per-message pricing (desk.billing.per_message): a row per market and category.
        "messages": {
            "total": sum(g["messages"] for g in per_message.values()),
            "free": sum(g["free"] for g in per_message.values()),
            "paid": sum(g["paid"] for g in per_message.values()),
            "cost_usd": str(policy.from_micros(sum(g["cost"] for g in per_message.values()))),
            "by_market": [{"market": m, "category": cat, "messages": g["messages"], "free": g["free"],
                           "paid": g["paid"], "cost_usd": str(policy.from_micros(g["cost"]))}
                          for (m, cat), g in sorted(per_message.items())],
        },
        "credits": {
            "opening_balance_usd": money(opening_micros),
            "bought": credits_bought,
            "bought_usd": money(sums["purchase"]),
            "fees_usd": money(fees),
            "paid_usd": money(sums["purchase"] + fees),
            "spent_usd": money(-sums["conversation"] - sums["message"]),
            "reconciliation_usd": money(sums["reconciliation"]),
            "refunds_usd": money(sums["refund"]),
            "adjustments_usd": money(sums["adjustment"]),
            "closing_balance_usd": money(closing_micros),
        },
    }


def to_csv(report: dict) -> str:
    """One table: a row per market and category, a total, then the credit figures."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for row in report["conversations"]["by_market"]:
        w.writerow(["conversations", row["market"], row["category"], row["conversations"], row["free"],
                    row["paid"], row["cost_usd"]])
    c = report["conversations"]
    w.writerow(["conversations_total", "", "", c["total"], c["free"], c["paid"], c["cost_usd"]])
    for row in report["messages"]["by_market"]:   # per-message pricing: the count column counts messages
        w.writerow(["messages", row["market"], row["category"], row["messages"], row["free"], row["paid"],
                    row["cost_usd"]])
    if report["messages"]["total"]:
        m = report["messages"]
        w.writerow(["messages_total", "", "", m["total"], m["free"], m["paid"], m["cost_usd"]])
    for key, value in report["credits"].items():
        if key == "bought":
            w.writerow(["credits_bought", "", "", "", "", "", value])
        else:
            w.writerow([key.removesuffix("_usd"), "", "", "", "", "", value])
    return out.getvalue()
