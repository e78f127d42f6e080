"""A department's name per language (desk.services.departments): either name finds it,
in the services the bot, the tickets, the operators and the CLI use (SQLite, PostgreSQL)."""
from __future__ import annotations

import pytest

from desk.models import Department, WhatsAppBusinessAccount
from desk.services import departments, operators, routing
from tests.desk import seed


@pytest.fixture
async def brand(sessions):
    async with sessions() as s, s.begin():
        number = await seed.brand_with_number(s)
        brand_id = (await s.get(WhatsAppBusinessAccount, number.waba_id)).brand_id
        support = await s.get(Department, number.department_id)
        support.names = {"ja": "サポート"}
        return brand_id, support.id


async def test_either_name_finds_the_department_case_and_spaces_ignored(sessions, brand):
    brand_id, support = brand
    async with sessions() as s:
        for name in ("Support", " support ", "サポート"):
            assert (await departments.find(s, brand_id, name)).id == support, name
        assert await departments.find(s, brand_id, "営業") is None
        assert await departments.find(s, brand_id, "  ") is None
        found, missing = await departments.find_all(s, brand_id, ["サポート", "Support", "営業"])
        assert [d.id for d in found] == [support] and missing == ["営業"]


async def test_the_name_in_a_language_falls_back_to_the_name(sessions, brand):
    brand_id, support = brand
    async with sessions() as s:
        dept = await s.get(Department, support)
        assert departments.name_in(dept, "ja") == "サポート"
        assert departments.name_in(dept, "en") == departments.name_in(dept, None) == dept.name
        [choice] = await routing.departments_for_number(s, seed.PNID)
        assert (choice.name_in("ja"), choice.name_in("en")) == ("サポート", dept.name)
        assert choice.matches("サポート") and choice.matches(dept.name.upper()) and not choice.matches("営業")


async def test_names_are_checked_and_unique_across_languages(sessions, brand):
    brand_id, support = brand
    async with sessions() as s, s.begin():
        sales = await departments.add(s, brand_id, "Sales", {"ja": "営業", "en": " "})
        assert sales.names == {"ja": "営業"}
        for name, names in (("サポート", None), ("Billing", {"ja": "support"}), ("営業", None)):
            with pytest.raises(departments.DepartmentError, match="already exists"):
                await departments.add(s, brand_id, name, names)
        with pytest.raises(departments.DepartmentError, match="unknown language 'fr'"):
            await departments.add(s, brand_id, "Billing", {"fr": "Facturation"})
        with pytest.raises(departments.DepartmentError, match="object of language: name"):
            await departments.add(s, brand_id, "Billing", ["請求"])
        with pytest.raises(departments.DepartmentError, match="1 to 200"):
            await departments.add(s, brand_id, "Billing", {"ja": "請" * 201})
        renamed = await departments.rename(s, brand_id, sales.id, "Sales team")
        assert renamed.names == {"ja": "営業"}  # names left out: kept
        assert (await departments.rename(s, brand_id, sales.id, "Sales", None)).names is None


async def test_an_operator_joins_a_department_by_its_japanese_name(sessions, brand):
    brand_id, support = brand
    async with sessions() as s, s.begin():
        op = await operators.create_operator(s, brand_id=brand_id, email="hana@example.com", name="花",
                                             password="a long enough passphrase", departments=["サポート"])
        await s.flush()
        assert [d.id for d in (await operators.get(s, op.id)).departments] == [support]


async def test_leads_and_orders_find_sales_by_any_of_its_names(sessions, brand):
    from desk.services import leads

    brand_id, support = brand
    async with sessions() as s, s.begin():
        sales = await departments.add(s, brand_id, "営業", {"en": "Sales"})  # named in Japanese first
        await s.flush()
        assert await routing.sales_department(s, seed.PNID) == sales.id
        assert await leads.sales_department(s, seed.PNID) == sales.id
