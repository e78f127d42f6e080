"""The embedded demo's starting data: the default number, two departments and an
admin operator, so a newcomer can chat as a user and answer as an operator.

Idempotent (`python -m desk seed-demo`, run by `make demo`); the operator's
password comes from DEMO_OPERATOR_PASSWORD, which the launcher generates into
var/demo.env (never committed).
"""
from __future__ import annotations

import os

from sqlalchemy import select

from desk.config import DeskSettings
from desk.db import create_engine, session_factory
from desk.models import Department, PhoneNumber, WhatsAppBusinessAccount
from desk.services import numbers, operators

DEMO_BRAND = "Kumo Goods"
DEMO_EMAIL = "admin@tsunagi.local"


async def seed(database_url: str, env: dict[str, str]) -> str:
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session, session.begin():
            number = await numbers.ensure_number(
                session, phone_number_id=env["WHATSAPP_PHONE_NUMBER_ID"],
                waba_id=env.get("WHATSAPP_WABA_ID", "default"),
                display_phone_number=env.get("SIM_DISPLAY_PHONE_NUMBER", ""),
                brand_name=DEMO_BRAND, department_name="Support")
            if not number.display_phone_number:
                number.display_phone_number = env.get("SIM_DISPLAY_PHONE_NUMBER", "")
            brand_id = (await session.get(WhatsAppBusinessAccount, number.waba_id)).brand_id
            if (await session.execute(select(Department).where(
                    Department.brand_id == brand_id, Department.name == "Sales"))).first() is None:
                session.add(Department(brand_id=brand_id, name="Sales"))
                await session.flush()
            if await operators.find_by_email(session, DEMO_EMAIL) is None:
                await operators.create_operator(
                    session, brand_id=brand_id, email=DEMO_EMAIL, name="Demo Admin", role="admin",
                    password=env["DEMO_OPERATOR_PASSWORD"], departments=["Support", "Sales"])
            return DEMO_EMAIL
    finally:
        await engine.dispose()


def main() -> None:
    import asyncio

    email = asyncio.run(seed(DeskSettings.from_env().database_url, dict(os.environ)))
    print(f"desk: demo data ready (operator {email})")
