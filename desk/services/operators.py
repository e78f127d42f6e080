"""Operators: accounts, roles, departments, presence and sign-in.

Emails are stored lower-case and are unique across the desk. Passwords are argon2id
hashes (desk.passwords); hashing runs in a thread so that the event loop is not
held up for the tens of milliseconds it costs.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from typing import Iterable

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from desk import passwords
from desk.models import Department, Operator, OperatorStatus, Role

log = logging.getLogger(__name__)

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class OperatorError(ValueError):
    """A request the desk refuses (bad value, duplicate, unknown name); the message says why."""


def normalise_email(email: str) -> str:
    email = (email or "").strip().lower()
    if len(email) > 320 or not _EMAIL.match(email):
        raise OperatorError(f"not an email address: {email!r}")
    return email


def _role(role: Role | str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise OperatorError(f"role is admin, operator, manager or trainer, not {role!r}") from None


def _no_departments_for_managers(role: Role, departments) -> None:
    if role in (Role.manager, Role.trainer) and list(departments):
        raise OperatorError(f"a {role.value} answers no chats: give them no departments")


def _status(status: OperatorStatus | str) -> OperatorStatus:
    try:
        return OperatorStatus(status)
    except ValueError:
        raise OperatorError(f"status is online, away or offline, not {status!r}") from None


def _check_password(password: str) -> None:
    try:
        passwords.check_policy(password)
    except passwords.PasswordError as exc:
        raise OperatorError(str(exc)) from None


async def _departments(session: AsyncSession, brand_id: int, names: Iterable[str]) -> list[Department]:
    wanted = [n.strip() for n in names if n and n.strip()]
    if not wanted:
        return []
    from desk.services import departments

    found, missing = await departments.find_all(session, brand_id, wanted)  # a name in any language
    if missing:
        raise OperatorError(f"no department named {', '.join(repr(n) for n in missing)} in this brand")
    return found


async def get(session: AsyncSession, operator_id: int) -> Operator:
    op = await session.get(Operator, operator_id)
    if op is None:
        raise OperatorError(f"no operator {operator_id}")
    return op


async def find_by_email(session: AsyncSession, email: str) -> Operator | None:
    try:
        email = normalise_email(email)
    except OperatorError:
        return None
    return (await session.execute(select(Operator).where(Operator.email == email))).scalar_one_or_none()


async def create_operator(session: AsyncSession, *, brand_id: int, email: str, name: str,
                          password: str, role: Role | str = Role.operator,
                          departments: Iterable[str] = (),
                          max_concurrent_chats: int = 5) -> Operator:
    email = normalise_email(email)
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise OperatorError("the name must have 1 to 200 characters")
    role = _role(role)
    _check_password(password)
    if not isinstance(max_concurrent_chats, int) or max_concurrent_chats < 1:
        raise OperatorError("max concurrent chats must be at least 1")
    if await find_by_email(session, email) is not None:
        raise OperatorError(f"an operator with email {email} already exists")
    depts = await _departments(session, brand_id, departments)
    _no_departments_for_managers(role, depts)
    password_hash = await asyncio.to_thread(passwords.hash_password, password)
    op = Operator(brand_id=brand_id, email=email, name=name, password_hash=password_hash, role=role,
                  status=OperatorStatus.offline, max_concurrent_chats=max_concurrent_chats,
                  active=True, departments=depts)
    try:
        async with session.begin_nested():
            session.add(op)
    except IntegrityError:  # created concurrently with the same email
        raise OperatorError(f"an operator with email {email} already exists") from None
    return op


async def set_password(session: AsyncSession, operator_id: int, password: str) -> None:
    _check_password(password)
    op = await get(session, operator_id)
    op.password_hash = await asyncio.to_thread(passwords.hash_password, password)


# Presence follows the console's live connection (GET /api/events beats every
# PRESENCE_BEAT seconds): an operator online or away whose last beat is older than
# PRESENCE_GRACE (a closed tab, a dead laptop) goes offline, so no chat is assigned to
# a ghost. A reload reconnects within seconds, well inside the grace. An operator who
# never had a live connection (set by the CLI or the API) is left as set.
PRESENCE_BEAT = 15.0
PRESENCE_GRACE = dt.timedelta(seconds=60)


async def seen(session: AsyncSession, operator_id: int, now: dt.datetime) -> None:
    """A beat of the operator's live connection."""
    await session.execute(update(Operator).where(Operator.id == operator_id).values(last_seen_at=now)
                          .execution_options(synchronize_session=False))


async def expire_presence(session: AsyncSession, now: dt.datetime,
                          grace: dt.timedelta = PRESENCE_GRACE) -> list[int]:
    """Offline for everyone online or away whose live connection went away; their ids."""
    gone = (await session.execute(select(Operator.id).where(
        Operator.status.in_([OperatorStatus.online, OperatorStatus.away]),
        Operator.last_seen_at.isnot(None), Operator.last_seen_at < now - grace))).scalars().all()
    if gone:
        await session.execute(update(Operator).where(Operator.id.in_(gone)).values(status=OperatorStatus.offline)
                              .execution_options(synchronize_session=False))
        log.info("presence: %d operator(s) offline, their console went away: %s", len(gone), gone)
    return list(gone)


async def set_status(session: AsyncSession, operator_id: int, status: OperatorStatus | str) -> Operator:
    status = _status(status)
    op = await get(session, operator_id)
    if not op.active and status != OperatorStatus.offline:
        raise OperatorError(f"operator {op.email} is deactivated")
    op.status = status
    return op


async def set_departments(session: AsyncSession, operator_id: int, names: Iterable[str]) -> Operator:
    op = await get(session, operator_id)
    depts = await _departments(session, op.brand_id, names)
    _no_departments_for_managers(op.role, depts)
    op.departments = depts
    await session.flush()
    return op


async def set_max_chats(session: AsyncSession, operator_id: int, max_concurrent_chats: int) -> Operator:
    if not isinstance(max_concurrent_chats, int) or max_concurrent_chats < 1:
        raise OperatorError("max concurrent chats must be at least 1")
    op = await get(session, operator_id)
    op.max_concurrent_chats = max_concurrent_chats
    return op


async def deactivate(session: AsyncSession, operator_id: int) -> Operator:
    """The operator can no longer sign in nor receive chats; history keeps their name."""
    op = await get(session, operator_id)
    op.active = False
    op.status = OperatorStatus.offline
    return op


async def authenticate(session: AsyncSession, email: str, password: str) -> Operator | None:
    """The active operator with this email and password, else None.

    An unknown email still costs one argon2 verification (against a dummy hash), so
    response times do not tell which emails exist. A hash made with older parameters
    is upgraded on a successful sign-in.
    """
    op = await find_by_email(session, email)
    if op is None or not op.active:
        await asyncio.to_thread(passwords.verify_password, passwords.dummy_hash(), password or "")
        return None
    if not await asyncio.to_thread(passwords.verify_password, op.password_hash, password or ""):
        return None
    if passwords.needs_rehash(op.password_hash):
        op.password_hash = await asyncio.to_thread(passwords.hash_password, password)
    return op


async def list_operators(session: AsyncSession, brand_id: int | None = None,
                         include_inactive: bool = True) -> list[Operator]:
    query = select(Operator).order_by(Operator.brand_id, Operator.email)
    if brand_id is not None:
        query = query.where(Operator.brand_id == brand_id)
    if not include_inactive:
        query = query.where(Operator.active.is_(True))
    return list((await session.execute(query)).scalars())


async def _active_admins(session: AsyncSession, brand_id: int) -> list[int]:
    rows = await session.execute(select(Operator.id).where(
        Operator.brand_id == brand_id, Operator.role == Role.admin, Operator.active.is_(True)))
    return list(rows.scalars())


async def _keep_an_admin(session: AsyncSession, op: Operator) -> None:
    if op.role == Role.admin and op.active and await _active_admins(session, op.brand_id) == [op.id]:
        raise OperatorError(f"{op.email} is the brand's last active admin: make someone else an admin first")


async def set_name(session: AsyncSession, operator_id: int, name: str) -> Operator:
    name = " ".join((name or "").split())
    if not name or len(name) > 200:
        raise OperatorError("the name must have 1 to 200 characters")
    op = await get(session, operator_id)
    op.name = name
    return op


async def set_role(session: AsyncSession, operator_id: int, role: Role | str) -> Operator:
    """admin, operator or manager; the brand's last active admin stays one. A manager
    keeps no departments and no open chats (they answer none)."""
    role = _role(role)
    op = await get(session, operator_id)
    if role != op.role and role != Role.admin:
        await _keep_an_admin(session, op)
    if role in (Role.manager, Role.trainer) and role != op.role:
        from desk.services.routing import open_chats_of

        if await open_chats_of(session, op.id):
            raise OperatorError(f"{op.name} has open chats: transfer or close them before making them a {role.value}")
        op.departments = []
        op.status = OperatorStatus.offline
    op.role = role
    return op


async def deactivate_keeping_an_admin(session: AsyncSession, operator_id: int) -> Operator:
    """`deactivate`, refused for the brand's last active admin (the console's own rule:
    nobody would be left to manage the brand from it)."""
    await _keep_an_admin(session, await get(session, operator_id))
    return await deactivate(session, operator_id)


async def reactivate(session: AsyncSession, operator_id: int) -> Operator:
    """The operator may sign in again (offline until they go online)."""
    op = await get(session, operator_id)
    op.active = True
    return op
