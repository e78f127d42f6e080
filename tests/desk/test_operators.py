"""Operators service and passwords, on SQLite and PostgreSQL."""
import asyncio

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from desk import passwords
from desk.models import Brand, Department, Operator, OperatorStatus, Role
from desk.services import operators
from desk.services.operators import OperatorError

PASSWORD = "correct horse battery"


async def _brand(sessions, name="Acme", departments=("Support", "Sales")) -> int:
    async with sessions() as s, s.begin():
        brand = Brand(name=name)
        s.add(brand)
        await s.flush()
        s.add_all([Department(brand_id=brand.id, name=d) for d in departments])
        return brand.id


async def _create(sessions, brand_id, **kw) -> Operator:
    values = dict(brand_id=brand_id, email="Aiko@Example.COM ", name="Aiko", password=PASSWORD,
                  role="operator", departments=["Support"], max_concurrent_chats=3)
    values.update(kw)
    async with sessions() as s, s.begin():
        return await operators.create_operator(s, **values)


async def test_create_normalises_email_and_stores_an_argon2id_hash(sessions):
    brand_id = await _brand(sessions)
    await _create(sessions, brand_id, departments=["Support", "Sales"], role=Role.admin)
    async with sessions() as s:
        op = (await s.execute(select(Operator))).scalar_one()
    assert op.email == "aiko@example.com" and op.role == Role.admin
    assert op.password_hash.startswith("$argon2id$") and PASSWORD not in op.password_hash
    assert sorted(d.name for d in op.departments) == ["Sales", "Support"]
    assert op.status == OperatorStatus.offline and op.active and op.max_concurrent_chats == 3


@pytest.mark.parametrize("change, reason", [
    ({"password": "short9char"[:9]}, "at least 10 characters"),
    ({"email": "not-an-email"}, "not an email address"),
    ({"role": "superuser"}, "role is admin, operator, manager or trainer"),
    ({"departments": ["Support", "Billing"]}, "no department named 'Billing'"),
    ({"max_concurrent_chats": 0}, "at least 1"),
    ({"name": "  "}, "name"),
])
async def test_create_refuses_bad_values_with_a_reason(sessions, change, reason):
    brand_id = await _brand(sessions)
    with pytest.raises(OperatorError, match=reason):
        await _create(sessions, brand_id, **change)
    async with sessions() as s:
        assert (await s.execute(select(Operator))).first() is None


async def test_email_is_unique_whatever_its_case(sessions):
    brand_id = await _brand(sessions)
    await _create(sessions, brand_id)
    with pytest.raises(OperatorError, match="already exists"):
        await _create(sessions, brand_id, email="AIKO@example.com")


async def test_departments_are_looked_up_within_the_brand(sessions):
    acme = await _brand(sessions)
    await _brand(sessions, name="Other", departments=("Billing",))
    with pytest.raises(OperatorError, match="Billing"):
        await _create(sessions, acme, departments=["Billing"])


async def test_authenticate_right_wrong_unknown_and_deactivated(sessions):
    brand_id = await _brand(sessions)
    created = await _create(sessions, brand_id)
    async with sessions() as s, s.begin():
        ok = await operators.authenticate(s, "  AIKO@example.com", PASSWORD)
        wrong = await operators.authenticate(s, "aiko@example.com", PASSWORD + "x")
        unknown = await operators.authenticate(s, "nobody@example.com", PASSWORD)
        empty = await operators.authenticate(s, "aiko@example.com", "")
    assert ok is not None and ok.id == created.id
    assert wrong is None and unknown is None and empty is None
    async with sessions() as s, s.begin():
        await operators.deactivate(s, created.id)
    async with sessions() as s, s.begin():
        assert await operators.authenticate(s, "aiko@example.com", PASSWORD) is None


async def test_unknown_email_still_verifies_a_hash(sessions, monkeypatch):
    """No shortcut for unknown emails: the same argon2 work is done (timing)."""
    brand_id = await _brand(sessions)
    await _create(sessions, brand_id)
    calls = []
    real = passwords.verify_password
    monkeypatch.setattr(passwords, "verify_password", lambda h, p: calls.append(h) or real(h, p))
    async with sessions() as s:
        assert await operators.authenticate(s, "ghost@example.com", PASSWORD) is None
    assert calls == [passwords.dummy_hash()]


async def test_set_password_status_departments(sessions):
    brand_id = await _brand(sessions)
    op = await _create(sessions, brand_id)
    async with sessions() as s, s.begin():
        with pytest.raises(OperatorError, match="at least 10"):
            await operators.set_password(s, op.id, "short")
        await operators.set_password(s, op.id, "a new long passphrase")
        await operators.set_status(s, op.id, "online")
        await operators.set_departments(s, op.id, ["Sales"])
        with pytest.raises(OperatorError, match="status is online, away or offline"):
            await operators.set_status(s, op.id, "busy")
    async with sessions() as s, s.begin():
        assert await operators.authenticate(s, "aiko@example.com", PASSWORD) is None
        again = await operators.authenticate(s, "aiko@example.com", "a new long passphrase")
        assert again.status == OperatorStatus.online
        assert [d.name for d in again.departments] == ["Sales"]
        listed = await operators.list_operators(s, brand_id)
        assert [o.email for o in listed] == ["aiko@example.com"]


async def test_deactivated_operator_goes_offline_and_cannot_go_online(sessions):
    brand_id = await _brand(sessions)
    op = await _create(sessions, brand_id)
    async with sessions() as s, s.begin():
        await operators.set_status(s, op.id, "online")
        await operators.deactivate(s, op.id)
    async with sessions() as s, s.begin():
        row = await s.get(Operator, op.id)
        assert not row.active and row.status == OperatorStatus.offline
        with pytest.raises(OperatorError, match="deactivated"):
            await operators.set_status(s, op.id, "online")


async def test_old_parameters_are_upgraded_on_sign_in(sessions):
    brand_id = await _brand(sessions)
    op = await _create(sessions, brand_id)
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    assert passwords.needs_rehash(weak) and not passwords.needs_rehash(passwords.hash_password("x" * 10))
    async with sessions() as s, s.begin():
        (await s.get(Operator, op.id)).password_hash = weak
    async with sessions() as s, s.begin():
        assert await operators.authenticate(s, "aiko@example.com", PASSWORD) is not None
    async with sessions() as s:
        upgraded = (await s.get(Operator, op.id)).password_hash
    assert upgraded != weak and not passwords.needs_rehash(upgraded)


async def test_concurrent_creation_of_one_email_makes_one_operator(sessions):
    brand_id = await _brand(sessions)
    results = await asyncio.gather(*[_create(sessions, brand_id) for _ in range(3)], return_exceptions=True)
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == 2 and all(isinstance(e, OperatorError) for e in errors), errors
    async with sessions() as s:
        assert len((await s.execute(select(Operator))).all()) == 1


def test_password_helpers():
    h = passwords.hash_password("0123456789")
    assert passwords.verify_password(h, "0123456789") and not passwords.verify_password(h, "0123456780")
    assert not passwords.verify_password("not a hash", "0123456789")
    assert passwords.needs_rehash("not a hash")
