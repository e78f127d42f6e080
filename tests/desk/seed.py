"""Small builders for desk tests (a brand with a number, departments, operators, chats)."""
from __future__ import annotations

import datetime as dt

from desk.models import Department, Operator, OperatorStatus, Role, utcnow
from desk.services import conversations, numbers

PNID, WABA = "100000000000001", "200000000000001"


async def brand_with_number(session):
    number = await numbers.ensure_number(session, phone_number_id=PNID, waba_id=WABA,
                                         department_name="Support")
    return number


async def department(session, brand_id: int, name: str, names: dict | None = None) -> Department:
    dept = Department(brand_id=brand_id, name=name, names=names)
    session.add(dept)
    await session.flush()
    return dept


async def operator(session, brand_id: int, name: str, departments, *, status=OperatorStatus.online,
                   max_chats: int = 2, role=Role.operator, last_assigned_at=None) -> Operator:
    op = Operator(brand_id=brand_id, email=f"{name.lower()}@example.com", name=name,
                  password_hash="not-used-here", role=role, status=status,
                  max_concurrent_chats=max_chats, last_assigned_at=last_assigned_at)
    op.departments = list(departments)
    session.add(op)
    await session.flush()
    return op


async def chat_from(session, wa_id: str, text: str = "hello", *, at: dt.datetime | None = None,
                    wamid: str | None = None):
    at = at or utcnow().replace(microsecond=0)
    chat, _ = await conversations.record_inbound(
        session, phone_number_id=PNID, wa_id=wa_id, profile_name=f"User {wa_id[-3:]}",
        wamid=wamid or f"wamid.{wa_id}.{at.timestamp()}.{text}", type="text", body=text,
        payload={}, wa_timestamp=at)
    return chat
