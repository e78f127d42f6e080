"""Meta's account webhooks, kept where people act on them.

- `phone_number_quality_update`: the number's quality event (FLAGGED, UNFLAGGED,
  UPGRADE, DOWNGRADE ...) and messaging limit (`max_daily_conversations_per_business`,
  else the older `current_limit`) on the number; the admin's Numbers page shows them
  and warns while a number is flagged.
- `account_update`: the WABA's latest event and its detail (ban, restriction and
  violation info); a restriction, violation, ban or disabling warns the admins.
- `user_preferences`: a user who asks Meta to stop marketing messages is marked
  (`contacts.marketing_opt_out_at`); marketing templates to them are refused with
  the reason until they resume (desk.billing.templates).
- `smb_app_state_sync` (a coexistence number): a contact the business added or edited
  in the WhatsApp Business app keeps that name (`contacts.address_book_name`, shown in
  the console's contact panel; a user the desk does not know yet becomes a contact, so
  the name is there when they write); a removed one loses it. Each change carries its
  time: an older one does not overwrite a newer (Meta does not promise their order).

Unknown numbers, WABAs and users are logged and ignored (the event is recorded in
the inbox either way).
"""
from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from desk.models import Contact, PhoneNumber, WhatsAppBusinessAccount, utcnow

log = logging.getLogger(__name__)

# account_update events that mean the business cannot (fully) message: admins are warned.
ACCOUNT_WARNINGS = {"ACCOUNT_RESTRICTION", "ACCOUNT_VIOLATION", "DISABLED_UPDATE", "ACCOUNT_DELETED",
                    "PARTNER_REMOVED", "ACCOUNT_OFFBOARDED"}
QUALITY_WARNINGS = {"FLAGGED", "DOWNGRADE"}


def _digits(value) -> str:
    return "".join(ch for ch in str(value or "") if ch.isdigit())


async def apply(session: AsyncSession, item) -> bool:
    """Apply one cloudapi.payloads.AccountUpdate; False when only logged."""
    at = item.timestamp or utcnow()
    if item.field == "phone_number_quality_update":
        return await _quality(session, item.waba_id, item.value, at)
    if item.field == "account_update":
        return await _account(session, item.waba_id, item.value, at)
    if item.field == "user_preferences":
        return await _preferences(session, item.value)
    if item.field == "smb_app_state_sync":
        return await _address_book(session, item.waba_id, item.value, at)
    log.info("account events: %s of WABA %s not handled", item.field, item.waba_id)
    return False


async def _quality(session: AsyncSession, waba_id: str, value: dict, at: dt.datetime) -> bool:
    shown = _digits(value.get("display_phone_number"))
    numbers = (await session.execute(select(PhoneNumber).where(PhoneNumber.waba_id == waba_id))).scalars().all()
    number = next((n for n in numbers if _digits(n.display_phone_number) == shown and shown), None)
    if number is None:
        log.warning("account events: quality update for %s of WABA %s: not a number of the desk", shown, waba_id)
        return False
    number.quality_event = str(value.get("event") or "")[:40] or None
    limit = value.get("max_daily_conversations_per_business") or value.get("current_limit")
    number.messaging_limit = str(limit)[:40] if limit is not None else number.messaging_limit
    number.quality_at = at
    level = logging.WARNING if number.quality_event in QUALITY_WARNINGS else logging.INFO
    log.log(level, "account events: number %s is %s (messaging limit %s)", number.id, number.quality_event,
            number.messaging_limit)
    return True


async def _account(session: AsyncSession, waba_id: str, value: dict, at: dt.datetime) -> bool:
    waba = await session.get(WhatsAppBusinessAccount, waba_id)
    if waba is None:
        log.warning("account events: account_update for WABA %s, which the desk does not know", waba_id)
        return False
    waba.account_event = str(value.get("event") or "")[:60] or None
    waba.account_event_detail = {k: v for k, v in value.items() if k != "event"} or None
    waba.account_event_at = at
    level = logging.WARNING if waba.account_event in ACCOUNT_WARNINGS else logging.INFO
    log.log(level, "account events: WABA %s: %s", waba_id, waba.account_event)
    return True


async def _preferences(session: AsyncSession, value: dict) -> bool:
    changed = False
    for pref in value.get("user_preferences") or []:
        if not isinstance(pref, dict) or pref.get("category") != "marketing_messages":
            continue
        key = pref.get("wa_id") or pref.get("user_id")
        if not key:
            continue
        contact = (await session.execute(select(Contact).where(or_(
            Contact.wa_id == key, Contact.phone == key, Contact.bsuid == key)).limit(1))).scalar_one_or_none()
        if contact is None:
            log.info("account events: marketing preference of unknown user %s", key)
            continue
        stamp = pref.get("timestamp")
        when = dt.datetime.fromtimestamp(int(stamp), dt.timezone.utc) if str(stamp or "").isdigit() else utcnow()
        if pref.get("value") == "stop":
            contact.marketing_opt_out_at = when
        elif pref.get("value") == "resume":
            contact.marketing_opt_out_at = None
        else:
            continue
        changed = True
    return changed


async def _address_book(session: AsyncSession, waba_id: str, value: dict, at: dt.datetime) -> bool:
    from desk.services import contacts

    number_id = (value.get("metadata") or {}).get("phone_number_id") if isinstance(value.get("metadata"), dict) else None
    number = await session.get(PhoneNumber, str(number_id)) if number_id else None
    if number is None or number.waba_id != waba_id:
        log.warning("account events: contacts sync for number %r of WABA %s: not a number of the desk",
                    number_id, waba_id)
        return False
    changed = False
    for sync in value.get("state_sync") if isinstance(value.get("state_sync"), list) else []:
        contact_of = sync.get("contact") if isinstance(sync, dict) else None
        if not isinstance(contact_of, dict) or sync.get("type") != "contact":
            log.info("account events: contacts sync item skipped: %.200r", sync)
            continue
        phone = _digits(contact_of.get("phone_number"))
        action = sync.get("action")
        stamp = (sync.get("metadata") or {}).get("timestamp") if isinstance(sync.get("metadata"), dict) else None
        when = dt.datetime.fromtimestamp(int(stamp), dt.timezone.utc) if str(stamp or "").isdigit() else at
        name = str(contact_of.get("full_name") or contact_of.get("first_name") or "").strip()[:200]
        if not phone or action not in ("add", "remove") or (action == "add" and not name):
            log.info("account events: contacts sync item skipped (phone, action, name?): %.200r", sync)
            continue
        if action == "add":
            contact = await contacts.identify(session, phone=phone, bsuid=None)
        else:
            contact = await contacts.find(session, phone=phone, bsuid=None)
            if contact is None:
                continue
        if contact.address_book_at is not None and contact.address_book_at > when:
            log.info("account events: contacts sync of %s older than the one applied: kept", contact.wa_id)
            continue
        contact.address_book_name = name if action == "add" else None
        contact.address_book_at = when
        changed = True
    return changed


def number_warning(number: PhoneNumber) -> str | None:
    """What an admin should be told about a number, if anything."""
    if number.quality_event in QUALITY_WARNINGS:
        return (f"Meta reports this number's quality as {number.quality_event.lower()}: customers blocked or "
                "reported its messages. Fewer templates, more care; its messaging limit may drop.")
    waba = number.waba
    if waba is not None and waba.account_event in ACCOUNT_WARNINGS:
        return f"Meta reports the business account as {waba.account_event.replace('_', ' ').lower()}."
    return None
