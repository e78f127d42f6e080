"""Per-message pricing (PMP) in the send path, for a WABA whose `pricing_model` is "pmp".

Meta bills such an account per delivered message (the rules and rate cards are in
desk.billing.pmp). Every send still goes through `conversations.authorize_send`,
which hands a PMP account's messages to `authorize()` here:

- the price is known before the message is recorded: its template's category (from
  the WABA's registry), the user's market, the customer-service window, a free entry
  point window (a referral on the user's message within the window's length), and the
  number's service messages so far this month (1,000 free);
- a priced message is paid from the brand's credits under the brand's lock, or
  refused (`SendRefused`, "no_credit") when the balance does not cover it;
- utility and authentication templates get the volume tier of the brand (a business
  portfolio) for the user's market and the category: that month's charged messages of
  the brand's PMP WABAs are counted (`charged_in_market`);
- one `wa_message_charges` row per message records the price and why;
- a message that never reached the user is refunded (`message_failed`);
- a status webhook's `pricing` (pricing_model "PMP": `type`, `category`, `billable`)
  is compared with the charge (`reconcile`): Meta's figure wins, the difference is a
  `reconciliation` ledger entry.

The month is counted in UTC, like the conversation model's free tier (policy.py says
why); Meta resets the 1,000 free service messages at midnight of the account's zone.
"""
from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from desk.billing import ledger, pmp, policy
from desk.models import (Chat, Contact, Direction, Message, MessageCharge, MessageTemplate, PhoneNumber,
                         WhatsAppBusinessAccount, utcnow)

log = logging.getLogger(__name__)

CONVERSATION, PMP = "conversation", "pmp"
PRICING_MODELS = (CONVERSATION, PMP)
# Meta's status `pricing.type` values that cost nothing.
FREE_TYPES = {"free_customer_service", "free_entry_point"}


def is_pmp(waba: WhatsAppBusinessAccount | None) -> bool:
    return waba is not None and (waba.pricing_model or CONVERSATION) == PMP


async def set_pricing_model(session: AsyncSession, waba_id: str, model: str) -> WhatsAppBusinessAccount:
    """An admin says how Meta bills this WABA (its Business Manager's billing page)."""
    if model not in PRICING_MODELS:
        raise ValueError(f"pricing model must be one of {', '.join(PRICING_MODELS)}, not {model!r}")
    waba = await session.get(WhatsAppBusinessAccount, waba_id)
    if waba is None:
        raise ValueError(f"no WhatsApp Business Account {waba_id}")
    waba.pricing_model = model
    await session.flush()
    return waba


async def template_category(session: AsyncSession, waba_id: str, message: dict | None) -> str | None:
    """The pricing category of a template message (its registry row), None for any
    other message. A template the registry does not know is priced as marketing, the
    dearest category, so that the balance check never undercharges."""
    if not message or message.get("type") != "template":
        return None
    template = message.get("template") or {}
    name = str(template.get("name") or "")
    language = str((template.get("language") or {}).get("code") or "")
    category = (await session.execute(select(MessageTemplate.category).where(
        MessageTemplate.waba_id == waba_id, MessageTemplate.name == name,
        MessageTemplate.language == language))).scalar_one_or_none()
    if category is None:
        log.warning("billing: template %s/%s is not in WABA %s's registry: priced as marketing",
                    name, language, waba_id)
        return "MARKETING"
    return category.upper()


async def service_sent(session: AsyncSession, phone_number_id: str, month: str) -> int:
    """The number's service messages of the month that count toward its 1,000 free ones."""
    return (await session.execute(select(func.count(MessageCharge.id)).where(
        MessageCharge.phone_number_id == phone_number_id, MessageCharge.month == month,
        MessageCharge.category == "service", MessageCharge.state == "charged"))).scalar_one()


async def charged_in_market(session: AsyncSession, brand_id: int, month: str, market: str, category: str) -> int:
    """The brand's charged messages of the month in that market and category, across its
    WABAs on per-message pricing (the volume tiers count per business portfolio)."""
    return (await session.execute(select(func.count(MessageCharge.id)).where(
        MessageCharge.brand_id == brand_id, MessageCharge.month == month, MessageCharge.market == market,
        MessageCharge.category == category, MessageCharge.state == "charged", MessageCharge.type == "regular",
        MessageCharge.price_micros > 0))).scalar_one()


async def entry_point_opened_at(session: AsyncSession, phone_number_id: str, wa_id: str,
                                now: dt.datetime) -> dt.datetime | None:
    """When the user came from a click-to-WhatsApp ad or a Page button (a `referral` on
    their message), if that is recent enough for a free entry point window."""
    since = now - pmp.ENTRY_POINT_WINDOW_SINCE_2026_09_28
    rows = (await session.execute(
        select(Message.wa_timestamp, Message.payload).join(Chat, Chat.id == Message.chat_id)
        .join(Contact, Contact.id == Chat.contact_id)
        .where(Chat.phone_number_id == phone_number_id, Contact.wa_id == wa_id,
               Message.direction == Direction.inbound, Message.wa_timestamp >= since)
        .order_by(Message.wa_timestamp).limit(200))).all()
    for at, payload in rows:
        if isinstance(payload, dict) and isinstance(payload.get("referral"), dict):
            return at
    return None


async def quote(session: AsyncSession, *, number: PhoneNumber, waba: WhatsAppBusinessAccount, wa_id: str,
                in_window: bool, message: dict | None, now: dt.datetime) -> pmp.Price:
    """What this message would cost now (nothing is recorded)."""
    category = await template_category(session, waba.id, message)
    month = policy.month_of(now)
    tiered = (category or "").lower() in pmp.TIERED_CATEGORIES
    return pmp.price(
        wa_id=wa_id, at=now, template_category=category, in_service_window=in_window,
        entry_point_opened_at=await entry_point_opened_at(session, number.id, wa_id, now),
        service_sent_this_month=await service_sent(session, number.id, month),
        is_reaction=bool(message and message.get("type") == "reaction"),
        charged_this_month=await charged_in_market(session, waba.brand_id, month, pmp.market_of(wa_id),
                                                   category.lower()) if tiered else 0)


async def authorize(session: AsyncSession, *, number: PhoneNumber, waba: WhatsAppBusinessAccount, wa_id: str,
                    in_window: bool, message: dict | None, sender: str, now: dt.datetime):
    """Price the message, charge it (or refuse it) and record its charge row."""
    from desk.billing.conversations import SendDecision, SendRefused

    await ledger.lock_brand(session, waba.brand_id)  # the month's counts and the balance, one send at a time
    try:
        price = await quote(session, number=number, waba=waba, wa_id=wa_id, in_window=in_window,
                            message=message, now=now)
    except pmp.PricingError as exc:
        raise SendRefused(f"cannot price this message: {exc}", "no_price") from None
    micros = policy.to_micros(price.usd)
    if micros:
        balance = await ledger.balance_micros(session, waba.brand_id)
        if balance < micros:
            raise SendRefused(
                f"no credit: this {price.category.replace('_', ' ')} message to {price.market} costs "
                f"USD {policy.usd(price.usd)} ({price.reason}) and the balance is USD "
                f"{policy.usd(policy.from_micros(balance))}: an admin must buy credits", "no_credit")
    charge = MessageCharge(
        brand_id=waba.brand_id, waba_id=waba.id, phone_number_id=number.id, wa_id=wa_id,
        month=policy.month_of(now), category=price.category, type=price.type, market=price.market,
        card=price.card, price_micros=micros, state="charged", sent_by=sender, reason=price.reason,
        created_at=now)
    session.add(charge)
    await session.flush()
    if micros:
        await ledger.append(session, waba.brand_id, "message", -micros, message_charge_id=charge.id,
                            note=f"{price.category} message, {price.market}: {price.reason}", by=sender, at=now)
    return SendDecision(conversation_id=None, opened=False, category=None, market=price.market,
                        free_tier=price.free, cost=price.usd, expires_at=None, charge_id=charge.id,
                        price=price)


async def message_failed(session: AsyncSession, message_id: int) -> MessageCharge | None:
    """The message never reached the user: Meta charges only delivered messages."""
    charge = (await session.execute(select(MessageCharge).where(
        MessageCharge.message_id == message_id, MessageCharge.state == "charged"))).scalar_one_or_none()
    if charge is None:
        return None
    await ledger.lock_brand(session, charge.brand_id)
    if charge.price_micros:
        await ledger.append(session, charge.brand_id, "refund", charge.price_micros, message_charge_id=charge.id,
                            note="the message was not delivered: Meta does not charge it", by="desk")
    charge.state = "refunded"
    return charge


async def reconcile(session: AsyncSession, msg: Message, pricing: dict, at: dt.datetime | None = None
                    ) -> MessageCharge | None:
    """A status webhook's `pricing` for a per-message-priced message. Meta wins: a
    message it calls free is refunded, one it charges that we priced free (or at a
    different category) is charged at the card's rate for Meta's category."""
    charge = (await session.execute(select(MessageCharge).where(
        MessageCharge.message_id == msg.id))).scalar_one_or_none()
    if charge is None:
        log.warning("billing: PMP pricing for %s, which has no charge record (sent before the WABA "
                    "moved to per-message pricing?)", msg.wamid)
        return None
    meta_type = str(pricing.get("type") or "").lower() or None
    meta_category = str(pricing.get("category") or "").lower() or None
    billable = pricing.get("billable")
    free = meta_type in FREE_TYPES if meta_type else (billable is False)
    charge.meta_type, charge.meta_category = meta_type, meta_category
    charge.reconciled_at = at or utcnow()
    if charge.state != "charged":
        return charge  # refunded as failed: Meta's later "sent"/"delivered" for it is settled below
    new = 0
    if not free:
        category = meta_category if meta_category in pmp.CATEGORIES else charge.category
        if category == charge.category and charge.price_micros:
            new = charge.price_micros  # the same charged category: our price (its volume tier) stands
        else:
            try:
                new = policy.to_micros(pmp.card_for(charge.created_at.date()).rate(charge.market, category))
            except pmp.PricingError as exc:
                log.warning("billing: cannot price Meta's figure for %s: %s; ours kept", msg.wamid, exc)
                return charge
        if category != charge.category:
            charge.category = category
    if new != charge.price_micros:
        await ledger.lock_brand(session, charge.brand_id)
        await ledger.append(session, charge.brand_id, "reconciliation", charge.price_micros - new,
                            message_charge_id=charge.id, by="meta",
                            note=f"Meta's figures for message {msg.wamid}: {meta_type or 'billable'} "
                                 f"{meta_category or charge.category}, USD {policy.usd(policy.from_micros(new))} "
                                 f"(we had USD {policy.usd(policy.from_micros(charge.price_micros))})")
        log.warning("billing: message %s priced USD %s by the desk, USD %s by Meta (%s); Meta's figure wins",
                    msg.wamid, policy.from_micros(charge.price_micros), policy.from_micros(new), meta_type)
        charge.price_micros = new
        charge.type = meta_type or ("regular" if new else charge.type)
    return charge

