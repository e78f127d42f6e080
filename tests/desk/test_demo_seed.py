"""`make demo` seeds a usable desk: the number, two departments and an admin who can sign in."""
from sqlalchemy import func, select

from desk.demo import DEMO_EMAIL, seed
from desk.models import Department, Operator, PhoneNumber
from desk.services import operators

ENV = {"WHATSAPP_PHONE_NUMBER_ID": "100000000000001", "WHATSAPP_WABA_ID": "200000000000001",
       "SIM_DISPLAY_PHONE_NUMBER": "15550000001", "DEMO_OPERATOR_PASSWORD": "correct horse battery"}


async def test_seed_is_idempotent_and_the_admin_can_sign_in(sessions, database_url):
    await seed(database_url, ENV)
    await seed(database_url, ENV)
    async with sessions() as s:
        assert (await s.execute(select(func.count(Operator.id)))).scalar_one() == 1
        assert sorted((await s.execute(select(Department.name))).scalars()) == ["Sales", "Support"]
        assert (await s.get(PhoneNumber, "100000000000001")).display_phone_number == "15550000001"
        admin = await operators.authenticate(s, DEMO_EMAIL, "correct horse battery")
        assert admin is not None and admin.role.value == "admin"
        assert await operators.authenticate(s, DEMO_EMAIL, "wrong password") is None
