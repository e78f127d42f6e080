"""Handoff routing: department queues, assignment, picking, transfers and closing.

The rule: when the bot hands a chat over, it joins its department's queue; the
online operator of that department with free capacity gets it, least busy first,
then the one idle longest. Nobody online: the chat is `unattended` (operators can
still pick it from that list). Every state change is a conditional UPDATE, so two
desk instances (or two operators clicking at once) never both win a chat.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from desk.models import (Chat, ChatState, HandoffReason, Operator, OperatorStatus, PhoneNumber, Role,
                         WhatsAppBusinessAccount, operator_departments, utcnow)
from desk.services import departments

LIVE_STATES = (ChatState.waiting, ChatState.unattended, ChatState.open)


class RoutingError(ValueError):
    """The chat cannot make that move (closed, taken, not yours); the message says why."""


@dataclass(frozen=True)
class HandoffResult:
    state: ChatState
    operator_name: str | None = None
    position: int | None = None  # place in the queue when waiting


async def _chat(session: AsyncSession, chat_id: int) -> Chat:
    chat = await session.get(Chat, chat_id)
    if chat is None:
        raise RoutingError(f"no chat {chat_id}")
    return chat


async def open_chats_of(session: AsyncSession, operator_id: int) -> int:
    return (await session.execute(select(func.count(Chat.id)).where(
        Chat.operator_id == operator_id, Chat.state == ChatState.open))).scalar_one()


async def _free_operator(session: AsyncSession, department_id: int) -> Operator | None:
    """Least busy, then longest idle, online member of the department with free capacity."""
    load = (select(func.count(Chat.id)).where(Chat.operator_id == Operator.id,
                                              Chat.state == ChatState.open)
            .correlate(Operator).scalar_subquery())
    rows = await session.execute(
        select(Operator, load.label("load"))
        .join(operator_departments, operator_departments.c.operator_id == Operator.id)
        .where(operator_departments.c.department_id == department_id,
               Operator.active.is_(True), Operator.status == OperatorStatus.online,
               load < Operator.max_concurrent_chats)
        .order_by(load, Operator.last_assigned_at.is_(None).desc(), Operator.last_assigned_at, Operator.id)
        .limit(1).with_for_update(of=Operator))
    row = rows.first()
    return row[0] if row else None


async def anyone_available(session: AsyncSession, department_id: int) -> bool:
    """Is an active member of the department online or away (so a queued chat will be seen)?"""
    return (await session.execute(select(Operator.id)
            .join(operator_departments, operator_departments.c.operator_id == Operator.id)
            .where(operator_departments.c.department_id == department_id, Operator.active.is_(True),
                   Operator.status.in_([OperatorStatus.online, OperatorStatus.away])).limit(1))
            ).first() is not None


async def _assign(session: AsyncSession, chat: Chat, operator: Operator, now: dt.datetime) -> bool:
    won = await session.execute(update(Chat).where(
        Chat.id == chat.id, Chat.state.in_([ChatState.waiting, ChatState.unattended]))
        .values(state=ChatState.open, operator_id=operator.id, assigned_at=now, last_activity_at=now)
        .execution_options(synchronize_session=False))
    if won.rowcount != 1:
        return False
    operator.last_assigned_at = now
    await session.refresh(chat)
    return True


async def queue_position(session: AsyncSession, chat: Chat) -> int:
    return (await session.execute(select(func.count(Chat.id)).where(
        Chat.department_id == chat.department_id, Chat.state == ChatState.waiting,
        Chat.handed_off_at <= chat.handed_off_at))).scalar_one()


async def handoff_department(session: AsyncSession, chat_id: int, department_id: int | None = None) -> int | None:
    """The department a handoff goes to: the one chosen, else the chat's number's (None: neither)."""
    if department_id is not None:
        return department_id
    chat = await _chat(session, chat_id)
    return (await session.get(PhoneNumber, chat.phone_number_id)).department_id


async def hand_off(session: AsyncSession, chat_id: int, department_id: int | None = None, *,
                   reason: HandoffReason = HandoffReason.asked) -> HandoffResult:
    """The bot (or the user) asks for a person: queue the chat and try to assign it.

    `reason` is kept on the chat for the reports; a transfer keeps the first reason.
    """
    chat = await _chat(session, chat_id)
    if chat.state == ChatState.closed:
        raise RoutingError("this chat is closed")
    if chat.state == ChatState.open:
        raise RoutingError("an operator already has this chat")
    department_id = await handoff_department(session, chat.id, department_id)
    if department_id is None:
        raise RoutingError("this number has no department to hand chats to")
    now = utcnow()
    available = await anyone_available(session, department_id)
    facts = {} if available else {"was_unattended": True}
    await session.execute(update(Chat).where(Chat.id == chat.id).values(
        state=ChatState.waiting if available else ChatState.unattended,
        department_id=department_id, handed_off_at=now, last_activity_at=now,
        handoff_reason=func.coalesce(Chat.handoff_reason, reason.value), **facts)
        .execution_options(synchronize_session=False))
    await session.refresh(chat)
    operator = await _free_operator(session, department_id)
    if operator is not None and await _assign(session, chat, operator, now):
        return HandoffResult(ChatState.open, operator_name=operator.name)
    if chat.state == ChatState.unattended:
        return HandoffResult(ChatState.unattended)
    return HandoffResult(ChatState.waiting, position=await queue_position(session, chat))


async def assign_waiting(session: AsyncSession, limit: int = 50) -> list[int]:
    """Give queued chats to operators who have room now (oldest first); returns chat ids.

    Unattended chats too: an operator who comes online takes the chats that waited
    for their department while nobody was there."""
    now = utcnow()
    assigned = []
    staffed = (select(operator_departments.c.department_id)
               .join(Operator, Operator.id == operator_departments.c.operator_id)
               .where(Operator.active.is_(True), Operator.status == OperatorStatus.online))
    waiting = (await session.execute(select(Chat).where(Chat.state.in_([ChatState.waiting, ChatState.unattended]),
                                                        Chat.department_id.in_(staffed))
                                     .order_by(Chat.handed_off_at, Chat.id).limit(limit))).scalars().all()
    for chat in waiting:
        operator = await _free_operator(session, chat.department_id)
        if operator is not None and await _assign(session, chat, operator, now):
            assigned.append(chat.id)
    return assigned


async def pick(session: AsyncSession, chat_id: int, operator: Operator) -> Chat:
    """An operator takes a chat from the waiting or unattended list."""
    chat = await _chat(session, chat_id)
    if await brand_of_number(session, chat.phone_number_id) != operator.brand_id:
        raise RoutingError(f"no chat {chat_id}")  # another brand's chat does not exist for this operator
    if operator.role != Role.admin and chat.department_id not in {d.id for d in operator.departments}:
        raise RoutingError("this chat belongs to another department")
    if not await _assign(session, chat, operator, utcnow()):
        raise RoutingError("someone else took this chat" if chat.state == ChatState.open
                           else f"this chat is {chat.state.value}")
    return chat


async def transfer(session: AsyncSession, chat_id: int, *, to_operator: Operator | None = None,
                   to_department_id: int | None = None) -> HandoffResult:
    chat = await _chat(session, chat_id)
    if chat.state == ChatState.closed:
        raise RoutingError("this chat is closed")
    now = utcnow()
    if to_operator is not None:
        if not to_operator.active:
            raise RoutingError(f"{to_operator.name} is not active")
        await session.execute(update(Chat).where(Chat.id == chat.id, Chat.state != ChatState.closed).values(
            state=ChatState.open, operator_id=to_operator.id, assigned_at=now, last_activity_at=now,
            department_id=to_department_id or chat.department_id).execution_options(synchronize_session=False))
        to_operator.last_assigned_at = now
        return HandoffResult(ChatState.open, operator_name=to_operator.name)
    if to_department_id is None:
        raise RoutingError("transfer to an operator or a department")
    await session.execute(update(Chat).where(Chat.id == chat.id).values(
        state=ChatState.waiting, operator_id=None, assigned_at=None)
        .execution_options(synchronize_session=False))
    await session.refresh(chat)
    return await hand_off(session, chat.id, to_department_id, reason=HandoffReason.transfer)


async def close(session: AsyncSession, chat_id: int, *, by: str, reason: str) -> bool:
    """Close a live chat; False if it was already closed (someone else won)."""
    now = utcnow()
    won = await session.execute(update(Chat).where(Chat.id == chat_id, Chat.state != ChatState.closed)
                                .values(state=ChatState.closed, closed_at=now, closed_by=by,
                                        close_reason=reason)
                                .execution_options(synchronize_session=False))
    return won.rowcount == 1


def numbers_of_brand(brand_id: int):
    """SQL subquery: the ids of the numbers of a brand's WABAs."""
    return (select(PhoneNumber.id).join(WhatsAppBusinessAccount, WhatsAppBusinessAccount.id == PhoneNumber.waba_id)
            .where(WhatsAppBusinessAccount.brand_id == brand_id))


def of_brand(brand_id: int):
    """SQL condition: the chats on the numbers of a brand's WABAs."""
    return Chat.phone_number_id.in_(numbers_of_brand(brand_id))


def visible_to(operator: Operator):
    """SQL condition: the chats an operator may see.

    Brands are tenants: everyone, admins included, sees only their own brand's
    chats; an operator (not an admin) only those of their departments.
    """
    in_brand = of_brand(operator.brand_id)
    if operator.role == Role.admin:
        return in_brand
    dept_ids = [d.id for d in operator.departments]
    # A chat no department has yet (the bot's, or one the bot got back) belongs to the
    # department of its number: its operators watch it live and may take it over.
    return and_(in_brand, or_(Chat.department_id.in_(dept_ids),
                              and_(Chat.department_id.is_(None),
                                   Chat.phone_number_id.in_(numbers_of_departments(dept_ids)))))


def numbers_of_departments(department_ids):
    """SQL subquery: the ids of the numbers tied to these departments."""
    return select(PhoneNumber.id).where(PhoneNumber.department_id.in_(list(department_ids)))


async def brand_of_number(session: AsyncSession, phone_number_id: str) -> int | None:
    return (await session.execute(
        select(WhatsAppBusinessAccount.brand_id).join(PhoneNumber, PhoneNumber.waba_id == WhatsAppBusinessAccount.id)
        .where(PhoneNumber.id == phone_number_id))).scalar_one_or_none()


@dataclass(frozen=True)
class DepartmentChoice:
    id: int
    name: str
    available: bool  # someone online or away
    names: dict = field(default_factory=dict)  # {language: name}: desk.services.departments

    def name_in(self, language: str | None) -> str:
        """The name the customer sees in `language` (else the department's name)."""
        return departments.name_in(self, language)

    def matches(self, name: str | None) -> bool:
        """Whether `name` is one of its names, in any language (case and spacing ignored)."""
        return departments.matches(self, name)


async def departments_for_number(session: AsyncSession, phone_number_id: str) -> list[DepartmentChoice]:
    """The brand's departments a user of this number can be handed to, the number's own first."""
    from desk.models import Department, WhatsAppBusinessAccount

    number = await session.get(PhoneNumber, phone_number_id)
    if number is None:
        return []
    brand_id = (await session.get(WhatsAppBusinessAccount, number.waba_id)).brand_id
    depts = (await session.execute(select(Department).where(Department.brand_id == brand_id)
                                   .order_by(Department.id != number.department_id, Department.name))).scalars().all()
    # Offer only departments that someone can answer for (a chat now, or a left message
    # later): an active member. The number's own department stays as the last resort.
    staffed = set((await session.execute(select(operator_departments.c.department_id)
                                         .join(Operator, Operator.id == operator_departments.c.operator_id)
                                         .where(Operator.active.is_(True), Operator.role != Role.manager))).scalars())
    offered = [d for d in depts if d.id in staffed] or [d for d in depts if d.id == number.department_id]
    return [DepartmentChoice(d.id, d.name, await anyone_available(session, d.id), dict(d.names or {}))
            for d in offered]


async def sales_department(session: AsyncSession, phone_number_id: str) -> int | None:
    """The brand's department named Sales (in any of its names), if it has one (orders and leads go there)."""
    brand_id = await brand_of_number(session, phone_number_id)
    sales = await departments.find(session, brand_id, "Sales")
    return sales.id if sales is not None else None
