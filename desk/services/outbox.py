"""Messages the desk sends (operator replies, closing notes, bot idle nudges).

Recorded first, with the transcript message, in one transaction; sent by the
desk worker through the channel's Graph API client; retried with backoff on
temporary errors. Never lost on a crash: the row stays until it is sent or fails
for good. Not sent twice: each row goes out with `biz_opaque_callback_data`
"outbox:<id>", which Meta echoes on status webhooks; a row found `sending` after a
crash is resent only if no status for it came back within a grace period.
"""
from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, sessionmaker

from connectors.whatsapp.graph import GraphClient, GraphError
from connectors.whatsapp.outbound import TEXT_LIMIT
from desk.models import (Chat, ChatState, JobState, Message, NumberState, OutboxMessage,
                         PhoneNumber, Role, Sender, utcnow)
from desk.services import conversations, numbers

log = logging.getLogger(__name__)

WINDOW = dt.timedelta(hours=24)
LEASE = dt.timedelta(seconds=60)
STATUS_GRACE = dt.timedelta(minutes=2)
MAX_ATTEMPTS = 6
CALLBACK_PREFIX = "outbox:"


class CannotSend(ValueError):
    """Why a message cannot be sent (closed chat, outside the window, ...), for the sender."""


def window_open(chat: Chat, now: dt.datetime | None = None) -> bool:
    """The 24-hour customer-service window: free-form messages only inside it."""
    now = now or utcnow()
    return chat.last_user_message_at is not None and now - chat.last_user_message_at < WINDOW


async def enqueue(session: AsyncSession, chat: Chat, sender: Sender, message: dict,
                  body: str) -> Message:
    """Record a transcript message and its outbox row (the caller's transaction)."""
    wa_id = chat.contact.wa_id
    msg = await conversations.record_outbound(session, chat_id=chat.id, sender=sender,
                                              type=message["type"], body=body, payload=message)
    row = OutboxMessage(message_id=msg.id, phone_number_id=chat.phone_number_id, wa_id=wa_id,
                        request={})
    session.add(row)
    await session.flush()
    row.request = {"to": wa_id, **message, "biz_opaque_callback_data": f"{CALLBACK_PREFIX}{row.id}"}
    return msg


async def send_operator_text(session: AsyncSession, chat_id: int, operator, text: str) -> Message:
    """An operator's reply: checked, then queued for sending."""
    text = (text or "").strip()
    if not text:
        raise CannotSend("the message is empty")
    if len(text) > TEXT_LIMIT:
        raise CannotSend(f"the message is {len(text)} characters; WhatsApp allows {TEXT_LIMIT}")
    chat = await session.get(Chat, chat_id)
    if chat is None:
        raise CannotSend(f"no chat {chat_id}")
    if chat.state == ChatState.closed:
        raise CannotSend("this chat is closed: it cannot be answered")
    if chat.state != ChatState.open or (chat.operator_id != operator.id and operator.role != Role.admin):
        raise CannotSend("take the chat first: only its operator can answer")
    if not window_open(chat):
        raise CannotSend("the user last wrote more than 24 hours ago: only an approved template can be sent")
    number = await session.get(PhoneNumber, chat.phone_number_id)
    if number.state == NumberState.disconnected:
        raise CannotSend("this WhatsApp number is disconnected: an admin must reconnect it")
    return await enqueue(session, chat, Sender.operator, {"type": "text", "text": {"body": text}}, text)


async def send_system_text(session: AsyncSession, chat: Chat, text: str, sender: Sender = Sender.system) -> Message | None:
    """A desk notice to the user (closing note, idle nudge) — only inside the window."""
    if not text or not window_open(chat):
        return None
    return await enqueue(session, chat, sender, {"type": "text", "text": {"body": text}}, text)


def _due(now: dt.datetime):
    earlier = aliased(OutboxMessage)
    # One user's messages go out in order: a row waits while an older row of the
    # same user and number is still unsent.
    older_unsent = exists().where(
        earlier.wa_id == OutboxMessage.wa_id, earlier.phone_number_id == OutboxMessage.phone_number_id,
        earlier.id < OutboxMessage.id, earlier.state.in_([JobState.pending, JobState.sending]))
    return and_(
        or_(and_(OutboxMessage.state == JobState.pending, OutboxMessage.next_attempt_at <= now),
            and_(OutboxMessage.state == JobState.sending, OutboxMessage.locked_until <= now)),
        ~older_unsent)


async def claim(session: AsyncSession, now: dt.datetime, limit: int = 20) -> list[OutboxMessage]:
    ids = (await session.execute(select(OutboxMessage.id).where(_due(now))
                                 .order_by(OutboxMessage.id).limit(limit))).scalars().all()
    claimed = []
    for row_id in ids:
        won = await session.execute(update(OutboxMessage).where(
            OutboxMessage.id == row_id,
            or_(OutboxMessage.state == JobState.pending,
                and_(OutboxMessage.state == JobState.sending, OutboxMessage.locked_until <= now)))
            .values(state=JobState.sending, locked_until=now + LEASE, attempts=OutboxMessage.attempts + 1)
            .execution_options(synchronize_session=False))
        if won.rowcount == 1:
            claimed.append(await session.get(OutboxMessage, row_id, populate_existing=True))
    return claimed


async def run_once(sessions: sessionmaker, graph: GraphClient, default_token: str,
                   now: dt.datetime | None = None) -> int:
    """Send what is due; returns how many rows were handled."""
    now = now or utcnow()
    async with sessions() as session, session.begin():
        rows = await claim(session, now)
        work = [(r.id, r.message_id, r.phone_number_id, r.request, r.attempts) for r in rows]
    for row_id, message_id, phone_number_id, request, attempts in work:
        await _send_one(sessions, graph, default_token, row_id, message_id, phone_number_id,
                        request, attempts, now)
    return len(work)


async def _send_one(sessions, graph, default_token, row_id, message_id, phone_number_id,
                    request, attempts, now) -> None:
    async with sessions() as session, session.begin():
        msg = await session.get(Message, message_id)
        if attempts > 1 and msg.wamid:  # a status webhook proved the earlier attempt went out
            await _finish(session, row_id, JobState.sent)
            return
        if attempts > 1 and now - (msg.status_at or msg.created_at) < STATUS_GRACE and msg.status == "sending":
            # Crashed mid-send moments ago: give Meta's status webhook a chance first.
            await session.execute(update(OutboxMessage).where(OutboxMessage.id == row_id).values(
                locked_until=now + STATUS_GRACE).execution_options(synchronize_session=False))
            return
        creds = await numbers.credentials_for(session, phone_number_id, default_token)
        msg.status, msg.status_at = "sending", now
    try:
        wamid = await graph.send(phone_number_id, creds.access_token, request)
    except GraphError as exc:
        async with sessions() as session, session.begin():
            if exc.auth:
                await numbers.mark_disconnected(session, phone_number_id, str(exc))
            if exc.retryable and attempts < MAX_ATTEMPTS:
                await session.execute(update(OutboxMessage).where(OutboxMessage.id == row_id).values(
                    state=JobState.pending, locked_until=None, last_error=str(exc),
                    next_attempt_at=utcnow() + dt.timedelta(seconds=2 ** attempts))
                    .execution_options(synchronize_session=False))
                (await session.get(Message, message_id)).status = "queued"
                return
            reason = str(exc)
            if exc.reengagement:
                reason = "outside the 24-hour window: only an approved template can be sent (131047)"
            await conversations.mark_failed(session, message_id, reason)
            await _finish(session, row_id, JobState.failed, reason)
        log.warning("outbox: message %s failed: %s", message_id, exc)
        return
    async with sessions() as session, session.begin():
        await conversations.mark_sent(session, message_id, wamid)
        await _finish(session, row_id, JobState.sent)


async def _finish(session: AsyncSession, row_id: int, state: JobState, error: str | None = None) -> None:
    await session.execute(update(OutboxMessage).where(OutboxMessage.id == row_id).values(
        state=state, locked_until=None, last_error=error,
        sent_at=utcnow() if state == JobState.sent else None).execution_options(synchronize_session=False))


async def link_status(session: AsyncSession, callback_data: str | None, wamid: str) -> Message | None:
    """A status webhook names our outbox row: give its message the wamid (crash recovery)."""
    if not callback_data or not callback_data.startswith(CALLBACK_PREFIX):
        return None
    try:
        row = await session.get(OutboxMessage, int(callback_data[len(CALLBACK_PREFIX):]))
    except ValueError:
        return None
    if row is None:
        return None
    msg = await session.get(Message, row.message_id)
    if msg is not None and not msg.wamid:
        msg.wamid = wamid
    return msg
