"""Business numbers: which phone_number_id is ours, with which token; WABAs and
numbers as admins register them (the admin CLI and the console's admin pages)."""
from __future__ import annotations

import re
import time
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
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


class CredentialsCache:
    """`credentials_for`, remembered for a few seconds per number: the channel asks
    for every event and every reply, and numbers change rarely. A change made by
    another process (an admin reconnects a number, a new token) is seen within
    `ttl_seconds`; this process's own `forget` (e.g. after marking a number
    disconnected) is seen at once. Unknown numbers are remembered too (a flood for
    a number that is not ours costs one query per ttl)."""

    def __init__(self, ttl_seconds: float = 5.0, clock=time.monotonic):
        self.ttl = ttl_seconds
        self.clock = clock
        self._entries: dict[tuple[str, str], tuple[float, NumberCredentials | None]] = {}

    async def get(self, session: AsyncSession, phone_number_id: str,
                  default_token: str) -> NumberCredentials | None:
        key = (phone_number_id, default_token)
        hit = self._entries.get(key)
        now = self.clock()
        if hit is not None and now - hit[0] < self.ttl:
            return hit[1]
        creds = await credentials_for(session, phone_number_id, default_token)
        if len(self._entries) > 10_000:  # bounded: ids arrive from the outside
            self._entries.clear()
        self._entries[key] = (now, creds)
        return creds

    def forget(self, phone_number_id: str | None = None) -> None:
        if phone_number_id is None:
            self._entries.clear()
        else:
            for key in [k for k in self._entries if k[0] == phone_number_id]:
                del self._entries[key]


async def waba_token(session: AsyncSession, waba_id: str, default_token: str) -> str:
    """The token for a WABA's own calls (templates): a connected number of the WABA
    with its own token (the first by id), else the environment's default token."""
    token = (await session.execute(select(PhoneNumber.access_token).where(
        PhoneNumber.waba_id == waba_id, PhoneNumber.access_token.is_not(None),
        PhoneNumber.state == NumberState.connected).order_by(PhoneNumber.id).limit(1))).scalar_one_or_none()
    return token or default_token


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


# --- registering WABAs and numbers (admins) ------------------------------------------

_DIGITS = re.compile(r"^[0-9]{1,64}$")


class NumberError(ValueError):
    """A WABA or number an admin cannot register or change; the message says why."""


def _name(value, what: str, max_len: int) -> str:
    value = " ".join(str(value or "").split())
    if not value or len(value) > max_len:
        raise NumberError(f"the {what} must have 1 to {max_len} characters")
    return value


def e164(display: str) -> str:
    """`+15550001111` from a number in international form, else NumberError."""
    import phonenumbers

    try:
        parsed = phonenumbers.parse(str(display or ""), None)
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is None or not phonenumbers.is_possible_number(parsed):
        raise NumberError(f"not a phone number in international form (+country...): {display!r}")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


async def add_waba(session: AsyncSession, brand_id: int, waba_id: str, name: str) -> WhatsAppBusinessAccount:
    waba_id = str(waba_id or "").strip()
    if not _DIGITS.match(waba_id):
        raise NumberError(f"a WABA id is Meta's numeric id, not {waba_id!r}")
    name = _name(name, "WABA name", 200)
    if await session.get(WhatsAppBusinessAccount, waba_id) is not None:
        raise NumberError(f"WABA {waba_id} is already registered")
    waba = WhatsAppBusinessAccount(id=waba_id, brand_id=brand_id, name=name)
    try:
        async with session.begin_nested():
            session.add(waba)
    except IntegrityError:
        raise NumberError(f"WABA {waba_id} is already registered") from None
    return waba


async def _department_of_brand(session: AsyncSession, brand_id: int, department_id: int) -> Department:
    dept = await session.get(Department, department_id)
    if dept is None or dept.brand_id != brand_id:
        raise NumberError("no such department in this brand")
    return dept


async def add_number(session: AsyncSession, *, waba_id: str, phone_number_id: str, display: str,
                     department_id: int, access_token: str | None = None,
                     brand_id: int | None = None) -> PhoneNumber:
    """Register a business number of a WABA, routed to a department of the WABA's brand.

    Templates and media do not come along from another provider: they are
    registered again on this WABA. With `brand_id`, the WABA must be that brand's."""
    waba = await session.get(WhatsAppBusinessAccount, str(waba_id or ""))
    if waba is None or (brand_id is not None and waba.brand_id != brand_id):
        raise NumberError(f"no WABA {waba_id!r} in this brand")
    phone_number_id = str(phone_number_id or "").strip()
    if not _DIGITS.match(phone_number_id):
        raise NumberError(f"a phone number id is Meta's numeric id, not {phone_number_id!r}")
    display = e164(display)
    dept = await _department_of_brand(session, waba.brand_id, department_id)
    existing = await session.get(PhoneNumber, phone_number_id)
    if existing is not None:
        raise NumberError(f"number {phone_number_id} is already registered (WABA {existing.waba_id})")
    token = (access_token or "").strip() or None
    number = PhoneNumber(id=phone_number_id, waba_id=waba.id, display_phone_number=display,
                         department_id=dept.id, access_token=token, state=NumberState.connected,
                         state_changed_at=utcnow())
    try:
        async with session.begin_nested():
            session.add(number)
    except IntegrityError:
        raise NumberError(f"number {phone_number_id} is already registered") from None
    return number


async def set_department(session: AsyncSession, phone_number_id: str, department_id: int) -> PhoneNumber:
    """Route the number's new handoffs to another department of its brand."""
    number = await session.get(PhoneNumber, phone_number_id)
    if number is None:
        raise NumberError(f"no number {phone_number_id!r}")
    await _department_of_brand(session, number.waba.brand_id, department_id)
    number.department_id = department_id
    return number


async def reconnect(session: AsyncSession, phone_number_id: str,
                    access_token: str | None = None) -> tuple[PhoneNumber, NumberState]:
    """Mark the number connected again, with a new token if given; (number, state before)."""
    number = await session.get(PhoneNumber, phone_number_id)
    if number is None:
        raise NumberError(f"no number {phone_number_id!r}")
    was = number.state
    token = (access_token or "").strip()
    if token:
        number.access_token = token
    await mark_connected(session, number.id)
    return number, was
