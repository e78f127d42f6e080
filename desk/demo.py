"""The embedded demo's starting data: the default number, two departments and an
admin operator, so a newcomer can chat as a user and answer as an operator.

The brand is bilingual, Japanese first (DEMO_LANGUAGES, time zone Asia/Tokyo): a
customer who writes in English is answered in English, one who writes in Japanese
(or sends only a photo) in Japanese. The departments keep the names "Support" and
"Sales" (leads and catalog orders go to the department named Sales), and are
サポート and 営業 to Japanese customers (DEMO_DEPARTMENT_NAMES: the bot's buttons and
handoff messages in the chat's language).

Idempotent (`python -m desk seed-demo`, run by `make demo`); the operator's
password comes from DEMO_OPERATOR_PASSWORD, which the launcher generates into
var/demo.env (never committed).
"""
from __future__ import annotations

import os

from sqlalchemy import select

from desk.config import DeskSettings
from desk.db import create_engine, session_factory
from desk.models import Department, DeskSettingsRow, PhoneNumber, WhatsAppBusinessAccount
from desk.services import numbers, operators, settings

DEMO_BRAND = "Kumo Goods"
DEMO_EMAIL = "admin@tsunagi.local"
DEMO_LANGUAGES = {"languages": ["ja", "en"], "default_language": "ja", "time_zone": "Asia/Tokyo"}
DEMO_DEPARTMENT_NAMES = {"Support": {"ja": "サポート"}, "Sales": {"ja": "営業"}}


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
            for dept in (await session.execute(select(Department).where(
                    Department.brand_id == brand_id, Department.name.in_(DEMO_DEPARTMENT_NAMES)))).scalars():
                if dept.names is None:  # once: an admin's later names stay
                    dept.names = DEMO_DEPARTMENT_NAMES[dept.name]
            if await operators.find_by_email(session, DEMO_EMAIL) is None:
                await operators.create_operator(
                    session, brand_id=brand_id, email=DEMO_EMAIL, name="Demo Admin", role="admin",
                    password=env["DEMO_OPERATOR_PASSWORD"], departments=["Support", "Sales"])
            row = await session.get(DeskSettingsRow, brand_id)
            if row is None or row.languages is None:  # once: an admin's later choice stays
                await settings.update(session, brand_id, **DEMO_LANGUAGES)
            await seed_billing(session, brand_id, number.waba_id)
            return DEMO_EMAIL
    finally:
        await engine.dispose()


DEMO_CREDITS = 25  # USD 50.00 of conversations once the month's 1,000 free ones are used


async def seed_billing(session, brand_id: int, waba_id: str) -> None:
    """Credits for the demo brand (bought once) and the demo templates (two approved,
    one pending), the same ones the simulator loads from SIM_TEMPLATES_FILE."""
    from desk.billing import ledger, templates

    if not any(e.kind == "purchase" for e in await ledger.entries(session, brand_id)):
        await ledger.buy_credits(session, brand_id, DEMO_CREDITS, by="demo seed", note="demo credits")
    for item in templates.demo_templates():
        if await templates.find(session, waba_id, item["name"], item["language"]) is None:
            await templates.register(session, waba_id=waba_id, name=item["name"], language=item["language"],
                                     category=item["category"], components=item["components"],
                                     status=item["status"])


def main() -> None:
    import asyncio

    email = asyncio.run(seed(DeskSettings.from_env().database_url, dict(os.environ)))
    print(f"desk: demo data ready (operator {email})")
