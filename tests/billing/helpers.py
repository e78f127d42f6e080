"""Builders for billing tests: brands with WABAs and numbers, users who wrote, a used free tier."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import insert

from desk.billing import policy
from desk.models import (BilledConversation, Brand, ConversationCategory, Department, PhoneNumber,
                         WhatsAppBusinessAccount)
from desk.services import conversations

PNID_A, PNID_B, PNID_C = "100000000000001", "100000000000002", "100000000000003"
WABA_1, WABA_2 = "200000000000001", "200000000000002"
DE_USER = "4915112345678"     # Germany: business-initiated 0.1365, user-initiated 0.0819
NA_USER = "12125550100"       # North America: 0.0147 / 0.0088


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


async def brand(session, name: str = "Kumo") -> dict:
    """A brand with WABA 1 (numbers A and B) and WABA 2 (number C)."""
    b = Brand(name=name)
    session.add(b)
    await session.flush()
    dept = Department(brand_id=b.id, name="Support")
    session.add_all([dept, WhatsAppBusinessAccount(id=WABA_1, brand_id=b.id, name="Kumo JP"),
                     WhatsAppBusinessAccount(id=WABA_2, brand_id=b.id, name="Kumo EU")])
    await session.flush()
    for pnid, waba in ((PNID_A, WABA_1), (PNID_B, WABA_1), (PNID_C, WABA_2)):
        session.add(PhoneNumber(id=pnid, waba_id=waba, display_phone_number="+1555000" + pnid[-4:],
                                department_id=dept.id))
    await session.flush()
    return {"brand_id": b.id, "department_id": dept.id}


async def user_wrote(session, wa_id: str, when: dt.datetime, pnid: str = PNID_A, text: str = "hi"):
    chat, _ = await conversations.record_inbound(
        session, phone_number_id=pnid, wa_id=wa_id, profile_name=None,
        wamid=f"wamid.in.{pnid}.{wa_id}.{when.timestamp()}", type="text", body=text, payload={},
        wa_timestamp=when)
    await session.refresh(chat, attribute_names=["contact"])
    return chat


async def fill_tier(session, brand_id: int, count: int, month_start: dt.datetime, *,
                    waba_id: str = WABA_1, pnid: str = PNID_A) -> None:
    """`count` conversations of other users already this month (bulk, fast)."""
    rows = [dict(brand_id=brand_id, waba_id=waba_id, phone_number_id=pnid, wa_id=f"1999{i:07d}",
                 market="North America", category=ConversationCategory.user_initiated,
                 opened_at=month_start, expires_at=month_start + policy.WINDOW,
                 month=policy.month_of(month_start), state="open", billable=True, free_tier=True,
                 rate_micros=8800, cost_micros=0, opened_by="bot") for i in range(count)]
    if rows:
        await session.execute(insert(BilledConversation), rows)


async def register_demo_templates(session, waba_id: str = WABA_1) -> None:
    """The demo's templates (desk/billing/demo_templates.json) in the desk's registry."""
    from desk.billing import templates

    for item in templates.demo_templates():
        await templates.register(session, waba_id=waba_id, name=item["name"], language=item["language"],
                                 category=item["category"], components=item["components"],
                                 status=item["status"])
