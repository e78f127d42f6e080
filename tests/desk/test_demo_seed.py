"""`make demo` seeds a usable desk: the number, two departments and an admin who can sign in."""
from sqlalchemy import func, select

from desk.demo import DEMO_EMAIL, seed
from desk.models import Department, Operator, PhoneNumber
from desk.models import WhatsAppBusinessAccount
from desk.services import operators, settings

ENV = {"WHATSAPP_PHONE_NUMBER_ID": "100000000000001", "WHATSAPP_WABA_ID": "200000000000001",
       "SIM_DISPLAY_PHONE_NUMBER": "15550000001", "DEMO_OPERATOR_PASSWORD": "correct horse battery"}


async def test_seed_is_idempotent_and_the_admin_can_sign_in(sessions, database_url):
    await seed(database_url, ENV)
    await seed(database_url, ENV)
    async with sessions() as s:
        assert (await s.execute(select(func.count(Operator.id)))).scalar_one() == 1
        assert sorted((await s.execute(select(Department.name))).scalars()) == ["Sales", "Support"]
        # Japanese customers see them as サポート and 営業 (the bot's buttons, handoff texts)
        assert dict((await s.execute(select(Department.name, Department.names))).all()) == {
            "Support": {"ja": "サポート"}, "Sales": {"ja": "営業"}}
        assert (await s.get(PhoneNumber, "100000000000001")).display_phone_number == "15550000001"
        admin = await operators.authenticate(s, DEMO_EMAIL, "correct horse battery")
        assert admin is not None and admin.role.value == "admin"
        assert await operators.authenticate(s, DEMO_EMAIL, "wrong password") is None
        # bilingual, Japanese first, in Tokyo's time
        waba = await s.get(WhatsAppBusinessAccount, "200000000000001")
        cfg = await settings.get(s, waba.brand_id)
        assert (cfg.languages, cfg.default_language, cfg.time_zone) == (("ja", "en"), "ja", "Asia/Tokyo")
        assert await settings.default_language_of_number(s, "100000000000001") == "ja"


async def test_seeding_again_keeps_an_admin_s_language_choice(sessions, database_url):
    await seed(database_url, ENV)
    async with sessions() as s, s.begin():
        waba = await s.get(WhatsAppBusinessAccount, "200000000000001")
        await settings.update(s, waba.brand_id, languages=["en"], default_language="en")
    await seed(database_url, ENV)
    async with sessions() as s:
        cfg = await settings.get(s, waba.brand_id)
        assert (cfg.languages, cfg.default_language) == (("en",), "en")


async def test_sales_keeps_office_hours_in_tokyo_and_support_is_always_open(sessions, database_url):
    import datetime as dt

    from desk.services import business_hours

    await seed(database_url, ENV)
    async with sessions() as s, s.begin():
        depts = {d.name: d for d in (await s.execute(select(Department))).scalars()}
        sales = await business_hours.schedule_of(s, depts["Sales"].id)
        assert await business_hours.schedule_of(s, depts["Support"].id) == business_hours.Schedule(
            time_zone="Asia/Tokyo")
        # Wednesday 30 December 2026, 10:00 in Tokyo: the year-end holidays; back on Monday 4 January.
        at = dt.datetime(2026, 12, 30, 1, 0, tzinfo=dt.timezone.utc)
        assert not business_hours.is_open(sales, at)
        assert business_hours.next_opening(sales, at) == dt.datetime(2027, 1, 4, 0, 0, tzinfo=dt.timezone.utc)
        assert sales.count_open_hours_only
        # An admin's choice stays when the seed runs again.
        await business_hours.set_schedule(s, depts["Sales"].brand_id, depts["Sales"].id, {"always_open": True})
    await seed(database_url, ENV)
    async with sessions() as s:
        assert (await business_hours.schedule_of(s, depts["Sales"].id)).always_open
