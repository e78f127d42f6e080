"""Chats and their transcripts: what users, the bot and operators said."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from desk.attachments import StoredMedia
from desk.models import Chat, ChatState, Contact, Direction, Message, Sender, utcnow
from desk.language import next_language
from desk.services import contacts

# Delivery status only moves forward; Meta may deliver `delivered` before `sent`.
STATUS_RANK = {"queued": 0, "accepted": 1, "sent": 2, "delivered": 3, "read": 4, "failed": 5}
_ACCEPTED_OR_LATER = tuple(s for s, rank in STATUS_RANK.items() if rank >= STATUS_RANK["accepted"])


async def upsert_contact(session: AsyncSession, wa_id: str, profile_name: str | None) -> Contact:
    """The contact of a key (a contact's wa_id, or a phone or BSUID it is known by)."""
    return await contacts.contact_for_key(session, wa_id, profile_name)


async def current_chat(session: AsyncSession, phone_number_id: str, wa_id: str,
                       profile_name: str | None = None, *, contact: Contact | None = None) -> Chat:
    """The user's live chat on this number; a new one with the bot after a close.
    `wa_id` is the contact's key (or a phone or BSUID of it), unless `contact` is given."""
    contact = contact or await upsert_contact(session, wa_id, profile_name)
    chat = (await session.execute(select(Chat).where(
        Chat.phone_number_id == phone_number_id, Chat.contact_id == contact.id,
        Chat.state != ChatState.closed).order_by(Chat.id.desc()).limit(1))).scalar_one_or_none()
    if chat is None:
        chat = Chat(phone_number_id=phone_number_id, contact=contact, state=ChatState.bot)
        session.add(chat)
        await session.flush()
        chat.opened_now = True  # not a column: this call opened it (record_inbound's caller asks)
    return chat


async def record_inbound(session: AsyncSession, *, phone_number_id: str, wa_id: str | None,
                         profile_name: str | None, wamid: str, type: str, body: str | None,
                         payload: dict, wa_timestamp: dt.datetime,
                         media: StoredMedia | None = None,
                         media_filename: str | None = None, user_id: str | None = None,
                         parent_user_id: str | None = None,
                         username: str | None = None, first_attempt: bool = False) -> tuple[Chat, Message]:
    """A user's message, in their live chat on the number. The user is named by phone
    (`wa_id`) and/or BSUID (`user_id`): desk.services.contacts finds, learns or merges
    the contact; `chat.contact.wa_id` is its stable key. `first_attempt`: the inbox's
    first try of this message, which cannot be recorded yet (the wamid is the inbox's
    unique key; the column's unique constraint still stands guard), so it is not looked for."""
    contact = await contacts.identify(session, phone=wa_id, bsuid=user_id, parent_bsuid=parent_user_id,
                                      username=username, profile_name=profile_name)
    chat = await current_chat(session, phone_number_id, contact.wa_id, contact=contact)
    if not first_attempt:
        existing = (await session.execute(select(Message).where(Message.wamid == wamid))).scalar_one_or_none()
        if existing is not None:
            return chat, existing
    msg = Message(chat_id=chat.id, direction=Direction.inbound, sender=Sender.user, wamid=wamid,
                  type=type, body=body, payload=payload, wa_timestamp=wa_timestamp,
                  status="received")
    if media is not None:
        msg.media_sha256, msg.media_mime, msg.media_size = media.sha256, media.mime_type, media.size
        msg.media_filename = media_filename
    session.add(msg)
    now = utcnow()
    chat.last_user_message_at = max(wa_timestamp, chat.last_user_message_at or wa_timestamp)
    chat.last_activity_at = now
    chat.bot_idle_step = 0  # the user wrote: the bot's idle rules start over
    if type == "text" and body:
        # The customer's language, sticky (desk.language: ~40 µs): notices, the survey,
        # the bot's first language and the console's canned responses follow it.
        chat.language = next_language(chat.language, body)
    await session.flush()
    return chat, msg


async def record_system_change(session: AsyncSession, *, phone_number_id: str, wa_id: str | None,
                               user_id: str | None, system_type: str | None, new_wa_id: str | None,
                               new_user_id: str | None, wamid: str, body: str | None, payload: dict,
                               wa_timestamp: dt.datetime) -> tuple[Contact | None, Message | None]:
    """A `system` message (user_changed_number, user_changed_user_id): the contact takes
    its new phone or BSUID and keeps its key and chats; the change is a system line in
    the contact's latest chat on the number (none is opened for it). A user the desk
    does not know is no contact yet: nothing to change (None)."""
    contact = await contacts.find(session, phone=wa_id, bsuid=user_id)
    if contact is None:
        return None, None
    contact = await contacts.change_identity(
        session, contact, phone=new_wa_id if system_type != "user_changed_user_id" else None,
        bsuid=new_user_id)
    chat = (await session.execute(select(Chat).where(
        Chat.phone_number_id == phone_number_id, Chat.contact_id == contact.id)
        .order_by((Chat.state != ChatState.closed).desc(), Chat.id.desc()).limit(1))).scalar_one_or_none()
    if chat is None:
        return contact, None
    existing = (await session.execute(select(Message).where(Message.wamid == wamid))).scalar_one_or_none()
    if existing is not None:
        return contact, existing
    what = {"user_changed_number": "changed their number", "user_changed_user_id": "changed their user id"}
    text = body or f"The user {what.get(system_type or '', 'changed their WhatsApp identity')}"
    msg = Message(chat_id=chat.id, direction=Direction.inbound, sender=Sender.system, wamid=wamid,
                  type="system", body=text, payload=payload, wa_timestamp=wa_timestamp, status="received")
    session.add(msg)
    await session.flush()
    return contact, msg


async def record_outbound(session: AsyncSession, *, chat_id: int, sender: Sender, type: str,
                          body: str | None, payload: dict, at: dt.datetime | None = None,
                          reply_key: str | None = None) -> Message:
    """A message the desk is sending, stamped with `at` (the send decision's time).

    Billing finds a message's conversation by this time, so it must be the same
    clock the send was authorised with, not whenever the row happens to be written.
    """
    at = at or utcnow()
    # WhatsApp timestamps have whole seconds; ours match, so that ties within a second
    # fall back to arrival order (the id) instead of putting a reply before its question.
    msg = Message(chat_id=chat_id, direction=Direction.outbound, sender=sender, type=type,
                  body=body, payload=payload, status="queued", created_at=at,
                  wa_timestamp=at.replace(microsecond=0), reply_key=reply_key)
    session.add(msg)
    chat = await session.get(Chat, chat_id)
    if chat is not None:
        chat.last_activity_at = at
    await session.flush()
    return msg


async def record_bot_reply(session: AsyncSession, *, chat_id: int, type: str, body: str | None,
                           payload: dict, reply_key: str | None,
                           at: dt.datetime | None = None, first_attempt: bool = False) -> Message | None:
    """A bot reply about to be sent; None when a reply with this key was already
    accepted by Meta (a retried turn). An earlier attempt that never reached Meta is
    reused for the new one, so the transcript shows the reply once. On the turn's
    `first_attempt` there is no earlier one (the key's unique constraint stands guard)."""
    if reply_key is not None and not first_attempt:
        earlier = (await session.execute(select(Message).where(Message.reply_key == reply_key))
                   ).scalar_one_or_none()
        if earlier is not None:
            if earlier.wamid or earlier.status not in ("queued", "failed"):
                return None
            earlier.status, earlier.error, earlier.payload, earlier.body = "queued", None, payload, body
            await session.flush()
            return earlier
    return await record_outbound(session, chat_id=chat_id, sender=Sender.bot, type=type, body=body,
                                 payload=payload, at=at, reply_key=reply_key)


async def mark_sent(session: AsyncSession, message_id: int, wamid: str) -> None:
    """Meta accepted the message: its wamid, and `accepted` unless a status webhook
    (linked by the callback data) already moved it further. One statement, no read."""
    now = utcnow()
    not_yet = Message.status.notin_(_ACCEPTED_OR_LATER)
    await session.execute(update(Message).where(Message.id == message_id).values(
        wamid=wamid, status=case((not_yet, "accepted"), else_=Message.status),
        status_at=case((not_yet, now), else_=Message.status_at))
        .execution_options(synchronize_session=False))
    loaded = session.identity_map.get(session.identity_key(Message, message_id))
    if loaded is not None:  # a caller that holds the row sees what was written
        set_committed_value(loaded, "wamid", wamid)
        if loaded.status not in _ACCEPTED_OR_LATER:
            set_committed_value(loaded, "status", "accepted")
            set_committed_value(loaded, "status_at", now)


async def mark_failed(session: AsyncSession, message_id: int, error: str) -> None:
    msg = await session.get(Message, message_id)
    msg.status, msg.error, msg.status_at = "failed", error, utcnow()


async def messages_by_wamid(session: AsyncSession, wamids: list[str]) -> dict[str, Message]:
    """The messages of these wamids, in one statement (a batch of statuses)."""
    rows = await session.execute(select(Message).where(Message.wamid.in_(set(wamids))))
    return {m.wamid: m for m in rows.scalars()}


async def apply_status(session: AsyncSession, *, wamid: str, status: str, at: dt.datetime,
                       error: str | None = None, known: dict[str, Message] | None = None) -> Message | None:
    """Move a message's delivery status forward (never back); None if unknown.
    `known`: the messages already read by wamid (`messages_by_wamid`), else it is read."""
    if known is not None:
        msg = known.get(wamid)
    else:
        msg = (await session.execute(select(Message).where(Message.wamid == wamid))).scalar_one_or_none()
    if msg is None:
        return None
    if STATUS_RANK.get(status, -1) > STATUS_RANK.get(msg.status, -1):
        msg.status, msg.status_at = status, at
        if error:
            msg.error = error
    return msg


async def message_count(session: AsyncSession, chat_id: int) -> int:
    return (await session.execute(select(func.count(Message.id)).where(Message.chat_id == chat_id))).scalar_one()


async def transcript(session: AsyncSession, chat_id: int) -> list[Message]:
    """Messages in WhatsApp-timestamp order (arrival order is not guaranteed)."""
    rows = await session.execute(select(Message).where(Message.chat_id == chat_id)
                                 .order_by(Message.wa_timestamp, Message.id))
    return list(rows.scalars())


async def recent_chats(session: AsyncSession, limit: int = 50) -> list[Chat]:
    rows = await session.execute(select(Chat).order_by(Chat.last_activity_at.desc()).limit(limit))
    return list(rows.scalars())
