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
