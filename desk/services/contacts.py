"""Who a WhatsApp user is: a contact known by phone number and/or BSUID.

Meta names a user by phone number (`wa_id`), by business-scoped user id (BSUID,
`user_id`; webhooks since 2026-03-31), or both; a user with a username may come
with no phone at all. A contact is found by either identity. Its key
(`Contact.wa_id`) is the identity it was first known by and never changes, so
Rasa's sender id (cloudapi.ids.conversation_id) stays the same when the other
identity becomes known or the user changes number.

When one message names a phone of one contact row and a BSUID of another (the user
wrote first by username, later from a known number, or the other way round), the
two rows are one person: they are merged into the older row (its key is the one
first known) and every chat, lead and ticket of the other comes along.
"""
from __future__ import annotations

import logging

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from cloudapi.ids import is_bsuid
from desk.models import (BilledConversation, Chat, ChatState, Contact, JobState, Lead, OutboxMessage,
                         Ticket, utcnow)

log = logging.getLogger(__name__)


def display_name(contact: Contact) -> str:
    """How the desk names a contact: profile name, else @username, else +phone, else BSUID."""
    if contact.profile_name:
        return contact.profile_name
    if contact.username:
        return f"@{contact.username}"
    phone = phone_of(contact)
    return f"+{phone}" if phone else (contact.bsuid or contact.wa_id)


def phone_of(contact: Contact) -> str | None:
    """The contact's phone number, if known (a contact keyed by a phone before 0011_bsuid
    and not migrated has it only as its key)."""
    if contact.phone:
        return contact.phone
    return None if contact.bsuid or is_bsuid(contact.wa_id) else contact.wa_id


def bsuid_of(contact: Contact) -> str | None:
    return contact.bsuid or (contact.wa_id if is_bsuid(contact.wa_id) else None)


async def by_key(session: AsyncSession, key: str) -> Contact | None:
    """The contact of a key (its wa_id), else the one whose phone or BSUID it is."""
    contact = (await session.execute(select(Contact).where(Contact.wa_id == key))).scalar_one_or_none()
    if contact is None:
        contact = (await session.execute(select(Contact).where(
            or_(Contact.phone == key, Contact.bsuid == key)).order_by(Contact.id).limit(1))).scalar_one_or_none()
    return contact


async def find(session: AsyncSession, *, phone: str | None, bsuid: str | None) -> Contact | None:
    """The contact named by this phone or BSUID (its current identities, else its key);
    None when the desk does not know the user."""
    for column, value in ((Contact.phone, phone), (Contact.bsuid, bsuid)):
        if value:
            found = (await session.execute(select(Contact).where(column == value))).scalar_one_or_none()
            if found is not None:
                return found
    keys = [k for k in (phone, bsuid) if k]
    if not keys:
        return None
    return (await session.execute(select(Contact).where(Contact.wa_id.in_(keys)).order_by(Contact.id)
                                  .limit(1))).scalar_one_or_none()


async def contact_for_key(session: AsyncSession, key: str, profile_name: str | None = None) -> Contact:
    """The contact of a key, made when there is none (a phone, or a BSUID)."""
    contact = await by_key(session, key)
    if contact is None:
        bsuid = key if is_bsuid(key) else None
        contact = Contact(wa_id=key, phone=None if bsuid else key, bsuid=bsuid, profile_name=profile_name)
        session.add(contact)
        await session.flush()
    elif profile_name and contact.profile_name != profile_name:
        contact.profile_name = profile_name
    return contact


async def identify(session: AsyncSession, *, phone: str | None, bsuid: str | None,
                   parent_bsuid: str | None = None, username: str | None = None,
                   profile_name: str | None = None) -> Contact:
    """The contact of a user named by phone and/or BSUID: found, learnt (the other
    identity is added), merged (two rows were the same person) or made."""
    if not phone and not bsuid:
        raise ValueError("a contact needs a phone number or a BSUID")
    by_phone = by_bsuid = None
    if phone:
        by_phone = (await session.execute(select(Contact).where(Contact.phone == phone))).scalar_one_or_none()
    if bsuid:
        by_bsuid = (await session.execute(select(Contact).where(Contact.bsuid == bsuid))).scalar_one_or_none()
    stale: set[str] = set()
    if by_phone is None and by_bsuid is None:
        # A contact keyed by this identity that has moved on (a late message from the
        # number or BSUID the user had before a `system` change): still the same person,
        # but the old identity does not overwrite the new one.
        keys = [k for k in (phone, bsuid) if k]
        old = (await session.execute(select(Contact).where(Contact.wa_id.in_(keys))
                                     .order_by(Contact.id).limit(1))).scalar_one_or_none()
        if old is not None:
            by_phone = old
            stale = {k for k in keys if k == old.wa_id}
    if by_phone is not None and by_bsuid is not None and by_phone.id != by_bsuid.id:
        keep, gone = sorted((by_phone, by_bsuid), key=lambda c: c.id)
        contact = await merge(session, keep, gone)
    else:
        contact = by_phone or by_bsuid
    if contact is None:
        contact = Contact(wa_id=phone or bsuid, phone=phone, bsuid=bsuid, parent_bsuid=parent_bsuid,
                          username=username, profile_name=profile_name)
        session.add(contact)
        await session.flush()
        return contact
    if phone and contact.phone != phone and phone not in stale:
        contact.phone = phone
    if bsuid and contact.bsuid != bsuid and bsuid not in stale:
        contact.bsuid = bsuid
    if parent_bsuid:
        contact.parent_bsuid = parent_bsuid
    if username:
        contact.username = username
    if profile_name:
        contact.profile_name = profile_name
    await session.flush()
    return contact


async def merge(session: AsyncSession, keep: Contact, gone: Contact) -> Contact:
    """Make `gone` part of `keep`: its chats, leads and tickets move over, its open
    billed conversations and unsent outbox rows follow `keep`'s key, then the row goes.
    A live chat of `gone` on a number where `keep` has one too is closed (its
    transcript is kept): one user has one live chat per number."""
    log.info("contacts: merging contact %s (%s) into %s (%s)", gone.id, gone.wa_id, keep.id, keep.wa_id)
    live = set((await session.execute(select(Chat.phone_number_id).where(
        Chat.contact_id == keep.id, Chat.state != ChatState.closed))).scalars())
    now = utcnow()
    for chat in (await session.execute(select(Chat).where(Chat.contact_id == gone.id))).scalars():
        if chat.state != ChatState.closed and chat.phone_number_id in live:
            chat.state, chat.closed_at, chat.closed_by = ChatState.closed, now, "system"
            chat.close_reason = "the same person as another contact: merged"
        chat.contact = keep
    for model in (Lead, Ticket):
        await session.execute(update(model).where(model.contact_id == gone.id).values(contact_id=keep.id)
                              .execution_options(synchronize_session=False))
    await session.execute(update(BilledConversation).where(BilledConversation.wa_id == gone.wa_id)
                          .values(wa_id=keep.wa_id).execution_options(synchronize_session=False))
    await session.execute(update(OutboxMessage).where(
        OutboxMessage.wa_id == gone.wa_id, OutboxMessage.state.in_([JobState.pending, JobState.sending]))
        .values(wa_id=keep.wa_id).execution_options(synchronize_session=False))
    phone, bsuid = gone.phone, gone.bsuid
    keep.parent_bsuid = keep.parent_bsuid or gone.parent_bsuid
    keep.username = keep.username or gone.username
    keep.profile_name = keep.profile_name or gone.profile_name
    if gone.address_book_at and (keep.address_book_at is None or gone.address_book_at > keep.address_book_at):
        keep.address_book_name, keep.address_book_at = gone.address_book_name, gone.address_book_at
    await session.flush()
    await session.delete(gone)
    await session.flush()
    keep.phone = keep.phone or phone
    keep.bsuid = keep.bsuid or bsuid
    await session.flush()
    return keep


async def change_identity(session: AsyncSession, contact: Contact, *, phone: str | None = None,
                          bsuid: str | None = None) -> Contact:
    """A `system` message: the user changed number (`user_changed_number`) or BSUID
    (`user_changed_user_id`). The contact takes the new identity, keeps its key and
    chats; another contact already holding it is merged in."""
    other = None
    if phone:
        other = (await session.execute(select(Contact).where(Contact.phone == phone,
                                                             Contact.id != contact.id))).scalar_one_or_none()
    if other is None and bsuid:
        other = (await session.execute(select(Contact).where(Contact.bsuid == bsuid,
                                                             Contact.id != contact.id))).scalar_one_or_none()
    if other is not None:
        keep, gone = sorted((contact, other), key=lambda c: c.id)
        contact = await merge(session, keep, gone)
    if phone:
        contact.phone = phone
        if bsuid is None and contact.bsuid:
            # Meta gives a user who changes number a new BSUID; the old one is not theirs any more.
            contact.bsuid = None
    if bsuid:
        contact.bsuid = bsuid
    await session.flush()
    return contact



async def learn(session: AsyncSession, contact: Contact, *, phone: str | None = None,
                bsuid: str | None = None, username: str | None = None) -> Contact:
    """What a status webhook tells about the contact a message went to (Meta names the
    recipient by phone and BSUID): an identity the contact lacks is added (merging
    the contact that had it); one it has is never overwritten, since a status may be
    about a message sent before a change of number."""
    for column, value in ((Contact.phone, phone), (Contact.bsuid, bsuid)):
        if not value or getattr(contact, column.key):
            continue
        other = (await session.execute(select(Contact).where(column == value, Contact.id != contact.id))
                 ).scalar_one_or_none()
        if other is not None:
            keep, gone = sorted((contact, other), key=lambda c: c.id)
            contact = await merge(session, keep, gone)
        if not getattr(contact, column.key):
            setattr(contact, column.key, value)
    if username and contact.username != username:
        contact.username = username
    await session.flush()
    return contact
