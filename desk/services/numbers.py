"""Business numbers: which phone_number_id is ours, with which token."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from desk.models import (Brand, Department, NumberState, PhoneNumber,
                         WhatsAppBusinessAccount, utcnow)


@dataclass(frozen=True)
class NumberCredentials:
    phone_number_id: str
    access_token: str
    state: NumberState


async def ensure_number(session: AsyncSession, *, phone_number_id: str, waba_id: str,
                        display_phone_number: str = "", brand_name: str = "Default brand",
                        department_name: str = "Support") -> PhoneNumber:
    """Register a number (with its brand, WABA and department) if it is not there yet.

    Used for the default number of the environment, so the embedded setup works
    without an admin step; admins register further numbers explicitly.
    """
    number = await session.get(PhoneNumber, phone_number_id)
    if number is not None:
        return number
    brand = (await session.execute(select(Brand).where(Brand.name == brand_name))).scalar_one_or_none()
    if brand is None:
        brand = Brand(name=brand_name)
        session.add(brand)
        await session.flush()
    waba = await session.get(WhatsAppBusinessAccount, waba_id)
    if waba is None:
        waba = WhatsAppBusinessAccount(id=waba_id, brand_id=brand.id, name=f"{brand_name} WABA")
        session.add(waba)
    dept = (await session.execute(select(Department).where(
        Department.brand_id == brand.id, Department.name == department_name))).scalar_one_or_none()
    if dept is None:
        dept = Department(brand_id=brand.id, name=department_name)
        session.add(dept)
    await session.flush()
    number = PhoneNumber(id=phone_number_id, waba_id=waba.id, department_id=dept.id,
                         display_phone_number=display_phone_number)
    session.add(number)
    await session.flush()
    return number


async def credentials_for(session: AsyncSession, phone_number_id: str,
                          default_token: str) -> NumberCredentials | None:
    """The token to use for a number, or None when the number is not ours."""
    number = await session.get(PhoneNumber, phone_number_id)
    if number is None:
        return None
    return NumberCredentials(number.id, number.access_token or default_token, number.state)


async def mark_disconnected(session: AsyncSession, phone_number_id: str, reason: str) -> None:
    """Meta refused our token for this number: show it to admins until reconnected."""
    number = await session.get(PhoneNumber, phone_number_id)
    if number is not None and number.state != NumberState.disconnected:
        number.state = NumberState.disconnected
        number.state_reason = reason
        number.state_changed_at = utcnow()


async def mark_connected(session: AsyncSession, phone_number_id: str) -> None:
    """An admin reconnected the number (e.g. with a new token)."""
    number = await session.get(PhoneNumber, phone_number_id)
    if number is not None:
        number.state, number.state_reason, number.state_changed_at = NumberState.connected, None, utcnow()
