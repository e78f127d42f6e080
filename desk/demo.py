"""The embedded demo's starting data: the default number, two departments and an
admin operator, so a newcomer can chat as a user and answer as an operator.

Sales keeps office hours (DEMO_SALES_HOURS); Support is always open.

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
            await seed_hours(session, brand_id)
            await seed_billing(session, brand_id, number.waba_id)
            return DEMO_EMAIL
    finally:
        await engine.dispose()


# Business hours (desk.services.business_hours), set once (an admin's later choice stays): Sales
# keeps office hours in Tokyo with the year-end holidays, so outside them a lead or an order
# hears when Sales is back; Support answers around the clock, so the demo's handoff works at
# any hour.
DEMO_SALES_HOURS = {
    "always_open": False,
    "week": {**{d: [{"from": "09:00", "to": "18:00"}] for d in ("mon", "tue", "wed", "thu", "fri")},
             "sat": [{"from": "10:00", "to": "14:00"}]},
    "holidays": [{"date": "2026-12-29", "name": "年末休業"}, {"date": "2026-12-30", "name": "年末休業"},
                 {"date": "2026-12-31", "name": "大晦日"}, {"date": "2027-01-01", "name": "元日"},
                 {"date": "2027-01-02", "name": "年始休業"}, {"date": "2027-01-03", "name": "年始休業"}],
    "count_open_hours_only": True,
}


async def seed_hours(session, brand_id: int) -> None:
    from desk.services import business_hours

    sales = (await session.execute(select(Department).where(
        Department.brand_id == brand_id, Department.name == "Sales"))).scalar_one()
    if sales.business_hours is None:  # never set (an admin's "always open" is stored, not NULL)
        await business_hours.set_schedule(session, brand_id, sales.id, DEMO_SALES_HOURS)


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
