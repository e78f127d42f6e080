"""Messages the desk sends (operator replies, closing notes, bot idle nudges).

Recorded first, with the transcript message, in one transaction; sent by the
desk worker through the channel's Graph API client; retried with backoff on
temporary errors. Never lost on a crash: the row stays until it is sent or fails
for good. Not sent twice: each row goes out with `biz_opaque_callback_data`
"outbox:<id>", which Meta echoes on status webhooks; a row found `sending` after a
crash is resent only if no status for it came back within a grace period.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, sessionmaker

from cloudapi.graph import BSUID_REFUSED_REASON, GraphClient, GraphError
from cloudapi.outbound import INTERACTIVE_BODY_LIMIT, MEDIA_KINDS, TEXT_LIMIT, addressed
from desk.attachments import MediaStore, StoredMedia
from desk.models import (Chat, ChatState, Direction, JobState, Message, NumberState, OutboxMessage,
                         PhoneNumber, Role, Sender, utcnow)
from desk.billing import conversations as billing
from desk.billing import policy
from desk.billing.policy import WINDOW  # noqa: F401  (the one definition; the console shows when it closes)
from desk.services import contacts, conversations, numbers, routing

log = logging.getLogger(__name__)

LEASE = dt.timedelta(seconds=60)
STATUS_GRACE = dt.timedelta(minutes=2)
MAX_ATTEMPTS = 6
CALLBACK_PREFIX = "outbox:"
MESSAGE_CALLBACK_PREFIX = "message:"  # bot replies, sent without an outbox row


class CannotSend(ValueError):
    """Why a message cannot be sent (closed chat, outside the window, ...), for the sender."""


def window_open(chat: Chat, now: dt.datetime | None = None) -> bool:
    """The 24-hour customer-service window of a chat (the rule itself: billing.policy)."""
    return policy.window_open(chat.last_user_message_at, now or utcnow())


def failure_reason(exc: GraphError) -> str:
    """What is recorded on a message Meta refused for good (the console explains it:
    desk.services.send_errors)."""
    if exc.reengagement:
        return "outside the 24-hour window: only an approved template can be sent (131047)"
    if exc.bsuid_refused:  # final: resending to the same BSUID cannot work
        return f"{BSUID_REFUSED_REASON} ({exc.explanation})"
    return str(exc)


async def record_send_failure(session: AsyncSession, message_id: int, reason: str) -> None:
    """A message that will not reach the user, whoever sent it (bot, operator, notice):
    failed with its reason, and not charged (desk.billing). The one place for it."""
    await conversations.mark_failed(session, message_id, reason)
    await billing.message_failed(session, message_id)


def message_callback_data(message_id: int) -> str:
    """`biz_opaque_callback_data` for a message sent straight away (a bot reply): Meta
    echoes it in the status webhooks, which may arrive before the wamid is committed."""
    return f"{MESSAGE_CALLBACK_PREFIX}{message_id}"


async def enqueue(session: AsyncSession, chat: Chat, sender: Sender, message: dict,
                  body: str, *, billed_as: str | None = None) -> Message:
    """Record a transcript message and its outbox row (the caller's transaction).

    The billing check comes first (desk.billing): a message that would open a paid
    conversation with neither free tier nor credit left is refused with CannotSend.
    """
    wa_id = chat.contact.wa_id
    last_activity = chat.last_activity_at
    now = utcnow()  # one clock for the transcript row and the billing decision
    msg = await conversations.record_outbound(session, chat_id=chat.id, sender=sender,
                                              type=message["type"], body=body, payload=message, at=now)
    try:  # after the chat's row is written: chat, then the brand's billing lock, everywhere
        decision = await billing.authorize_send(
            session, phone_number_id=chat.phone_number_id, wa_id=wa_id,
            is_template=message["type"] == "template", sender=billed_as or sender.value, now=now, message=message)
    except billing.SendRefused as exc:
        await session.delete(msg)
        chat.last_activity_at = last_activity
        await session.flush()
        raise CannotSend(str(exc)) from None
    await decision.attach(session, msg.id)
    if sender == Sender.operator and chat.first_response_at is None:
        chat.first_response_at = now  # the reports' first response time
    row = OutboxMessage(message_id=msg.id, phone_number_id=chat.phone_number_id, wa_id=wa_id,
                        request={})
    session.add(row)
    await session.flush()
    # `to` the phone when known, else `recipient` the BSUID of a username-only user.
    row.request = {**addressed(message, contacts.phone_of(chat.contact), contacts.bsuid_of(chat.contact)),
                   "biz_opaque_callback_data": f"{CALLBACK_PREFIX}{row.id}"}
    return msg


async def send_operator_text(session: AsyncSession, chat_id: int, operator, text: str) -> Message:
    """An operator's reply: checked, then queued for sending."""
    text = (text or "").strip()
    if not text:
        raise CannotSend("the message is empty")
    if len(text) > TEXT_LIMIT:
        raise CannotSend(f"the message is {len(text)} characters; WhatsApp allows {TEXT_LIMIT}")
    chat = await _operator_may_send(session, chat_id, operator)
    return await enqueue(session, chat, Sender.operator, {"type": "text", "text": {"body": text}}, text)


async def send_operator_media(session: AsyncSession, chat_id: int, operator, media: StoredMedia, *,
                              kind: str, filename: str, caption: str | None = None) -> Message:
    """An operator's attachment, already checked against the product's rules
    (desk.attachments.check_outbound) and kept in the media store: queued like a
    reply. The worker uploads the file to the number (POST /{phone-number-id}/media)
    when it sends the row, then sends the media message with the id it got."""
    if kind not in MEDIA_KINDS:
        raise CannotSend(f"'{kind}' is not a WhatsApp media type")
    caption = (caption or "").strip() or None
    if caption and kind not in ("image", "document", "video"):
        raise CannotSend(f"WhatsApp shows no caption on {kind} messages")
    if caption and len(caption) > INTERACTIVE_BODY_LIMIT:
        raise CannotSend(f"the caption is {len(caption)} characters; WhatsApp allows {INTERACTIVE_BODY_LIMIT}")
    chat = await _operator_may_send(session, chat_id, operator)
    content = {k: v for k, v in (("caption", caption), ("filename", filename if kind == "document" else None)) if v}
    msg = await enqueue(session, chat, Sender.operator, {"type": kind, kind: content}, caption)
    msg.media_sha256, msg.media_mime, msg.media_size = media.sha256, media.mime_type, media.size
    msg.media_filename = filename
    await session.flush()
    return msg


async def _operator_may_send(session: AsyncSession, chat_id: int, operator, *, template: bool = False) -> Chat:
    """The chat, if `operator` may send to it now; else CannotSend with the reason
    (`template`: an approved template, which may go outside the 24-hour window)."""
    chat = await session.get(Chat, chat_id)
    if chat is None or await routing.brand_of_number(session, chat.phone_number_id) != operator.brand_id:
        raise CannotSend(f"no chat {chat_id}")  # another brand's chat does not exist for this operator
    if chat.state == ChatState.closed:
        raise CannotSend("this chat is closed: it cannot be answered")
    if chat.state != ChatState.open or (chat.operator_id != operator.id and operator.role != Role.admin):
        raise CannotSend("take the chat first: only its operator can answer")
    if not template and not window_open(chat):
        raise CannotSend("the user last wrote more than 24 hours ago: only an approved template can be sent")
    number = await session.get(PhoneNumber, chat.phone_number_id)
    if number.state == NumberState.disconnected:
        raise CannotSend("this WhatsApp number is disconnected: an admin must reconnect it")
    return chat


async def retry_failed(session: AsyncSession, chat_id: int, message_id: int, operator) -> Message:
    """Send a failed operator message again, through the outbox: its row is queued anew
    (due now, attempts from zero) and the message moves to now in the transcript, after the
    same checks as a new reply (a template: as a template send). Only an operator's
    message that failed; only by someone who may answer the chat now. CannotSend says why not."""
    msg = await session.get(Message, message_id)
    if msg is None or msg.chat_id != chat_id:
        raise CannotSend(f"no message {message_id} in this chat")
    if msg.sender != Sender.operator or msg.direction != Direction.outbound:
        raise CannotSend("only an operator's message can be sent again")
    if msg.status != "failed":
        raise CannotSend(f"this message did not fail (it is {msg.status}): nothing to send again")
    row = (await session.execute(select(OutboxMessage).where(OutboxMessage.message_id == msg.id))).scalar_one_or_none()
    if row is None:
        raise CannotSend("this message was not sent through the outbox: send it again as a new reply")
    is_template = msg.type == "template"
    if is_template:
        chat = await _operator_may_send(session, chat_id, operator, template=True)
    else:
        chat = await _operator_may_send(session, chat_id, operator)
    now = utcnow()
    try:
        decision = await billing.authorize_send(
            session, phone_number_id=chat.phone_number_id, wa_id=chat.contact.wa_id, is_template=is_template,
            sender="template" if is_template else Sender.operator.value, now=now,
            message=msg.payload if isinstance(msg.payload, dict) else None)
    except billing.SendRefused as exc:
        raise CannotSend(str(exc)) from None
    await decision.attach(session, msg.id)
    # A failure reported by a status webhook came after Meta's wamid: without it the
    # worker does not take the new attempt for the one already sent.
    msg.wamid = None
    msg.status, msg.error, msg.status_at = "queued", None, now
    msg.created_at, msg.wa_timestamp = now, now.replace(microsecond=0)
    chat.last_activity_at = now
    row.state, row.attempts, row.next_attempt_at = JobState.pending, 0, now
    row.locked_until, row.last_error, row.sent_at = None, None, None
    await session.flush()
    return msg


async def send_system_text(session: AsyncSession, chat: Chat, text: str, sender: Sender = Sender.system) -> Message | None:
    """A desk notice to the user (closing note, idle nudge) — only inside the window."""
    if not text or not window_open(chat):
        return None
    try:
        return await enqueue(session, chat, sender, {"type": "text", "text": {"body": text}}, text)
    except CannotSend as exc:  # no free tier or credit left for a new conversation
        log.warning("outbox: notice to chat %s not sent: %s", chat.id, exc)
        return None


async def send_template_message(session: AsyncSession, chat: Chat, message: dict, text: str, *,
                                sender: Sender = Sender.system, by: str = "template") -> Message:
    """A checked template (desk.billing.templates.send_template), queued for sending."""
    if chat.state == ChatState.closed:
        raise CannotSend("this chat is closed: it cannot be answered")
    number = await session.get(PhoneNumber, chat.phone_number_id)
    if number.state == NumberState.disconnected:
        raise CannotSend("this WhatsApp number is disconnected: an admin must reconnect it")
    try:
        return await enqueue(session, chat, sender, message, text, billed_as="template")
    except CannotSend as exc:
        log.warning("outbox: template %s to %s (%s) refused: %s",
                    message.get("template", {}).get("name"), chat.contact.wa_id, by, exc)
        raise


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
                   now: dt.datetime | None = None, media_store: MediaStore | None = None) -> int:
    """Send what is due; returns how many rows were handled. Rows of operator
    attachments need `media_store` (the files are uploaded from it)."""
    now = now or utcnow()
    async with sessions() as session, session.begin():
        rows = await claim(session, now)
        work = [(r.id, r.message_id, r.phone_number_id, r.request, r.attempts) for r in rows]
    for row_id, message_id, phone_number_id, request, attempts in work:
        await _send_one(sessions, graph, default_token, row_id, message_id, phone_number_id,
                        request, attempts, now, media_store)
    return len(work)


class _MediaUnavailable(Exception):
    """The attachment's file is not in the media store: it can never be sent."""


def _needs_upload(request: dict) -> bool:
    kind = request.get("type")
    return kind in MEDIA_KINDS and not ({"id", "link"} & set(request.get(kind) or {}))


async def _upload(graph: GraphClient, media_store: MediaStore | None, phone_number_id: str, token: str,
                  request: dict, media: tuple[str | None, str | None, str | None]) -> dict:
    """Upload the attachment to the number; the request with the media id in it."""
    sha, mime, filename = media
    if media_store is None or not sha:
        raise _MediaUnavailable("the attachment's file is not available to this worker (DESK_MEDIA_DIR)")
    path = media_store.path_for(sha)
    try:
        data = await asyncio.to_thread(path.read_bytes)
    except OSError:
        raise _MediaUnavailable(f"the attachment's file is missing from the media store ({sha[:12]})") from None
    kind = request["type"]
    try:
        media_id = await graph.upload_media(phone_number_id, token, data, mime or "application/octet-stream",
                                            filename or f"{kind}-{sha[:12]}")
    except GraphError:
        raise
    except Exception as exc:  # noqa: BLE001 - network errors and timeouts: temporary, like a 5xx
        raise GraphError(599, None, f"media upload: {type(exc).__name__}: {exc}") from None
    return {**request, kind: {**request[kind], "id": media_id}}


async def _send_one(sessions, graph, default_token, row_id, message_id, phone_number_id,
                    request, attempts, now, media_store=None) -> None:
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
        media = (msg.media_sha256, msg.media_mime, msg.media_filename) if _needs_upload(request) else None
    try:
        if media is not None:
            # Uploaded once per row: the id is kept, so a retry sends without uploading
            # again (a crash in between only costs a second upload, never a second message).
            request = await _upload(graph, media_store, phone_number_id, creds.access_token, request, media)
            async with sessions() as session, session.begin():
                await session.execute(update(OutboxMessage).where(OutboxMessage.id == row_id).values(
                    request=request).execution_options(synchronize_session=False))
        wamid = await graph.send(phone_number_id, creds.access_token, request)
    except _MediaUnavailable as exc:
        async with sessions() as session, session.begin():
            await record_send_failure(session, message_id, str(exc))
            await _finish(session, row_id, JobState.failed, str(exc))
        log.warning("outbox: message %s failed: %s", message_id, exc)
        return
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
            reason = failure_reason(exc)
            await record_send_failure(session, message_id, reason)
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
    """A status webhook names our outbox row or message: give the message the wamid
    (after a crash, or when the status overtook the commit of the send)."""
    if not callback_data:
        return None
    try:
        if callback_data.startswith(CALLBACK_PREFIX):
            row = await session.get(OutboxMessage, int(callback_data[len(CALLBACK_PREFIX):]))
            message_id = row.message_id if row is not None else None
        elif callback_data.startswith(MESSAGE_CALLBACK_PREFIX):
            message_id = int(callback_data[len(MESSAGE_CALLBACK_PREFIX):])
        else:
            return None
    except ValueError:
        return None
    if message_id is None:
        return None
    msg = await session.get(Message, message_id)
    if msg is not None and msg.direction != Direction.outbound:
        return None
    if msg is not None and not msg.wamid:
        msg.wamid = wamid
    return msg
