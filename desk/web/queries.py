"""Read-only queries of the console (lists, details, lookups), scoped to the operator.

Everything an operator may see goes through `routing.visible_to`: brands are
tenants, so everyone sees only their brand's chats; an operator those of their
departments, an admin all of the brand's.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from desk.models import (CannedResponse, Chat, ChatNote, ChatState, Contact, Department, DeskSettingsRow, Lead, Message,
                         Operator, OperatorStatus, PhoneNumber, Role, Tag, WhatsAppBusinessAccount,
                         chat_tags, operator_departments)
from desk.services.routing import brand_of_number, numbers_of_brand, of_brand, visible_to

LISTS = ("waiting", "mine", "unattended", "closed", "bot")
CLOSED_LIST_LIMIT = 50
LIST_LIMIT = 200


async def operator(session: AsyncSession, operator_id: int) -> Operator | None:
    return await session.get(Operator, operator_id)


def _list_query(me: Operator, which: str):
    query = select(Chat).where(visible_to(me))
    if which == "waiting":
        return query.where(Chat.state == ChatState.waiting).order_by(Chat.handed_off_at, Chat.id)
    if which == "unattended":
        return query.where(Chat.state == ChatState.unattended).order_by(Chat.handed_off_at, Chat.id)
    if which == "mine":
        return (query.where(Chat.state == ChatState.open, Chat.operator_id == me.id)
                .order_by(Chat.last_activity_at.desc(), Chat.id.desc()))
    if which == "closed":
        return (query.where(Chat.state == ChatState.closed)
                .order_by(Chat.closed_at.desc(), Chat.id.desc()).limit(CLOSED_LIST_LIMIT))
    if which == "bot":
        return (query.where(Chat.state == ChatState.bot)
                .order_by(Chat.last_activity_at.desc(), Chat.id.desc()))
    raise ValueError(which)


async def inbox(session: AsyncSession, me: Operator, which: str) -> list[Chat]:
    return list((await session.execute(_list_query(me, which).limit(LIST_LIMIT))).scalars())


async def last_messages(session: AsyncSession, chat_ids: list[int]) -> dict[int, Message]:
    if not chat_ids:
        return {}
    latest = (select(func.max(Message.id)).where(Message.chat_id.in_(chat_ids))
              .group_by(Message.chat_id).scalar_subquery())
    rows = await session.execute(select(Message).where(Message.id.in_(latest)))
    return {m.chat_id: m for m in rows.scalars()}


async def names(session: AsyncSession, model, ids) -> dict[int, str]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    rows = await session.execute(select(model.id, model.name).where(model.id.in_(ids)))
    return dict(rows.all())


async def counts(session: AsyncSession, me: Operator) -> dict[str, int]:
    live = (ChatState.waiting, ChatState.unattended, ChatState.open, ChatState.bot)
    rows = await session.execute(
        select(Chat.state,
               func.count(Chat.id),
               func.sum(case((Chat.operator_id == me.id, 1), else_=0)))
        .where(visible_to(me), Chat.state.in_(live)).group_by(Chat.state))
    result = {"waiting": 0, "unattended": 0, "mine": 0, "bot": 0}
    for state, n, mine in rows.all():
        if state == ChatState.open:
            result["mine"] = int(mine or 0)
        elif state.value in result:
            result[state.value] = n
    if me.role == Role.admin:  # paused or RED-rated templates: the console alerts admins (alerts.js)
        from desk.billing import templates as billing_templates

        result["template_warnings"] = await billing_templates.attention_count(session, me.brand_id)
    return result


async def visible_chat(session: AsyncSession, me: Operator, chat_id: int) -> Chat | None:
    return (await session.execute(select(Chat).where(Chat.id == chat_id, visible_to(me)))).scalar_one_or_none()


async def brand_of_chat(session: AsyncSession, chat: Chat) -> int | None:
    return await brand_of_number(session, chat.phone_number_id)


async def tags_of_chat(session: AsyncSession, chat_id: int) -> list[Tag]:
    rows = await session.execute(select(Tag).join(chat_tags, chat_tags.c.tag_id == Tag.id)
                                 .where(chat_tags.c.chat_id == chat_id).order_by(Tag.name))
    return list(rows.scalars())


def _lead_of_brand(brand_id: int):
    """A contact (a WhatsApp user) is shared by every brand they write to; their
    leads are not: a lead belongs to the brand of its number or of its chat."""
    return or_(Lead.phone_number_id.in_(numbers_of_brand(brand_id)),
               Lead.chat_id.in_(select(Chat.id).where(of_brand(brand_id))))


async def leads_of_contact(session: AsyncSession, contact_id: int, brand_id: int) -> list[Lead]:
    rows = await session.execute(select(Lead).where(Lead.contact_id == contact_id, _lead_of_brand(brand_id))
                                 .order_by(Lead.id.desc()))
    return list(rows.scalars())


async def lead(session: AsyncSession, lead_id: int, brand_id: int) -> Lead | None:
    return (await session.execute(select(Lead).where(Lead.id == lead_id, _lead_of_brand(brand_id)))
            ).scalar_one_or_none()


async def previous_chats(session: AsyncSession, me: Operator, chat: Chat, limit: int = 5) -> list[Chat]:
    rows = await session.execute(select(Chat).where(
        Chat.contact_id == chat.contact_id, Chat.id != chat.id, visible_to(me))
        .order_by(Chat.id.desc()).limit(limit))
    return list(rows.scalars())


async def tags(session: AsyncSession, brand_id: int) -> list[Tag]:
    return list((await session.execute(select(Tag).where(Tag.brand_id == brand_id).order_by(Tag.name))).scalars())


async def tag_usage(session: AsyncSession, brand_id: int) -> dict[int, int]:
    rows = await session.execute(select(chat_tags.c.tag_id, func.count()).join(Tag, Tag.id == chat_tags.c.tag_id)
                                 .where(Tag.brand_id == brand_id).group_by(chat_tags.c.tag_id))
    return dict(rows.all())


async def canned(session: AsyncSession, brand_id: int) -> list[CannedResponse]:
    return list((await session.execute(select(CannedResponse).where(CannedResponse.brand_id == brand_id)
                                       .order_by(CannedResponse.shortcut, CannedResponse.language))).scalars())


async def departments(session: AsyncSession, brand_id: int) -> list[Department]:
    return list((await session.execute(select(Department).where(Department.brand_id == brand_id)
                                       .order_by(Department.name))).scalars())


async def operators(session: AsyncSession, brand_id: int) -> list[Operator]:
    return list((await session.execute(select(Operator).where(Operator.brand_id == brand_id)
                                       .order_by(Operator.name, Operator.id))).scalars())


async def open_loads(session: AsyncSession, operator_ids: list[int]) -> dict[int, int]:
    if not operator_ids:
        return {}
    rows = await session.execute(select(Chat.operator_id, func.count(Chat.id)).where(
        Chat.operator_id.in_(operator_ids), Chat.state == ChatState.open).group_by(Chat.operator_id))
    return dict(rows.all())


async def department_members(session: AsyncSession, brand_id: int) -> dict[int, list[int]]:
    rows = await session.execute(select(operator_departments.c.department_id, operator_departments.c.operator_id)
                                 .join(Department, Department.id == operator_departments.c.department_id)
                                 .where(Department.brand_id == brand_id))
    members: dict[int, list[int]] = {}
    for dept_id, op_id in rows.all():
        members.setdefault(dept_id, []).append(op_id)
    return members


async def numbers(session: AsyncSession, brand_id: int) -> list[tuple[PhoneNumber, WhatsAppBusinessAccount]]:
    rows = await session.execute(select(PhoneNumber, WhatsAppBusinessAccount)
                                 .join(WhatsAppBusinessAccount, WhatsAppBusinessAccount.id == PhoneNumber.waba_id)
                                 .where(WhatsAppBusinessAccount.brand_id == brand_id)
                                 .order_by(WhatsAppBusinessAccount.name, PhoneNumber.display_phone_number))
    return [tuple(r) for r in rows.all()]


async def wabas(session: AsyncSession, brand_id: int) -> list[tuple[WhatsAppBusinessAccount, int]]:
    """The brand's WABAs with how many numbers each has."""
    rows = await session.execute(
        select(WhatsAppBusinessAccount, func.count(PhoneNumber.id))
        .outerjoin(PhoneNumber, PhoneNumber.waba_id == WhatsAppBusinessAccount.id)
        .where(WhatsAppBusinessAccount.brand_id == brand_id)
        .group_by(WhatsAppBusinessAccount.id).order_by(WhatsAppBusinessAccount.name, WhatsAppBusinessAccount.id))
    return [(w, n) for w, n in rows.all()]


async def number(session: AsyncSession, phone_number_id: str) -> PhoneNumber | None:
    return await session.get(PhoneNumber, phone_number_id)


@dataclass(frozen=True)
class MediaRef:
    sha256: str
    mime: str | None
    filename: str | None


async def media_visible(session: AsyncSession, me: Operator, message_id: int) -> MediaRef | None:
    """A message's stored media (hash, type, name), if the message is in a chat `me` may see."""
    row = (await session.execute(
        select(Message.media_sha256, Message.media_mime, Message.media_filename)
        .join(Chat, Chat.id == Message.chat_id)
        .where(Message.id == message_id, Message.media_sha256.is_not(None), visible_to(me)))).first()
    return MediaRef(row[0], row[1], row[2]) if row else None


# --- change detection for the live event stream -------------------------------------------

RECENT_MESSAGES = 1000  # statuses arrive for recent messages: look at the newest rows only
_STATUS_WEIGHT = {"queued": 1, "sending": 10, "accepted": 100, "sent": 1000, "delivered": 10_000,
                  "read": 100_000, "failed": 1_000_000}


@dataclass(frozen=True)
class Fingerprint:
    max_message_id: int
    recent_statuses: tuple
    chats: tuple
    tags: tuple
    operators: tuple
    records: tuple = ()  # tickets and lead tasks (desk.web.lists)
    templates: tuple = ()  # templates Meta paused or rated RED (the admins' alert, alerts.js)


async def fingerprint(session: AsyncSession) -> Fingerprint:
    """A cheap summary that changes whenever a chat list or a transcript changes."""
    max_id = (await session.execute(select(func.coalesce(func.max(Message.id), 0)))).scalar_one()
    # Statuses only move forward, so any status change changes this weighted sum
    # (Meta's status timestamps may be older than ones already seen: max() is not enough).
    weight = case(*[(Message.status == s, w) for s, w in _STATUS_WEIGHT.items()], else_=0)
    recent = tuple((await session.execute(select(func.count(Message.id), func.sum(weight)).where(
        Message.id > max_id - RECENT_MESSAGES))).one())
    chats = (await session.execute(select(
        func.count(Chat.id), func.max(Chat.last_activity_at), func.max(Chat.closed_at),
        func.max(Chat.assigned_at), func.max(Chat.handed_off_at),
        func.sum(func.coalesce(Chat.operator_id, 0) * 7 + func.coalesce(Chat.department_id, 0)),
        func.sum(case((Chat.state == ChatState.closed, 1), else_=0)),
        func.sum(case((Chat.state == ChatState.open, 1), else_=0)),
        func.sum(case((Chat.state == ChatState.waiting, 1), else_=0)),
        func.sum(case((Chat.state == ChatState.unattended, 1), else_=0))))).one()
    tag_sum = (await session.execute(select(func.count(), func.sum(chat_tags.c.chat_id * 31 + chat_tags.c.tag_id))
                                     .select_from(chat_tags))).one()
    ops = (await session.execute(select(
        func.count(Operator.id),
        func.sum(case((Operator.status == OperatorStatus.online, Operator.id), else_=0)),
        func.sum(case((Operator.status == OperatorStatus.away, Operator.id), else_=0))))).one()
    notes = (await session.execute(select(func.count(ChatNote.id), func.max(ChatNote.id)))).one()
    from desk.models import MessageTemplate

    flagged = (await session.execute(select(func.count(MessageTemplate.id)).where(or_(
        MessageTemplate.status == "PAUSED", MessageTemplate.quality_score == "RED")))).scalar_one()
    return Fingerprint(max_id, recent, tuple(chats) + tuple(notes), tuple(tag_sum), tuple(ops),
                       await records_fingerprint(session), (flagged,))


async def records_fingerprint(session: AsyncSession) -> tuple:
    """Tickets and lead tasks change without a message (taken, closed, done): their summary."""
    from desk.models import Ticket

    tickets = (await session.execute(select(
        func.count(Ticket.id), func.max(Ticket.updated_at),
        func.sum(case((Ticket.state == "open", 1), else_=0)),
        func.sum(func.coalesce(Ticket.operator_id, 0))))).one()
    leads = (await session.execute(select(
        func.count(Lead.id), func.sum(case((Lead.task_state == "open", 1), else_=0)),
        func.sum(func.coalesce(Lead.operator_id, 0))))).one()
    return (*tickets, *leads)


async def contact_of(session: AsyncSession, contact_id: int) -> Contact | None:
    return await session.get(Contact, contact_id)


async def survey_of_chat(session: AsyncSession, chat_id: int):
    from desk.models import CsatSurvey

    return (await session.execute(select(CsatSurvey).where(CsatSurvey.chat_id == chat_id))).scalar_one_or_none()


async def referral_of_chat(session: AsyncSession, chat_id: int) -> dict | None:
    """The click-to-WhatsApp ad or post the chat came from (desk.services.referrals)."""
    from desk.services import referrals

    return await referrals.referral_of_chat(session, chat_id)


async def brand_languages(session: AsyncSession, brand_id: int | None) -> dict:
    """The brand's languages, default language and time zone (brand_settings; None = all, English, UTC)."""
    from desk.language import DEFAULT_LANGUAGE, LANGUAGES

    row = await session.get(DeskSettingsRow, brand_id) if brand_id is not None else None
    languages = [lang for lang in (row.languages or []) if lang in LANGUAGES] if row is not None and row.languages \
        else list(LANGUAGES)
    default = row.default_language if row is not None and row.default_language in languages else None
    return {"languages": languages, "default_language": default or (
        DEFAULT_LANGUAGE if DEFAULT_LANGUAGE in languages else languages[0]),
        "time_zone": (row.time_zone if row is not None else None) or "UTC"}


async def default_language(session: AsyncSession, brand_id: int | None) -> str:
    return (await brand_languages(session, brand_id))["default_language"]
