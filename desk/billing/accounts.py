"""Number and WABA management as the source document lists it, per brand: the
WABAs (id, name), the numbers with their department and state (connected, or
disconnected after Meta removed the partner), and the available credits."""
from __future__ import annotations

from sqlalchemy import false, select
from sqlalchemy.ext.asyncio import AsyncSession

from desk.billing import ledger, policy
from desk.models import Department, PhoneNumber, WhatsAppBusinessAccount


async def overview(session: AsyncSession, brand_id: int) -> dict:
    status = await ledger.status(session, brand_id)
    wabas = (await session.execute(select(WhatsAppBusinessAccount).where(
        WhatsAppBusinessAccount.brand_id == brand_id).order_by(WhatsAppBusinessAccount.id))).scalars().all()
    rows = (await session.execute(
        select(PhoneNumber, Department.name).outerjoin(Department, Department.id == PhoneNumber.department_id)
        .where(PhoneNumber.waba_id.in_([w.id for w in wabas]) if wabas else false())
        .order_by(PhoneNumber.display_phone_number))).all()
    return {
        "wabas": [{"id": w.id, "name": w.name} for w in wabas],
        "numbers": [{"id": n.id, "display": n.display_phone_number, "waba": n.waba_id, "department": d,
                     "state": n.state.value, "reason": n.state_reason} for n, d in rows],
        "balance_usd": str(status.balance),
        "available_credits": str(status.credits),
        "low_balance": status.low_balance,
        "warning": status.warning,
        "credit_price_usd": str(policy.CREDIT_PRICE_USD),
    }
